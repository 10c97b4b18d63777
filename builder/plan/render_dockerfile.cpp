// Rendering a plan as the Dockerfile Cog generates (reference §3.5), line for line.
#include <algorithm>

#include "builder/plan/render.hpp"

namespace cog::builder::plan {
namespace {

constexpr const char* kSyntax = "#syntax=docker/dockerfile:1.4";
constexpr const char* kAptCache = "--mount=type=cache,target=/var/cache/apt,sharing=locked";
constexpr const char* kCflags = "ENV CFLAGS=\"-O3 -funroll-loops -fno-strict-aliasing -flto -S\"";
constexpr const char* kCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// ENV values with spaces, quotes or nothing at all need quoting to survive the Dockerfile parser.
std::string env_value(const std::string& value) {
  bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\\';
  });
  if (plain) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string env_line(const std::vector<EnvVar>& vars) {
  std::string line = "ENV";
  for (const auto& var : vars) line += " " + var.name + "=" + env_value(var.value);
  return line;
}

void append_tini(std::vector<std::string>& lines, const Step& step) {
  lines.push_back(std::string("RUN ") + kAptCache +
                  " set -eux; \\\n"
                  "apt-get update -qq && \\\n"
                  "apt-get install -qqy --no-install-recommends curl; \\\n"
                  "rm -rf /var/lib/apt/lists/*; \\\n"
                  "TINI_VERSION=" +
                  step.version +
                  "; \\\n"
                  "TINI_ARCH=\"$(dpkg --print-architecture)\"; \\\n"
                  "curl -sSL -o /sbin/tini \"https://github.com/krallin/tini/releases/download/"
                  "${TINI_VERSION}/tini-${TINI_ARCH}\"; \\\n"
                  "chmod +x /sbin/tini");
  lines.push_back("ENTRYPOINT [\"/sbin/tini\", \"--\"]");
}

void append_ca_cert(std::vector<std::string>& lines) {
  lines.push_back("COPY --from=cog_build cog-ca-cert.crt /tmp/cog-ca-cert.crt");
  lines.push_back(std::string("RUN cp /tmp/cog-ca-cert.crt /usr/local/share/ca-certificates/"
                              "cog-ca-cert.crt && update-ca-certificates && cat "
                              "/tmp/cog-ca-cert.crt >> ") +
                  kCaBundle);
  lines.push_back(std::string("ENV SSL_CERT_FILE=") + kCaBundle);
  lines.push_back(std::string("ENV REQUESTS_CA_BUNDLE=") + kCaBundle);
}

void append_toolchain(std::vector<std::string>& lines, const Step& step) {
  std::string line =
      std::string("RUN ") + kAptCache + " apt-get update -qq && apt-get install -qqy --no-install-recommends \\\n";
  for (const auto& name : step.packages) line += "\t" + name + " \\\n";
  line += "\t&& rm -rf /var/lib/apt/lists/*";
  lines.push_back(line);
}

void append_python_install(std::vector<std::string>& lines, const Step& step) {
  const std::string& python = step.version;
  lines.push_back("RUN uv python install " + python +
                  " && \\\n"
                  "\tln -sf $(uv python find " +
                  python +
                  ") /usr/bin/python3 && \\\n"
                  "\tln -sf $(uv python find " +
                  python + ") /usr/local/bin/python");
  lines.push_back(env_line(step.env));
}

void append_pip(std::vector<std::string>& lines, const Step& step) {
  const std::string break_system = step.break_system_packages ? "--break-system-packages " : "";
  bool local_artifacts = !step.packages.empty();
  if (local_artifacts) {
    lines.push_back("COPY --from=cog_build local_package_artifacts " + std::string(config::kLocalArtifactsDir));
  }
  lines.push_back("COPY --from=cog_build requirements.txt /tmp/requirements.txt");
  lines.push_back(kCflags);
  lines.push_back("RUN --mount=type=cache,target=/root/.cache/pip uv run pip install " + break_system +
                  "--cache-dir /root/.cache/pip -r /tmp/requirements.txt");
  // A local artifact may depend on cog/coglet; the SDK step installs the right ones.
  if (local_artifacts) lines.push_back("RUN uv pip uninstall " + break_system + "cog coglet");
  lines.push_back("ENV CFLAGS=");
}

void append_sdk(std::vector<std::string>& lines, const Step& step) {
  lines.push_back(kCflags);
  lines.push_back(std::string("RUN --mount=type=cache,target=/root/.cache/uv uv pip install ") +
                  (step.break_system_packages ? "--break-system-packages " : "") + (step.pre_release ? "--pre " : "") +
                  "--no-cache " + step.package);
  lines.push_back("ENV CFLAGS=");
}

std::string run_line(const Step& step) {
  std::string line = "RUN";
  for (const auto& secret : step.secrets) {
    line += " --mount=type=secret,id=" + secret.id + ",target=" + secret.target;
  }
  return line + " " + step.command;
}

// `CMD ["python", "-m", "cog.server.http"]` from "python -m cog.server.http".
std::string exec_form(const std::string& command) {
  std::string json = "[";
  size_t start = 0;
  while (start < command.size()) {
    size_t space = command.find(' ', start);
    if (space == std::string::npos) space = command.size();
    json += (json.size() > 1 ? ", \"" : "\"") + command.substr(start, space - start) + "\"";
    start = space + 1;
  }
  return json + "]";
}

void append_step(std::vector<std::string>& lines, const Step& step) {
  switch (step.kind) {
    case StepKind::WeightsStage:
      lines.push_back("FROM " + step.image + " AS weights");
      break;
    case StepKind::Base:
      lines.push_back("FROM " + step.image);
      break;
    case StepKind::Preamble:
      for (const auto& var : step.env) lines.push_back(env_line({var}));
      break;
    case StepKind::CaCert:
      append_ca_cert(lines);
      break;
    case StepKind::Init:
      append_tini(lines, step);
      break;
    case StepKind::UserEnvironment:
    case StepKind::UvInstall:
      if (step.kind == StepKind::UvInstall) {
        lines.push_back("COPY --from=" + step.image + " /uv /uvx /usr/local/bin/");
      }
      lines.push_back(env_line(step.env));
      break;
    case StepKind::AptPackages: {
      std::string packages;
      for (const auto& name : step.packages) packages += (packages.empty() ? "" : " ") + name;
      lines.push_back(std::string("RUN ") + kAptCache + " apt-get update -qq && apt-get install -qqy " + packages +
                      " && rm -rf /var/lib/apt/lists/*");
      break;
    }
    case StepKind::PythonToolchain:
      append_toolchain(lines, step);
      break;
    case StepKind::PythonInstall:
      append_python_install(lines, step);
      break;
    case StepKind::PythonSymlink:
      lines.push_back("RUN ln -sf /usr/bin/python3 /usr/local/bin/python");
      break;
    case StepKind::PipRequirements:
      append_pip(lines, step);
      break;
    case StepKind::SdkInstall:
      append_sdk(lines, step);
      break;
    case StepKind::LdConfig:
      lines.push_back(
          "RUN find / -type f -name \"*python*.so\" -printf \"%h\\n\" | sort -u > "
          "/etc/ld.so.conf.d/cog.conf && ldconfig");
      break;
    case StepKind::RunCommand:
      lines.push_back(run_line(step));
      break;
    case StepKind::WeightsCopy:
      lines.push_back("COPY --from=weights --link /src/" + step.path + " /src/" + step.path);
      break;
    case StepKind::Workdir:
      lines.push_back("WORKDIR " + step.path);
      break;
    case StepKind::Expose:
      lines.push_back("EXPOSE " + std::to_string(step.port));
      break;
    case StepKind::RuntimeEnvironment:
      // Cog quotes these references; one ENV line each.
      for (const auto& var : step.env) {
        bool number = var.name == "COG_MAX_CONCURRENCY";
        lines.push_back("ENV " + var.name + "=" + (number ? var.value : "\"" + var.value + "\""));
      }
      break;
    case StepKind::Cmd:
      lines.push_back("CMD " + exec_form(step.command));
      break;
    case StepKind::CopySource:
      lines.push_back("COPY . /src");
      break;
    case StepKind::CopyConfig:
      lines.push_back("RUN cp /src/" + step.path + " /src/cog.yaml");
      break;
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

}  // namespace

std::string render_dockerfile(const Plan& plan) {
  std::vector<std::string> lines = {kSyntax};
  for (const auto& step : plan.steps) append_step(lines, step);
  return join_lines(lines);
}

std::string render_weights_dockerfile(const Plan& plan) {
  std::string text = std::string(kSyntax) + "\nFROM scratch\n";
  for (const auto& dir : plan.weights.dirs) text += "\nCOPY " + dir + " /src/" + dir;
  for (const auto& file : plan.weights.files) text += "\nCOPY " + file + " /src/" + file;
  return text;
}

std::string render_debug_output(const Plan& plan) {
  if (plan.weights_image.empty()) return render_dockerfile(plan) + "\n";
  return "=== Weights Dockerfile contents:\n" + render_weights_dockerfile(plan) +
         "\n\n=== Runner Dockerfile contents:\n" + render_dockerfile(plan) + "\n\n=== Weights exclude patterns:\n" +
         join_lines(weights_exclude_patterns(plan.weights)) + "\n";
}

}  // namespace cog::builder::plan
