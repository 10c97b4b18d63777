#pragma once
// The small project the fuzzed files live in: run.py, predict.py, a requirements file and a wheel,
// so that inputs can reach the checks that look at the file system.
#include <filesystem>
#include <string>

#include "support/error.hpp"

namespace cog::fuzz {

// Created once per process (libFuzzer calls the target millions of times).
const std::filesystem::path& fuzz_project_dir();

// Aborts (a finding) unless the error carries a location: every error must say where.
void require_located(const Error& error, const std::string& expected_prefix);

}  // namespace cog::fuzz
