#include "runtime/server/connection_threads.hpp"

#include <algorithm>
#include <chrono>

namespace cog::runtime::server {

ConnectionThreads::ConnectionThreads(std::size_t max_threads) : max_threads_(std::max<std::size_t>(1, max_threads)) {}

ConnectionThreads::~ConnectionThreads() { shutdown(); }

void ConnectionThreads::enqueue(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  join_finished();
  jobs_.push_back(std::move(job));
  // Every waiting job needs an idle thread of its own: a connection can hold one for minutes.
  if (jobs_.size() > idle_threads_ && threads_.size() < max_threads_) {
    const auto self = threads_.emplace(threads_.end());
    *self = std::thread([this, self] { work(self); });  // it waits for mutex_, held here
  } else {
    jobs_ready_.notify_one();
  }
}

void ConnectionThreads::work(std::list<std::thread>::iterator self) {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_threads_;
    jobs_ready_.wait_for(lock, std::chrono::seconds(30), [&] { return !jobs_.empty() || stopping_; });
    --idle_threads_;
    if (jobs_.empty()) break;  // stopping, or idle for long enough
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
  if (!stopping_) finished_.push_back(self);
}

void ConnectionThreads::join_finished() {
  for (const auto finished : finished_) {
    finished->join();
    threads_.erase(finished);
  }
  finished_.clear();
}

void ConnectionThreads::shutdown() {
  std::list<std::thread> all;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    finished_.clear();
    all.swap(threads_);
  }
  jobs_ready_.notify_all();
  for (auto& thread : all) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace cog::runtime::server
