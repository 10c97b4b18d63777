#include "builder/exec/sandbox_mounts.hpp"

#include <sys/mount.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "support/error.hpp"

namespace cog::builder::exec {
namespace fs = std::filesystem;
namespace {

// The kernel takes mount options in one page.
constexpr std::size_t max_mount_data = 4000;

bool under(const fs::path& path, const fs::path& dir) {
  auto mismatch = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return mismatch.first == dir.end();
}

fs::path normalise_target(const fs::path& target, const std::string& workdir, const char* kind) {
  if (target.empty())
    throw Error(ErrorKind::Validation, "build step", std::string(kind) + " has no target",
                "give it the path it should appear at, e.g. target: /run/secrets/token");
  fs::path absolute = target.is_absolute() ? target : fs::path(workdir) / target;
  absolute = absolute.lexically_normal();
  if (absolute.has_filename() == false && absolute != "/") absolute = absolute.parent_path();
  for (const auto& part : absolute)
    if (part == "..")
      throw Error(ErrorKind::Validation, target.string(), std::string(kind) + " target leaves the root",
                  "use an absolute path inside it");
  if (absolute == "/" || under(absolute, "/proc") || under(absolute, "/sys") || under(absolute, "/dev"))
    throw Error(ErrorKind::Validation, target.string(), std::string(kind) + " target is reserved by the sandbox",
                "choose a path outside /, /proc, /sys and /dev");
  return absolute;
}

}  // namespace

std::vector<Bind> resolve_binds(const StepSpec& step) {
  std::vector<Bind> binds;
  auto add = [&](const fs::path& source, const fs::path& target, bool read_only, const char* kind) {
    std::error_code error;
    auto status = fs::status(source, error);
    if (error || !fs::exists(status))
      throw Error(ErrorKind::NotFound, source.string(), std::string(kind) + " source does not exist",
                  "create it before the step runs");
    binds.push_back({source, normalise_target(target, step.workdir, kind), read_only, fs::is_directory(status)});
  };
  for (const auto& bind : step.binds) add(bind.source, bind.target, bind.read_only, "bind mount");
  for (const auto& secret : step.secrets) {
    if (!fs::is_regular_file(secret.source))
      throw Error(ErrorKind::NotFound, secret.source.string(), "secret file does not exist",
                  "pass an existing file with --secret id=…,src=…");
    add(secret.source, secret.target, true, "secret");
  }
  for (const char* host_file : {"/etc/resolv.conf", "/etc/hosts"})
    if (fs::exists(host_file)) add(host_file, host_file, true, "name resolution file");
  // Parents before children, so a nested mount lands on top of its parent's.
  std::stable_sort(binds.begin(), binds.end(), [](const Bind& a, const Bind& b) {
    return std::distance(a.target.begin(), a.target.end()) < std::distance(b.target.begin(), b.target.end());
  });
  for (std::size_t i = 0; i < binds.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (binds[j].target == binds[i].target || (binds[j].directory && under(binds[i].target, binds[j].target)))
        throw Error(ErrorKind::Validation, binds[i].target.string(),
                    "mount target overlaps the mount at " + binds[j].target.string(),
                    "give each cache and secret its own target");
  return binds;
}

namespace {

std::string overlay_options(const Rootfs& rootfs, const StepDirs& dirs) {
  std::string lowerdir = "lowerdir=" + dirs.skeleton().string();
  for (auto it = rootfs.lowers.rbegin(); it != rootfs.lowers.rend(); ++it) {
    if (!fs::is_directory(*it)) throw Error(ErrorKind::NotFound, it->string(), "layer directory does not exist");
    for (char c : it->string())
      if (c == ':' || c == ',')
        throw Error(ErrorKind::Validation, it->string(), "layer path contains ':' or ',' which overlayfs cannot take",
                    "keep layers under a plain cache directory");
    lowerdir += ":" + fs::absolute(*it).string();
  }
  // No redirects, metacopy or index: every change must be a plain file, directory or whiteout in
  // the upper directory, because that is all an OCI layer can say.
  std::string options = lowerdir + ",upperdir=" + fs::absolute(rootfs.upper).string() +
                        ",workdir=" + dirs.work().string() + ",redirect_dir=off,index=off,metacopy=off,xino=off";
  if (options.size() > max_mount_data)
    throw Error(ErrorKind::Validation, "build step",
                "too many layers (" + std::to_string(rootfs.lowers.size()) + ") for one overlayfs mount",
                "squash earlier steps or keep layers under a shorter cache path");
  return options;
}

}  // namespace

std::vector<ChildOp> mount_ops(const Rootfs& rootfs, const StepSpec& step, const StepDirs& dirs,
                               const std::vector<Bind>& binds) {
  using K = ChildOp::Kind;
  const std::string merged = dirs.merged().string();
  auto in_root = [&](const fs::path& target) { return merged + target.string(); };
  std::vector<ChildOp> ops;
  ops.push_back(ChildOp::mount("/", "", "", MS_REC | MS_PRIVATE));
  ops.push_back(ChildOp::mount(merged, "overlay", "overlay", 0, overlay_options(rootfs, dirs)));
  ops.push_back(ChildOp::mount(merged + "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  // Read-only, as in a Docker build: some tools read CPU and memory facts from /sys.
  ops.push_back(ChildOp::mount(merged + "/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));

  const std::string dev = merged + "/dev";
  ops.push_back(ChildOp::mount(dev, "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k"));
  const struct {
    const char* name;
    unsigned major, minor;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const auto& node : nodes)
    ops.push_back(ChildOp::make(K::MakeNode, dev + "/" + node.name, 0666, makedev(node.major, node.minor)));
  ops.push_back(ChildOp::make(K::MakeDir, dev + "/pts", 0755));
  ops.push_back(
      ChildOp::mount(dev + "/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
  ops.push_back(ChildOp::with_source(K::Symlink, dev + "/ptmx", "pts/ptmx"));
  ops.push_back(ChildOp::make(K::MakeDir, dev + "/shm", 01777));
  ops.push_back(
      ChildOp::mount(dev + "/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"));
  const struct {
    const char* name;
    const char* target;
  } links[] = {{"fd", "/proc/self/fd"},
               {"stdin", "/proc/self/fd/0"},
               {"stdout", "/proc/self/fd/1"},
               {"stderr", "/proc/self/fd/2"}};
  for (const auto& link : links) ops.push_back(ChildOp::with_source(K::Symlink, dev + "/" + link.name, link.target));
  ops.push_back(ChildOp::mount(merged + "/tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));

  for (const auto& bind : binds) {
    const std::string target = in_root(bind.target);
    if (under(bind.target, "/tmp")) {  // the skeleton is hidden under the tmpfs: make it here
      fs::path parent = "/tmp";
      for (const auto& part : bind.target.parent_path().lexically_relative("/tmp")) {
        if (part == "." || part == "..") continue;
        parent /= part;
        ops.push_back(ChildOp::make(K::MakeDir, in_root(parent), 0755));
      }
      ops.push_back(bind.directory ? ChildOp::make(K::MakeDir, target, 0755)
                                   : ChildOp::make(K::MakeFile, target, 0644));
    }
    ops.push_back(ChildOp::mount(target, bind.source.string(), "", MS_BIND | MS_REC));
    if (bind.read_only)
      ops.push_back(ChildOp::mount(target, "", "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV));
  }
  ops.push_back(ChildOp::with_source(K::Hostname, "", step.hostname));
  if (step.network == Network::None) ops.push_back(ChildOp::make(K::LoopbackUp, ""));
  ops.push_back(ChildOp::make(K::PivotRoot, merged));
  ops.push_back(ChildOp::make(K::DropCapabilities, ""));
  return ops;
}

std::vector<MountPoint> mount_points(const std::vector<Bind>& binds) {
  std::vector<MountPoint> points = {{"/proc", true}, {"/sys", true}, {"/dev", true}, {"/tmp", true}};
  for (const auto& bind : binds)
    if (!under(bind.target, "/tmp")) points.push_back({bind.target, bind.directory});
  return points;
}

}  // namespace cog::builder::exec
