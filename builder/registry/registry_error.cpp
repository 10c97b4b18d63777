#include "builder/registry/registry_error.hpp"

#include <nlohmann/json.hpp>

namespace cog::builder::registry {
namespace {

bool has_code(const std::vector<RegistryErrorEntry>& entries, const std::string& code) {
  for (const auto& entry : entries)
    if (entry.code == code) return true;
  return false;
}

std::string hint_for(const std::string& registry, long status, const std::vector<RegistryErrorEntry>& entries) {
  if (status == 401 || has_code(entries, "UNAUTHORIZED"))
    return "log in with `cog login " + registry + "` and try again";
  if (status == 403 || has_code(entries, "DENIED")) return "check that your account may push to this repository";
  if (has_code(entries, "MANIFEST_UNKNOWN") || has_code(entries, "NAME_UNKNOWN") || status == 404)
    return "check the image name and tag";
  if (status == 429 || has_code(entries, "TOOMANYREQUESTS"))
    return "the registry is rate limiting you; wait and try again";
  if (status == 413) return "the registry refused the size of the upload (quota or limit)";
  if (status >= 500) return "the registry failed; try again later";
  return {};
}

const char* reason_phrase(long status) {
  switch (status) {
    case 400:
      return " Bad Request";
    case 401:
      return " Unauthorized";
    case 403:
      return " Forbidden";
    case 404:
      return " Not Found";
    case 405:
      return " Method Not Allowed";
    case 413:
      return " Payload Too Large";
    case 416:
      return " Range Not Satisfiable";
    case 429:
      return " Too Many Requests";
    case 500:
      return " Internal Server Error";
    case 502:
      return " Bad Gateway";
    case 503:
      return " Service Unavailable";
    case 504:
      return " Gateway Timeout";
    default:
      return "";
  }
}

}  // namespace

std::vector<RegistryErrorEntry> parse_registry_errors(const std::string& body) {
  std::vector<RegistryErrorEntry> entries;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("errors") || !json["errors"].is_array())
    return entries;
  for (const auto& item : json["errors"]) {
    if (!item.is_object()) continue;
    RegistryErrorEntry entry;
    if (item.contains("code") && item["code"].is_string()) entry.code = item["code"];
    if (item.contains("message") && item["message"].is_string()) entry.message = item["message"];
    entries.push_back(std::move(entry));
  }
  return entries;
}

Error registry_error(const std::string& registry, const std::string& repository, const std::string& action, long status,
                     const std::string& body) {
  auto entries = parse_registry_errors(body);
  std::string what = action + " failed: HTTP " + std::to_string(status) + reason_phrase(status);
  if (entries.empty()) {
    std::string excerpt = body.substr(0, 200);
    while (!excerpt.empty() && (excerpt.back() == '\n' || excerpt.back() == '\r')) excerpt.pop_back();
    if (!excerpt.empty() && excerpt.find('<') == std::string::npos) what += ": " + excerpt;
  }
  for (const auto& entry : entries) {
    what += ": " + (entry.code.empty() ? std::string("error") : entry.code);
    if (!entry.message.empty()) what += ": " + entry.message;
  }
  auto kind = status == 404 ? ErrorKind::NotFound : ErrorKind::Io;
  std::string where = repository.empty() ? registry : registry + "/" + repository;
  return Error(kind, where, what, hint_for(registry, status, entries));
}

}  // namespace cog::builder::registry
