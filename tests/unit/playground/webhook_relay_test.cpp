#include "runtime/playground/webhook_relay.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace cog::runtime::playground;
using namespace std::chrono_literals;

TEST_CASE("the relay hands each id its events in order, also to late readers") {
  WebhookRelay relay;
  relay.publish("a", R"({"id":"a","status":"processing"})");
  relay.publish("b", R"({"id":"b"})");
  relay.publish("a", R"({"id":"a","status":"succeeded"})");
  auto all = relay.wait("a", 0, 10ms);
  REQUIRE(all.size() == 2);
  CHECK(all[1] == R"({"id":"a","status":"succeeded"})");
  CHECK(relay.wait("a", 2, 10ms).empty());  // nothing new: times out
  CHECK(relay.wait("c", 0, 10ms).empty());
}

TEST_CASE("a waiting reader wakes on publish and on stop") {
  WebhookRelay relay;
  std::thread publisher([&] {
    std::this_thread::sleep_for(50ms);
    relay.publish("x", "{}");
  });
  CHECK(relay.wait("x", 0, 5s).size() == 1);
  publisher.join();
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    relay.stop();
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK(relay.wait("x", 1, 5s).empty());
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  CHECK(relay.stopped());
  stopper.join();
}

TEST_CASE("the relay forgets the oldest ids beyond its limits") {
  WebhookRelay relay(RelayLimits{2, 1000});
  relay.publish("one", "1");
  relay.publish("two", "2");
  relay.publish("three", "3");
  CHECK(relay.wait("one", 0, 1ms).empty());
  CHECK(relay.wait("two", 0, 1ms).size() == 1);
  WebhookRelay small(RelayLimits{10, 5});
  small.publish("a", "1234");
  small.publish("b", "5678");  // over 5 bytes together: "a" goes, the newest stays even alone
  CHECK(small.wait("a", 0, 1ms).empty());
  CHECK(small.wait("b", 0, 1ms).size() == 1);
}

TEST_CASE("one id alone cannot outgrow the byte bound: its older states go, its latest stays") {
  WebhookRelay relay(RelayLimits{10, 100});
  for (int i = 0; i < 1000; ++i) relay.publish("only", std::string(40, 'a') + std::to_string(i));
  std::size_t next_after = 0;
  auto kept = relay.wait("only", 0, 1ms, &next_after);
  // Two of 42-43 bytes fit in 100: without the trim all 1000 would be kept.
  REQUIRE(kept.size() == 2);
  CHECK(kept.back() == std::string(40, 'a') + "999");
  CHECK(next_after == 1000);  // a reader resumes after the last event, not after the kept count
  CHECK(relay.wait("only", 1000, 1ms).empty());
  relay.publish("only", "x");
  CHECK(relay.wait("only", next_after, 1ms) == std::vector<std::string>{"x"});
  WebhookRelay huge(RelayLimits{10, 10});
  huge.publish("big", std::string(50, 'b'));  // one state larger than the bound is still kept
  CHECK(huge.wait("big", 0, 1ms).size() == 1);
}
