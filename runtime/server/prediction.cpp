#include "runtime/server/prediction.hpp"

#include <cstdio>
#include <vector>

namespace cog::runtime::server {

using nlohmann::json;

json prediction_body(const Prediction& p) {
  json body = {{"id", p.id}, {"input", p.input}, {"status", p.status}, {"logs", p.logs}, {"metrics", p.metrics}};
  if (p.has_output || p.status == "succeeded") body["output"] = p.output;
  if (p.status == "failed") body["error"] = p.error;
  if (!p.created_at.empty()) body["created_at"] = p.created_at;
  if (!p.started_at.empty()) body["started_at"] = p.started_at;
  if (!p.completed_at.empty()) body["completed_at"] = p.completed_at;
  return body;
}

namespace {

std::vector<std::string> split_dots(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

void merge_metric(json& metrics, const std::string& name, const json& value, const std::string& mode) {
  const auto parts = split_dots(name);
  json* node = &metrics;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    json& child = (*node)[parts[i]];
    if (!child.is_object()) child = json::object();
    node = &child;
  }
  const std::string& leaf = parts.back();
  if (mode == "increment" || mode == "incr") {
    json& current = (*node)[leaf];
    if (current.is_number_integer() && value.is_number_integer()) {
      current = current.get<long long>() + value.get<long long>();
    } else if (current.is_number() && value.is_number()) {
      current = current.get<double>() + value.get<double>();
    } else {
      current = value;
    }
  } else if (mode == "append") {
    json& current = (*node)[leaf];
    if (current.is_null()) current = json::array();
    if (!current.is_array()) current = json::array({current});
    current.push_back(value);
  } else if (value.is_null()) {
    node->erase(leaf);
  } else {
    (*node)[leaf] = value;
  }
}

std::string generate_prediction_id(unsigned long long sequence) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "pred_%llx%04llx", static_cast<unsigned long long>(nanos), sequence & 0xffff);
  return buffer;
}

}  // namespace cog::runtime::server
