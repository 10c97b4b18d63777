#pragma once
// Runs `count` jobs on up to `threads` threads. Each thread first asks `make_worker` for its own
// job function (so it can own an HttpClient). The first exception stops the hand-out of new jobs
// and is rethrown once every thread has finished.
#include <cstddef>
#include <functional>

namespace cog::builder::registry {

using Job = std::function<void(std::size_t index)>;
void run_parallel(std::size_t count, int threads, const std::function<Job()>& make_worker);

}  // namespace cog::builder::registry
