// libFuzzer target for what cog-server reads from the outside: a request head checked against the
// HTTP limits and framing rules, prediction IDs, a prediction request body checked
// against an OpenAPI Input schema (unknown keys dropped, JSON-Schema violations → 422 detail), user
// metric merges, and the worker socket's frame decoder fed in arbitrary chunks.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/ipc/frame.hpp"
#include "runtime/server/http_limits.hpp"
#include "runtime/server/input_validation.hpp"
#include "runtime/server/prediction.hpp"

using nlohmann::json;
using namespace cog::runtime;

namespace {

const json& openapi_document() {
  static const json document = json::parse(R"({"components":{"schemas":{
    "Input":{"title":"Input","type":"object","required":["text"],"properties":{
      "text":{"title":"Text","type":"string","minLength":1,"maxLength":20,"pattern":"^[a-z ]+$","x-order":0},
      "count":{"title":"Count","type":"integer","minimum":1,"maximum":10,"default":2,"x-order":1},
      "mixed":{"anyOf":[{"type":"integer"},{"type":"string"}],"title":"Mixed","x-order":2},
      "tags":{"title":"Tags","type":"array","items":{"type":"string"},"x-order":3},
      "color":{"allOf":[{"$ref":"#/components/schemas/color"}],"x-order":4}}},
    "color":{"title":"color","description":"An enumeration.","enum":["red","green"],"type":"string"}}}})");
  return document;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  // The request head checks run on whatever arrives before the empty line; small limits reach
  // every refusal branch.
  server::HttpLimits limits;
  limits.max_request_line_bytes = 64;
  limits.max_header_bytes = 512;
  limits.max_header_count = 8;
  limits.max_body_bytes = 1000;
  const auto head_end = text.find("\r\n\r\n");
  (void)server::check_request_head(
      std::string_view(text).substr(0, head_end == std::string::npos ? text.size() : head_end + 2), limits);
  (void)server::prediction_id_problem(text.substr(0, 300));

  static const auto validator = server::InputValidator::from_openapi(openapi_document(), "Input");
  // Bodies nested deeper than the server accepts never reach the parser (http_api.cpp).
  if (server::json_nesting_depth(text, limits.max_json_depth) > limits.max_json_depth) return 0;
  json body = json::parse(text, nullptr, false);
  if (body.is_object()) {
    json input = body.contains("input") ? body["input"] : json::object();
    if (input.is_object() && validator) {
      if (auto invalid = validator->check(input)) (void)invalid->dump();
    }
    if (body.contains("name") && body["name"].is_string()) {
      json metrics = json::object();
      const std::string mode = body.value("mode", std::string("replace"));
      server::merge_metric(metrics, body["name"].get<std::string>(), body.value("value", json()), mode);
      (void)metrics.dump();
    }
  }

  ipc::FrameDecoder decoder;
  const std::size_t chunk = size > 0 ? 1 + data[0] % 7 : 1;
  try {
    for (std::size_t offset = 0; offset < size; offset += chunk) {
      decoder.feed(text.data() + offset, std::min(chunk, size - offset));
      while (auto payload = decoder.next()) (void)json::parse(*payload, nullptr, false);
    }
  } catch (const std::exception&) {
    // an oversized frame is refused with an exception: expected
  }
  return 0;
}
