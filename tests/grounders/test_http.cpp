// SPDX-License-Identifier: Apache-2.0
// Integration tests of the openai grounder (groundeval::http) against local servers started by
// the test on 127.0.0.1: a chat-completions server that injects faults (500, 429 + Retry-After,
// answers slower than the read timeout, malformed JSON, empty choices, an error body echoing the
// request headers) and a TCP listener that drops every connection. Also: concurrency, the
// answer cache, kill-and-resume, and that the API key never reaches any output.
#include <groundeval/grounders/http/openai_grounder.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;
namespace fs = std::filesystem;

namespace {

constexpr const char* test_key = "sk-groundeval-test-7f3a9c0e51d2";

/// The fault-injecting chat-completions server. Behaviour depends on the phrase in the prompt.
struct fake_server {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  std::atomic<int> requests{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> delay_ms{0};
  std::mutex mutex;
  std::map<std::string, int> attempts;  // per prompt
  std::set<std::string> auth;
  std::set<std::string> image_prefixes;

  fake_server() {
    srv.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const int now = ++in_flight;
      for (int m = max_in_flight; now > m && !max_in_flight.compare_exchange_weak(m, now);) {
      }
      ++requests;
      handle(req, res);
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(int(delay_ms)));
      --in_flight;
    });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~fake_server() {
    srv.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1"; }

  static std::string answer_for(const std::string& prompt) {
    // deterministic pixel box derived from the prompt
    std::size_t h = std::hash<std::string>{}(prompt);
    const int x = int(h % 100), y = int((h / 100) % 100);
    return "The box is [" + std::to_string(x) + ", " + std::to_string(y) + ", " +
           std::to_string(x + 50) + ", " + std::to_string(y + 40) + "].";
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    std::string prompt, image;
    if (!j.is_discarded()) {
      for (const auto& part : j["messages"][0]["content"]) {
        if (part["type"] == "text") prompt = part["text"];
        if (part["type"] == "image_url") image = part["image_url"]["url"];
      }
    }
    int n = 0;
    {
      std::lock_guard lock(mutex);
      n = ++attempts[prompt];
      auth.insert(req.get_header_value("Authorization"));
      image_prefixes.insert(image.substr(0, image.find(',') + 1));
    }
    auto has = [&](const char* s) { return prompt.find(s) != std::string::npos; };
    if (has("p500") && n == 1) {
      res.status = 500;
      res.set_content("{\"error\": \"boom\"}", "application/json");
      return;
    }
    if (has("palways500")) {
      res.status = 503;
      res.set_content("overloaded", "text/plain");
      return;
    }
    if (has("p429") && n == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("{\"error\": \"rate limited\"}", "application/json");
      return;
    }
    if (has("pslow") && n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    if (has("pmalformed")) {
      res.set_content("{\"choices\": [{\"message\": ", "application/json");
      return;
    }
    if (has("pempty")) {
      res.set_content("{\"id\": \"x\", \"choices\": []}", "application/json");
      return;
    }
    if (has("pecho")) {  // a server that echoes the request headers in its error body
      res.status = 400;
      res.set_content(
          "bad request; headers: Authorization=" + req.get_header_value("Authorization"),
          "text/plain");
      return;
    }
    nlohmann::json out = {
        {"id", "chatcmpl-1"},
        {"object", "chat.completion"},
        {"model", "served-model-name"},
        {"choices",
         {{{"index", 0},
           {"message",
            {{"role", "assistant"},
             {"content", has("ppoint") ? std::string("<point x=\"25.0\" y=\"50.0\" alt=\"it\">"
                                                     "it</point>")
                                       : answer_for(prompt)}}},
           {"finish_reason", "stop"}}}},
        {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 7}, {"total_tokens", 18}}}};
    res.set_content(out.dump(), "application/json");
  }
};

/// A TCP listener on 127.0.0.1 that accepts and immediately closes every connection.
struct dropping_server {
  int fd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread thread;
  dropping_server() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      while (!stop) {
        const int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) break;
        ++accepted;
        ::close(c);
      }
    });
  }
  ~dropping_server() {
    stop = true;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    thread.join();
  }
};

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/groundeval-http-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Phrases and queries for one request (the strings must outlive the queries).
struct request_data {
  std::string sentence;
  std::vector<std::string> phrases;
  std::vector<phrase_query> queries;
  std::string image_path;
  grounding_request request() const {
    return {{"img1", image_path, {640, 480}}, std::span<const phrase_query>(queries)};
  }
};

request_data make_request(const fs::path& dir, std::vector<std::string> phrases) {
  request_data d;
  d.image_path = (dir / "image.png").string();
  std::ofstream(d.image_path, std::ios::binary)
      << std::string("\x89PNG\r\n\x1A\n", 8) << "not really pixels";
  d.phrases = std::move(phrases);
  for (const auto& p : d.phrases) d.sentence += p + " ";
  std::size_t pos = 0;
  for (std::size_t i = 0; i < d.phrases.size(); ++i) {
    phrase_query q;
    q.phrase = d.phrases[i];
    q.sentence = d.sentence;
    q.char_begin = pos;
    q.char_end = pos + d.phrases[i].size();
    q.phrase_index = i;
    pos = q.char_end + 1;
    d.queries.push_back(q);
  }
  return d;
}

openai_config base_config(const std::string& url) {
  openai_config c;
  c.base_url = url;
  c.model = "test-model";
  c.family = "pixel";
  c.api_key_env = "GROUNDEVAL_TEST_KEY";
  c.backoff_base_s = 0.01;
  c.backoff_max_s = 0.05;
  c.read_timeout_s = 0.5;
  c.connect_timeout_s = 1.0;
  c.max_retries = 2;
  return c;
}

std::string predictions_file(const std::vector<query_result>& rs) {
  std::string s;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    nlohmann::json b = nlohmann::json::array();
    for (const auto& x : rs[i].boxes)
      b.push_back({x.box.x1, x.box.y1, x.box.x2, x.box.y2, x.score});
    s += nlohmann::json{{"i", i},
                        {"status", std::string(to_string(rs[i].status))},
                        {"raw_text", rs[i].raw_text},
                        {"message", rs[i].message},
                        {"boxes", b}}
             .dump() +
         "\n";
  }
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> phrases_n(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("object number " + std::to_string(i));
  return v;
}

}  // namespace

TEST_CASE("openai grounder: answers, wire format, concurrency", "[http]") {
  ::setenv("GROUNDEVAL_TEST_KEY", test_key, 1);
  fake_server server;
  server.delay_ms = 100;
  temp_dir dir;
  auto data = make_request(dir.path, phrases_n(16));
  openai_config cfg = base_config(server.url());
  cfg.concurrency = 4;
  cfg.read_timeout_s = 5;
  openai_grounder g(cfg);
  std::vector<openai_answer> answers;
  const auto results = g.ground_detailed(data.request(), answers);
  REQUIRE(results.size() == 16);
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i << " " << results[i].message);
    CHECK(results[i].status == query_status::ok);
    REQUIRE(results[i].boxes.size() == 1);
    const std::string prompt = render_prompt(default_prompt("pixel").text, data.queries[i]);
    CHECK(results[i].raw_text == fake_server::answer_for(prompt));
    CHECK(answers[i].server_model == "served-model-name");
    CHECK(answers[i].prompt_tokens == 11);
    CHECK(answers[i].completion_tokens == 7);
    CHECK(answers[i].finish_reason == "stop");
    CHECK(answers[i].attempts == 1);
    CHECK(answers[i].geometry == to_json(family_geometry("pixel", {640, 480})));
    CHECK(results[i].latency_s > 0.09);
  }
  CHECK(server.requests == 16);
  CHECK(server.max_in_flight <= 4);
  CHECK(server.max_in_flight >= 2);  // requests really overlap
  CHECK(server.auth == std::set<std::string>{std::string("Bearer ") + test_key});
  CHECK(server.image_prefixes == std::set<std::string>{"data:image/png;base64,"});
}

TEST_CASE("openai grounder: fault injection", "[http]") {
  ::setenv("GROUNDEVAL_TEST_KEY", test_key, 1);
  fake_server server;
  temp_dir dir;
  auto data = make_request(dir.path, {"p500 thing", "p429 thing", "pslow thing", "pmalformed thing",
                                      "pempty thing", "palways500 thing", "pecho thing", "fine"});
  openai_config cfg = base_config(server.url());
  cfg.concurrency = 8;
  cfg.read_timeout_s = 1.0;  // the slow answer takes 2.5 s; the others well under 1 s
  openai_grounder g(cfg);
  std::vector<openai_answer> a;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = g.ground_detailed(data.request(), a);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.size() == 8);
  // 500 once, then fine
  CHECK(r[0].status == query_status::ok);
  CHECK(a[0].attempts == 2);
  // 429 with Retry-After: 1 -> waited at least a second (backoff alone is <= 0.05 s)
  CHECK(r[1].status == query_status::ok);
  CHECK(a[1].attempts == 2);
  CHECK(a[1].latency_s >= 1.0);
  // first answer slower than the 1 s read timeout -> retried
  CHECK(r[2].status == query_status::ok);
  CHECK(a[2].attempts == 2);
  // malformed JSON and empty choices: recorded on the query, not retried, not fatal
  CHECK(r[3].status == query_status::error);
  CHECK(r[3].message.find("malformed JSON") != std::string::npos);
  CHECK(a[3].attempts == 1);
  CHECK(r[4].status == query_status::error);
  CHECK(r[4].message.find("no choices") != std::string::npos);
  // always 503: 1 + max_retries attempts, then an error on that query only
  CHECK(r[5].status == query_status::error);
  CHECK(a[5].attempts == 3);
  CHECK(r[5].message.find("HTTP 503") != std::string::npos);
  // a 400 whose body echoes the key: not retried, and the key is redacted
  CHECK(r[6].status == query_status::error);
  CHECK(r[6].message.find(test_key) == std::string::npos);
  CHECK(r[6].message.find("***") != std::string::npos);
  CHECK(r[7].status == query_status::ok);
  CHECK(elapsed < 10.0);
}

TEST_CASE("openai grounder: dropped connections are retried then recorded", "[http]") {
  dropping_server drop;
  temp_dir dir;
  auto data = make_request(dir.path, {"a", "b"});
  openai_config cfg = base_config("http://127.0.0.1:" + std::to_string(drop.port) + "/v1");
  openai_grounder g(cfg);
  std::vector<openai_answer> a;
  const auto r = g.ground_detailed(data.request(), a);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(r[i].status == query_status::error);
    CHECK(r[i].message.find("connection error") != std::string::npos);
    CHECK(a[i].attempts == 3);
  }
  CHECK(drop.accepted >= 6);
}

TEST_CASE("openai grounder: ground_many keeps queries of several images in flight", "[http]") {
  fake_server server;
  server.delay_ms = 100;
  temp_dir dir;
  fs::create_directories(dir.path / "a");
  fs::create_directories(dir.path / "b");
  auto d1 = make_request(dir.path / "a", {"one", "two"});
  auto d2 = make_request(dir.path / "b", {"three", "four"});
  std::vector<grounding_request> reqs = {d1.request(), d2.request()};
  openai_config cfg = base_config(server.url());
  cfg.concurrency = 4;
  cfg.read_timeout_s = 5;
  openai_grounder g(cfg);
  std::vector<std::vector<query_result>> results;
  std::vector<std::vector<openai_answer>> answers;
  g.ground_many(reqs, results, answers);
  REQUIRE(results.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    REQUIRE(results[k].size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& q = (k == 0 ? d1 : d2).queries[i];
      CHECK(results[k][i].raw_text ==
            fake_server::answer_for(render_prompt(default_prompt("pixel").text, q)));
    }
  }
  CHECK(server.max_in_flight >= 3);  // the two images' queries overlapped
}

TEST_CASE("openai grounder: configuration errors", "[http]") {
  openai_config c = base_config("http://127.0.0.1:1/v1");
  c.model.clear();
  CHECK_THROWS_AS(openai_grounder(c), error);
  c = base_config("ftp://x");
  CHECK_THROWS_AS(openai_grounder(c), error);
  c = base_config("http://127.0.0.1:1/v1");
  c.extra_body = "[1, 2]";
  CHECK_THROWS_AS(openai_grounder(c), error);
  c = base_config("http://127.0.0.1:1/v1");
  c.family = "llava";
  c.geometry_options = {{"max_pixels", "5"}};
  CHECK_THROWS_AS(openai_grounder(c), error);
  c = base_config("http://127.0.0.1:1/v1");
  c.prompt_template = "Find {thing}";
  CHECK_THROWS_AS(openai_grounder(c), error);
  c = base_config("http://127.0.0.1:1/v1");
  temp_dir dir;
  auto data = make_request(dir.path, {"a"});
  data.image_path = (dir.path / "missing.png").string();
  openai_grounder g(c);
  CHECK_THROWS_AS(g.ground(data.request()), error);  // set-up error: the image is missing
}

TEST_CASE("openai grounder: cache answers, and the API key is never written", "[http]") {
  ::setenv("GROUNDEVAL_TEST_KEY", test_key, 1);
  fake_server server;
  temp_dir dir;
  auto data = make_request(dir.path, phrases_n(6));
  openai_config cfg = base_config(server.url());
  cfg.cache_path = (dir.path / "cache.jsonl").string();
  cfg.extra_body = R"({"top_p": 1.0, "seed": 7})";
  std::string first, second;
  {
    openai_grounder g(cfg);
    first = predictions_file(g.ground(data.request()));
    CHECK(server.requests == 6);
    const std::string d = g.describe();
    CHECK(d.find("GROUNDEVAL_TEST_KEY") != std::string::npos);
    CHECK(d.find(test_key) == std::string::npos);
  }
  {
    openai_grounder g(cfg);
    std::vector<openai_answer> a;
    second = predictions_file(g.ground_detailed(data.request(), a));
    CHECK(server.requests == 6);  // everything came from the cache
    for (const auto& x : a) CHECK(x.from_cache);
  }
  CHECK(first == second);
  // another decoding parameter is another key: asked again
  cfg.max_tokens = 99;
  {
    openai_grounder g(cfg);
    (void)g.ground(data.request());
    CHECK(server.requests == 12);
  }
  const std::string predictions = (dir.path / "predictions.jsonl").string();
  std::ofstream(predictions) << first << second;
  // grep: the key appears in no file the run wrote
  for (const auto& entry : fs::recursive_directory_iterator(dir.path)) {
    INFO(entry.path());
    CHECK(slurp(entry.path()).find(test_key) == std::string::npos);
  }
  CHECK(first.find(test_key) == std::string::npos);
}

TEST_CASE("openai grounder: a torn cache line is ignored and re-asked", "[http]") {
  fake_server server;
  temp_dir dir;
  auto data = make_request(dir.path, phrases_n(3));
  openai_config cfg = base_config(server.url());
  cfg.cache_path = (dir.path / "cache.jsonl").string();
  {
    openai_grounder g(cfg);
    (void)g.ground(data.request());
  }
  std::string text = slurp(cfg.cache_path);
  text.resize(text.size() - 20);  // a writer killed mid-line
  std::ofstream(cfg.cache_path, std::ios::binary | std::ios::trunc) << text;
  openai_grounder g(cfg);
  const auto r = g.ground(data.request());
  CHECK(server.requests == 4);  // only the torn answer was asked again
  for (const auto& q : r) CHECK(q.status == query_status::ok);
  // every line of the repaired file is valid JSON except the torn one, which ends with '\n'
  std::ifstream in(cfg.cache_path);
  std::string line;
  int valid = 0, invalid = 0;
  while (std::getline(in, line)) {
    if (nlohmann::json::parse(line, nullptr, false).is_discarded())
      ++invalid;
    else
      ++valid;
  }
  CHECK(valid == 3);
  CHECK(invalid == 1);
}

// Found by fuzz/fuzz_chat_response.cpp: a cache line with a field of the wrong type threw
// nlohmann::json::type_error out of the grounder's constructor (and a float token count was an
// undefined float-to-integer conversion); such a line is now ignored like a foreign one.
TEST_CASE("openai grounder: cache lines with wrongly typed fields are ignored", "[http]") {
  temp_dir dir;
  const std::string path = (dir.path / "cache.jsonl").string();
  std::ofstream(path, std::ios::binary)
      << R"({"key": "a", "raw_text": 111, "finish_reason": "stop"})" << '\n'
      << R"({"key": "b", "raw_text": "x", "prompt_tokens": 1e300})" << '\n'
      << R"({"key": "c", "raw_text": "x", "latency_s": "slow"})" << '\n'
      << R"({"key": "d", "raw_text": "[1, 2, 3, 4]", "latency_s": 0.5, "prompt_tokens": 7})"
      << '\n';
  answer_cache cache(path);
  CHECK(cache.size() == 1);
  CHECK_FALSE(cache.find("a").has_value());
  CHECK_FALSE(cache.find("b").has_value());
  CHECK_FALSE(cache.find("c").has_value());
  const auto d = cache.find("d");
  REQUIRE(d.has_value());
  CHECK(d->raw_text == "[1, 2, 3, 4]");
  CHECK(d->latency_s == 0.5);
  CHECK(d->prompt_tokens == 7);
}

// The chat-completions body decoder never throws (fuzz/fuzz_chat_response.cpp).
TEST_CASE("openai grounder: decode_chat_completion reports unusable bodies", "[http]") {
  openai_answer a;
  CHECK(decode_chat_completion("{\"choices\": [{\"message\": ", a) ==
        "malformed JSON in the response");
  CHECK(decode_chat_completion(R"({"choices": [{"message": {"content": 7}}]})", a) ==
        "message content is not a string");
  CHECK(decode_chat_completion(
            R"({"model": "m", "choices": [{"message": {"content": "hi"}, "finish_reason": 3}],)"
            R"( "usage": {"prompt_tokens": 1.5, "completion_tokens": 4}})",
            a)
            .empty());
  CHECK(a.raw_text == "hi");
  CHECK(a.server_model == "m");
  CHECK(a.finish_reason.empty());
  CHECK(a.prompt_tokens == -1);
  CHECK(a.completion_tokens == 4);
}

TEST_CASE("openai grounder: kill and resume gives the uninterrupted predictions", "[http]") {
  fake_server server;
  server.delay_ms = 40;
  temp_dir dir;
  const int n = 30;
  auto data = make_request(dir.path, phrases_n(n));
  openai_config cfg = base_config(server.url());
  cfg.concurrency = 2;
  cfg.read_timeout_s = 5;

  // uninterrupted reference run
  cfg.cache_path = (dir.path / "cache_a.jsonl").string();
  const std::string reference = [&] {
    openai_grounder g(cfg);
    return predictions_file(g.ground(data.request()));
  }();
  REQUIRE(server.requests == n);

  // interrupted run: a child process is SIGKILLed once some answers are cached
  cfg.cache_path = (dir.path / "cache_b.jsonl").string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    openai_grounder g(cfg);
    (void)g.ground(data.request());
    ::_exit(0);
  }
  auto lines = [&] {
    std::ifstream in(cfg.cache_path);
    int k = 0;
    for (std::string l; std::getline(in, l);) ++k;
    return k;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (lines() < 8 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  const int done_before = [&] {  // complete answers only (a torn last line does not count)
    std::ifstream in(cfg.cache_path);
    int k = 0;
    for (std::string l; std::getline(in, l);)
      k += !nlohmann::json::parse(l, nullptr, false).is_discarded();
    return k;
  }();
  REQUIRE(done_before >= 8);
  REQUIRE(done_before < n);

  // let requests the child sent just before dying reach the server before counting
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  while (server.in_flight > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  // resume
  const int requests_before = server.requests;
  std::string resumed;
  {
    openai_grounder g(cfg);
    resumed = predictions_file(g.ground(data.request()));
  }
  CHECK(resumed == reference);
  CHECK(server.requests - requests_before == n - done_before);  // nothing asked twice
  // no duplicates, nothing lost
  std::set<std::string> keys;
  int count = 0;
  std::ifstream in(cfg.cache_path);
  for (std::string l; std::getline(in, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_discarded()) continue;
    ++count;
    keys.insert(j["key"].get<std::string>());
  }
  CHECK(count == n);
  CHECK(keys.size() == std::size_t(n));
}

TEST_CASE("openai grounder: a point answer (molmo) is recorded as points", "[http]") {
  ::setenv("GROUNDEVAL_TEST_KEY", test_key, 1);
  fake_server server;
  temp_dir dir;
  auto data = make_request(dir.path, {"ppoint the dog"});
  openai_config cfg = base_config(server.url());
  cfg.family = "molmo";
  cfg.read_timeout_s = 5;
  openai_grounder g(cfg);
  const auto results = g.ground(data.request());
  REQUIRE(results.size() == 1);
  CHECK(results[0].status == query_status::ok);
  CHECK(results[0].boxes.empty());
  // Molmo writes percent: (25 %, 50 %) of the 640 x 480 test image.
  CHECK(results[0].points == std::vector<answer_point>{{160.0, 240.0}});
  CHECK(results[0].raw_text.find("<point") == 0);
}
