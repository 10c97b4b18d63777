#include "builder/weights/sources.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "builder/registry/http.hpp"
#include "builder/weights/globs.hpp"
#include "support/error.hpp"

namespace cog::builder::weights {

namespace fs = std::filesystem;

namespace {

std::string last_url_part(std::string url) {
  url = url.substr(0, url.find_first_of("?#"));
  const auto scheme = url.find("://");
  const auto path_start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path_start == std::string::npos) return "";
  std::string path = url.substr(path_start);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path.substr(path.rfind('/') + 1);
}

std::vector<SourceFile> download(const std::string& url, const std::string& name, const fs::path& scratch,
                                 const std::string& where, const std::string& bearer_token = {}) {
  if (name.empty() || name == "." || name == "..")
    throw Error(ErrorKind::Validation, where, "cannot tell a file name from " + url,
                "point the uri at a file, e.g. https://host/path/model.safetensors");
  const fs::path dir = scratch / ("download-" + std::to_string(std::hash<std::string>{}(url)));
  fs::create_directories(dir);
  const fs::path file = dir / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  registry::HttpClient http(registry::TlsOptions{});
  registry::HttpRequest request;
  request.url = url;
  if (!bearer_token.empty()) request.headers.push_back("Authorization: Bearer " + bearer_token);
  request.download = [&out](const char* data, std::size_t size) {
    out.write(data, static_cast<std::streamsize>(size));
    return static_cast<bool>(out);
  };
  const auto response = http.perform(request);
  out.close();
  if (response.transport_code != 0)
    throw Error(ErrorKind::Io, where, "cannot download " + url + ": " + response.transport_error,
                "check the URL and the network");
  if (!response.ok())
    throw Error(ErrorKind::Io, where, "downloading " + url + " failed with HTTP " + std::to_string(response.status),
                "check the URL (and that the file is public)");
  if (!out) throw Error(ErrorKind::Io, file.string(), "cannot write the download", "check disk space");
  return {{name, file, true}};
}

std::vector<SourceFile> local(const fs::path& path, const std::string& uri, const std::string& where) {
  std::error_code error;
  if (fs::is_regular_file(path, error)) return {{path.filename().string(), path, false}};
  if (!fs::is_directory(path, error))
    throw Error(ErrorKind::NotFound, where, "\"" + uri + "\": no such file or directory (" + path.string() + ")",
                "write a path to a file or directory, relative to the project or absolute");
  std::vector<SourceFile> files;
  for (auto it = fs::recursive_directory_iterator(path, error); it != fs::recursive_directory_iterator();
       it.increment(error)) {
    if (error) break;
    if (it->is_symlink() && fs::is_directory(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() && (it->path().filename() == ".git" || it->path().filename() == ".cog")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(it->path())) continue;
    files.push_back({fs::relative(it->path(), path).generic_string(), it->path(), false});
  }
  if (error)
    throw Error(ErrorKind::Io, where, "cannot read " + path.string() + ": " + error.message(), "check permissions");
  return files;
}

}  // namespace

std::string hugging_face_url(const std::string& uri, const std::string& where) {
  // hf://owner/repo[@revision]/path
  std::string rest = uri.substr(5);
  std::vector<std::string> parts;
  for (std::size_t start = 0; start <= rest.size();) {
    auto slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    if (slash > start) parts.push_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() < 3)
    throw Error(ErrorKind::Validation, where,
                "\"" + uri + "\": importing a whole Hugging Face repository is not supported yet",
                "name one file per source, e.g. hf://owner/repo/model.safetensors (or hf://owner/repo@rev/file)");
  std::string repo = parts[1];
  std::string revision = "main";
  if (auto at = repo.find('@'); at != std::string::npos) {
    revision = repo.substr(at + 1);
    repo = repo.substr(0, at);
  }
  std::string file;
  for (std::size_t i = 2; i < parts.size(); ++i) file += (i > 2 ? "/" : "") + parts[i];
  const char* endpoint = std::getenv("HF_ENDPOINT");
  std::string base = endpoint && *endpoint ? endpoint : "https://huggingface.co";
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + parts[0] + "/" + repo + "/resolve/" + revision + "/" + file;
}

std::vector<SourceFile> collect_source(const config::WeightSource& source, const fs::path& project_dir,
                                       const fs::path& scratch, const std::string& where) {
  const std::string& uri = source.uri;
  std::vector<SourceFile> files;
  if (uri.starts_with("https://") || uri.starts_with("http://")) {
    files = download(uri, last_url_part(uri), scratch, where);
  } else if (uri.starts_with("hf://")) {
    const std::string url = hugging_face_url(uri, where);
    const char* token = std::getenv("HF_TOKEN");  // private and gated repositories
    files = download(url, last_url_part(url), scratch, where, token ? token : "");
  } else if (uri.starts_with("file://")) {
    fs::path path = uri.substr(7);
    files = local(path.is_absolute() ? path : project_dir / path, uri, where);
  } else if (uri.find("://") != std::string::npos) {
    throw Error(ErrorKind::Validation, where, "\"" + uri + "\": unsupported scheme",
                "use hf://, https://, http://, file:// or a path in the project");
  } else {
    fs::path path = uri;
    files = local(path.is_absolute() ? path : project_dir / path, uri, where);
  }
  std::erase_if(files, [&](const SourceFile& file) { return !keep_file(file.path, source.include, source.exclude); });
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  if (files.empty())
    throw Error(ErrorKind::Validation, where, "\"" + uri + "\" has no files left after include/exclude",
                "check the globs (a pattern without '/' matches file names at any depth)");
  return files;
}

}  // namespace cog::builder::weights
