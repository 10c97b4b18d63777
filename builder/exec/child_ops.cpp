#include "builder/exec/child_ops.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "builder/exec/process.hpp"

namespace cog::builder::exec {
namespace {

const char* or_null(const std::string& text) { return text.empty() ? nullptr : text.c_str(); }

// Docker's default capability set: what a `RUN` step may use. Everything else (SYS_ADMIN,
// NET_ADMIN, SYS_MODULE, …) is dropped from the bounding set, so root inside the step cannot
// undo the isolation.
bool kept_capability(int cap) {
  switch (cap) {
    case CAP_CHOWN:
    case CAP_DAC_OVERRIDE:
    case CAP_FOWNER:
    case CAP_FSETID:
    case CAP_KILL:
    case CAP_SETGID:
    case CAP_SETUID:
    case CAP_SETPCAP:
    case CAP_NET_BIND_SERVICE:
    case CAP_NET_RAW:
    case CAP_SYS_CHROOT:
    case CAP_MKNOD:
    case CAP_AUDIT_WRITE:
    case CAP_SETFCAP:
      return true;
    default:
      return false;
  }
}

int drop_capabilities() {
  for (int cap = 0; cap < 64; ++cap) {
    if (kept_capability(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int cap = 0; cap < 64; ++cap) {
    if (!kept_capability(cap)) continue;
    data[cap / 32].effective |= 1U << (cap % 32);
    data[cap / 32].permitted |= 1U << (cap % 32);
  }
  return static_cast<int>(syscall(SYS_capset, &header, data));
}

int loopback_up() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  ifreq request = {};
  std::memcpy(request.ifr_name, "lo", 3);
  int result = ioctl(sock, SIOCGIFFLAGS, &request);
  if (result == 0) {
    request.ifr_flags |= IFF_UP;
    result = ioctl(sock, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  close(sock);
  errno = saved;
  return result;
}

int pivot_into(const char* new_root) {
  if (chdir(new_root) != 0) return -1;
  // pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the new.
  if (syscall(SYS_pivot_root, ".", ".") != 0) return -1;
  if (umount2(".", MNT_DETACH) != 0) return -1;
  return chdir("/");
}

}  // namespace

void run_child_ops(const std::vector<ChildOp>& ops, int failure_fd) {
  for (const auto& op : ops) {
    switch (op.kind) {
      case ChildOp::Kind::Mount:
        if (mount(or_null(op.source), op.path.c_str(), or_null(op.fstype), op.flags, or_null(op.data)) != 0)
          child_fail(failure_fd, "mount", errno, op.path.c_str());
        break;
      case ChildOp::Kind::MakeDir:
        if (mkdir(op.path.c_str(), op.mode) != 0 && errno != EEXIST)
          child_fail(failure_fd, "create directory", errno, op.path.c_str());
        break;
      case ChildOp::Kind::MakeFile: {
        int fd = open(op.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, op.mode);
        if (fd < 0) child_fail(failure_fd, "create file", errno, op.path.c_str());
        close(fd);
        break;
      }
      case ChildOp::Kind::MakeNode:
        if (mknod(op.path.c_str(), S_IFCHR | op.mode, op.device) != 0)
          child_fail(failure_fd, "create device", errno, op.path.c_str());
        chmod(op.path.c_str(), op.mode);  // mknod honours the umask
        break;
      case ChildOp::Kind::Symlink:
        if (symlink(op.source.c_str(), op.path.c_str()) != 0)
          child_fail(failure_fd, "create symlink", errno, op.path.c_str());
        break;
      case ChildOp::Kind::PivotRoot:
        if (pivot_into(op.path.c_str()) != 0) child_fail(failure_fd, "switch root to", errno, op.path.c_str());
        break;
      case ChildOp::Kind::Hostname:
        if (sethostname(op.source.c_str(), op.source.size()) != 0)
          child_fail(failure_fd, "set hostname", errno, op.source.c_str());
        break;
      case ChildOp::Kind::LoopbackUp:
        if (loopback_up() != 0) child_fail(failure_fd, "bring up the loopback interface", errno);
        break;
      case ChildOp::Kind::DropCapabilities:
        if (drop_capabilities() != 0) child_fail(failure_fd, "drop capabilities", errno);
        break;
    }
  }
}

}  // namespace cog::builder::exec
