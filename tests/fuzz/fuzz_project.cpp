#include "tests/fuzz/fuzz_project.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace cog::fuzz {

namespace {

// The project directory, removed again when the fuzzer exits.
struct FuzzProject {
  FuzzProject();
  ~FuzzProject() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::filesystem::path dir;
};

std::filesystem::path create_project() {
  char pattern[] = "/tmp/cog-fuzz-XXXXXX";
  const char* made = mkdtemp(pattern);
  if (!made) std::abort();
  std::filesystem::path dir(made);
  auto write = [&](const std::string& name, const std::string& text) {
    std::filesystem::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << text;
  };
  write("run.py", "class Runner:\n    async def run(self) -> str:\n        return ''\n");
  write("predict.py", "def predict(x: int) -> int:\n    return x\n");
  write("requirements.txt", "torch==2.3.0\nnumpy\n");
  write("other.txt", "-r requirements.txt\n");
  write("dist/pkg-1.0-py3-none-any.whl", "not really a wheel");
  return dir;
}

FuzzProject::FuzzProject() : dir(create_project()) {}

}  // namespace

const std::filesystem::path& fuzz_project_dir() {
  // libFuzzer's entry point is a plain function: a function-local constant is the only place
  // the project can live. It is written once and only read afterwards.
  static const FuzzProject kProject;
  return kProject.dir;
}

void require_located(const Error& error, const std::string& expected_prefix) {
  const std::string& where = error.where();
  if (where.empty() || (!expected_prefix.empty() && !where.starts_with(expected_prefix))) {
    std::fprintf(stderr, "error without the expected location (%s): %s\n", expected_prefix.c_str(),
                 error.describe().c_str());
    std::abort();
  }
  if (error.message().empty()) {
    std::fprintf(stderr, "error without a message at %s\n", where.c_str());
    std::abort();
  }
}

}  // namespace cog::fuzz
