#pragma once
// `run: "run.py:Runner"` references: their shape, and a light check that the file defines the name.
#include <optional>
#include <string>
#include <string_view>

namespace cog::builder::config {

struct RunnerReference {
  std::string file;  // "run.py", "my-subdir/predict.py": relative to the project directory
  std::string name;  // "Runner", "predict": a class or a function
};

// "<file>.py:<Name>" with a Python identifier as Name; nullopt for anything else.
std::optional<RunnerReference> parse_runner_reference(std::string_view text);

// Whether Python source binds `name` at module level: `class Name`, `def Name`, `async def Name`,
// `Name = …`, `Name: T = …`, or an import that mentions it, either at the top level or inside a
// top-level if/try/with block. A text scan, not a parser: it errs on the side of "defined", since
// the runtime reports a precise error for a name that turns out to be missing.
bool python_source_defines(std::string_view source, std::string_view name);

}  // namespace cog::builder::config
