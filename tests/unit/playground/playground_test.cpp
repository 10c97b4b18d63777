#include "runtime/playground/playground.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

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
  const std::string webhook_base = "http://127.0.0.1:" + std::to_string(port) + "/webhook/";
  const auto webhook_url = config["webhook_url"].get<std::string>();
  REQUIRE(webhook_url.rfind(webhook_base, 0) == 0);
  const auto webhook = webhook_url.substr(webhook_url.find("/webhook/"));
  CHECK(webhook.size() == std::string("/webhook/").size() + 32);  // 128 random bits

  // Only a sender told the URL may post: no token, or a wrong one, is refused before the body counts.
  for (const char* path : {"/webhook", "/webhook/", "/webhook/0123456789abcdef0123456789abcdef"}) {
    CAPTURE(path);
    auto refused = client.Post(path, R"({"id":"p1","status":"succeeded"})", "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 403);
    CHECK(refused->body.find("/playground/config") != std::string::npos);
  }
  CHECK(client.Post(webhook, std::string(2000, ' '), "application/json")->status == 413);
  CHECK(client.Post(webhook, R"({"status":"processing"})", "application/json")->status == 400);
  CHECK(client.Post(webhook, R"({"id":"p1","status":"processing"})", "application/json")->status == 200);
  CHECK(client.Post(webhook, R"({"id":"p1","status":"canceled"})", "application/json")->status == 200);
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

namespace {

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

}  // namespace

TEST_CASE("every answer forbids framing, sniffing and foreign script, and API answers are JSON") {
  // A target that answers a JSON string of markup as text/html (an odd or hostile server).
  httplib::Server target;
  target.Get("/health-check", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"("<script>alert(1)</script>")", "text/html");
  });
  const int target_port = target.bind_to_any_port("127.0.0.1");
  std::thread target_thread([&] { target.listen_after_bind(); });
  while (!target.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  PlaygroundOptions options;
  options.target = "http://127.0.0.1:" + std::to_string(target_port);
  BackgroundPlayground playground(options);
  httplib::Client client("127.0.0.1", port_of(playground.url()));
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->get_header_value("Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  CHECK(page->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page->get_header_value("X-Frame-Options") == "DENY");
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  auto health = client.Get("/api/health-check");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->get_header_value("Content-Type") == "application/json");
  CHECK(health->get_header_value("X-Content-Type-Options") == "nosniff");

  // A cross-site form's POST (text/plain) never reaches the target.
  auto form = client.Post("/api/predictions", R"({"input":{}})", "text/plain");
  REQUIRE(form);
  CHECK(form->status == 415);
  CHECK(form->body.find("Content-Type: application/json") != std::string::npos);
  target.stop();
  target_thread.join();
}

TEST_CASE("a client that sends its request head slowly is cut off, and others are still served") {
  PlaygroundOptions options;
  options.target = "http://127.0.0.1:9";
  options.http.head_timeout = std::chrono::milliseconds(500);
  BackgroundPlayground playground(options);
  const int port = port_of(playground.url());
  // A slow-loris client: half a head, then a byte now and then, never the end of it.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string start = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  ::send(sock, start.data(), start.size(), MSG_NOSIGNAL);
  std::string reply;
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 40 && reply.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::send(sock, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    char buffer[512];
    const auto got = ::recv(sock, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) reply.assign(buffer, static_cast<std::size_t>(got));
  }
  ::close(sock);
  // A plain cpp-httplib server waits for each byte anew and would still be reading after 4 s.
  CHECK(reply.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(3));
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
}
