#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "builder/container/gpu.hpp"
#include "support/error.hpp"
#include "tests/unit/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace cog::builder::container;

namespace {

// A stand-in for /dev holding the named nodes (plain files will do).
struct FakeDev : cog::test::TempDir {
  explicit FakeDev(std::initializer_list<const char*> nodes) {
    for (const char* node : nodes) std::ofstream(path / node).put('\n');
  }
};

}  // namespace

TEST_CASE("--gpus accepts docker's forms") {
  CHECK(parse_gpus("all").all);
  CHECK(parse_gpus("2").count == 2);
  CHECK(parse_gpus("device=0,2").indices == std::vector<int>{0, 2});
  CHECK(parse_gpus("\"device=1\"").indices == std::vector<int>{1});
  CHECK(parse_gpus("device=GPU-4cf8db2d,1").names == std::vector<std::string>{"GPU-4cf8db2d"});
  CHECK(parse_gpus("device=GPU-4cf8db2d,1").indices == std::vector<int>{1});
  CHECK(parse_gpus("nvidia.com/gpu=all").cdi_names == std::vector<std::string>{"nvidia.com/gpu=all"});
  CHECK(parse_gpus("nvidia.com/gpu=0,nvidia.com/gpu=1").cdi_names.size() == 2);
  CHECK(parse_gpus("2").text == "2");
  CHECK_THROWS_WITH_AS(parse_gpus("0"), doctest::Contains("zero GPUs"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_gpus("device=0;rm"), doctest::Contains("use --gpus all"), cog::Error);
  CHECK_THROWS_WITH_AS(parse_gpus("many"), doctest::Contains("use --gpus all"), cog::Error);
}

TEST_CASE("GPU nodes are found in index order, control nodes beside them") {
  FakeDev dev({"nvidia10", "nvidia2", "nvidia0", "nvidiactl", "nvidia-uvm", "null"});
  auto host = detect_host_gpus(dev.path);
  REQUIRE(host.gpu_nodes.size() == 3);
  CHECK(fs::path(host.gpu_nodes[0]).filename() == "nvidia0");
  CHECK(fs::path(host.gpu_nodes[2]).filename() == "nvidia10");
  CHECK(host.control_nodes.size() == 2);

  auto two = gpu_devices(parse_gpus("2"), host);
  CHECK(two.size() == 4);  // two GPUs and both control nodes
  CHECK_THROWS_WITH_AS(gpu_devices(parse_gpus("4"), host), doctest::Contains("has 3 GPU(s)"), cog::Error);
}

TEST_CASE("no GPU is a clear error, not a hang") {
  FakeDev dev({"null", "zero"});
  auto host = detect_host_gpus(dev.path);
  CHECK(host.gpu_nodes.empty());
  CHECK_THROWS_WITH_AS(gpu_devices(parse_gpus("all"), host), doctest::Contains("no NVIDIA GPU on this machine"),
                       cog::Error);
  CHECK_THROWS_WITH_AS(gpu_devices(parse_gpus("device=1"), detect_host_gpus(FakeDev({"nvidia0"}).path)),
                       doctest::Contains("there is no /dev/nvidia1"), cog::Error);
  CHECK_THROWS_WITH_AS(gpu_devices(parse_gpus("device=GPU-4cf8"), detect_host_gpus(FakeDev({"nvidia0"}).path)),
                       doctest::Contains("need CDI specs"), cog::Error);
}

TEST_CASE("the image's CUDA must not be newer than the driver's") {
  CHECK(cuda_version_number("12.4") == 12040);
  CHECK(cuda_version_number("11.8.0") == 11080);
  CHECK_FALSE(cuda_version_number("12"));
  CHECK_NOTHROW(check_driver_supports("12.4", 12060));
  CHECK_NOTHROW(check_driver_supports("12.4", 12040));
  CHECK_THROWS_WITH_AS(check_driver_supports("12.8", 12040),
                       doctest::Contains("needs CUDA 12.8 but this machine's NVIDIA driver supports CUDA 12.4 at most"),
                       cog::Error);
}
