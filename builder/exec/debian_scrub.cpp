// make_rootfs_reproducible and installed_packages (declared in debian_base.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "builder/exec/deb822.hpp"
#include "builder/exec/debian_base.hpp"
#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

void remove_children(const fs::path& dir, bool keep_directories) {
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (keep_directories && it->is_directory() && !it->is_symlink())
      remove_children(it->path(), true);
    else
      fs::remove_all(it->path());
  }
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  if (!out) throw Error(ErrorKind::Io, file.string(), "cannot write");
}

// Empties every log but keeps the files: their owners and modes are part of the system.
void truncate_files(const fs::path& dir) {
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end; it.increment(error))
    if (it->is_regular_file() && !it->is_symlink()) fs::resize_file(it->path(), 0);
}

// Field 3 of shadow is the day of the last password change, i.e. the build day. Emptied: the
// accounts of a base have no passwords, and an empty field turns password ageing off.
void clear_shadow_dates(const fs::path& file) {
  if (!fs::exists(file)) return;
  std::ifstream in(file);
  std::string result;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, ':');) fields.push_back(field);
    if (!line.empty() && line.back() == ':') fields.push_back("");
    if (fields.size() > 2) fields[2].clear();
    std::string joined;
    for (std::size_t i = 0; i < fields.size(); ++i) joined += (i ? ":" : "") + fields[i];
    result += joined + "\n";
  }
  in.close();
  auto perms = fs::status(file).permissions();
  write_text(file, result);
  fs::permissions(file, perms);
}

}  // namespace

void make_rootfs_reproducible(const fs::path& rootfs, const DebianSuite& suite, const DebianMirrors& mirrors) {
  // Downloaded packages and indexes: steps bind their own caches, apt-get update refetches.
  remove_children(rootfs / "var/cache/apt", true);
  remove_children(rootfs / "var/lib/apt/lists", true);
  truncate_files(rootfs / "var/log");
  remove_children(rootfs / "dev", false);  // the sandbox and the runtime provide /dev
  remove_children(rootfs / "run", true);
  for (const char* name :
       {"var/cache/ldconfig/aux-cache", "etc/machine-id", "var/lib/dbus/machine-id", "etc/resolv.conf", "etc/hostname"})
    fs::remove(rootfs / name);
  std::error_code error;
  for (const char* dir : {"var/cache/debconf", "var/lib/dpkg", "etc"})
    for (fs::directory_iterator it(rootfs / dir, error), end; !error && it != end; it.increment(error))
      if (it->path().filename().string().ends_with("-old")) fs::remove(it->path());
  for (const char* file : {"etc/shadow", "etc/shadow-"}) clear_shadow_dates(rootfs / file);

  write_text(rootfs / "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  std::string sources = "deb " + mirrors.archive + " " + suite.name + " main\n" + "deb " + mirrors.archive + " " +
                        suite.name + "-updates main\n";
  if (!mirrors.security.empty()) sources += "deb " + mirrors.security + " " + suite.name + "-security main\n";
  write_text(rootfs / "etc/apt/sources.list", sources);

  // Cog images start through /sbin/tini; Debian installs it in /usr/bin.
  if (fs::exists(rootfs / "usr/bin/tini") && !fs::exists(rootfs / "usr/sbin/tini"))
    fs::create_symlink("../bin/tini", rootfs / "usr/sbin/tini");
}

std::vector<InstalledPackage> installed_packages(const fs::path& rootfs) {
  std::ifstream in(rootfs / "var/lib/dpkg/status");
  if (!in) throw Error(ErrorKind::NotFound, (rootfs / "var/lib/dpkg/status").string(), "not a Debian root file system");
  std::vector<InstalledPackage> packages;
  for (auto& paragraph : read_deb822(in)) {
    if (!paragraph["status"].ends_with(" installed") || paragraph["package"].empty()) continue;
    packages.push_back({paragraph["package"], paragraph["version"]});
  }
  std::sort(packages.begin(), packages.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return packages;
}

}  // namespace cog::builder::exec
