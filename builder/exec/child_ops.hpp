#pragma once
// The setup a sandboxed child performs before its command starts, as a list prepared by the parent:
// the child only walks the list and makes system calls (see ChildMain in process.hpp).
#include <string>
#include <vector>

namespace cog::builder::exec {

struct ChildOp {
  enum class Kind {
    Mount,             // mount(source, path, fstype, flags, data); empty strings become null
    MakeDir,           // mkdir(path, mode); an existing directory is fine
    MakeFile,          // an empty file at path, for a file bind mount
    MakeNode,          // mknod(path, S_IFCHR | mode, device)
    Symlink,           // symlink(source, path)
    PivotRoot,         // make `path` the root and detach the old one
    Hostname,          // sethostname(source)
    LoopbackUp,        // bring `lo` up in a fresh network namespace
    DropCapabilities,  // keep only the capabilities a container build step gets by default
  };
  Kind kind;
  std::string path;
  std::string source;
  std::string fstype;
  std::string data;
  unsigned long flags = 0;
  unsigned mode = 0;
  unsigned long device = 0;

  static ChildOp mount(std::string target, std::string source, std::string fstype, unsigned long flags,
                       std::string data = {}) {
    return {Kind::Mount, std::move(target), std::move(source), std::move(fstype), std::move(data), flags, 0, 0};
  }
  static ChildOp make(Kind kind, std::string path, unsigned mode = 0, unsigned long device = 0) {
    return {kind, std::move(path), {}, {}, {}, 0, mode, device};
  }
  static ChildOp with_source(Kind kind, std::string path, std::string source) {
    return {kind, std::move(path), std::move(source), {}, {}, 0, 0, 0};
  }
};

// Child code: performs the ops in order; on the first failure reports it and exits.
void run_child_ops(const std::vector<ChildOp>& ops, int failure_fd);

}  // namespace cog::builder::exec
