#pragma once
// A careful line/token scan of Python source, enough for the doctor's checks and rewrites: imports,
// class and function definitions with their parameters, and renaming a name wherever it is code.
// Not a parser: string literals and comments are blanked first, so nothing inside them is ever
// mistaken for code or rewritten, and bracketed statements are joined across lines.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cog::builder::doctor::python {

// The source with the contents of string literals and comments replaced by spaces: same length,
// newlines kept, so offsets and line numbers in it are those of the source.
std::string mask(std::string_view source);

// 1-based line number of an offset.
int line_at(std::string_view source, std::size_t offset);

// One statement: physical lines joined while brackets are open or a line ends in `\`.
struct Statement {
  std::size_t begin = 0;  // offset of its first line's start
  std::size_t end = 0;    // offset just past its last line (past the newline)
  int line = 0;           // of its first line
  std::size_t indent = 0;
  std::string code;  // masked, lines joined by spaces, indentation and trailing space removed
};
std::vector<Statement> statements(std::string_view source);

struct ImportedName {
  std::string name;
  std::string alias;  // empty without `as`
};
struct Import {
  bool is_from = false;
  std::string module;               // `from cog.types import …` → "cog.types"
  std::vector<ImportedName> names;  // for `import a.b as c`, the modules
  Statement statement;
};
std::vector<Import> imports(std::string_view source);

struct ClassDef {
  std::string name;
  std::vector<std::string> bases;  // as written, trimmed: "BaseModel", "pydantic.BaseModel"
  Statement statement;
  std::size_t body_end = 0;  // offset where the class body ends (the next statement not inside it)
};
std::vector<ClassDef> classes(std::string_view source);

struct Parameter {
  std::string name;
  bool annotated = false;
  bool variadic = false;  // *args or **kwargs
  int line = 0;
};
struct FunctionDef {
  std::string name;
  std::vector<Parameter> parameters;
  bool returns_annotated = false;
  std::size_t name_offset = 0;  // where the name is in the source
  Statement statement;
};
std::vector<FunctionDef> functions(std::string_view source);

// The functions defined directly in a class's body (its methods).
std::vector<FunctionDef> methods_of(std::string_view source, const ClassDef& cls);

// Renames the name `from` to `to` wherever it is a whole name in code (`Predictor`,
// `cog.BasePredictor`), never inside strings, comments or longer names. Counts the renames.
std::string rename(std::string_view source, std::string_view from, std::string_view to, int* count = nullptr);

}  // namespace cog::builder::doctor::python
