// cog-bench-loadgen: a closed-loop HTTP/1.1 load generator for the runtime benchmark.
//
//   cog-bench-loadgen --port P [--host 127.0.0.1] [--path /predictions] [--body-file F]
//                     [--connections N] [--requests TOTAL] [--warmup PER_CONNECTION]
//                     [--expect SUBSTRING] [--busy-pause-us US]
//
// N threads each own one keep-alive connection with TCP_NODELAY and send one request at a time
// (the next only after the whole answer has arrived). After a warm-up on every connection, all
// threads start together and share TOTAL measured requests. Prints one JSON line: latencies in
// microseconds (p50, p90, p99, mean, max), requests/s over the measured phase, and counts of
// answers that were not 200 or lacked SUBSTRING. Kept to raw sockets so that the client costs a
// few microseconds per request and is never what the benchmark measures.
//
// A 409 (all slots busy: Cog has no queue and tells clients to retry) is retried on the same
// connection, as a client would, at once or after --busy-pause-us; the latency of that request
// runs from its first send to the final answer, and the retries are counted ("busy_retries").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxBusyRetries = 100000;  // then the 409 counts as an unexpected answer

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/predictions";
  std::string body = R"({"input":{}})";
  int connections = 1;
  long requests = 1000;
  int warmup = 50;
  std::string expect = R"("status":"succeeded")";
  int busy_pause_us = 0;  // pause before retrying a 409
};

struct Answer {
  int status = 0;
  std::string body;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "cog-bench-loadgen: error: " << what
            << " — usage: cog-bench-loadgen --port P [--host H] [--path P] [--body-file F] "
               "[--connections N] [--requests TOTAL] [--warmup PER_CONNECTION] [--expect SUBSTRING] "
               "[--busy-pause-us US]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const std::string value = argv[++i];
    try {
      if (flag == "--host")
        options.host = value;
      else if (flag == "--port")
        options.port = std::stoi(value);
      else if (flag == "--path")
        options.path = value;
      else if (flag == "--connections")
        options.connections = std::stoi(value);
      else if (flag == "--requests")
        options.requests = std::stol(value);
      else if (flag == "--warmup")
        options.warmup = std::stoi(value);
      else if (flag == "--expect")
        options.expect = value;
      else if (flag == "--busy-pause-us")
        options.busy_pause_us = std::stoi(value);
      else if (flag == "--body-file") {
        std::ifstream file(value, std::ios::binary);
        if (!file) usage_error(value + ": cannot read the body file");
        options.body.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
      } else {
        usage_error("unknown flag " + flag);
      }
    } catch (const std::logic_error&) {
      usage_error(flag + ": '" + value + "' is not a number");
    }
  }
  if (options.port <= 0) usage_error("--port is required");
  if (options.connections < 1 || options.requests < 1 || options.warmup < 0) {
    usage_error("--connections and --requests must be at least 1, --warmup at least 0");
  }
  return options;
}

// One keep-alive connection; throws std::runtime_error on any socket or framing problem.
class Connection {
 public:
  Connection(const Options& options) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(options.port));
    if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
      throw std::runtime_error(options.host + ": not an IPv4 address");
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect to " + options.host + ":" + std::to_string(options.port) + ": " +
                               std::strerror(errno));
    }
    std::ostringstream request;
    request << "POST " << options.path << " HTTP/1.1\r\nHost: " << options.host << ":" << options.port
            << "\r\nContent-Type: application/json\r\nContent-Length: " << options.body.size()
            << "\r\nConnection: keep-alive\r\n\r\n"
            << options.body;
    request_ = request.str();
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Answer exchange() {
    for (std::size_t sent = 0; sent < request_.size();) {
      const ssize_t n = ::send(fd_, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error(std::string("send: ") + (n == 0 ? "closed" : std::strerror(errno)));
      sent += static_cast<std::size_t>(n);
    }
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
    const std::string head = buffer_.substr(0, header_end);
    Answer answer;
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) throw std::runtime_error("not an HTTP response");
    answer.status = std::atoi(head.c_str() + 9);
    const std::size_t length = content_length(head);
    while (buffer_.size() < header_end + 4 + length) fill();
    answer.body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    return answer;
  }

 private:
  static std::size_t content_length(const std::string& head) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) {
      throw std::runtime_error("response without Content-Length (chunked answers are not expected here)");
    }
    return std::strtoul(lower.c_str() + at + 17, nullptr, 10);
  }

  void fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error(std::string("recv: ") + (n == 0 ? "server closed" : std::strerror(errno)));
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  std::string request_;
  std::string buffer_;
};

struct ThreadResult {
  std::vector<long> latencies_us;
  std::map<int, long> statuses;
  long unexpected = 0;
  long busy_retries = 0;
  std::string first_unexpected;
  std::string error;
};

long percentile(const std::vector<long>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text.substr(0, 300)) {
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c < 0x20)
      out += ' ';
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  std::vector<ThreadResult> results(static_cast<std::size_t>(options.connections));
  std::atomic<long> next{0};
  std::barrier start_line(options.connections + 1);
  std::barrier finish_line(options.connections + 1);

  std::vector<std::thread> threads;
  for (int t = 0; t < options.connections; ++t) {
    threads.emplace_back([&, t] {
      ThreadResult& result = results[static_cast<std::size_t>(t)];
      result.latencies_us.reserve(static_cast<std::size_t>(options.requests / options.connections + 16));
      std::unique_ptr<Connection> connection;
      try {
        connection = std::make_unique<Connection>(options);
        for (int i = 0; i < options.warmup; ++i) {
          for (int retry = 0; connection->exchange().status == 409 && retry < kMaxBusyRetries; ++retry) {
          }
        }
      } catch (const std::exception& error) {
        result.error = error.what();
        connection.reset();
      }
      start_line.arrive_and_wait();
      while (connection && next.fetch_add(1) < options.requests) {
        try {
          const auto begin = Clock::now();
          Answer answer = connection->exchange();
          for (int retry = 0; answer.status == 409 && retry < kMaxBusyRetries; ++retry) {
            ++result.busy_retries;
            if (options.busy_pause_us > 0) {
              std::this_thread::sleep_for(std::chrono::microseconds(options.busy_pause_us));
            }
            answer = connection->exchange();
          }
          const auto end = Clock::now();
          result.latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(end - begin).count());
          ++result.statuses[answer.status];
          if (answer.status != 200 || answer.body.find(options.expect) == std::string::npos) {
            if (result.unexpected++ == 0) result.first_unexpected = std::to_string(answer.status) + " " + answer.body;
          }
        } catch (const std::exception& error) {
          result.error = error.what();
          break;
        }
      }
      finish_line.arrive_and_wait();
    });
  }
  start_line.arrive_and_wait();
  const auto begin = Clock::now();
  finish_line.arrive_and_wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  for (auto& thread : threads) thread.join();

  std::vector<long> latencies;
  std::map<int, long> statuses;
  long unexpected = 0, busy_retries = 0;
  std::string first_unexpected, first_error;
  for (const auto& result : results) {
    latencies.insert(latencies.end(), result.latencies_us.begin(), result.latencies_us.end());
    for (const auto& [status, count] : result.statuses) statuses[status] += count;
    unexpected += result.unexpected;
    busy_retries += result.busy_retries;
    if (first_unexpected.empty()) first_unexpected = result.first_unexpected;
    if (first_error.empty()) first_error = result.error;
  }
  std::sort(latencies.begin(), latencies.end());
  double sum = 0;
  for (const long value : latencies) sum += static_cast<double>(value);
  const double mean = latencies.empty() ? 0 : sum / static_cast<double>(latencies.size());

  std::ostringstream out;
  out << "{\"requests\":" << latencies.size() << ",\"connections\":" << options.connections
      << ",\"seconds\":" << seconds
      << ",\"rps\":" << (seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0)
      << ",\"p50_us\":" << percentile(latencies, 0.50) << ",\"p90_us\":" << percentile(latencies, 0.90)
      << ",\"p99_us\":" << percentile(latencies, 0.99) << ",\"mean_us\":" << mean
      << ",\"max_us\":" << (latencies.empty() ? 0 : latencies.back()) << ",\"statuses\":{";
  bool first = true;
  for (const auto& [status, count] : statuses) {
    out << (first ? "" : ",") << "\"" << status << "\":" << count;
    first = false;
  }
  out << "},\"busy_retries\":" << busy_retries << ",\"unexpected\":" << unexpected
      << ",\"first_unexpected\":" << json_string(first_unexpected) << ",\"error\":" << json_string(first_error) << "}";
  std::cout << out.str() << std::endl;
  const bool complete = static_cast<long>(latencies.size()) == options.requests;
  return complete && unexpected == 0 && first_error.empty() ? 0 : 1;
}
