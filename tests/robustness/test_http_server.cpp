// SPDX-License-Identifier: Apache-2.0
// HTTP server and credentials matrix (docs/robustness.md, rows H..): what the openai grounder
// does when a server misbehaves (endless bodies and headers, trickles, huge answers, echoed
// keys, Retry-After storms, being down) and when its configuration holds credentials or numbers
// out of range. One TEST_CASE per row, the name starting with the row id. The servers are the
// raw-socket fake of tests/grounders/fake_openai_server.hpp, on 127.0.0.1; every case takes
// seconds at most.
#include "robust_util.hpp"

#include "../grounders/fake_openai_server.hpp"

#include <groundeval/grounders/http/openai_grounder.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;
using robust::error_text;
using robust::spec_error;
namespace fs = std::filesystem;

namespace {

constexpr const char* key = "sk-robust-2b7e151628aed2a6abf7158809cf4f3c";
constexpr const char* key_env = "GROUNDEVAL_ROBUST_KEY";

/// Queries of one 640x480 image (the file is a PNG signature: never decoded by `pixel`).
struct queries {
  fs::path dir;
  std::string image;
  std::vector<std::string> phrases;
  std::vector<phrase_query> qs;
  queries(const std::string& row, int n) : dir(robust::scratch(row)) {
    image = (dir / "i.png").string();
    robust::write(image, std::string("\x89PNG\r\n\x1a\n", 8));
    for (int i = 0; i < n; ++i) phrases.push_back("thing " + std::to_string(i));
    for (std::size_t i = 0; i < phrases.size(); ++i)
      qs.push_back({phrases[i], "a sentence", 0, 5, i});
  }
  grounding_request request() const {
    return {image_ref{"7", image, image_size{640, 480}}, std::span<const phrase_query>(qs)};
  }
};

openai_config config(const std::string& url) {
  ::setenv(key_env, key, 1);
  openai_config c;
  c.base_url = url;
  c.model = "m";
  c.family = "pixel";
  c.api_key_env = key_env;
  c.max_retries = 0;
  c.concurrency = 1;
  c.connect_timeout_s = 2;
  c.read_timeout_s = 5;
  c.request_timeout_s = 10;
  c.max_response_bytes = 65536;
  c.backoff_base_s = 0.01;
  c.backoff_max_s = 0.02;
  return c;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The grounder's answer to one query.
openai_answer ask_one(const openai_config& c, const std::string& row,
                      query_result* result = nullptr) {
  const queries q(row, 1);
  openai_grounder g(c);
  std::vector<openai_answer> a;
  const auto r = g.ground_detailed(q.request(), a);
  REQUIRE(a.size() == 1);
  if (result) *result = r[0];
  return a[0];
}

/// `s` with ":PORT" of the fake server written as ":<port>".
std::string port_free(std::string s, int port) {
  const std::string p = ":" + std::to_string(port);
  for (std::size_t at; (at = s.find(p)) != std::string::npos;) s.replace(at, p.size(), ":<port>");
  return s;
}

/// One query to `srv` with a 1.5 s request deadline (and a 5 s silence limit): it ends after
/// the deadline, not much later, as a timeout saying `message`.
void check_deadline(const fake_openai::server& srv, const std::string& row,
                    const std::string& message) {
  openai_config c = config(srv.url());
  c.request_timeout_s = 1.5;
  const auto t0 = std::chrono::steady_clock::now();
  query_result r;
  const openai_answer a = ask_one(c, row, &r);
  const double took = seconds_since(t0);
  CHECK(took >= 1.4);
  CHECK(took < 4);
  CHECK(a.failure == answer_failure::timeout);
  CHECK(r.message == message);
}

}  // namespace

TEST_CASE("H01 endless chunked body", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request&) {
    if (!c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"))
      return false;
    const std::string chunk = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";
    while (c.send(chunk)) {
    }
    return false;
  });
  openai_config c = config(srv.url());
  c.max_response_bytes = std::size_t{1} << 20;
  const auto t0 = std::chrono::steady_clock::now();
  query_result r;
  const openai_answer a = ask_one(c, "H01", &r);
  CHECK(seconds_since(t0) < 5);
  // the client stopped reading at 1 MiB: the server got rid of little more (socket buffers)
  CHECK(srv.bytes_sent() < (std::int64_t{32} << 20));
  CHECK(a.failure == answer_failure::too_large);
  CHECK(r.status == query_status::error);
  CHECK(r.message ==
        "the response body is larger than the limit of 1048576 bytes (max_response_bytes) (after "
        "1 attempt)");
}

TEST_CASE("H02 a 1 GiB body announced by Content-Length", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request&) {
    c.send(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n");
    const std::string block(1 << 16, 'x');
    while (c.send(block)) {
    }
    return false;
  });
  const auto t0 = std::chrono::steady_clock::now();
  query_result r;
  const openai_answer a = ask_one(config(srv.url()), "H02", &r);
  CHECK(seconds_since(t0) < 5);
  CHECK(a.failure == answer_failure::too_large);
  CHECK(r.message ==
        "the server announces a body of 1073741824 bytes, more than the limit of 65536 bytes "
        "(max_response_bytes) (after 1 attempt)");
}

TEST_CASE("H03 an answer longer than a predictions record stores", "[robustness][http]") {
  // 2 MiB of answer text in a 2.1 MiB response (within the response limit given here)
  const std::string text = "[1, 2, 3, 4] " + std::string(std::size_t{2} << 20, 'a');
  fake_openai::server srv([&](fake_openai::connection& c, const fake_openai::request&) {
    return c.send(fake_openai::response(200, fake_openai::chat(text)));
  });
  openai_config c = config(srv.url());
  c.max_response_bytes = std::size_t{4} << 20;
  query_result r;
  const openai_answer a = ask_one(c, "H03", &r);
  CHECK(a.failure == answer_failure::too_large);
  CHECK(r.status == query_status::error);
  CHECK(r.message ==
        "the answer is 2097165 bytes, longer than the 1048576 bytes a predictions record stores "
        "for one answer (io/limits.hpp): not parsed, its start is kept in raw_text (after 1 "
        "attempt)");
  CHECK(r.raw_text.size() == max_answer_text_bytes);
  CHECK(r.raw_text.substr(0, 13) == "[1, 2, 3, 4] ");
  // what run writes, evaluate reads: the record fits the shared line limit
  phrase_prediction_record rec;
  rec.image_id = "7";
  rec.result = r;
  std::ostringstream os;
  write_jsonl_record(os, rec);
  CHECK(os.str().size() < max_jsonl_line_bytes);
  const fs::path d = robust::scratch("H03");
  robust::write(d / "p.jsonl", os.str());
  const auto back = read_predictions((d / "p.jsonl").string());
  REQUIRE(back.phrases.size() == 1);
  CHECK(back.phrases[0].result.raw_text == r.raw_text);
}

TEST_CASE("H04 endless response headers", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request&) {
    if (!c.send("HTTP/1.1 200 OK\r\n")) return false;
    for (long i = 0;
         c.send("X-Filler-" + std::to_string(i) + ": " + std::string(100, 'h') + "\r\n"); ++i) {
    }
    return false;
  });
  const auto t0 = std::chrono::steady_clock::now();
  query_result r;
  const openai_answer a = ask_one(config(srv.url()), "H04", &r);
  CHECK(seconds_since(t0) < 5);
  CHECK(a.failure == answer_failure::too_large);
  CHECK(r.message == "the response's headers are longer than 65536 bytes (after 1 attempt)");
}

TEST_CASE("H05 response headers trickled forever", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request&) {
    if (!c.send("HTTP/1.1 200 OK\r\n")) return false;
    while (c.pause(100) && c.send("X-Slow: y\r\n")) {
    }
    return false;
  });
  // the silence never reaches read_timeout (5 s): the deadline ends it
  check_deadline(srv, "H05",
                 "timeout: no complete response within the 1.5 s request deadline "
                 "(request_timeout) while reading the response headers (after 1 attempt)");
}

TEST_CASE("H06 a body trickled one byte at a time", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request&) {
    if (!c.send(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"))
      return false;
    while (c.pause(300) && c.send("x")) {
    }
    return false;
  });
  check_deadline(srv, "H06",
                 "timeout: no complete response within the 1.5 s request deadline "
                 "(request_timeout) while reading the response body (after 1 attempt)");
}

TEST_CASE("H07 Retry-After on every answer", "[robustness][http]") {
  std::string retry_after = "1";
  fake_openai::server srv([&](fake_openai::connection& c, const fake_openai::request&) {
    return c.send(fake_openai::response(429, R"({"error": "slow down"})", "application/json",
                                        "Retry-After: " + retry_after + "\r\n"));
  });
  openai_config c = config(srv.url());
  c.max_retries = 5;
  c.retry_budget_s = 2.5;
  // Retry-After: 1 -> attempts at 0, 1 and 2 s; a third wait would end past the budget
  const auto t0 = std::chrono::steady_clock::now();
  query_result r;
  openai_answer a = ask_one(c, "H07", &r);
  const double took = seconds_since(t0);
  CHECK(took >= 1.9);
  CHECK(took < 4);
  CHECK(a.attempts == 3);
  CHECK(r.message ==
        "HTTP 429: {\"error\": \"slow down\"} (after 3 attempts; no more retries: waiting 1 s more "
        "would pass the 2.5 s retry budget (retry_budget))");
  // Retry-After: 3600 is capped at retry_after_max (120 s), still past the budget: no wait
  retry_after = "3600";
  const auto t1 = std::chrono::steady_clock::now();
  a = ask_one(c, "H07", &r);
  CHECK(seconds_since(t1) < 1);
  CHECK(r.message ==
        "HTTP 429: {\"error\": \"slow down\"} (after 1 attempt; no more retries: waiting 120 s "
        "more would pass the 2.5 s retry budget (retry_budget))");
}

TEST_CASE("H08 credentials in the server URL", "[robustness][http]") {
  // on the command line: the password is not echoed, not even in the spec shown
  const std::string e =
      spec_error("openai:http://alice:s3cr3tpw@127.0.0.1:9/v1?model=m&family=pixel");
  CHECK(e ==
        "--grounder: 'openai:http://***@127.0.0.1:9/v1?model=m&family=pixel': the server URL "
        "holds credentials ('user:password@'): groundeval does not send them, and they would be "
        "recorded with the run. Give the URL without them (http://127.0.0.1:9/v1) and the key "
        "through key_env=VAR (an environment variable, sent as 'Authorization: Bearer KEY') or, "
        "for another header, header_env={\"Header-Name\": \"VAR\"}");
  CHECK(e.find("s3cr3tpw") == std::string::npos);
  CHECK(e.find("alice") == std::string::npos);
  // an unknown key after such a URL: the spec shown is masked too
  CHECK(spec_error("openai:https://alice:s3cr3tpw@h/v1?model=m&tempo=1").find("s3cr3tpw") ==
        std::string::npos);
  // in a config file: FILE:LINE, no echo
  const fs::path d = robust::scratch("H08");
  robust::write(d / "g.conf",
                "grounder = openai\nurl = http://alice:s3cr3tpw@127.0.0.1:9/v1\n"
                "model = m\n");
  const std::string f = spec_error("@" + (d / "g.conf").string(), d);
  CHECK(f ==
        "<dir>/g.conf:2: the server URL holds credentials ('user:password@'): groundeval does "
        "not send them, and they would be recorded with the run. Give the URL without them "
        "(http://127.0.0.1:9/v1) and the key through key_env=VAR (an environment variable, sent "
        "as 'Authorization: Bearer KEY') or, for another header, header_env={\"Header-Name\": "
        "\"VAR\"}");
  CHECK(f.find("s3cr3tpw") == std::string::npos);
  // the library refuses them as well
  openai_config c = config("http://alice:s3cr3tpw@127.0.0.1:9/v1");
  const std::string g = error_text([&] { openai_grounder x(c); });
  CHECK(g ==
        "base_url: the server URL holds credentials ('user:password@'): groundeval does not send "
        "them, and they would be recorded with the run. Give the URL without them "
        "(http://127.0.0.1:9/v1) and the key through key_env=VAR (an environment variable, sent "
        "as 'Authorization: Bearer KEY') or, for another header, header_env={\"Header-Name\": "
        "\"VAR\"}");
  CHECK(g.find("s3cr3tpw") == std::string::npos);
}

TEST_CASE("H09 a server that echoes the API key", "[robustness][http]") {
  // every text it sends back holds the key: the answer, the model name, an error body with the
  // key across the 200-byte cut of error excerpts, and a JSON-escaped echo
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request& q) {
    const std::string auth = q.header("Authorization");  // "Bearer sk-..."
    if (q.prompt().find("thing 1") != std::string::npos)
      return c.send(fake_openai::response(500, std::string(190, '.') + auth, "text/plain"));
    return c.send(fake_openai::response(
        200,
        fake_openai::chat("[1, 2, 3, 4] you said " + auth + " and " + nlohmann::json(auth).dump(),
                          auth, auth)));
  });
  const queries q("H09", 2);
  openai_config c = config(srv.url());
  c.cache_path = (q.dir / "cache.jsonl").string();
  openai_grounder g(c);
  std::vector<openai_answer> a;
  const auto r = g.ground_detailed(q.request(), a);
  REQUIRE(r.size() == 2);
  CHECK(r[0].status == query_status::ok);
  CHECK(r[0].raw_text == "[1, 2, 3, 4] you said Bearer *** and \"Bearer ***\"");
  CHECK(a[0].server_model == "Bearer ***");
  CHECK(a[0].finish_reason == "Bearer ***");
  CHECK(r[1].status == query_status::error);
  CHECK(r[1].message == "HTTP 500: " + std::string(190, '.') + "Bearer *** (after 1 attempt)");
  // no part of the key that identifies it anywhere: results, answers, cache, description
  const std::string part = std::string(key).substr(0, 10);
  for (const auto& x : r) CHECK((x.raw_text + x.message).find(part) == std::string::npos);
  for (const auto& x : a)
    CHECK((x.raw_text + x.error + x.server_model).find(part) == std::string::npos);
  std::ifstream in(c.cache_path, std::ios::binary);
  const std::string cache((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(cache.find("Bearer ***") != std::string::npos);
  CHECK(cache.find(part) == std::string::npos);
  CHECK(g.describe().find(part) == std::string::npos);
}

TEST_CASE("H10 timeouts and limits out of range", "[robustness][http]") {
  const std::string s = "openai:http://127.0.0.1:9/v1?model=m&";
  CHECK(spec_error(s + "read_timeout=1e300") ==
        "--grounder: 'openai:http://127.0.0.1:9/v1?model=m&read_timeout=1e300': read_timeout "
        "must be a number of seconds in (0, 86400], got '1e300'");
  CHECK(spec_error(s + "read_timeout=0") ==
        "--grounder: 'openai:http://127.0.0.1:9/v1?model=m&read_timeout=0': read_timeout must "
        "be a number of seconds in (0, 86400], got '0'");
  CHECK(spec_error(s + "connect_timeout=nan") ==
        "--grounder: 'openai:http://127.0.0.1:9/v1?model=m&connect_timeout=nan': "
        "connect_timeout 'nan' is not a number");
  CHECK(spec_error(s + "request_timeout=1e999") ==
        "--grounder: 'openai:http://127.0.0.1:9/v1?model=m&request_timeout=1e999': "
        "request_timeout must be a number of seconds in (0, 86400], got '1e999'");
  CHECK(spec_error(s + "max_response_bytes=10") ==
        "--grounder: 'openai:http://127.0.0.1:9/v1?model=m&max_response_bytes=10': "
        "max_response_bytes must be an integer in 1024..1073741824, got '10'");
  // the library checks what a program sets directly
  openai_config c = config("http://127.0.0.1:9/v1");
  c.read_timeout_s = 1e300;
  CHECK(error_text([&] { openai_grounder g(c); }) ==
        "read_timeout must be a number of seconds in (0, 86400], got '1e+300'");
}

TEST_CASE("H11 the server is down, then up", "[robustness][http]") {
  fake_openai::server srv(
      [](fake_openai::connection& c, const fake_openai::request& q) {
        if (q.target == "/v1/models")
          return c.send(fake_openai::response(200, fake_openai::model_list({"m"})));
        return c.send(fake_openai::response(200, fake_openai::chat("[1, 2, 3, 4]")));
      },
      false);  // bound, not listening: connections are refused
  openai_config c = config(srv.url());
  {
    openai_grounder g(c);
    CHECK(port_free(error_text([&] { (void)g.check_ready(); }), srv.port()) ==
          "the server at http://127.0.0.1:<port>/v1 is not ready: cannot connect to "
          "127.0.0.1:<port>: Connection refused (GET http://127.0.0.1:<port>/v1/models). Start "
          "the server or correct the URL; ready_timeout=SECONDS waits for a server that is still "
          "loading");
  }
  // ready_timeout waits for it: up after 1 s
  c.ready_timeout_s = 10;
  openai_grounder g(c);
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    srv.listen();
  });
  const auto t0 = std::chrono::steady_clock::now();
  const std::string ok = g.check_ready();
  later.join();
  CHECK(seconds_since(t0) < 4);
  CHECK(port_free(ok, srv.port()) ==
        "the server at http://127.0.0.1:<port>/v1 serves the model 'm'");
  // a model it does not serve
  openai_config other = config(srv.url());
  other.model = "another";
  openai_grounder h(other);
  CHECK(port_free(error_text([&] { (void)h.check_ready(); }), srv.port()) ==
        "the server at http://127.0.0.1:<port>/v1 does not serve the model 'another' (model=): it "
        "lists 'm'");
}

TEST_CASE("H12 the server goes down during a run", "[robustness][http]") {
  fake_openai::server srv(
      [](fake_openai::connection& c, const fake_openai::request&) {
        return c.send(fake_openai::response(200, fake_openai::chat("[1, 2, 3, 4]")));
      },
      false);  // never listens: every connection is refused
  openai_config c = config(srv.url());
  c.max_unreachable = 3;
  openai_grounder g(c);
  const queries q("H12", 6);
  std::vector<openai_answer> a;
  const auto r = g.ground_detailed(q.request(), a);
  REQUIRE(r.size() == 6);
  for (int i = 0; i < 3; ++i) {
    CHECK(a[i].failure == answer_failure::unreachable);
    CHECK(a[i].attempts == 1);
  }
  const std::string why = port_free(g.halt_reason(), srv.port());
  CHECK(why ==
        "the server at http://127.0.0.1:<port>/v1 gave no response to 3 queries in a row "
        "(max_unreachable; the last: connection error: cannot connect to 127.0.0.1:<port>: "
        "Connection refused (after 1 attempt)); the queries left were not asked");
  for (int i = 3; i < 6; ++i) {
    CHECK(a[i].failure == answer_failure::not_asked);
    CHECK(a[i].attempts == 0);
    CHECK(r[i].status == query_status::error);
    CHECK(port_free(r[i].message, srv.port()) ==
          "not asked: the server at http://127.0.0.1:<port>/v1 gave no response to 3 queries in "
          "a row (max_unreachable; the last: connection error: cannot connect to "
          "127.0.0.1:<port>: Connection refused (after 1 attempt)); the queries left were not "
          "asked");
  }
  CHECK(g.unreachable_in_a_row() == 3);
}

TEST_CASE("H13 a slow server and a stop (Ctrl-C)", "[robustness][http]") {
  fake_openai::server srv([](fake_openai::connection& c, const fake_openai::request& q) {
    if (q.prompt().find("thing 0") != std::string::npos)  // a rate limit for a long while
      return c.send(fake_openai::response(429, "{}", "application/json", "Retry-After: 60\r\n"));
    if (!c.pause(1500)) return false;  // 1.5 s per answer
    return c.send(fake_openai::response(200, fake_openai::chat("[1, 2, 3, 4]")));
  });
  openai_config c = config(srv.url());
  c.concurrency = 3;
  c.max_retries = 3;
  c.retry_budget_s = 600;
  c.retry_after_max_s = 600;
  const queries q("H13", 12);
  for (const bool abort : {false, true}) {
    INFO("abort in flight: " << abort);
    openai_grounder g(c);
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      g.request_stop(abort);
    });
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<openai_answer> a;
    const auto r = g.ground_detailed(q.request(), a);
    const double took = seconds_since(t0);
    stopper.join();
    // the Retry-After wait ends at once; requests in flight finish (1.5 s) or are dropped
    CHECK(took < (abort ? 0.8 : 2.3));
    int answered = 0, not_asked = 0;
    for (const auto& x : a) {
      answered += x.failure == answer_failure::none;
      not_asked += x.failure == answer_failure::not_asked;
    }
    CHECK(answered == (abort ? 0 : 2));
    CHECK(not_asked == 12 - answered);
    CHECK(g.halt_reason() == "the run was asked to stop");
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].failure == answer_failure::not_asked)
        CHECK(r[i].message == "not asked: the run was asked to stop");
  }
}
