#pragma once
// The one error type that crosses library boundaries. Libraries throw it with context; only the
// outer edge (cli/main.cpp) prints it, once, as `cog: error: <where>: <what> — <how to fix>`.
#include <stdexcept>
#include <string>
#include <vector>

namespace cog {

enum class ErrorKind {
  Usage,          // bad flags or arguments
  Parse,          // unreadable YAML / JSON / requirements
  Schema,         // a cog.yaml field of the wrong shape
  Validation,     // a well-formed value that is not allowed
  Compatibility,  // CUDA / cuDNN / Python / torch combinations that cannot work
  NotFound,       // a file, project, image or reference that does not exist
  Io,             // the file system or network failed
  Runtime,        // anything else that went wrong while doing the work
};

// Where a problem is: `cog.yaml:4:3`, a URL, a path. Empty when there is no useful place.
struct Location {
  std::string file;
  int line = 0;    // 1-based, 0 = unknown
  int column = 0;  // 1-based, 0 = unknown

  std::string str() const;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string where, std::string what, std::string fix = {});
  Error(ErrorKind kind, const Location& where, std::string what, std::string fix = {});

  ErrorKind kind() const { return kind_; }
  const std::string& where() const { return where_; }
  const std::string& message() const { return what_; }
  const std::string& fix() const { return fix_; }

  // `<where>: <what> — <fix>` without the `cog: error:` prefix.
  std::string describe() const;

 private:
  ErrorKind kind_;
  std::string where_;
  std::string what_;
  std::string fix_;
};

// Several errors found in one pass (mold's habit: show them all, then stop).
class Errors : public std::runtime_error {
 public:
  explicit Errors(std::vector<Error> errors);
  const std::vector<Error>& all() const { return errors_; }

 private:
  std::vector<Error> errors_;
};

// A warning the user should see (deprecations, stripped versions). Collected, printed by the CLI.
struct Warning {
  std::string where;
  std::string what;
  std::string fix;

  std::string describe() const;
};

}  // namespace cog
