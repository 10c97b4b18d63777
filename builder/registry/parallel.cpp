#include "builder/registry/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cog::builder::registry {

void run_parallel(std::size_t count, int threads, const std::function<Job()>& make_worker) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto loop = [&] {
    try {
      Job job = make_worker();
      for (std::size_t i = next++; i < count && !failed; i = next++) job(i);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      failed = true;
    }
  };
  std::size_t thread_count = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(threads, 1)));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < thread_count; ++i) pool.emplace_back(loop);
  if (thread_count > 0) loop();
  for (auto& thread : pool) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace cog::builder::registry
