#include "builder/config/yaml_tree.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

namespace cog::builder::config {

using nlohmann::json;

namespace {

// Aliases let a small file expand into a huge tree ("billion laughs"), and an alias inside its
// own anchor makes a cycle; these bounds turn both into an error instead of a hang or a crash.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 100000;

bool is_plain(const YAML::Node& node) { return node.Tag() == "?" || node.Tag().empty(); }

// YAML 1.2 core schema, which is also how Go's yaml.v3 reads an untyped document.
// Hand-written rather than std::regex: libstdc++'s regex recurses per character and a long
// scalar would overflow the stack.
std::size_t skip_digits(const std::string& text, std::size_t at) {
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  return at;
}

std::size_t skip_sign(const std::string& text, std::size_t at) {
  return at < text.size() && (text[at] == '-' || text[at] == '+') ? at + 1 : at;
}

// [-+]?[0-9]+
bool is_decimal_integer(const std::string& text) {
  std::size_t start = skip_sign(text, 0);
  std::size_t end = skip_digits(text, start);
  return end > start && end == text.size();
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_decimal_float(const std::string& text) {
  std::size_t at = skip_sign(text, 0);
  std::size_t integer_end = skip_digits(text, at);
  bool has_integer = integer_end > at;
  at = integer_end;
  bool has_fraction = false;
  if (at < text.size() && text[at] == '.') {
    std::size_t fraction_end = skip_digits(text, at + 1);
    has_fraction = fraction_end > at + 1;
    at = fraction_end;
  }
  if (!has_integer && !has_fraction) return false;
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    std::size_t exponent_start = skip_sign(text, at + 1);
    std::size_t exponent_end = skip_digits(text, exponent_start);
    if (exponent_end == exponent_start) return false;
    at = exponent_end;
  }
  return at == text.size();
}

json resolve_plain_scalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf" || text == "+.Inf" || text == "+.INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF") return -std::numeric_limits<double>::infinity();
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  auto parse_integer = [&](std::string_view digits, int base, bool negative) -> json {
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::strtod(text.c_str(), nullptr);
    if (!negative) return value;
    if (value <= static_cast<unsigned long long>(std::numeric_limits<long long>::max()) + 1ULL) {
      return static_cast<long long>(0 - value);
    }
    return -static_cast<double>(value);
  };
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    std::string_view digits(text.data() + 2, text.size() - 2);
    bool valid = !digits.empty();
    for (char c : digits) {
      valid = valid && (text[1] == 'x' ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '7'));
    }
    if (valid) {
      unsigned long long value = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, text[1] == 'x' ? 16 : 8);
      if (ec == std::errc()) return value;
    }
    return text;
  }
  if (is_decimal_integer(text)) {
    bool negative = text[0] == '-';
    std::size_t skip = (text[0] == '-' || text[0] == '+') ? 1 : 0;
    return parse_integer(std::string_view(text).substr(skip), 10, negative);
  }
  if (is_decimal_float(text)) {
    return std::strtod(text.c_str(), nullptr);  // overflow gives ±HUGE_VAL, never throws
  }
  return text;
}

json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (is_plain(node)) return resolve_plain_scalar(text);
  const std::string& tag = node.Tag();
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool" ||
      tag == "tag:yaml.org,2002:null") {
    return resolve_plain_scalar(text);
  }
  return text;  // quoted, `!!str`, or an application tag: a string as written
}

class Converter {
 public:
  Converter(const YamlTree& tree, std::vector<Error>& errors) : tree_(tree), errors_(errors) {}

  json convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxNodes || depth > kMaxDepth) {
      if (!gave_up_) {
        errors_.emplace_back(ErrorKind::Parse, tree_.at(node),
                             "the document nests too deeply or expands to too many values",
                             "cog.yaml is a small settings file: remove the deep nesting or "
                             "recursive YAML aliases");
      }
      gave_up_ = true;
      return nullptr;
    }
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        return scalar_to_json(node);
      case YAML::NodeType::Sequence: {
        json array = json::array();
        for (const auto& item : node) {
          array.push_back(convert(item, depth + 1));
          if (gave_up_) break;
        }
        return array;
      }
      case YAML::NodeType::Map:
        return convert_map(node, depth);
      default:
        return nullptr;
    }
  }

 private:
  json convert_map(const YAML::Node& node, int depth) {
    json object = json::object();
    std::map<std::string, int> first_line;
    for (const auto& entry : node) {
      if (gave_up_) break;
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        errors_.emplace_back(ErrorKind::Parse, tree_.at(key), "a mapping key must be a plain name",
                             "write the key as a simple word followed by a colon");
        continue;
      }
      const std::string& name = key.Scalar();
      auto [it, inserted] = first_line.emplace(name, tree_.at(key).line);
      if (!inserted) {
        errors_.emplace_back(ErrorKind::Parse, tree_.at(key),
                             "mapping key \"" + name + "\" already defined at line " + std::to_string(it->second),
                             "remove one of the two \"" + name + "\" entries");
        continue;
      }
      object[name] = convert(entry.second, depth + 1);
    }
    return object;
  }

  const YamlTree& tree_;
  std::vector<Error>& errors_;
  std::size_t nodes_ = 0;
  bool gave_up_ = false;
};

}  // namespace

YamlTree::YamlTree(const std::string& text, std::string file_label) : file_label_(std::move(file_label)) {
  try {
    root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Location where{file_label_, e.mark.is_null() ? 1 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    throw Error(ErrorKind::Parse, where, "failed to parse " + file_label_ + ": invalid YAML: " + e.msg,
                "fix the YAML syntax at this position (indent with spaces, quote values that "
                "contain ': ' or start with special characters)");
  }
}

json YamlTree::to_json(std::vector<Error>& errors) const {
  if (!root_.IsDefined() || root_.IsNull()) return json::object();
  return Converter(*this, errors).convert(root_, 0);
}

Location YamlTree::at(const YAML::Node& node) const {
  if (!node.IsDefined() || node.Mark().is_null()) return {file_label_, 1, 1};
  return {file_label_, node.Mark().line + 1, node.Mark().column + 1};
}

YAML::Node child(const YAML::Node& mapping, const std::string& key) {
  if (!mapping.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : mapping) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node key_node(const YAML::Node& mapping, const std::string& key) {
  if (!mapping.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : mapping) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.first;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string scalar_text(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar() ? node.Scalar() : std::string();
}

YAML::Node YamlTree::node_at(const support::InstancePath& path) const {
  // yaml-cpp's Node::operator= writes into the referenced node (it would edit the tree); reset()
  // is the one that rebinds the handle.
  YAML::Node node;
  node.reset(root_);
  for (const auto& segment : path) {
    if (const auto* key = std::get_if<std::string>(&segment)) {
      node.reset(child(node, *key));
    } else if (node.IsDefined() && node.IsSequence() && std::get<std::size_t>(segment) < node.size()) {
      const YAML::Node& sequence = node;
      node.reset(sequence[std::get<std::size_t>(segment)]);
    } else {
      return YAML::Node(YAML::NodeType::Undefined);
    }
    if (!node.IsDefined()) return node;
  }
  return node;
}

Location YamlTree::locate(const support::InstancePath& path) const {
  for (std::size_t length = path.size() + 1; length-- > 0;) {
    support::InstancePath prefix(path.begin(), path.begin() + static_cast<long>(length));
    YAML::Node node = node_at(prefix);
    if (!node.IsDefined()) continue;
    bool has_position = !node.Mark().is_null() && !node.IsNull();
    if (has_position) return at(node);
    // A null value (`build:` with nothing after it) has no useful mark: point at its key.
    if (!prefix.empty()) {
      if (const auto* key = std::get_if<std::string>(&prefix.back())) {
        support::InstancePath parent(prefix.begin(), prefix.end() - 1);
        YAML::Node key_at = key_node(node_at(parent), *key);
        if (key_at.IsDefined()) return at(key_at);
      }
    }
  }
  return {file_label_, 1, 1};
}

Location YamlTree::locate_key(const support::InstancePath& path, const std::string& name) const {
  YAML::Node key_at = key_node(node_at(path), name);
  return key_at.IsDefined() ? at(key_at) : locate(path);
}

}  // namespace cog::builder::config
