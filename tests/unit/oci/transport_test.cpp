// Image references in skopeo's transport syntax as `cog build -o` takes them, and what the
// docker-archive writer names the image.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "builder/oci/image_builder.hpp"
#include "builder/oci/store.hpp"
#include "builder/oci/transport.hpp"
#include "support/error.hpp"
#include "helpers.hpp"

using namespace cog::builder::oci;
using cog::test::TempDir;
using cog::test::write_file;

namespace {

std::string error_text(std::string_view reference, std::string_view image_name = "") {
  try {
    parse_output_reference(reference, image_name);
  } catch (const cog::Error& error) {
    return error.where() + ": " + error.message() + " — " + error.fix();
  }
  return "";
}

nlohmann::json archive_manifest(const std::filesystem::path& archive) {
  for (const auto& item : cog::test::read_tar(archive)) {
    if (item.path == "manifest.json") return nlohmann::json::parse(item.content);
  }
  FAIL("no manifest.json in " << archive);
  return {};
}

}  // namespace

TEST_CASE("transport: other skopeo transports are errors, not store names") {
  for (const char* text : {"dir:/tmp/x", "dir:relative/x", "oci-archive:/tmp/x.tar", "oci-archive:x.tar",
                           "docker-daemon:model:latest", "containers-storage:model", "foo:/tmp/x", "tarball:./x.tar"}) {
    CAPTURE(text);
    try {
      parse_image_reference(text);
      FAIL("accepted");
    } catch (const cog::Error& error) {
      CHECK(error.kind() == cog::ErrorKind::Usage);
      CHECK(error.message().find("unknown transport") != std::string::npos);
      CHECK(error.fix().find("oci:DIR[:TAG] or docker-archive:FILE[:REF]") != std::string::npos);
    }
  }
  // Names whose first ':' starts a tag or a registry port stay names.
  CHECK(parse_image_reference("python:3.11-slim").name == "python:3.11-slim");
  CHECK(parse_image_reference("docker:dind").name == "docker:dind");
  CHECK(parse_image_reference("localhost:5000/team/model").name == "localhost:5000/team/model:latest");
  CHECK(parse_image_reference("localhost:5000/model:v1").name == "localhost:5000/model:v1");
  CHECK(parse_image_reference("r8.im/user/model:abc").name == "r8.im/user/model:abc");
  CHECK(parse_image_reference("model@sha256:abcd").name == "model@sha256:abcd");
  CHECK(parse_image_reference("sha256:0123456789abcdef").transport == ImageReference::Transport::Store);
}

TEST_CASE("transport: -o values name the flag in their errors") {
  CHECK(error_text("dir:/tmp/x") ==
        "--output dir:/tmp/x: unknown transport 'dir:' — write oci:DIR[:TAG] or docker-archive:FILE[:REF]");
  CHECK(error_text("docker-archive:").starts_with("--output docker-archive:: no path after"));
  CHECK(error_text("docker://r8.im/x").starts_with("--output docker://r8.im/x: "));
}

TEST_CASE("transport: a docker-archive output without :REF takes the image's name") {
  auto named = parse_output_reference("docker-archive:/tmp/x.tar", "myname");
  CHECK(named.transport == ImageReference::Transport::DockerArchive);
  CHECK(named.path == "/tmp/x.tar");
  CHECK(named.name == "myname:latest");
  CHECK(named.str() == "docker-archive:/tmp/x.tar:myname:latest");
  CHECK(parse_image_reference(named.str()).name == "myname:latest");  // what the build reads back
  CHECK(parse_output_reference("docker-archive:/tmp/x.tar", "localhost:5000/m").name == "localhost:5000/m:latest");
  CHECK(parse_output_reference("docker-archive:/tmp/x.tar:other:v2", "myname").name == "other:v2");
  CHECK(parse_output_reference("docker-archive:/tmp/x.tar", "").name.empty());
  // An OCI layout keeps its own tag ("latest" when none is given, see save_image).
  CHECK(parse_output_reference("oci:/tmp/layout", "myname").name.empty());
  CHECK(parse_output_reference("oci:/tmp/layout:v1", "myname").name == "v1");
}

TEST_CASE("transport: the docker-archive writer's RepoTags") {
  TempDir dir;
  ImageStore store(dir / "store");
  ImageBuilder builder(store.layout());
  write_file(dir / "one/a.txt", "a");
  builder.add_layer_from_directory(dir / "one", {}, "layer one");
  Descriptor manifest = builder.commit("myname:latest");

  const auto named = dir / "named.tar";
  save_image(store.layout(), manifest, parse_output_reference("docker-archive:" + named.string(), "myname"));
  CHECK(archive_manifest(named)[0]["RepoTags"] == nlohmann::json::array({"myname:latest"}));

  const auto explicit_ref = dir / "explicit.tar";
  save_image(store.layout(), manifest,
             parse_output_reference("docker-archive:" + explicit_ref.string() + ":other", "myname"));
  CHECK(archive_manifest(explicit_ref)[0]["RepoTags"] == nlohmann::json::array({"other:latest"}));

  const auto bare = dir / "bare.tar";
  save_image(store.layout(), manifest, parse_image_reference("docker-archive:" + bare.string()));
  CHECK(archive_manifest(bare)[0]["RepoTags"] == nlohmann::json::array());
}
