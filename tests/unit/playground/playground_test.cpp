#include "runtime/playground/playground.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

using namespace cog::runtime::playground;

TEST_CASE("the server serves the page, its config and relays webhooks over SSE") {
  PlaygroundOptions options;
  options.target = "http://127.0.0.1:9";
  options.webhook_host = "127.0.0.1";
  options.max_webhook_bytes = 1024;
  BackgroundPlayground playground(options);
  const auto url = playground.url();
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  const int port = std::stoi(url.substr(17));
  httplib::Client client("127.0.0.1", port);

  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->body.find("<script src=\"/app.js\">") != std::string::npos);
  auto script = client.Get("/app.js");
  REQUIRE(script);
  CHECK(script->body.find("EventSource") != std::string::npos);

  auto config = nlohmann::json::parse(client.Get("/playground/config")->body);
  CHECK(config["target"] == "http://127.0.0.1:9");
  CHECK(config["webhook_url"] == "http://127.0.0.1:" + std::to_string(port) + "/webhook");

  CHECK(client.Post("/webhook", std::string(2000, ' '), "application/json")->status == 413);
  CHECK(client.Post("/webhook", R"({"status":"processing"})", "application/json")->status == 400);
  CHECK(client.Post("/webhook", R"({"id":"p1","status":"processing"})", "application/json")->status == 200);
  CHECK(client.Post("/webhook", R"({"id":"p1","status":"canceled"})", "application/json")->status == 200);
  auto events = client.Get("/events/p1");  // ends after the terminal state
  REQUIRE(events);
  CHECK(events->get_header_value("Content-Type") == "text/event-stream");
  CHECK(events->body ==
        "event: webhook\ndata: {\"id\":\"p1\",\"status\":\"processing\"}\n\n"
        "event: webhook\ndata: {\"id\":\"p1\",\"status\":\"canceled\"}\n\n");

  auto missing = client.Get("/nowhere");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->body.find("no such playground page") != std::string::npos);
}
