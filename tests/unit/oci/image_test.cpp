#include <doctest/doctest.h>

#include "builder/oci/image.hpp"
#include "support/error.hpp"

using namespace cog::builder::oci;

namespace {
Digest digest_of(char c) { return Digest{"sha256", std::string(64, c)}; }
}  // namespace

TEST_CASE("image: config JSON is compact, key-sorted, and omits empty fields") {
  ImageConfig config;
  config.created = rfc3339(0);
  config.config.set_env("PATH", "/usr/bin");
  config.config.set_env("A", "1");
  config.config.set_env("PATH", "/bin");  // replaces, keeps position
  config.config.cmd = std::vector<std::string>{"python", "-m", "cog.server.http"};
  config.config.working_dir = "/src";
  config.config.exposed_ports = {"5000/tcp"};
  config.config.labels = {{"run.cog.version", "0.1.0"}, {"a", "b"}};
  config.diff_ids = {digest_of('a')};
  config.history = {{rfc3339(0), "COPY . /src", "", false}, {"", "ENV A=1", "", true}};
  std::string expected = R"({"architecture":"amd64","config":{"Cmd":["python","-m","cog.server.http"],)"
                         R"("Env":["PATH=/bin","A=1"],"ExposedPorts":{"5000/tcp":{}},)"
                         R"("Labels":{"a":"b","run.cog.version":"0.1.0"},"WorkingDir":"/src"},)"
                         R"("created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z",)"
                         R"("created_by":"COPY . /src"},{"created_by":"ENV A=1","empty_layer":true}],"os":"linux",)"
                         R"("rootfs":{"diff_ids":["sha256:)" +
                         std::string(64, 'a') + R"("],"type":"layers"}})";
  CHECK(canonical_json(config) == expected);
  CHECK(parse_image_config(expected) == config);
  CHECK(config.config.get_env("PATH") == "/bin");
  CHECK_FALSE(config.config.get_env("PAT").has_value());
}

TEST_CASE("image: manifest round trip and digest stability") {
  Manifest manifest;
  manifest.config = {media_type::oci_config, digest_of('c'), 123, {}, {}};
  manifest.layers = {{media_type::oci_layer_gzip, digest_of('1'), 10, {}, {}},
                     {media_type::oci_layer_gzip, digest_of('2'), 20, {{"k", "v"}}, {}}};
  std::string text = canonical_json(manifest);
  CHECK(text.find(' ') == std::string::npos);
  CHECK(text.starts_with(R"({"config":{"digest":"sha256:)"));
  CHECK(parse_manifest(text) == manifest);
  CHECK(canonical_json(parse_manifest(text)) == text);
}

TEST_CASE("image: Docker schema 2 manifests parse, indexes are not manifests") {
  std::string docker = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:)" +
                       std::string(64, 'd') + R"("},"layers":[]})";
  CHECK(parse_manifest(docker).media_type == media_type::docker_manifest);
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";
  CHECK_THROWS_AS(parse_manifest(index), cog::Error);
  CHECK(parse_index(index).manifests.empty());
  CHECK_THROWS_AS(parse_manifest("{not json"), cog::Error);
  CHECK_THROWS_AS(parse_manifest(R"({"schemaVersion":1})"), cog::Error);
}

TEST_CASE("image: rfc3339") {
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(1700000000) == "2023-11-14T22:13:20Z");
}
