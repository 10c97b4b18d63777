#pragma once
// The distribution API for one repository: manifests, blob reads, blob uploads. Each call takes
// the calling thread's HttpClient; errors (cog::Error) name the registry, the repository and what
// the registry said.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "builder/oci/digest.hpp"
#include "builder/registry/client.hpp"

namespace cog::builder::registry {

struct RawManifest {
  std::string media_type;
  std::string bytes;  // exactly as served: the digest is over these bytes
  oci::Digest digest;
};

// Where an upload stands: the URL to send the next request to and how many bytes the registry has.
struct UploadSession {
  std::string location;
  std::int64_t offset = 0;
};

// Streams `size` bytes of a file starting at `offset` (reopened for every attempt).
struct FileSlice {
  std::string path;
  std::int64_t offset = 0;
  std::int64_t size = 0;
  std::function<void(std::int64_t bytes)> on_read;  // progress: bytes handed to the connection
};

class Repository {
 public:
  // `scopes` is what every request of this repository asks a token server for.
  Repository(RegistryClient& client, std::string name, Scopes scopes);

  const std::string& name() const { return name_; }
  RegistryClient& client() { return client_; }

  // HEAD the blob: its size when the registry has it, nullopt when it does not.
  std::optional<std::int64_t> blob_size(HttpClient& http, const oci::Digest& digest);

  // GET a manifest or index by tag or digest, verifying the digest when it is known.
  RawManifest get_manifest(HttpClient& http, const std::string& reference);
  // PUT a manifest under a tag (or its digest); returns the digest of the bytes sent.
  oci::Digest put_manifest(HttpClient& http, const std::string& reference, const std::string& media_type,
                           const std::string& bytes);

  // GET a blob from `offset` on. `on_start` learns, before the first byte reaches `sink`, the
  // offset the registry actually starts from (0 when it ignored the Range). Returns false when
  // the connection failed or the registry failed with 5xx (retry from where the sink got to).
  bool fetch_blob(HttpClient& http, const oci::Digest& digest, std::int64_t offset,
                  const std::function<void(std::int64_t start)>& on_start,
                  const std::function<bool(const char*, std::size_t)>& sink);

  // POST an upload; with `mount_from`, asks to mount `digest` from that repository first.
  // Returns nullopt when the mount succeeded (nothing to upload).
  std::optional<UploadSession> start_upload(HttpClient& http, const oci::Digest* digest = nullptr,
                                            const std::string& mount_from = {});
  // PATCH a chunk at session.offset. Returns the advanced session, or nullopt when the
  // connection failed or the registry failed with 5xx (ask upload_status, then go on).
  std::optional<UploadSession> upload_chunk(HttpClient& http, const UploadSession& session, const FileSlice& chunk);
  // GET the upload's status; nullopt when the registry no longer knows this upload (restart).
  std::optional<UploadSession> upload_status(HttpClient& http, const UploadSession& session);
  // PUT ?digest= with the remaining bytes (`rest`, may be empty). False when the connection
  // failed or the registry failed with 5xx (restart); throws on a refusal.
  bool finish_upload(HttpClient& http, const UploadSession& session, const oci::Digest& digest, const FileSlice& rest);

 private:
  std::string url(const std::string& base, const std::string& path) const;
  [[noreturn]] void fail(const std::string& action, const HttpResponse& response) const;
  HttpResponse send(HttpClient& http, const std::function<HttpRequest(const std::string&)>& make, bool retry = true,
                    const Scopes* scopes = nullptr);

  RegistryClient& client_;
  std::string name_;
  Scopes scopes_;
};

}  // namespace cog::builder::registry
