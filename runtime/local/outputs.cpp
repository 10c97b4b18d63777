#include "runtime/local/outputs.hpp"

#include <filesystem>
#include <fstream>

#include "support/error.hpp"
#include "runtime/local/data_url.hpp"

namespace cog::runtime::local {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

json output_schema(const json& schema, const std::string& component) {
  const json::json_pointer pointer("/components/schemas/" + component);
  return schema.contains(pointer) ? schema.at(pointer) : json::object();
}

bool is_uri(const json& property) {
  return property.value("type", "") == "string" && property.value("format", "") == "uri";
}

std::string expand_home(const std::string& path) {
  if (path.starts_with("~/")) {
    if (const char* home = std::getenv("HOME")) return std::string(home) + path.substr(1);
  }
  return path;
}

// Where file output number `index` (-1 = the only one) goes, given -o and the file's MIME type.
fs::path file_destination(const OutputOptions& options, const std::string& mime, int index) {
  const std::string numbered = index >= 0 ? "." + std::to_string(index) : "";
  if (!options.output_path.empty()) {
    const fs::path requested = expand_home(options.output_path);
    if (fs::is_directory(requested)) return requested / (options.default_name + numbered + extension_for_mime(mime));
    if (index < 0) return requested;
    const std::string extension = requested.has_extension() ? requested.extension().string() : extension_for_mime(mime);
    return requested.parent_path() / (requested.stem().string() + numbered + extension);
  }
  if (fs::is_directory(options.default_name)) {
    throw Error(ErrorKind::Validation, "-o",
                "Default output name \"" + options.default_name + "\" conflicts with directory, provide --output");
  }
  return options.default_name + numbered + extension_for_mime(mime);
}

// Writes a data URL to disk and returns the path; other strings (uploaded URLs) come back as is.
std::string write_file_output(const std::string& value, const OutputOptions& options, int index, std::ostream& err) {
  const auto decoded = parse_data_url(value);
  if (!decoded) return value;
  const fs::path path = file_destination(options, decoded->mime, index);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(ErrorKind::Io, path.string(), "cannot write the output file");
  out << decoded->bytes;
  err << "Written output to: " << path.string() << "\n";
  return path.string();
}

// Replaces file outputs in `output` by the paths they were written to.
json write_files(const json& output, const json& property, const OutputOptions& options, std::ostream& err) {
  if (is_uri(property) && output.is_string()) return write_file_output(output, options, -1, err);
  if (property.value("type", "") == "array" && is_uri(property.value("items", json::object())) && output.is_array()) {
    json paths = json::array();
    int index = 0;
    for (const auto& item : output) {
      paths.push_back(item.is_string() ? json(write_file_output(item, options, index, err)) : item);
      ++index;
    }
    return paths;
  }
  return output;
}

void write_text(const std::string& text, const OutputOptions& options, std::ostream& out, std::ostream& err) {
  if (options.output_path.empty()) {
    out << text << "\n";
    return;
  }
  const std::string path = expand_home(options.output_path);
  std::ofstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::Io, path, "cannot write the output file");
  file << text;
  err << "Written output to: " << path << "\n";
}

}  // namespace

int handle_prediction_output(const json& response, const json& schema, const OutputOptions& options, std::ostream& out,
                             std::ostream& err) {
  const std::string status = response.value("status", "");
  const json output = response.contains("output") ? response["output"] : json();
  const json property = output_schema(schema, options.component);

  if (options.json_mode) {
    ordered_json result;
    result["status"] = status;
    result["output"] = status == "succeeded"
                           ? write_files(output, property, {"", false, options.component, options.default_name}, err)
                           : output;
    result["error"] = response.value("error", "");
    result["metrics"] = response.value("metrics", json::object());
    const std::string text = result.dump(2, ' ', false, json::error_handler_t::replace);
    if (!options.output_path.empty() && fs::path(options.output_path).extension() != ".json") {
      err << "cog: warning: -o " << options.output_path << ": --json output is JSON — consider a .json name\n";
    }
    write_text(text, options, out, err);
    return status == "succeeded" ? 0 : 1;
  }

  if (status != "succeeded") {
    throw Error(ErrorKind::Runtime, "",
                "Prediction failed with status \"" + status + "\": " + response.value("error", ""));
  }
  if (output.is_null()) {
    err << "No output generated\n";
    return 0;
  }
  if ((is_uri(property) && output.is_string()) ||
      (property.value("type", "") == "array" && is_uri(property.value("items", json::object())))) {
    const json written = write_files(output, property, options, err);
    if (written.is_string() && written == output) out << output.get<std::string>() << "\n";  // an uploaded URL
    return 0;
  }
  if (output.is_string()) {
    write_text(output.get<std::string>(), options, out, err);
    return 0;
  }
  write_text(output.dump(2, ' ', false, json::error_handler_t::replace), options, out, err);
  return 0;
}

}  // namespace cog::runtime::local
