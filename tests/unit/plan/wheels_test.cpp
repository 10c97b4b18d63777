// COG_SDK_WHEEL / COGLET_WHEEL: what each value makes pip install, and what --debug says.
#include <doctest/doctest.h>

#include <fstream>

#include "builder/plan/wheels.hpp"
#include "support/error.hpp"

namespace fs = std::filesystem;
namespace plan = cog::builder::plan;

TEST_CASE("wheel settings become pip requirements") {
  const fs::path dir = fs::temp_directory_path() / "cog-wheels-test";
  fs::remove_all(dir);
  fs::create_directories(dir / "dist");
  std::ofstream(dir / "dist" / "coglet-0.23.1-cp310-abi3-linux_x86_64.whl") << "x";

  auto pypi = plan::read_wheel_setting("COG_SDK_WHEEL", "pypi", "cog", dir);
  CHECK(plan::wheel_requirement(pypi, "cog", "") == "cog");
  auto pinned = plan::read_wheel_setting("COG_SDK_WHEEL", "pypi:0.23.1", "cog", dir);
  CHECK(plan::wheel_requirement(pinned, "cog", "") == "cog==0.23.1");
  auto url = plan::read_wheel_setting("COGLET_WHEEL", "https://example.com/coglet-1-py3-none-any.whl", "coglet", dir);
  CHECK(plan::wheel_requirement(url, "coglet", "") == "https://example.com/coglet-1-py3-none-any.whl");
  CHECK(plan::is_coglet_artifact(url));
  auto dist = plan::read_wheel_setting("COGLET_WHEEL", "dist", "coglet", dir);
  CHECK(dist.path.filename() == "coglet-0.23.1-cp310-abi3-linux_x86_64.whl");
  CHECK(plan::wheel_requirement(dist, "coglet", "/tmp/cog-wheels/x.whl") == "/tmp/cog-wheels/x.whl");
  CHECK(plan::is_coglet_artifact(dist));
  CHECK_FALSE(plan::is_coglet_artifact(plan::read_wheel_setting("COGLET_WHEEL", "pypi", "coglet", dir)));

  // Unset: the SDK follows build.sdk_version (else the latest); coglet comes with it.
  auto unset_sdk = plan::read_wheel_setting("COG_SDK_WHEEL", "", "cog", dir);
  auto unset_coglet = plan::read_wheel_setting("COGLET_WHEEL", "", "coglet", dir);
  CHECK(plan::wheel_requirement(unset_sdk, "cog", "", "0.18.0") == "cog==0.18.0");
  CHECK(plan::wheel_requirement(unset_sdk, "cog", "") == "cog");
  CHECK(plan::wheel_requirement(unset_coglet, "coglet", "") == "");
  CHECK_FALSE(plan::uses_cog_runtime(unset_sdk, unset_coglet));
  CHECK(plan::uses_cog_runtime(unset_sdk, dist));

  CHECK_THROWS_WITH_AS(plan::read_wheel_setting("COG_SDK_WHEEL", (dir / "nope.whl").string(), "cog", dir),
                       doctest::Contains("path not found"), cog::Error);
  fs::remove_all(dir);
}

TEST_CASE("wheel settings say which runtime the image runs") {
  const fs::path dir = fs::temp_directory_path();
  auto pinned = plan::read_wheel_setting("COG_SDK_WHEEL", "pypi:0.23.1", "cog", dir);
  auto unset = plan::read_wheel_setting("COGLET_WHEEL", "", "coglet", dir);
  CHECK(plan::describe_wheel_setting(pinned, true) ==
        "COG_SDK_WHEEL=pypi:0.23.1: the image installs cog from pypi:0.23.1 and runs Cog's own server "
        "(python -m cog.server.http)");
  CHECK(plan::describe_wheel_setting(unset, true).find("coglet comes as the cog SDK's dependency") !=
        std::string::npos);
  CHECK(plan::describe_wheel_setting(unset, false).find("this cog's own runtime") != std::string::npos);
}
