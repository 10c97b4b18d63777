#include "builder/registry/repository.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "builder/oci/descriptor.hpp"
#include "builder/registry/registry_error.hpp"
#include "support/error.hpp"

namespace cog::builder::registry {
namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// Sets `request` up to stream `slice` from its file, opened now (so every attempt starts afresh).
void attach_slice(HttpRequest& request, const FileSlice& slice) {
  request.upload_size = slice.size;
  if (slice.size == 0) {
    request.upload = [](char*, size_t) -> size_t { return 0; };
    return;
  }
  std::shared_ptr<FILE> file(std::fopen(slice.path.c_str(), "rb"), [](FILE* f) {
    if (f) std::fclose(f);
  });
  if (!file || fseeko(file.get(), slice.offset, SEEK_SET) != 0)
    throw Error(ErrorKind::Io, slice.path, "cannot read the blob to upload", "check the local image store");
  auto remaining = std::make_shared<std::int64_t>(slice.size);
  auto on_read = slice.on_read;
  request.upload = [file, remaining, on_read](char* buffer, size_t max) -> size_t {
    size_t want = static_cast<size_t>(std::min<std::int64_t>(*remaining, static_cast<std::int64_t>(max)));
    size_t got = want ? std::fread(buffer, 1, want, file.get()) : 0;
    *remaining -= static_cast<std::int64_t>(got);
    if (on_read && got) on_read(static_cast<std::int64_t>(got));
    return got;
  };
}

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// `bytes=0-1023` or `0-1023` -> 1024 (the next offset); -1 when absent or malformed.
std::int64_t end_of_range(const std::string& range) {
  auto dash = range.find('-');
  if (dash == std::string::npos) return -1;
  try {
    return std::stoll(range.substr(dash + 1)) + 1;
  } catch (...) {
    return -1;
  }
}

bool needs_restart(const HttpResponse& response) { return response.transport_code != 0 || response.status >= 500; }

}  // namespace

Repository::Repository(RegistryClient& client, std::string name, Scopes scopes)
    : client_(client), name_(std::move(name)), scopes_(std::move(scopes)) {}

std::string Repository::url(const std::string& base, const std::string& path) const {
  return base + "/v2/" + name_ + path;
}

void Repository::fail(const std::string& action, const HttpResponse& response) const {
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, client_.registry() + "/" + name_, action + " failed: " + response.transport_error,
                "check your network and try again");
  throw registry_error(client_.registry(), name_, action, response.status, response.body);
}

HttpResponse Repository::send(HttpClient& http, const std::function<HttpRequest(const std::string&)>& make, bool retry,
                              const Scopes* scopes) {
  return client_.send(http, scopes ? *scopes : scopes_, make, retry);
}

std::optional<std::int64_t> Repository::blob_size(HttpClient& http, const oci::Digest& digest) {
  auto response = send(http, [&](const std::string& base) {
    HttpRequest request;
    request.method = "HEAD";
    request.url = url(base, "/blobs/" + digest.str());
    return request;
  });
  if (response.status == 404) return std::nullopt;
  if (!response.ok()) fail("checking blob " + digest.str(), response);
  // A missing or garbled length is "unknown" (-1): the caller then uploads rather than trusts it.
  std::string length = response.header("content-length");
  char* end = nullptr;
  long long size = std::strtoll(length.c_str(), &end, 10);
  return length.empty() || *end != '\0' || size < 0 ? -1 : size;
}

RawManifest Repository::get_manifest(HttpClient& http, const std::string& reference) {
  auto response = send(http, [&](const std::string& base) {
    HttpRequest request;
    request.url = url(base, "/manifests/" + reference);
    request.headers.push_back(kManifestAccept);
    return request;
  });
  if (!response.ok()) fail("reading manifest " + reference, response);
  RawManifest manifest;
  manifest.bytes = std::move(response.body);
  manifest.digest = oci::sha256_of(manifest.bytes);
  manifest.media_type = response.header("content-type");
  if (auto semicolon = manifest.media_type.find(';'); semicolon != std::string::npos)
    manifest.media_type.resize(semicolon);
  // Registries may serve a generic type; the document's own mediaType is authoritative then.
  if (!oci::media_type::is_manifest(manifest.media_type) && !oci::media_type::is_index(manifest.media_type)) {
    auto json = nlohmann::json::parse(manifest.bytes, nullptr, false);
    if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string())
      manifest.media_type = json["mediaType"];
    else if (json.is_object() && json.contains("manifests"))
      manifest.media_type = oci::media_type::oci_index;
    else
      manifest.media_type = oci::media_type::oci_manifest;
  }
  auto pinned = oci::Digest::try_parse(reference);
  auto announced = oci::Digest::try_parse(response.header("docker-content-digest"));
  if ((pinned && *pinned != manifest.digest) ||
      (announced && announced->algorithm == "sha256" && *announced != manifest.digest))
    throw Error(ErrorKind::Io, client_.registry() + "/" + name_,
                "manifest " + reference + " does not match its digest (got " + manifest.digest.str() + ")",
                "the registry or a proxy altered it; try again");
  return manifest;
}

oci::Digest Repository::put_manifest(HttpClient& http, const std::string& reference, const std::string& media_type,
                                     const std::string& bytes) {
  auto response = send(http, [&](const std::string& base) {
    HttpRequest request;
    request.method = "PUT";
    request.url = url(base, "/manifests/" + reference);
    request.headers.push_back("Content-Type: " + media_type);
    request.body = bytes;
    return request;
  });
  if (!response.ok()) fail("pushing manifest " + reference, response);
  return oci::sha256_of(bytes);
}

bool Repository::fetch_blob(HttpClient& http, const oci::Digest& digest, std::int64_t offset,
                            const std::function<void(std::int64_t start)>& on_start,
                            const std::function<bool(const char*, std::size_t)>& sink) {
  auto response = send(
      http,
      [&](const std::string& base) {
        HttpRequest request;
        request.url = url(base, "/blobs/" + digest.str());
        if (offset > 0) request.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
        request.on_download_start = [&](const HttpResponse& head) { on_start(head.status == 206 ? offset : 0); };
        request.download = sink;
        return request;
      },
      /*retry=*/false);
  if (response.transport_code != 0 || response.status >= 500 || response.status == 429) return false;
  if (response.status == 416 && offset > 0) return true;  // nothing left after `offset`
  if (!response.ok()) fail("downloading blob " + digest.str(), response);
  return true;
}

std::optional<UploadSession> Repository::start_upload(HttpClient& http, const oci::Digest* digest,
                                                      const std::string& mount_from) {
  bool mounting = digest && !mount_from.empty();
  Scopes scopes = scopes_;
  if (mounting) scopes.push_back(pull_scope(mount_from));
  auto response = send(
      http,
      [&](const std::string& base) {
        HttpRequest request;
        request.method = "POST";
        request.url = url(base, "/blobs/uploads/");
        if (mounting) request.url += "?mount=" + url_encode(digest->str()) + "&from=" + url_encode(mount_from);
        return request;
      },
      true, &scopes);
  if (mounting && response.status == 201) return std::nullopt;
  if (response.status != 202) fail("starting an upload", response);
  auto location = response.header("location");
  if (location.empty()) fail("starting an upload (no Location in the answer)", response);
  return UploadSession{resolve_url(response.url, location), 0};
}

std::optional<UploadSession> Repository::upload_chunk(HttpClient& http, const UploadSession& session,
                                                      const FileSlice& chunk) {
  auto response = send(
      http,
      [&](const std::string&) {
        HttpRequest request;
        request.method = "PATCH";
        request.url = session.location;
        request.headers.push_back("Content-Type: application/octet-stream");
        request.headers.push_back("Content-Range: " + std::to_string(session.offset) + "-" +
                                  std::to_string(session.offset + chunk.size - 1));
        attach_slice(request, chunk);
        return request;
      },
      /*retry=*/false);
  if (needs_restart(response)) return std::nullopt;
  if (response.status != 202) fail("uploading a chunk", response);
  UploadSession next{session.location, session.offset + chunk.size};
  if (auto location = response.header("location"); !location.empty())
    next.location = resolve_url(response.url, location);
  if (auto end = end_of_range(response.header("range")); end >= 0) next.offset = end;
  return next;
}

std::optional<UploadSession> Repository::upload_status(HttpClient& http, const UploadSession& session) {
  auto response = send(http, [&](const std::string&) {
    HttpRequest request;
    request.url = session.location;
    return request;
  });
  if (response.status != 204 && response.status != 200) return std::nullopt;
  UploadSession status{session.location, 0};
  if (auto location = response.header("location"); !location.empty())
    status.location = resolve_url(response.url, location);
  if (auto end = end_of_range(response.header("range")); end >= 0) status.offset = end;
  return status;
}

bool Repository::finish_upload(HttpClient& http, const UploadSession& session, const oci::Digest& digest,
                               const FileSlice& rest) {
  auto response = send(
      http,
      [&](const std::string&) {
        HttpRequest request;
        request.method = "PUT";
        request.url = with_query(session.location, "digest=" + url_encode(digest.str()));
        request.headers.push_back("Content-Type: application/octet-stream");
        attach_slice(request, rest);
        return request;
      },
      /*retry=*/false);
  if (needs_restart(response)) return false;
  if (response.status != 201 && response.status != 204 && !response.ok())
    fail("uploading blob " + digest.str(), response);
  return true;
}

}  // namespace cog::builder::registry
