// The pip requirements parser: every line form, includes, and the local-artifact rules.
#include "builder/config/requirements.hpp"
#include "tests/unit/config/temp_project.hpp"

using cog::builder::config::normalize_project_name;
using cog::builder::config::parse_requirements_file;
using cog::builder::config::parse_requirements_text;
using cog::builder::config::Requirement;
using Kind = cog::builder::config::Requirement::Kind;
using cog::test::TempProject;

namespace {

std::vector<Requirement> parse(const TempProject& project, const std::string& text) {
  return parse_requirements_text(text, project.dir() / "requirements.txt", project.dir());
}

std::vector<std::string> errors_of(const TempProject& project, const std::string& text) {
  try {
    parse(project, text);
  } catch (const cog::Errors& errors) {
    std::vector<std::string> lines;
    for (const auto& error : errors.all()) lines.push_back(error.describe());
    return lines;
  }
  return {};
}

}  // namespace

TEST_CASE("package lines: pins, ranges, extras, markers, name @ url") {
  TempProject project;
  auto requirements = parse(project, R"(# a comment
torch==2.3.0
Pillow >= 10, <11   # trailing comment
transformers[torch,sentencepiece]~=4.40
numpy; python_version >= "3.11"
My_Package.Name===1.0
requests (>=2.0)
diffusers @ git+https://github.com/huggingface/diffusers.git@main
)");
  REQUIRE(requirements.size() == 7);
  CHECK(requirements[0].kind == Kind::Package);
  CHECK(requirements[0].name == "torch");
  CHECK(requirements[0].specifier == "==2.3.0");
  CHECK(requirements[0].pinned_version() == "2.3.0");
  CHECK(requirements[0].where.str() == "requirements.txt:2");
  CHECK(requirements[1].name == "pillow");
  CHECK(requirements[1].specifier == ">= 10, <11");
  CHECK(requirements[1].text == "Pillow >= 10, <11");
  CHECK(requirements[1].pinned_version().empty());
  CHECK(requirements[2].extras == "torch,sentencepiece");
  CHECK(requirements[2].specifier == "~=4.40");
  CHECK(requirements[3].marker == "python_version >= \"3.11\"");
  CHECK(requirements[3].specifier.empty());
  CHECK(requirements[4].name == "my-package-name");
  CHECK(requirements[4].pinned_version() == "1.0");
  CHECK(requirements[5].specifier == ">=2.0");
  CHECK(requirements[6].name == "diffusers");
  CHECK(requirements[6].value == "git+https://github.com/huggingface/diffusers.git@main");
}

TEST_CASE("options, index URLs, find-links, editables and URLs") {
  TempProject project;
  auto requirements = parse(project, R"(--extra-index-url https://download.pytorch.org/whl/cu118
--index-url=https://pypi.example.com/simple
-i https://other.example.com/simple
--find-links https://data.pyg.org/whl/torch-2.0.0.html
-f ./wheels
--pre
-e git+https://github.com/org/repo.git#egg=Some_Pkg
git+https://github.com/org/other.git@v1#egg=other
https://example.com/pkg-1.0-py3-none-any.whl
torch==2.0.1+cu118 --extra-index-url https://download.pytorch.org/whl/cu118
)");
  REQUIRE(requirements.size() == 10);
  CHECK(requirements[0].kind == Kind::ExtraIndexUrl);
  CHECK(requirements[0].value == "https://download.pytorch.org/whl/cu118");
  CHECK(requirements[1].kind == Kind::IndexUrl);
  CHECK(requirements[1].value == "https://pypi.example.com/simple");
  CHECK(requirements[2].kind == Kind::IndexUrl);
  CHECK(requirements[3].kind == Kind::FindLinks);
  CHECK(requirements[4].kind == Kind::FindLinks);
  CHECK(requirements[4].value == "./wheels");
  CHECK(requirements[5].kind == Kind::Option);
  CHECK(requirements[5].text == "--pre");
  CHECK(requirements[6].kind == Kind::Editable);
  CHECK(requirements[6].name == "some-pkg");
  CHECK(requirements[7].kind == Kind::Url);
  CHECK(requirements[7].name == "other");
  CHECK(requirements[8].kind == Kind::Url);
  CHECK(requirements[9].kind == Kind::Package);
  CHECK(requirements[9].pinned_version() == "2.0.1+cu118");
  CHECK(requirements[9].text == "torch==2.0.1+cu118 --extra-index-url https://download.pytorch.org/whl/cu118");
}

TEST_CASE("line continuations join lines and keep the first line number") {
  TempProject project;
  auto requirements =
      parse(project, "\n\nnumpy==1.26.4 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nscipy\r\n");
  REQUIRE(requirements.size() == 2);
  CHECK(requirements[0].name == "numpy");
  CHECK(requirements[0].where.line == 3);
  CHECK(requirements[0].pinned_version() == "1.26.4");
  CHECK(requirements[0].text == "numpy==1.26.4     --hash=sha256:abc     --hash=sha256:def");
  CHECK(requirements[1].name == "scipy");
  CHECK(requirements[1].where.line == 6);
}

TEST_CASE("-r includes are read relative to the including file, and cycles are rejected") {
  TempProject project;
  project.write("reqs/base.txt", "numpy\n-r more/extra.txt\n");
  project.write("reqs/more/extra.txt", "scipy\n");
  project.write("requirements.txt", "torch\n-r reqs/base.txt\n--requirement=reqs/more/extra.txt\n");
  auto requirements = parse_requirements_file(project.dir() / "requirements.txt", project.dir());
  REQUIRE(requirements.size() == 4);
  CHECK(requirements[0].name == "torch");
  CHECK(requirements[1].name == "numpy");
  CHECK(requirements[1].where.str() == "reqs/base.txt:1");
  CHECK(requirements[2].name == "scipy");
  CHECK(requirements[2].where.str() == "reqs/more/extra.txt:1");
  CHECK(requirements[3].name == "scipy");

  project.write("a.txt", "x\n-r b.txt\n");
  project.write("b.txt", "-r a.txt\n");
  try {
    parse_requirements_file(project.dir() / "a.txt", project.dir());
    FAIL("a cycle must be rejected");
  } catch (const cog::Errors& errors) {
    REQUIRE(errors.all().size() == 1);
    CHECK(errors.all()[0].describe() ==
          "b.txt:1: -r a.txt includes a file that is already being read (a cycle) — remove the -r line "
          "that leads back to this file");
  }
  CHECK(errors_of(project, "-r missing.txt\n") ==
        std::vector<std::string>{"requirements.txt:1: missing.txt: file does not exist — create it, or fix the path"});
  CHECK_THROWS_AS(parse_requirements_file(project.dir() / "nope.txt", project.dir()), cog::Error);
}

TEST_CASE("local artifacts: allowed suffixes inside the project, nothing else on the line") {
  TempProject project;
  project.write("dist/pkg-1.0-py3-none-any.whl", "wheel");
  project.write("dist/pkg-1.0.tar.gz", "sdist");
  project.write("dist/pkg.egg", "egg");
  std::filesystem::create_directories(project.dir() / "src/pkg");
  auto requirements = parse(project, "./dist/pkg-1.0-py3-none-any.whl\ndist/pkg-1.0.tar.gz\n");
  REQUIRE(requirements.size() == 2);
  CHECK(requirements[0].kind == Kind::LocalArtifact);
  CHECK(requirements[0].value == "dist/pkg-1.0-py3-none-any.whl");
  CHECK(requirements[1].value == "dist/pkg-1.0.tar.gz");

  auto errors = errors_of(project, R"(./src/pkg
./dist/pkg.egg
./dist/missing.whl
../outside.whl
/abs/pkg.whl
pkg @ ./dist/pkg-1.0-py3-none-any.whl
./dist/pkg-1.0-py3-none-any.whl --hash=sha256:abc
./dist/pkg-1.0-py3-none-any.whl; python_version > "3"
./dist/pkg-1.0-py3-none-any.whl[extra]
)");
  REQUIRE(errors.size() == 9);
  CHECK(errors[0] ==
        "requirements.txt:1: invalid local package \"./src/pkg\": local directories are not "
        "supported — build a wheel (pip wheel ./src/pkg) and refer to the .whl file");
  CHECK(errors[1] ==
        "requirements.txt:2: invalid local package \"./dist/pkg.egg\": must be a .whl, .zip, "
        ".tar.gz, .tgz, .tar.bz2 or .tar.xz file — build a wheel or sdist and refer to that file");
  CHECK(errors[2] ==
        "requirements.txt:3: invalid local package \"./dist/missing.whl\": file does not exist "
        "— build it first, or fix the path");
  CHECK(errors[3].find("must be a relative path inside the project directory") != std::string::npos);
  CHECK(errors[4].find("must be a relative path inside the project directory") != std::string::npos);
  CHECK(errors[5] ==
        "requirements.txt:6: invalid local package \"pkg @ ./dist/pkg-1.0-py3-none-any.whl\": "
        "\"name @ path\" is not supported — write the path alone on its line, e.g. "
        "./dist/pkg-1.0-py3-none-any.whl");
  CHECK(errors[6].find("options and hashes are not supported on local package lines") != std::string::npos);
  CHECK(errors[7].find("environment markers are not supported on local package lines") != std::string::npos);
  CHECK(errors[8].find("extras and version specifiers are not supported") != std::string::npos);
}

TEST_CASE("invalid requirement lines are all reported with their line") {
  TempProject project;
  auto errors = errors_of(project, "torch=2.0\n==1.0\nfoo[bar\nnumpy>=\n--extra-index-url\nok==1\n");
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].starts_with("requirements.txt:1: invalid requirement \"torch=2.0\""));
  CHECK(errors[1].starts_with("requirements.txt:2: invalid requirement \"==1.0\": expected a package name"));
  CHECK(errors[2].starts_with("requirements.txt:3: invalid requirement \"foo[bar\": unclosed [ in extras"));
  CHECK(errors[3].starts_with("requirements.txt:4: invalid requirement \"numpy>=\": \">=\" does not name a version"));
  CHECK(errors[4] == "requirements.txt:5: \"--extra-index-url\" needs a value — write --extra-index-url <value>");
}

TEST_CASE("pinned_version only for a single == or ===") {
  Requirement requirement;
  requirement.specifier = "==1.2.3";
  CHECK(requirement.pinned_version() == "1.2.3");
  requirement.specifier = "===1.2.3";
  CHECK(requirement.pinned_version() == "1.2.3");
  requirement.specifier = "==1.2.*";
  CHECK(requirement.pinned_version().empty());
  requirement.specifier = ">=1.2";
  CHECK(requirement.pinned_version().empty());
  requirement.specifier = "==1.2,!=1.3";
  CHECK(requirement.pinned_version().empty());
}

TEST_CASE("project names are normalised as PEP 503 says") {
  CHECK(normalize_project_name("Foo_Bar.baz--Qux") == "foo-bar-baz-qux");
  CHECK(normalize_project_name("torch") == "torch");
}

TEST_CASE("python_packages items are classified and located in cog.yaml") {
  TempProject project;
  CHECK(project.error("build:\n  python_version: '3.12'\n  python_packages:\n    - numpy==1\n    - bad=1\n") ==
        "cog.yaml:5:7: invalid requirement \"bad=1\": \"=1\" is not a version specifier (==, >=, ~=, ...) — "
        "see https://pip.pypa.io/en/stable/reference/requirement-specifiers/");
}
