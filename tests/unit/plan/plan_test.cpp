// The build plan: step order, cache inputs, deviations, and the Dockerfile view of each path.
#include <doctest/doctest.h>

#include <algorithm>

#include "builder/plan/image_name.hpp"
#include "builder/plan/plan.hpp"
#include "builder/plan/render.hpp"

namespace cfg = cog::builder::config;
namespace plan = cog::builder::plan;

namespace {

cfg::Config cpu_config() {
  cfg::Config config;
  config.build.python_version = config.build.python_version_as_written = "3.12";
  config.run = "run.py:Runner";
  return config;
}

plan::Plan make(cfg::Config config, plan::PlanOptions options = {}) {
  return plan::make_plan(std::move(config), cfg::CompatMatrix::builtin(), options);
}

std::vector<plan::StepKind> kinds(const plan::Plan& built) {
  std::vector<plan::StepKind> result;
  for (const auto& step : built.steps) result.push_back(step.kind);
  return result;
}

const plan::Step& find_step(const plan::Plan& built, plan::StepKind kind) {
  auto found =
      std::find_if(built.steps.begin(), built.steps.end(), [&](const plan::Step& step) { return step.kind == kind; });
  REQUIRE(found != built.steps.end());
  return *found;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a cog-base plan installs requirements before the SDK and skips the preamble") {
  using K = plan::StepKind;
  auto config = cpu_config();
  cfg::Requirement torch;
  torch.name = "torch";
  torch.specifier = "==2.3.1";
  torch.text = "torch==2.3.1";
  config.requirements.push_back(torch);
  auto built = make(config);
  CHECK(built.base.reference == "r8.im/cog-base:python3.12-torch2.3.1");
  CHECK(kinds(built) == std::vector<K>{K::Base, K::UvInstall, K::PipRequirements, K::SdkInstall, K::Workdir, K::Expose,
                                       K::RuntimeEnvironment, K::Cmd, K::CopySource});
  CHECK(built.requirements == "--extra-index-url https://download.pytorch.org/whl/cpu/\ntorch==2.3.1\n");
}

TEST_CASE("a python-slim plan has the preamble, tini and ldconfig") {
  using K = plan::StepKind;
  plan::PlanOptions options;
  options.base.use_cog_base_image = false;
  auto built = make(cpu_config(), options);
  CHECK(built.base.reference == "python:3.12-slim");
  CHECK(kinds(built) == std::vector<K>{K::Base, K::Preamble, K::Init, K::UvInstall, K::SdkInstall, K::LdConfig,
                                       K::Workdir, K::Expose, K::RuntimeEnvironment, K::Cmd, K::CopySource});
}

TEST_CASE("cache inputs name what each layer depends on, never secret values") {
  auto config = cpu_config();
  config.build.system_packages = {"imagemagick", "ffmpeg"};
  config.build.run = {{"echo shh", {{"secret", "foo", "secret.txt"}}}};
  auto built = make(config);

  const auto& apt = find_step(built, plan::StepKind::AptPackages);
  REQUIRE(apt.cache_inputs.size() == 1);
  CHECK(apt.cache_inputs[0].value == "imagemagick");  // ffmpeg is already in cog-base

  const auto& run = find_step(built, plan::StepKind::RunCommand);
  REQUIRE(run.cache_inputs.size() == 2);
  CHECK(run.cache_inputs[0].value == "echo shh");
  CHECK(run.cache_inputs[1].value == "foo -> secret.txt");
  CHECK_FALSE(run.deviation.empty());

  CHECK(find_step(built, plan::StepKind::Base).cache_inputs[0].value == "r8.im/cog-base:python3.12");
}

TEST_CASE("deviations of the daemonless builder are recorded, not rendered") {
  auto built = make(cpu_config());
  CHECK(contains(find_step(built, plan::StepKind::SdkInstall).deviation, "runtime"));
  CHECK(contains(find_step(built, plan::StepKind::Cmd).deviation, "cog-server"));
  auto dockerfile = plan::render_dockerfile(built);
  CHECK(contains(dockerfile, "CMD [\"python\", \"-m\", \"cog.server.http\"]"));
  CHECK_FALSE(contains(dockerfile, "cog-server"));
}

TEST_CASE("dev builds leave the source (and the config copy) to a bind mount") {
  plan::PlanOptions options;
  options.config_file_name = "custom.yaml";
  auto full = plan::render_dockerfile(make(cpu_config(), options));
  options.dev = true;
  auto dev = plan::render_dockerfile(make(cpu_config(), options));
  CHECK(full == dev + "\nCOPY . /src\nRUN cp /src/custom.yaml /src/cog.yaml");
}

TEST_CASE("COG_CA_CERT adds the certificate lines after the preamble") {
  plan::PlanOptions options;
  options.ca_cert = true;
  options.base.use_cog_base_image = false;
  auto dockerfile = plan::render_dockerfile(make(cpu_config(), options));
  auto cert = dockerfile.find("COPY --from=cog_build cog-ca-cert.crt /tmp/cog-ca-cert.crt\n");
  REQUIRE(cert != std::string::npos);
  CHECK(dockerfile.find("ENV NVIDIA_DRIVER_CAPABILITIES=all") < cert);
  CHECK(cert < dockerfile.find("ENTRYPOINT"));
  CHECK(contains(dockerfile,
                 "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n"
                 "ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n"));
}

TEST_CASE("separate weights need an image name and render three sections") {
  plan::PlanOptions options;
  options.separate_weights = true;
  CHECK_THROWS_AS(make(cpu_config(), options), cog::Error);
  options.image_name = "model";
  options.weights = plan::WeightPaths{{"weights"}, {"big.bin"}};
  auto output = plan::render_debug_output(make(cpu_config(), options));
  CHECK(
      output.starts_with("=== Weights Dockerfile contents:\n#syntax=docker/dockerfile:1.4\n"
                         "FROM scratch\n\nCOPY weights /src/weights\nCOPY big.bin /src/big.bin\n\n"
                         "=== Runner Dockerfile contents:\n#syntax=docker/dockerfile:1.4\n"
                         "FROM model-weights AS weights\n"));
  CHECK(output.ends_with("=== Weights exclude patterns:\nweights\nweights/**/*\nbig.bin\n"));
}

TEST_CASE("completion happens inside the plan") {
  auto config = cpu_config();
  config.build.gpu = true;
  auto built = make(config);
  CHECK(built.config.build.cuda == "11.8");
  CHECK(built.config.build.cudnn == "8");
  CHECK(built.base.reference == "r8.im/cog-base:cuda11.8-python3.12");
}

TEST_CASE("the SDK spec follows sdk_version and COG_SDK_WHEEL") {
  using Spec = std::pair<std::string, bool>;
  CHECK(plan::sdk_package_spec("", "") == Spec{"cog", false});
  CHECK(plan::sdk_package_spec("0.18.0", "") == Spec{"cog==0.18.0", false});
  CHECK(plan::sdk_package_spec("0.18.0rc1", "") == Spec{"cog==0.18.0rc1", true});
  CHECK(plan::sdk_package_spec("prerelease", "") == Spec{"cog", true});
  CHECK(plan::sdk_package_spec("0.18.0", "pypi:0.19.1") == Spec{"cog==0.19.1", false});
  CHECK(plan::sdk_package_spec("0.18.0", "pypi") == Spec{"cog", false});
  CHECK_THROWS_AS(plan::sdk_package_spec("", "dist"), cog::Error);
}

TEST_CASE("default image names follow Cog's spelling") {
  CHECK(plan::default_image_name("/home/me/My Model") == "cog-my-model");
  CHECK(plan::default_image_name("/x/hello_world.v2") == "cog-helloworldv2");
  CHECK(plan::default_image_name("/x/an-extremely-long-project-directory-name") == "cog-an-extremely-long-project-");
}
