// python-pydantic-basemodel: output classes that subclass pydantic's BaseModel with
// arbitrary_types_allowed (the classic way to put cog.Path fields in them) should subclass
// cog.BaseModel, which takes cog's types as they are. --fix swaps the import and drops the
// configuration when that is all the file uses pydantic's BaseModel for.
#include "builder/doctor/doctor.hpp"
#include "builder/doctor/python_files.hpp"
#include "builder/doctor/python_scan.hpp"

namespace cog::builder::doctor {

namespace {

int name_uses(std::string_view source, std::string_view name) {
  int count = 0;
  python::rename(source, name, name, &count);
  return count;
}

// The statements to delete so the class no longer configures arbitrary_types_allowed, or empty
// when the configuration is anything but the two plain forms.
std::vector<SourceEdit> config_removal(std::string_view source, const python::ClassDef& cls) {
  std::vector<SourceEdit> edits;
  int mentions = 0;
  int body_statements = 0;
  auto statements = python::statements(source);
  auto nested = python::classes(source);
  for (const auto& statement : statements) {
    if (statement.begin <= cls.statement.begin || statement.begin >= cls.body_end) continue;
    ++body_statements;
    // The statement as written: the key may be a string (`{"arbitrary_types_allowed": True}`).
    std::string_view written = source.substr(statement.begin, statement.end - statement.begin);
    if (written.find("arbitrary_types_allowed") == std::string_view::npos) continue;
    ++mentions;
    std::string compact;
    for (char c : written) {
      if (c != ' ' && c != '\n' && c != '\r') compact += c;
    }
    if (compact == "model_config=ConfigDict(arbitrary_types_allowed=True)" ||
        compact == "model_config={\"arbitrary_types_allowed\":True}" ||
        compact == "model_config={'arbitrary_types_allowed':True}") {
      edits.push_back({statement.begin, statement.end, ""});
      continue;
    }
    if (compact == "arbitrary_types_allowed=True") {
      // Inside `class Config:` whose whole body is this line: remove the Config class.
      for (const auto& inner : nested) {
        bool holds = inner.name == "Config" && inner.statement.begin > cls.statement.begin &&
                     inner.statement.begin < statement.begin && statement.begin < inner.body_end;
        int inside = 0;
        for (const auto& other : statements) {
          inside += other.begin > inner.statement.begin && other.begin < inner.body_end ? 1 : 0;
        }
        if (holds && inside == 1) {
          edits.push_back({inner.statement.begin, inner.body_end, ""});
          --body_statements;  // the Config statement itself
        }
      }
    }
  }
  if (mentions == 0 || static_cast<int>(edits.size()) != mentions) return {};
  if (body_statements - mentions <= 0) return {};  // the class would be left empty
  return edits;
}

FilePlan plan_python_file(const PythonFile& file) {
  FilePlan plan;
  const std::string& source = file.source;
  const python::Import* pydantic_import = nullptr;
  std::vector<python::Import> imports = python::imports(source);
  bool bare_name = false;
  std::string module_alias;
  for (const auto& import : imports) {
    if (import.is_from && import.module == "pydantic") {
      for (const auto& name : import.names) {
        if (name.name == "BaseModel" && name.alias.empty()) {
          bare_name = true;
          pydantic_import = &import;
        }
      }
    }
    if (!import.is_from) {
      for (const auto& name : import.names) {
        if (name.name == "pydantic") module_alias = name.alias.empty() ? "pydantic" : name.alias;
      }
    }
  }
  int subclasses = 0;
  std::vector<SourceEdit> edits;
  bool removable = bare_name && pydantic_import && pydantic_import->statement.indent == 0;
  for (const auto& cls : python::classes(source)) {
    bool from_pydantic = false;
    for (const auto& base : cls.bases) {
      if ((bare_name && base == "BaseModel") || (!module_alias.empty() && base == module_alias + ".BaseModel")) {
        from_pydantic = true;
        removable = removable && base == "BaseModel";
      }
    }
    if (!from_pydantic) continue;
    ++subclasses;
    std::string body(source.substr(cls.statement.end, cls.body_end - cls.statement.end));
    if (body.find("arbitrary_types_allowed") == std::string::npos) {
      removable = false;  // a plain pydantic model stays pydantic, so the import must stay
      continue;
    }
    Finding finding;
    finding.severity = Severity::Warning;
    finding.where = Location{file.label, cls.statement.line, 0};
    finding.message = "class " + cls.name +
                      " subclasses pydantic's BaseModel with arbitrary_types_allowed: use cog.BaseModel, which "
                      "takes cog.Path and cog's other types as fields";
    finding.remediation =
        "`from cog import BaseModel`, subclass it, and remove the arbitrary_types_allowed configuration";
    plan.findings.push_back(finding);
    auto removal = config_removal(source, cls);
    if (removal.empty()) removable = false;
    edits.insert(edits.end(), removal.begin(), removal.end());
  }
  // Every other use of the name (isinstance checks, other bases) keeps pydantic's BaseModel.
  if (removable && name_uses(source, "BaseModel") != subclasses + 1) removable = false;
  if (plan.findings.empty() || !removable) return plan;

  std::vector<std::string> kept;
  for (const auto& name : pydantic_import->names) {
    if (name.name == "BaseModel") continue;
    if (name.name == "ConfigDict" && name.alias.empty()) {
      std::string without = apply_edits(source, edits);
      if (name_uses(without, "ConfigDict") <= 1) continue;  // only the import is left
    }
    kept.push_back(name.alias.empty() ? name.name : name.name + " as " + name.alias);
  }
  std::string replacement;
  if (!kept.empty()) {
    replacement = "from pydantic import ";
    for (std::size_t i = 0; i < kept.size(); ++i) replacement += (i ? ", " : "") + kept[i];
    replacement += "\n";
  }
  replacement += "from cog import BaseModel\n";
  edits.push_back({pydantic_import->statement.begin, pydantic_import->statement.end, replacement});
  plan.edits = std::move(edits);
  plan.fixable = true;
  for (auto& finding : plan.findings) finding.fixable = true;
  return plan;
}

class PydanticBaseModel : public PythonFileCheck {
 public:
  std::string id() const override { return "python-pydantic-basemodel"; }
  std::string description() const override { return "pydantic BaseModel with arbitrary_types_allowed"; }

 protected:
  FilePlan plan_file(const PythonFile& file) const override { return plan_python_file(file); }
  std::string fix_summary() const override {
    return "pydantic's BaseModel → cog.BaseModel, arbitrary_types_allowed removed";
  }
};

}  // namespace

std::unique_ptr<Check> pydantic_basemodel_check() { return std::make_unique<PydanticBaseModel>(); }

}  // namespace cog::builder::doctor
