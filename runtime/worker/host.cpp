#include "runtime/worker/host.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/error.hpp"

namespace cog::runtime::worker {

using nlohmann::json;

Host::Host(int control_fd, Capture& capture, pthread_t main_thread)
    : fd_(control_fd), capture_(capture), main_thread_(main_thread) {}

void Host::start_reader() {
  reader_ = std::thread([this] { reader_loop(); });
  reader_.detach();
}

void Host::send(std::string_view payload) {
  std::lock_guard lock(send_mutex_);
  // A vanished supervisor is noticed by the reader (end of stream); nothing to do here.
  ipc::write_frame(fd_, payload);
}

std::optional<std::string> Host::next_frame() {
  std::unique_lock lock(mutex_);
  inbox_cv_.wait(lock, [&] { return !inbox_.empty() || closed_; });
  if (inbox_.empty()) return std::nullopt;
  std::string frame = std::move(inbox_.front());
  inbox_.pop_front();
  return frame;
}

int Host::frame_fd() {
  std::lock_guard lock(mutex_);
  if (frame_fd_ < 0) {
    frame_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (frame_fd_ < 0) {
      throw Error(ErrorKind::Io, "cog-worker", "cannot create an eventfd for incoming frames");
    }
    if (!inbox_.empty() || closed_) signal_frames();
  }
  return frame_fd_;
}

std::optional<std::vector<std::string>> Host::take_frames() {
  std::lock_guard lock(mutex_);
  if (inbox_.empty() && closed_) return std::nullopt;
  std::vector<std::string> frames(std::make_move_iterator(inbox_.begin()), std::make_move_iterator(inbox_.end()));
  inbox_.clear();
  // The inbox is empty now, so the fd goes quiet; once closed_ it stays readable, so that the
  // loop comes back for the nullopt.
  if (frame_fd_ >= 0 && !closed_) {
    std::uint64_t count = 0;
    (void)!::read(frame_fd_, &count, sizeof count);
  }
  return frames;
}

void Host::push_frame(std::string payload) {
  inbox_.push_back(std::move(payload));
  inbox_cv_.notify_one();
  // The eventfd is already readable while older frames wait (take_frames takes them all).
  if (inbox_.size() == 1) signal_frames();
}

void Host::signal_frames() {
  if (frame_fd_ < 0) return;
  const std::uint64_t one = 1;
  (void)!::write(frame_fd_, &one, sizeof one);
}

void Host::drain() {
  // What is neither in the pipes nor held by the capture thread was handed over already.
  if (capture_.pending()) capture_.drain();
}

void Host::set_async(bool is_async) {
  std::lock_guard lock(mutex_);
  async_ = is_async;
}

void Host::set_active(const std::string& id) {
  std::lock_guard lock(mutex_);
  active_.insert(id);
}

void Host::clear_active(const std::string& id) {
  std::lock_guard lock(mutex_);
  active_.erase(id);
}

bool Host::take_cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  return early_cancels_.erase(id) > 0;
}

void Host::set_healthcheck(std::function<void(long long)> check) {
  std::lock_guard lock(mutex_);
  healthcheck_ = std::move(check);
}

void Host::emit_log(const char* source, std::string data) {
  json frame = {{"type", "log"}, {"source", source}, {"data", std::move(data)}};
  {
    // Output that did not come through sys.stdout of an async task belongs to the prediction
    // when exactly one is running; otherwise it is setup or worker output.
    std::lock_guard lock(mutex_);
    frame["id"] = active_.size() == 1 ? json(*active_.begin()) : json(nullptr);
  }
  send(frame.dump(-1, ' ', false, json::error_handler_t::replace));
}

void Host::log(const std::string& source, std::string data, const std::optional<std::string>& id) {
  if (capture_.pending()) capture_.drain();
  json frame = {{"type", "log"}, {"source", source}, {"data", std::move(data)}};
  if (id) {
    frame["id"] = *id;
  } else {
    std::lock_guard lock(mutex_);
    frame["id"] = active_.size() == 1 ? json(*active_.begin()) : json(nullptr);
  }
  send(frame.dump(-1, ' ', false, json::error_handler_t::replace));
}

void Host::reader_loop() {
  ipc::read_frames(fd_, [this](std::string payload) { handle(std::move(payload)); });
  std::lock_guard lock(mutex_);
  closed_ = true;
  inbox_cv_.notify_all();
  signal_frames();
}

void Host::handle(std::string payload) {
  const json frame = json::parse(payload, nullptr, false);
  if (!frame.is_object()) return;
  const std::string type = frame.value("type", "");
  if (type == "cancel") {
    const std::string id = frame.value("id", "");
    std::lock_guard lock(mutex_);
    if (async_) {
      push_frame(std::move(payload));
    } else if (active_.count(id)) {
      // The SDK's handler turns SIGUSR1 into CancelationException inside run().
      pthread_kill(main_thread_, SIGUSR1);
    } else if (early_cancels_.size() < 4096) {
      early_cancels_.insert(id);
    }
    return;
  }
  if (type == "healthcheck") {
    const long long seq = frame.value("seq", 0LL);
    std::function<void(long long)> check;
    {
      std::lock_guard lock(mutex_);
      check = healthcheck_;
    }
    if (!check) {
      send(json{{"type", "healthcheck_result"}, {"seq", seq}, {"healthy", true}, {"message", ""}}.dump());
      return;
    }
    // One check at a time: a hung check keeps timing out on the supervisor's side. The check
    // answers before it has returned, so the supervisor's next request can arrive while it still
    // runs: that one is run next instead of being dropped (which the supervisor saw as a timeout).
    {
      std::lock_guard lock(healthcheck_mutex_);
      if (healthcheck_running_) {
        healthcheck_pending_ = seq;
        return;
      }
      healthcheck_running_ = true;
    }
    std::thread([this, check, seq] {
      for (long long next = seq; next != 0;) {
        check(next);
        std::lock_guard lock(healthcheck_mutex_);
        next = std::exchange(healthcheck_pending_, 0);
        if (next == 0) healthcheck_running_ = false;
      }
    }).detach();
    return;
  }
  std::lock_guard lock(mutex_);
  push_frame(std::move(payload));
}

}  // namespace cog::runtime::worker
