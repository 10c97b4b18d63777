#include "runtime/server/http_limits.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace cog::runtime::server;

namespace {

int refusal_of(const std::string& head, const HttpLimits& limits = HttpLimits{}) {
  const HeadCheck check = check_request_head(head, limits);
  return check.refusal ? check.refusal->status : 0;
}

}  // namespace

TEST_CASE("a well-formed head is accepted and its framing read") {
  const HeadCheck check = check_request_head(
      "POST /predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n", {});
  REQUIRE_FALSE(check.refusal);
  CHECK(check.framing.method == "POST");
  CHECK(check.framing.target == "/predictions");
  CHECK(check.framing.content_length == 12u);
  CHECK_FALSE(check.framing.chunked);

  const HeadCheck chunked = check_request_head("PUT /predictions/a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n", {});
  REQUIRE_FALSE(chunked.refusal);
  CHECK(chunked.framing.chunked);
  CHECK(refusal_of("GET / HTTP/1.0\r\n") == 0);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n") == 0);  // agreeing duplicates
}

TEST_CASE("ambiguous lengths are refused with 400, as RFC 9112 asks") {
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: +22\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 22abc\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length:\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n") == 400);
  CHECK(refusal_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n") == 400);
}

TEST_CASE("unknown codings are refused: 501 for transfer, 415 for content") {
  CHECK(refusal_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n") == 501);
  CHECK(refusal_of("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n") == 501);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n") == 415);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 3\r\n") == 0);
}

TEST_CASE("malformed lines are refused with 400") {
  CHECK(refusal_of("GET / HTTP/1.1\r\nHost : x\r\n") == 400);           // whitespace before the colon
  CHECK(refusal_of("GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n") == 400);  // obsolete line folding
  CHECK(refusal_of("GET / HTTP/1.1\nHost: x\r\n") == 400);              // bare LF
  CHECK(refusal_of("GET / HTTP/1.1\r\nHost: x\ry\r\n") == 400);         // bare CR
  CHECK(refusal_of("GET / HTTP/1.1\r\nNoColon\r\n") == 400);
  CHECK(refusal_of("GET / HTTP/1.1\r\nX: a\x01"
                   "b\r\n") == 400);  // a control character
  CHECK(refusal_of(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n", 22)) == 400);
  CHECK(refusal_of("GET  / HTTP/1.1\r\n") == 400);
  CHECK(refusal_of("GET /\r\n") == 400);
  CHECK(refusal_of("G(T / HTTP/1.1\r\n") == 400);
  CHECK(refusal_of("GET / HTTP/2.0\r\n") == 505);
  CHECK(refusal_of("GET / FTP/1.1\r\n") == 400);
  CHECK(refusal_of("GET / HTTP/1.1") == 400);  // no CRLF at the end
}

TEST_CASE("size limits give 414, 431 and 413") {
  HttpLimits limits;
  limits.max_request_line_bytes = 32;
  limits.max_header_bytes = 128;
  limits.max_header_count = 3;
  limits.max_body_bytes = 1000;
  CHECK(refusal_of("GET /" + std::string(40, 'a') + " HTTP/1.1\r\n", limits) == 414);
  CHECK(refusal_of("GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n", limits) == 431);
  CHECK(refusal_of("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", limits) == 431);
  CHECK(refusal_of("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits) == 0);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 1001\r\n", limits) == 413);
  CHECK(refusal_of("POST / HTTP/1.1\r\nContent-Length: 1000\r\n", limits) == 0);
}

TEST_CASE("JSON nesting is measured outside strings and stops early") {
  CHECK(json_nesting_depth(R"({"a": [1, {"b": [2]}]})", 100) == 4);
  CHECK(json_nesting_depth(R"({"a": "[[[[[[\"[[["})", 100) == 1);
  CHECK(json_nesting_depth("", 100) == 0);
  CHECK(json_nesting_depth(std::string(100000, '['), 128) == 129);
  CHECK(json_nesting_depth("]]]][", 10) == 1);
}

TEST_CASE("prediction IDs must be short UTF-8 text") {
  CHECK_FALSE(prediction_id_problem("pred_0123abc"));
  CHECK_FALSE(prediction_id_problem("the café ☕ 😀"));
  CHECK(prediction_id_problem("\xff\xfe") == std::string("is not valid UTF-8"));
  CHECK(prediction_id_problem("\xc0\xaf"));      // overlong '/'
  CHECK(prediction_id_problem("\xed\xa0\x80"));  // a UTF-16 surrogate
  CHECK(prediction_id_problem("abc\xe2\x82"));   // cut short
  CHECK(prediction_id_problem("a\nb") == std::string("contains a control character"));
  CHECK(prediction_id_problem(std::string(1, '\0')));
  CHECK(prediction_id_problem(""));
  CHECK(prediction_id_problem(std::string(257, 'a')));
  CHECK_FALSE(prediction_id_problem(std::string(256, 'a')));
}
