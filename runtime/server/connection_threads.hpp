#pragma once
// The threads GuardedServer (guarded_server.hpp) serves its connections on.
#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace cog::runtime::server {

// A task queue that grows a thread per connection up to `max_threads` and lets idle threads go,
// instead of cpp-httplib's fixed pool that a few dozen slow clients fill.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(std::size_t max_threads);
  ~ConnectionThreads() override;

  void enqueue(std::function<void()> job) override;
  void shutdown() override;

 private:
  void work(std::list<std::thread>::iterator self);
  void join_finished();  // called with mutex_ held

  const std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable jobs_ready_;
  std::list<std::function<void()>> jobs_;
  std::list<std::thread> threads_;
  std::vector<std::list<std::thread>::iterator> finished_;
  std::size_t idle_threads_ = 0;
  bool stopping_ = false;
};

}  // namespace cog::runtime::server
