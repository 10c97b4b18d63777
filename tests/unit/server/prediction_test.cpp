#include <doctest/doctest.h>

#include "runtime/server/event_stream.hpp"
#include "runtime/server/prediction.hpp"

using namespace cog::runtime::server;
using nlohmann::json;

TEST_CASE("metrics merge with Cog's modes and dot paths") {
  json metrics = json::object();
  merge_metric(metrics, "tokens", 3, "replace");
  merge_metric(metrics, "tokens", 2, "increment");
  merge_metric(metrics, "timing.preprocess", 0.25, "replace");
  merge_metric(metrics, "steps", "load", "append");
  merge_metric(metrics, "steps", "run", "append");
  merge_metric(metrics, "temporary", true, "replace");
  merge_metric(metrics, "temporary", nullptr, "replace");
  CHECK(metrics == json::parse(R"({"tokens":5,"timing":{"preprocess":0.25},"steps":["load","run"]})"));
}

TEST_CASE("prediction bodies leave out unset fields") {
  Prediction p;
  p.id = "x";
  p.status = "processing";
  const json body = prediction_body(p);
  CHECK_FALSE(body.contains("output"));
  CHECK_FALSE(body.contains("error"));
  p.status = "failed";
  p.error = "boom";
  CHECK(prediction_body(p)["error"] == "boom");
}

TEST_CASE("generated ids differ within one nanosecond") {
  CHECK(generate_prediction_id(1) != generate_prediction_id(2));
  CHECK(generate_prediction_id(1).starts_with("pred_"));
}

TEST_CASE("event stream replays to late subscribers and reports truncation") {
  EventStream stream(2, 4);
  stream.publish("output", {{"chunk", 1}});
  stream.publish("output", {{"chunk", 2}});
  EventStream::Cursor early;
  REQUIRE(stream.subscribe(early));
  std::string text;
  CHECK(stream.poll(early, text, std::chrono::milliseconds(10)) == EventStream::Poll::Data);
  CHECK(text == "event: output\ndata: {\"chunk\":1}\n\nevent: output\ndata: {\"chunk\":2}\n\n");
  stream.publish("output", {{"chunk", 3}});
  EventStream::Cursor late;
  REQUIRE(stream.subscribe(late));
  CHECK(stream.poll(late, text, std::chrono::milliseconds(10)) == EventStream::Poll::Data);
  CHECK(text.find("SSE stream replay truncated") != std::string::npos);
  CHECK(stream.poll(late, text, std::chrono::milliseconds(10)) == EventStream::Poll::End);
  stream.close();
  CHECK(stream.poll(early, text, std::chrono::milliseconds(10)) == EventStream::Poll::Data);
  CHECK(stream.poll(early, text, std::chrono::milliseconds(10)) == EventStream::Poll::End);
}

TEST_CASE("too many subscribers are refused") {
  EventStream stream(8, 1);
  EventStream::Cursor a, b;
  CHECK(stream.subscribe(a));
  CHECK_FALSE(stream.subscribe(b));
  CHECK(stream.unsubscribe() == 0);
  CHECK(stream.subscribe(b));
}
