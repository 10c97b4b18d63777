#include <doctest/doctest.h>

#include "builder/config/runner_reference.hpp"

using cog::builder::config::parse_runner_reference;
using cog::builder::config::python_source_defines;

TEST_CASE("runner references have the form <file>.py:<Name>") {
  auto reference = parse_runner_reference("my-subdir/predict.py:Predictor");
  REQUIRE(reference.has_value());
  CHECK(reference->file == "my-subdir/predict.py");
  CHECK(reference->name == "Predictor");
  CHECK(parse_runner_reference("run.py:run_fn2").has_value());
  CHECK_FALSE(parse_runner_reference("run.py").has_value());
  CHECK_FALSE(parse_runner_reference("run:Runner").has_value());
  CHECK_FALSE(parse_runner_reference(".py:Runner").has_value());
  CHECK_FALSE(parse_runner_reference("run.py:").has_value());
  CHECK_FALSE(parse_runner_reference("run.py:2x").has_value());
  CHECK_FALSE(parse_runner_reference("run.py:a-b").has_value());
}

TEST_CASE("python_source_defines finds module-level bindings") {
  CHECK(python_source_defines("class Runner(BaseRunner):\n    pass\n", "Runner"));
  CHECK(python_source_defines("class Runner:\n", "Runner"));
  CHECK(python_source_defines("def run(x):\n    return x\n", "run"));
  CHECK(python_source_defines("async def run(x):\n", "run"));
  CHECK(python_source_defines("Runner = make()\n", "Runner"));
  CHECK(python_source_defines("from impl import Runner\n", "Runner"));
  CHECK(python_source_defines("from impl import (\n    A,\n    Runner,\n)\n", "Runner"));
  CHECK(python_source_defines("if True:\n    def run(): pass\n", "run"));
  CHECK(python_source_defines("class A:\n    pass\r\nclass Runner:\r\n    pass\r\n", "Runner"));
  CHECK_FALSE(python_source_defines("class RunnerBase:\n", "Runner"));
  CHECK_FALSE(python_source_defines("class Outer:\n    class Runner:\n", "Runner"));
  CHECK_FALSE(python_source_defines("class A:\n    def run(self):\n", "run"));
  CHECK_FALSE(python_source_defines("# class Runner:\n", "Runner"));
  CHECK_FALSE(python_source_defines("Runner == 1\n", "Runner"));
  CHECK_FALSE(python_source_defines("", "Runner"));
}
