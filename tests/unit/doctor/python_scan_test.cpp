#include <doctest/doctest.h>

#include "builder/doctor/python_scan.hpp"

namespace python = cog::builder::doctor::python;

TEST_CASE("masking blanks strings and comments but keeps offsets and lines") {
  std::string source = "x = 'Predictor'  # Predictor\ny = \"\"\"a\nPredictor\"\"\"\nPredictor\n";
  std::string masked = python::mask(source);
  CHECK(masked.size() == source.size());
  CHECK(masked.find("Predictor") == source.rfind("Predictor"));
  CHECK(python::line_at(source, source.rfind("Predictor")) == 4);
}

TEST_CASE("statements join bracketed lines and backslash continuations") {
  auto all = python::statements("def f(a,\n      b):\n    return a + \\\n        b\n# only a comment\n\nz = 1\n");
  REQUIRE(all.size() == 3);
  CHECK(all[0].line == 1);
  CHECK(all[0].code == "def f(a,       b):");
  CHECK(all[1].line == 3);
  CHECK(all[1].indent == 4);
  CHECK(all[2].line == 7);
}

TEST_CASE("imports, with parentheses and aliases") {
  auto found = python::imports("import os, pydantic as pd\nfrom cog.types import (\n    Path,\n    File as F,\n)\n");
  REQUIRE(found.size() == 2);
  CHECK_FALSE(found[0].is_from);
  CHECK(found[0].names[1].name == "pydantic");
  CHECK(found[0].names[1].alias == "pd");
  CHECK(found[1].module == "cog.types");
  REQUIRE(found[1].names.size() == 2);
  CHECK(found[1].names[1].name == "File");
  CHECK(found[1].names[1].alias == "F");
  CHECK(found[1].statement.line == 2);
}

TEST_CASE("classes, their bases and bodies, and their direct methods") {
  std::string source =
      "class A(pydantic.BaseModel, Generic[T]):\n    x: int\n\n    class Config:\n        def inner(self): pass\n"
      "\n    def method(self, a, *args, b: int = 2, **kw) -> None:\n        pass\n\nclass B:\n    pass\n";
  auto found = python::classes(source);
  REQUIRE(found.size() == 3);
  CHECK(found[0].name == "A");
  CHECK(found[0].bases == std::vector<std::string>{"pydantic.BaseModel", "Generic[T]"});
  CHECK(found[0].body_end == source.find("class B"));
  auto methods = python::methods_of(source, found[0]);
  REQUIRE(methods.size() == 1);
  CHECK(methods[0].name == "method");
  CHECK(methods[0].returns_annotated);
  REQUIRE(methods[0].parameters.size() == 5);
  CHECK_FALSE(methods[0].parameters[1].annotated);
  CHECK(methods[0].parameters[2].variadic);
  CHECK(methods[0].parameters[3].annotated);
  CHECK(methods[0].parameters[4].variadic);
}

TEST_CASE("parameters keep their own lines, defaults with colons are not annotations") {
  auto found = python::functions("async def run(\n    self,\n    a,\n    b={'k': 1},\n    c: str,\n):\n    pass\n");
  REQUIRE(found.size() == 1);
  const auto& parameters = found[0].parameters;
  REQUIRE(parameters.size() == 4);
  CHECK(parameters[1].line == 3);
  CHECK_FALSE(parameters[2].annotated);
  CHECK(parameters[3].annotated);
  CHECK(parameters[3].line == 5);
  CHECK_FALSE(found[0].returns_annotated);
}

TEST_CASE("renaming touches whole names in code only") {
  int count = 0;
  std::string out =
      python::rename("class Predictor(cog.BasePredictor):  # Predictor\n    s = 'Predictor'\nMyPredictor = Predictor\n",
                     "Predictor", "Runner", &count);
  CHECK(count == 2);
  CHECK(out == "class Runner(cog.BasePredictor):  # Predictor\n    s = 'Predictor'\nMyPredictor = Runner\n");
}
