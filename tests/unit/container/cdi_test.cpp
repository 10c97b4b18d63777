// CDI specs as nvidia-ctk writes them: parsing (YAML and JSON), picking devices for --gpus, the
// fallbacks when there are no specs, and the edits in the OCI runtime spec.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "builder/container/cdi.hpp"
#include "builder/container/engine_container.hpp"
#include "builder/container/gpu.hpp"
#include "builder/container/runtime_spec.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace cog::builder::container;

namespace {

// Shaped like `nvidia-ctk cdi generate` output (trimmed): two GPUs, "all", shared edits.
const char* const nvidia_yaml = R"(---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: "1"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia1
      hostPath: /dev/nvidia1
      type: c
      major: 195
      minor: 1
      permissions: rw
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
    - path: /dev/nvidia1
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  deviceNodes:
  - path: /dev/nvidiactl
  hooks:
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args:
    - nvidia-ctk
    - hook
    - update-ldcache
    - --folder
    - /usr/lib/x86_64-linux-gnu
  mounts:
  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05
    options:
    - ro
    - nosuid
    - nodev
    - bind
)";

// A directory of CDI specs, written by name.
struct SpecDir : cog::test::TempDir {
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

HostGpus no_gpus() { return {}; }

HostGpus two_gpus() {
  HostGpus host;
  host.gpu_nodes = {"/dev/nvidia0", "/dev/nvidia1"};
  host.control_nodes = {"/dev/nvidiactl"};
  return host;
}

}  // namespace

TEST_CASE("an nvidia-ctk YAML spec parses into devices and shared edits") {
  const CdiSpec spec = parse_cdi_spec(nvidia_yaml, "nvidia.yaml");
  CHECK(spec.version == "0.5.0");
  CHECK(spec.kind == "nvidia.com/gpu");
  REQUIRE(spec.devices.size() == 4);
  CHECK(spec.devices[0].name == "0");
  const CdiDeviceNode& one = spec.devices[2].edits.device_nodes.at(0);
  CHECK(one.host_path == "/dev/nvidia1");
  CHECK(one.major == 195);
  CHECK(one.minor == 1);
  CHECK(one.permissions == "rw");
  CHECK(spec.edits.env == std::vector<std::string>{"NVIDIA_VISIBLE_DEVICES=void"});
  REQUIRE(spec.edits.hooks.size() == 1);
  CHECK(spec.edits.hooks[0].hook_name == "createContainer");
  CHECK(spec.edits.hooks[0].args.at(2) == "update-ldcache");
  REQUIRE(spec.edits.mounts.size() == 1);
  CHECK(spec.edits.mounts[0].options.back() == "bind");
}

TEST_CASE("a JSON spec parses the same way") {
  const CdiSpec spec = parse_cdi_spec(R"({"cdiVersion": "0.6.0", "kind": "example.com/fake",
    "devices": [{"name": "x", "containerEdits": {"env": ["A=1"],
      "deviceNodes": [{"path": "/dev/fake0", "hostPath": "/dev/zero", "fileMode": 438}]}}]})",
                                      "fake.json");
  CHECK(spec.kind == "example.com/fake");
  REQUIRE(spec.devices.size() == 1);
  CHECK(spec.devices[0].edits.env == std::vector<std::string>{"A=1"});
  CHECK(spec.devices[0].edits.device_nodes[0].file_mode == 438u);
}

TEST_CASE("malformed specs are errors that name the file and the field") {
  CHECK_THROWS_WITH_AS(parse_cdi_spec("cdiVersion: 0.5.0\ndevices: []\n", "/etc/cdi/a.yaml"),
                       doctest::Contains("/etc/cdi/a.yaml: .kind: is missing"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_cdi_spec("cdiVersion: 0.5.0\nkind: gpu\n", "a.yaml"),
                       doctest::Contains("is not vendor/class"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_cdi_spec("cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: x\n  containerEdits:\n"
                                      "    deviceNodes:\n    - path: /dev/x\n      major: many\n",
                                      "a.yaml"),
                       doctest::Contains(".devices[0].containerEdits.deviceNodes[0].major: must be an integer"),
                       cog::Error);
  CHECK_THROWS_WITH_AS(
      parse_cdi_spec("cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits:\n  hooks:\n  - hookName: later\n    path: /x\n",
                     "a.yaml"),
      doctest::Contains("is not an OCI hook"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_cdi_spec("{not json", "a.json"), doctest::Contains("is not valid JSON"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_cdi_spec("kind: [unclosed", "a.yaml"), doctest::Contains("is not valid YAML"), cog::Error);
}

TEST_CASE("specs load from every directory, a later one overriding a device") {
  SpecDir etc, run;
  etc.write("nvidia.yaml", nvidia_yaml);
  etc.write("notes.txt", "not a spec");
  run.write("override.json", R"({"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
    "devices": [{"name": "1", "containerEdits": {"env": ["OVERRIDDEN=1"]}}]})");
  const auto specs = load_cdi_specs({etc.path, run.path, etc.path / "missing"});
  REQUIRE(specs.size() == 2);
  const auto names = cdi_device_names(specs, "nvidia.com/gpu");
  CHECK(std::count(names.begin(), names.end(), "1") == 1);
  const CdiEdits edits = resolve_cdi_devices(specs, {"nvidia.com/gpu=1"});
  CHECK(edits.env == std::vector<std::string>{"OVERRIDDEN=1"});
}

TEST_CASE("--gpus picks CDI devices: all, a count, indices, names, qualified names") {
  const std::vector<CdiSpec> specs = {parse_cdi_spec(nvidia_yaml, "nvidia.yaml")};
  CHECK(cdi_names_for(parse_gpus("all"), specs) == std::vector<std::string>{"nvidia.com/gpu=all"});
  CHECK(cdi_names_for(parse_gpus("2"), specs) == std::vector<std::string>{"nvidia.com/gpu=0", "nvidia.com/gpu=1"});
  CHECK(cdi_names_for(parse_gpus("device=1"), specs) == std::vector<std::string>{"nvidia.com/gpu=1"});
  CHECK(cdi_names_for(parse_gpus("device=GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c"), specs) ==
        std::vector<std::string>{"nvidia.com/gpu=GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c"});
  CHECK(cdi_names_for(parse_gpus("nvidia.com/gpu=all"), specs) == std::vector<std::string>{"nvidia.com/gpu=all"});
  CHECK_THROWS_WITH_AS(cdi_names_for(parse_gpus("3"), specs), doctest::Contains("the CDI specs define 2 GPU(s)"),
                       cog::Error);
  CHECK(cdi_names_for(parse_gpus("all"), {}).empty());

  // The spec's shared edits come once, then each device's.
  const CdiEdits edits = resolve_cdi_devices(specs, {"nvidia.com/gpu=0", "nvidia.com/gpu=1"});
  CHECK(edits.env.size() == 1);
  CHECK(edits.hooks.size() == 1);
  CHECK(edits.device_nodes.size() == 3);  // nvidiactl, nvidia0, nvidia1
  CHECK_THROWS_WITH_AS(resolve_cdi_devices(specs, {"nvidia.com/gpu=7"}),
                       doctest::Contains("known: nvidia.com/gpu=0, nvidia.com/gpu=GPU-"), cog::Error);
  CHECK_THROWS_WITH_AS(resolve_cdi_devices(specs, {"amd.com/gpu=0"}),
                       doctest::Contains("no CDI spec defines devices of kind amd.com/gpu"), cog::Error);
}

TEST_CASE("without CDI specs: the NVIDIA hook, then device nodes, then a clear error") {
  const auto request = parse_gpus("device=1");
  const auto hooked = plan_gpu_access(request, {}, two_gpus(), fs::path("/usr/bin/nvidia-container-runtime-hook"));
  CHECK(hooked.method == GpuAccess::Method::NvidiaHook);
  REQUIRE(hooked.edits.hooks.size() == 1);
  CHECK(hooked.edits.hooks[0].hook_name == "prestart");
  CHECK(hooked.edits.hooks[0].args == std::vector<std::string>{"nvidia-container-runtime-hook", "prestart"});
  CHECK(hooked.edits.env.at(0) == "NVIDIA_VISIBLE_DEVICES=1");

  const auto nodes = plan_gpu_access(request, {}, two_gpus(), std::nullopt);
  CHECK(nodes.method == GpuAccess::Method::DeviceNodes);
  CHECK(nodes.device_nodes == std::vector<std::string>{"/dev/nvidia1", "/dev/nvidiactl"});

  CHECK_THROWS_WITH_AS(plan_gpu_access(parse_gpus("all"), {}, no_gpus(), fs::path("/usr/bin/hook")),
                       doctest::Contains("no NVIDIA GPU on this machine"), cog::Error);
  CHECK_THROWS_WITH_AS(plan_gpu_access(parse_gpus("nvidia.com/gpu=0"), {}, two_gpus(), std::nullopt),
                       doctest::Contains("no CDI spec defines devices of kind nvidia.com/gpu"), cog::Error);
  const std::vector<CdiSpec> specs = {parse_cdi_spec(nvidia_yaml, "nvidia.yaml")};
  CHECK(plan_gpu_access(parse_gpus("all"), specs, no_gpus(), std::nullopt).method == GpuAccess::Method::Cdi);
}

TEST_CASE("CDI edits land in the OCI runtime spec") {
  ContainerSpec spec;
  spec.rootfs = "/tmp/root";
  spec.args = {"true"};
  spec.edits.device_nodes.push_back({"/dev/nvidia0", "/dev/zero", "", std::nullopt, std::nullopt, "rw", {}, {}, {}});
  spec.edits.device_nodes.push_back({"/dev/nvidia0", "/dev/zero", "", std::nullopt, std::nullopt, "", {}, {}, {}});
  spec.edits.device_nodes.push_back(
      {"/dev/missing", "/dev/does-not-exist", "", std::nullopt, std::nullopt, "", {}, {}, {}});
  spec.edits.mounts.push_back({"/host/lib.so", "/usr/lib/lib.so", "", {"ro", "nosuid"}});
  spec.edits.hooks.push_back({"createContainer", "/usr/bin/nvidia-ctk", {"nvidia-ctk", "hook"}, {}, 5});
  const auto document = runtime_spec(spec);

  const auto& devices = document["linux"]["devices"];
  REQUIRE(devices.size() == 1);  // the duplicate collapsed, the missing one skipped
  CHECK(devices[0]["path"] == "/dev/nvidia0");
  CHECK(devices[0]["type"] == "c");
  CHECK(devices[0]["major"] == 1);  // /dev/zero is 1:5
  CHECK(devices[0]["minor"] == 5);
  bool allowed = false;
  for (const auto& rule : document["linux"]["resources"]["devices"]) {
    if (rule.value("allow", false) && rule.value("major", -1) == 1 && rule.value("minor", -1) == 5) allowed = true;
  }
  CHECK(allowed);

  const auto& mounts = document["mounts"];
  const auto library =
      std::find_if(mounts.begin(), mounts.end(), [](const auto& m) { return m["destination"] == "/usr/lib/lib.so"; });
  REQUIRE(library != mounts.end());
  CHECK((*library)["type"] == "bind");
  CHECK((*library)["options"] == nlohmann::json({"rbind", "ro", "nosuid"}));

  REQUIRE(document.contains("hooks"));
  CHECK(document["hooks"]["createContainer"][0]["path"] == "/usr/bin/nvidia-ctk");
  CHECK(document["hooks"]["createContainer"][0]["timeout"] == 5);
}

TEST_CASE("env merges one value per name, later wins") {
  CHECK(merge_env({"PATH=/bin", "A=1"}, {"A=2", "B=3"}) == std::vector<std::string>{"PATH=/bin", "A=2", "B=3"});
}

TEST_CASE("docker and podman runs have our containers' semantics") {
  EngineRunSpec spec;
  spec.image = "hello:latest";
  spec.args = {"/usr/bin/tini", "--", "cog-server", "--host", "127.0.0.1"};
  spec.env = {"PORT=5001"};
  spec.cwd = "/src";
  spec.binds = {{"/work/project", "/src", false}};
  spec.gpus = "device=0,1";
  auto docker = engine_run_args({"docker", "/usr/bin/docker"}, spec, "cog-1");
  // The open-files limit follows this host's (see runtime_spec.cpp); the rest is fixed.
  for (auto ulimit = std::find(docker.begin(), docker.end(), "--ulimit"); ulimit != docker.end();
       ulimit = std::find(docker.begin(), docker.end(), "--ulimit")) {
    docker.erase(ulimit, ulimit + 2);
  }
  const std::vector<std::string> expected = {"run",          "--rm",
                                             "--name",       "cog-1",
                                             "--network",    "host",
                                             "--add-host",   "host.docker.internal:127.0.0.1",
                                             "--env",        "PORT=5001",
                                             "--workdir",    "/src",
                                             "--volume",     "/work/project:/src",
                                             "--gpus",       "device=0,1",
                                             "--entrypoint", "/usr/bin/tini",
                                             "hello:latest", "--",
                                             "cog-server",   "--host",
                                             "127.0.0.1"};
  CHECK(docker == expected);
  const auto podman = engine_run_args({"podman", "/usr/bin/podman"}, spec, "cog-1");
  CHECK(std::find(podman.begin(), podman.end(), "--gpus") == podman.end());
  CHECK(std::count(podman.begin(), podman.end(), "nvidia.com/gpu=1") == 1);
  spec.gpus = "nvidia.com/gpu=all";
  const auto cdi = engine_run_args({"docker", "/usr/bin/docker"}, spec, "cog-1");
  CHECK(std::find(cdi.begin(), cdi.end(), "nvidia.com/gpu=all") != cdi.end());
  CHECK(is_engine_runtime("docker"));
  CHECK_FALSE(is_engine_runtime("runc"));
}
