#include "runtime/server/logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

namespace cog::runtime::server {

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(micros % 1000000));
  return buffer;
}

Logger::Logger(bool console, const std::string& level) : console_(console) {
  if (level == "debug" || level == "trace")
    threshold_ = LogLevel::Debug;
  else if (level == "warn" || level == "warning")
    threshold_ = LogLevel::Warn;
  else if (level == "error")
    threshold_ = LogLevel::Error;
  else
    threshold_ = LogLevel::Info;
}

void Logger::passthrough(const std::string& data) {
  std::lock_guard lock(mutex_);
  std::cerr << data << std::flush;
}

void Logger::write(LogLevel level, const std::string& message) {
  if (level < threshold_) return;
  static constexpr const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  const char* name = names[static_cast<int>(level)];
  std::string line;
  if (console_) {
    line = rfc3339_now() + " " + name + " cog-server: " + message + "\n";
  } else {
    nlohmann::json record = {
        {"timestamp", rfc3339_now()}, {"level", name}, {"target", "cog-server"}, {"message", message}};
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::lock_guard lock(mutex_);
  std::cerr << line << std::flush;
}

}  // namespace cog::runtime::server
