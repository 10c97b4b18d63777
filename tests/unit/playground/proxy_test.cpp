#include "runtime/playground/proxy.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include <unistd.h>

#include "support/error.hpp"

using namespace cog::runtime::playground;

TEST_CASE("parse_target takes http://HOST[:PORT][/prefix] only") {
  auto target = parse_target("http://localhost:8393");
  CHECK(target.host == "localhost");
  CHECK(target.port == 8393);
  CHECK(target.prefix.empty());
  CHECK(parse_target("http://127.0.0.1").port == 80);
  CHECK(parse_target("http://h:1/base/").prefix == "/base");
  CHECK(parse_target("http://[::1]:5000").host == "::1");
  CHECK(parse_target("http://h:5000/x").url() == "http://h:5000/x");
  for (const char* bad :
       {"https://example.com", "ftp://x", "localhost:8393", "http://h:99999", "http://h/?q=1", "http://user@h/", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_target(bad), cog::Error);
  }
  try {
    parse_target("https://example.com");
  } catch (const cog::Error& error) {
    CHECK(error.describe().find("--target") != std::string::npos);
  }
}

TEST_CASE("only Cog API calls are forwarded") {
  CHECK(allowed_api_call("GET", "/"));
  CHECK(allowed_api_call("GET", "/openapi.json"));
  CHECK(allowed_api_call("GET", "/health-check"));
  CHECK(allowed_api_call("POST", "/predictions"));
  CHECK(allowed_api_call("POST", "/trainings"));
  CHECK(allowed_api_call("PUT", "/predictions/pg-1"));
  CHECK(allowed_api_call("POST", "/predictions/pg-1/cancel"));
  CHECK_FALSE(allowed_api_call("POST", "/shutdown"));
  CHECK_FALSE(allowed_api_call("GET", "/predictions"));
  CHECK_FALSE(allowed_api_call("DELETE", "/predictions"));
  CHECK_FALSE(allowed_api_call("GET", "//example.com/"));
  CHECK_FALSE(allowed_api_call("GET", "http://example.com/openapi.json"));
  CHECK_FALSE(allowed_api_call("PUT", "/predictions/../shutdown"));
  CHECK_FALSE(allowed_api_call("POST", "/predictions/a/b/cancel"));
}

TEST_CASE("the playground refuses other sites and rebound names") {
  const std::string hdi = "host.docker.internal";
  CHECK(cross_site_problem("127.0.0.1", hdi, "127.0.0.1:9000", "").empty());
  CHECK(cross_site_problem("127.0.0.1", hdi, "localhost:9000", "http://localhost:9000").empty());
  CHECK(cross_site_problem("127.0.0.1", hdi, "[::1]:9000", "").empty());
  CHECK(cross_site_problem("127.0.0.1", hdi, "host.docker.internal:9000", "").empty());  // webhooks
  CHECK(cross_site_problem("127.0.0.1", hdi, "127.0.0.1:9000", "http://evil.example").find("another site") !=
        std::string::npos);
  CHECK(cross_site_problem("127.0.0.1", hdi, "evil.example:9000", "http://evil.example:9000").find("loopback") !=
        std::string::npos);
  // Listening everywhere: addresses and this machine's name, but not any DNS name (rebinding).
  char machine[256] = {};
  REQUIRE(::gethostname(machine, sizeof machine - 1) == 0);
  CHECK(cross_site_problem("0.0.0.0", hdi, std::string(machine) + ":9000", "").empty());
  CHECK(cross_site_problem("0.0.0.0", hdi, "192.168.1.20:9000", "http://192.168.1.20:9000").empty());
  CHECK(cross_site_problem("0.0.0.0", hdi, "[fe80::1]:9000", "").empty());
  CHECK(cross_site_problem("0.0.0.0", hdi, "rebound.example:9000", "http://rebound.example:9000").find("IP address") !=
        std::string::npos);
  CHECK_FALSE(cross_site_problem("0.0.0.0", hdi, "[not-an-address]:9000", "").empty());
  // Case does not matter in names (browsers send lower case; other clients may not).
  CHECK(cross_site_problem("127.0.0.1", hdi, "LOCALHOST:9000", "http://localhost:9000").empty());
  CHECK_FALSE(cross_site_problem("127.0.0.1", hdi, "127.0.0.1:9000", "null").empty());  // sandboxed frames
  CHECK_FALSE(cross_site_problem("127.0.0.1", hdi, "127.0.0.1:9000", "http://127.0.0.1:9001").empty());
  CHECK_FALSE(cross_site_problem("127.0.0.1", hdi, "127.0.0.1.:9000", "").empty());
  CHECK_FALSE(cross_site_problem("127.0.0.1", hdi, "", "").empty());
  CHECK_FALSE(cross_site_problem("0.0.0.0", hdi, "my-box:9000", "http://evil.example").empty());
}

namespace {

// A one-route HTTP server on a free port for the duration of a test.
struct FakeTarget {
  httplib::Server server;
  int port = 0;
  std::thread thread;

  explicit FakeTarget(std::string body, std::string type) {
    server.Get("/openapi.json",
               [body, type](const httplib::Request&, httplib::Response& res) { res.set_content(body, type.c_str()); });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    // This cpp-httplib's stop() does nothing before the server runs: wait for it.
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeTarget() {
    server.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("forward answers the target's reply, or a JSON error of its own") {
  ProxyRequest get{"GET", "/openapi.json", "", {}};
  {
    FakeTarget cog(R"({"openapi":"3.0.2","paths":{"/predictions":{}}})", "application/json");
    auto answer = forward(parse_target("http://127.0.0.1:" + std::to_string(cog.port)), get);
    CHECK(answer.status == 200);
    CHECK(nlohmann::json::parse(answer.body)["openapi"] == "3.0.2");
  }
  {
    FakeTarget html("<html>not cog</html>", "text/html");
    auto answer = forward(parse_target("http://127.0.0.1:" + std::to_string(html.port)), get);
    CHECK(answer.status == 502);
    CHECK(nlohmann::json::parse(answer.body)["error"].get<std::string>().find("does not answer like a Cog server") !=
          std::string::npos);
  }
  {
    FakeTarget other(R"({"hello":"world"})", "application/json");
    auto answer = forward(parse_target("http://127.0.0.1:" + std::to_string(other.port)), get);
    CHECK(answer.status == 502);
    CHECK(answer.body.find("is not a Cog API") != std::string::npos);
  }
  int closed_port = 0;
  {
    FakeTarget gone("{}", "application/json");
    closed_port = gone.port;
  }
  auto down = forward(parse_target("http://127.0.0.1:" + std::to_string(closed_port)), get);
  CHECK(down.status == 502);
  CHECK(down.body.find("cannot reach the Cog server at http://127.0.0.1:") != std::string::npos);
  auto refused =
      forward(parse_target("http://127.0.0.1:" + std::to_string(closed_port)), {"POST", "/shutdown", "", {}});
  CHECK(refused.status == 404);
  CHECK(refused.body.find("only Cog API calls") != std::string::npos);
}

TEST_CASE("ids that are path steps are not forwarded") {
  for (const char* path : {"/predictions/..", "/predictions/.", "/trainings/.."}) {
    CAPTURE(path);
    CHECK_FALSE(allowed_api_call("PUT", path));
  }
  CHECK_FALSE(allowed_api_call("POST", "/predictions/../cancel"));
  CHECK_FALSE(allowed_api_call("POST", "/predictions/./cancel"));
  CHECK(allowed_api_call("PUT", "/predictions/..a"));  // dots inside an id are fine
  CHECK(allowed_api_call("POST", "/predictions/a.b/cancel"));
}

TEST_CASE("API writes must carry a JSON body, which no cross-site form can send") {
  CHECK(api_body_problem("POST", "/api/predictions", "application/json").empty());
  CHECK(api_body_problem("POST", "/api/predictions", "Application/JSON; charset=utf-8").empty());
  CHECK(api_body_problem("GET", "/api/openapi.json", "").empty());
  CHECK(api_body_problem("POST", "/webhook", "").empty());  // the model's webhooks: checked by Origin/Host
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "application/jsonx"}) {
    CAPTURE(type);
    CHECK(api_body_problem("POST", "/api/predictions", type).find("Content-Type: application/json") !=
          std::string::npos);
    CHECK_FALSE(api_body_problem("PUT", "/api/predictions/x", type).empty());
  }
}

TEST_CASE("forward drops header values that would split the forwarded request") {
  httplib::Server server;
  std::string seen_prefer;
  bool injected = false;
  server.Get("/openapi.json", [&](const httplib::Request& req, httplib::Response& res) {
    seen_prefer = req.get_header_value("Prefer");
    injected = req.has_header("X-Injected");
    res.set_content(R"({"paths":{}})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto target = parse_target("http://127.0.0.1:" + std::to_string(port));
  auto answer = forward(target, {"GET", "/openapi.json", "", {{"Prefer", "wait\r\nX-Injected: 1"}}});
  CHECK(answer.status == 200);
  CHECK_FALSE(injected);
  CHECK(seen_prefer.empty());
  forward(target, {"GET", "/openapi.json", "", {{"Prefer", "respond-async"}}});
  CHECK(seen_prefer == "respond-async");
  server.stop();
  thread.join();
}

TEST_CASE("a target that does not answer in time is a 504, and only runs may take hours") {
  using namespace std::chrono_literals;
  CHECK(answer_timeout("GET", "/health-check") == 30s);
  CHECK(answer_timeout("GET", "/openapi.json") == 30s);
  CHECK(answer_timeout("POST", "/predictions/x/cancel") == 30s);
  CHECK(answer_timeout("POST", "/predictions") == 24h);
  CHECK(answer_timeout("PUT", "/trainings/x") == 24h);

  httplib::Server server;
  server.Get("/health-check", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(2s);  // accepted, answered too late
    res.set_content(R"({"status":"READY"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(1ms);
  ProxyRequest call{"GET", "/health-check", "", {}};
  call.answer_timeout = 300ms;
  const auto began = std::chrono::steady_clock::now();
  auto answer = forward(parse_target("http://127.0.0.1:" + std::to_string(port)), call);
  CHECK(std::chrono::steady_clock::now() - began < 1500ms);
  CHECK(answer.status == 504);
  CHECK(answer.body.find("did not answer GET /health-check within 300 ms") != std::string::npos);
  server.stop();
  thread.join();
}
