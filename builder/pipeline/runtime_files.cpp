#include "builder/pipeline/runtime_files.hpp"

#include <elf.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "support/error.hpp"
#include "support/subprocess.hpp"
#include "support/text_file.hpp"

namespace fs = std::filesystem;

namespace cog::builder::pipeline {
namespace {

fs::path self_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

fs::path require(const fs::path& path, const std::string& what, const std::string& fix) {
  if (!fs::exists(path)) throw Error(ErrorKind::NotFound, path.string(), what + " is missing", fix);
  return path;
}

struct SharedLibrary {
  std::string soname;
  fs::path path;
};

std::vector<SharedLibrary> shared_libraries(const fs::path& binary) {
  auto result = support::run_captured({"ldd", binary.string()});
  if (result.exit_code != 0) {
    throw Error(ErrorKind::Runtime, binary.string(), "ldd failed: " + result.stderr_text,
                "check that the binary is a dynamically linked executable");
  }
  std::vector<SharedLibrary> libraries;
  static const std::regex line_pattern(R"(^\s*(\S+)\s+=>\s+(/\S+))");
  std::istringstream lines(result.stdout_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_search(line, match, line_pattern)) libraries.push_back({match[1], match[2].str()});
  }
  return libraries;
}

// Provided by every glibc image, or tied to the image's own Python: never shipped by us.
bool image_provides(const std::string& soname) {
  static const std::vector<std::string> prefixes = {"libc.so",  "libm.so",    "libdl.so",   "libpthread.so", "librt.so",
                                                    "ld-linux", "libpython3", "libutil.so", "libresolv.so"};
  for (const auto& prefix : prefixes) {
    if (soname.starts_with(prefix)) return true;
  }
  return false;
}

void copy_file_to(const fs::path& source, const fs::path& destination) {
  fs::create_directories(destination.parent_path());
  fs::copy_file(source, destination, fs::copy_options::overwrite_existing);
}

}  // namespace

std::vector<std::string> needed_libraries(const fs::path& binary) {
  const std::string image = support::read_text_file(binary);
  auto fail = [&](const std::string& what) -> std::vector<std::string> {
    throw Error(ErrorKind::Runtime, binary.string(), what, "check that the binary is a dynamically linked executable");
  };
  Elf64_Ehdr header;
  if (image.size() < sizeof header || image.compare(0, SELFMAG, ELFMAG) != 0 || image[EI_CLASS] != ELFCLASS64) {
    return fail("not a 64-bit ELF file");
  }
  std::memcpy(&header, image.data(), sizeof header);
  auto read_at = [&](auto& into, std::uint64_t offset) {
    if (offset > image.size() || image.size() - offset < sizeof into) return false;
    std::memcpy(&into, image.data() + offset, sizeof into);
    return true;
  };
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!read_at(segments[i], header.e_phoff + i * header.e_phentsize)) return fail("truncated program headers");
  }
  // The string table's address, as a file offset (it lies in a loaded segment).
  auto file_offset = [&](std::uint64_t address) -> std::optional<std::uint64_t> {
    for (const auto& segment : segments) {
      if (segment.p_type == PT_LOAD && address >= segment.p_vaddr && address - segment.p_vaddr < segment.p_filesz) {
        return segment.p_offset + (address - segment.p_vaddr);
      }
    }
    return std::nullopt;
  };
  std::vector<std::uint64_t> name_offsets;
  std::optional<std::uint64_t> strings;
  for (const auto& segment : segments) {
    if (segment.p_type != PT_DYNAMIC) continue;
    for (std::uint64_t at = segment.p_offset; at + sizeof(Elf64_Dyn) <= segment.p_offset + segment.p_filesz;
         at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry;
      if (!read_at(entry, at) || entry.d_tag == DT_NULL) break;
      if (entry.d_tag == DT_NEEDED) name_offsets.push_back(entry.d_un.d_val);
      if (entry.d_tag == DT_STRTAB) strings = file_offset(entry.d_un.d_ptr);
    }
  }
  if (!strings) return fail("no dynamic section (a static binary?)");
  std::vector<std::string> names;
  for (auto offset : name_offsets) {
    if (*strings + offset >= image.size()) return fail("a DT_NEEDED name lies outside the file");
    names.emplace_back(image.c_str() + *strings + offset);  // NUL-terminated within the file
  }
  return names;
}

RuntimeFiles locate_runtime() {
  RuntimeFiles files;
  fs::path runtime_dir;
  if (const char* dir = std::getenv("COG_RUNTIME_DIR"); dir && *dir) {
    runtime_dir = dir;
  } else {
    runtime_dir = self_dir().parent_path() / "runtime";
  }
  const std::string fix =
      "build the project (scripts/build.sh) or set COG_RUNTIME_DIR to the directory "
      "holding cog-server and cog-worker";
  files.server_binary = require(runtime_dir / "cog-server", "the prediction server", fix);
  files.worker_binary = require(runtime_dir / "cog-worker", "the prediction worker", fix);
  if (const char* sdk = std::getenv("COG_SDK_DIR"); sdk && *sdk) {
    files.sdk_dir = sdk;
  } else {
    files.sdk_dir = fs::path(COG_SOURCE_DIR) / "runtime" / "python";
  }
  require(files.sdk_dir / "cog" / "__init__.py", "the cog Python SDK", "set COG_SDK_DIR");
  if (fs::exists(runtime_dir / "worker-src" / "runtime" / "worker" / "main.cc")) {
    files.worker_sources = runtime_dir / "worker-src";
  }
  static const std::regex python_pattern(R"(^libpython(\d+\.\d+))");
  for (const auto& soname : needed_libraries(files.worker_binary)) {
    std::smatch match;
    if (std::regex_search(soname, match, python_pattern)) files.python_version = match[1];
  }
  if (files.python_version.empty()) {
    throw Error(ErrorKind::Runtime, files.worker_binary.string(), "the worker does not link libpython",
                "rebuild the project");
  }
  return files;
}

bool newer_library(const fs::path& candidate, const fs::path& current) {
  std::error_code ec;
  const fs::path candidate_file = fs::canonical(candidate, ec);
  const fs::path current_file = fs::canonical(current, ec);
  return strverscmp(candidate_file.filename().c_str(), current_file.filename().c_str()) > 0;
}

void stage_runtime(const RuntimeFiles& runtime, const fs::path& staging, const std::string& python_link,
                   const ImageLibrary& image_library) {
  const fs::path root = staging / fs::path(kImageRuntimeDir).relative_path();
  copy_file_to(runtime.server_binary, root / "bin" / "cog-server");
  copy_file_to(runtime.worker_binary, root / "bin" / "cog-worker");
  std::map<std::string, fs::path> libraries;  // soname -> the file that goes in
  auto offer = [&](const std::string& soname, const fs::path& file, bool wins_ties) {
    if (image_provides(soname)) return;
    auto [it, inserted] = libraries.emplace(soname, file);
    if (inserted) return;
    if (newer_library(file, it->second) || (wins_ties && !newer_library(it->second, file))) it->second = file;
  };
  for (const auto& library : shared_libraries(runtime.server_binary)) offer(library.soname, library.path, false);
  if (runtime.worker_libraries.empty()) {
    for (const auto& library : shared_libraries(runtime.worker_binary)) offer(library.soname, library.path, false);
  } else {
    for (const auto& [soname, file] : runtime.worker_libraries) offer(soname, file, true);
  }
  for (const auto& [soname, file] : libraries) {
    const fs::path real = fs::canonical(file);
    if (image_library) {
      const auto in_image = image_library(soname);
      if (in_image && strverscmp(in_image->c_str(), real.filename().c_str()) >= 0) continue;
    }
    copy_file_to(real, root / "lib" / soname);
  }
  // The SDK, without bytecode caches (they would make the layer differ from machine to machine).
  const fs::path sdk_source = runtime.sdk_dir / "cog";
  for (auto it = fs::recursive_directory_iterator(sdk_source); it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == "__pycache__") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->path().extension() == ".pyc") continue;
    copy_file_to(it->path(), root / "python" / "cog" / fs::relative(it->path(), sdk_source));
  }
  // `python` as well as `python3`, as in Cog's images (Debian only ships python3).
  if (!python_link.empty()) {
    fs::create_directories(staging / "usr/local/bin");
    fs::create_symlink(python_link, staging / "usr/local/bin/python");
  }
  // Debian's python reads .pth files from /usr/lib/python3/dist-packages; python.org builds and
  // the python:*-slim images from /usr/local/lib/pythonX.Y/site-packages. Cover both.
  const std::string pth = std::string(kImageSdkDir) + "\n";
  for (const fs::path dir : {fs::path("usr/lib/python3/dist-packages"),
                             fs::path("usr/local/lib/python" + runtime.python_version) / "site-packages"}) {
    fs::create_directories(staging / dir);
    std::ofstream(staging / dir / "cog-runtime.pth") << pth;
  }
}

}  // namespace cog::builder::pipeline
