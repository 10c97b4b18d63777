#pragma once
// The server's own log lines on stderr: JSON by default, readable with LOG_FORMAT=console.
#include <mutex>
#include <string>

namespace cog::runtime::server {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

class Logger {
 public:
  Logger(bool console, const std::string& level);
  void debug(const std::string& message) { write(LogLevel::Debug, message); }
  void info(const std::string& message) { write(LogLevel::Info, message); }
  void warn(const std::string& message) { write(LogLevel::Warn, message); }
  void error(const std::string& message) { write(LogLevel::Error, message); }
  // Bytes the worker printed outside any prediction after setup: passed through unchanged.
  void passthrough(const std::string& data);

 private:
  void write(LogLevel level, const std::string& message);
  bool console_;
  LogLevel threshold_;
  std::mutex mutex_;
};

// Now as RFC 3339 UTC with microseconds: 2026-01-02T03:04:05.123456Z.
std::string rfc3339_now();

}  // namespace cog::runtime::server
