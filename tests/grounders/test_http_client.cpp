// SPDX-License-Identifier: Apache-2.0
// The HTTP grounder's building blocks (groundeval::http): the bounded HTTP/1.1 client against
// the raw fake server (keep-alive, a kept-alive connection the server closed, chunked bodies
// with extensions and trailers, interim 100 responses, bodies to the end of the connection,
// malformed status lines, silence, cancellation) and against a TLS server with a certificate
// made here (verification on by default, a CA bundle, the host name checked, verify_tls=false);
// URL parsing and credential masking; the secret masker; the spec options; extra headers and
// header_env secrets; check_ready's answers; stopping and resuming.
#include <groundeval/grounders/http/openai_grounder.hpp>

#include "fake_openai_server.hpp"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;
namespace fs = std::filesystem;
using fake_openai::connection;
using fake_openai::request;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/groundeval-http-client-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

http::request_limits quick() {
  http::request_limits l;
  l.connect_timeout_s = 2;
  l.read_timeout_s = 2;
  l.request_timeout_s = 5;
  l.max_response_bytes = 1 << 20;
  return l;
}

http::http_response get(http::http_connection& c, const http::request_limits& l = quick(),
                        const std::function<bool()>& cancelled = {}) {
  return c.exchange("GET", "/v1/models", {}, {}, l, cancelled);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Queries of one 640x480 image (a PNG signature only: `pixel` never decodes it).
struct queries {
  temp_dir dir;
  std::string image;
  std::vector<std::string> phrases;
  std::vector<phrase_query> qs;
  explicit queries(int n) {
    image = (dir.path / "i.png").string();
    std::ofstream(image, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n", 8);
    for (int i = 0; i < n; ++i) phrases.push_back("thing " + std::to_string(i));
    for (std::size_t i = 0; i < phrases.size(); ++i) qs.push_back({phrases[i], "s", 0, 1, i});
  }
  grounding_request request() const {
    return {image_ref{"7", image, image_size{640, 480}}, std::span<const phrase_query>(qs)};
  }
};

openai_config config(const std::string& url) {
  openai_config c;
  c.base_url = url;
  c.model = "m";
  c.family = "pixel";
  c.api_key_env = "";
  c.max_retries = 0;
  c.concurrency = 1;
  c.request_timeout_s = 5;
  c.read_timeout_s = 2;
  return c;
}

/// A self-signed certificate (EC P-256) for `san` ("IP:127.0.0.1", "DNS:other.example"),
/// written as cert.pem and key.pem into `dir`.
void make_certificate(const fs::path& dir, const char* san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("groundeval test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    REQUIRE(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  FILE* f = std::fopen((dir / "cert.pem").c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen((dir / "key.pem").c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

/// An https chat-completions server (cpp-httplib's SSLServer) with the certificate in `dir`.
struct tls_server {
  httplib::SSLServer srv;
  std::thread thread;
  int port = 0;
  explicit tls_server(const fs::path& dir)
      : srv((dir / "cert.pem").c_str(), (dir / "key.pem").c_str()) {
    srv.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(fake_openai::chat("[1, 2, 3, 4]"), "application/json");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~tls_server() {
    srv.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("http client: keep-alive, and a kept-alive connection the server closed", "[http]") {
  int served = 0;
  fake_openai::server srv([&](connection& c, const request&) {
    ++served;
    c.send(fake_openai::response(200, "{\"n\": " + std::to_string(served) + "}"));
    return served != 2;  // after the second answer the server closes the connection
  });
  http::http_connection conn(http::parse_base_url(srv.url()), nullptr);
  CHECK(get(conn).body == "{\"n\": 1}");
  CHECK(get(conn).body == "{\"n\": 2}");
  CHECK(srv.connections() == 1);  // reused
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto r = get(conn);  // the closed one is noticed: a new connection, no failure
  CHECK(r.failure == http::http_failure::none);
  CHECK(r.body == "{\"n\": 3}");
  CHECK(srv.connections() == 2);
}

TEST_CASE("http client: chunked bodies, trailers, interim 100, bodies to the end", "[http]") {
  fake_openai::server srv([](connection& c, const request& q) {
    if (q.target == "/chunked")
      c.send(
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n");
    else if (q.target == "/close")
      c.send("HTTP/1.0 200 OK\r\n\r\nuntil the end");
    else if (q.target == "/short")
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
    else
      c.send("SSH-2.0-OpenSSH_9.2\r\n");
    return false;
  });
  const auto base = http::parse_base_url(srv.url());
  const auto ask = [&](const char* target) {
    http::http_connection conn(base, nullptr);
    return conn.exchange("GET", target, {}, {}, quick());
  };
  auto r = ask("/chunked");
  CHECK(r.failure == http::http_failure::none);
  CHECK(r.status == 200);
  CHECK(r.body == "hello 0123456789");
  r = ask("/close");
  CHECK(r.body == "until the end");
  r = ask("/short");
  CHECK(r.failure == http::http_failure::closed);
  CHECK(r.detail == "the server closed the connection after 5 of 10 body bytes");
  r = ask("/other");
  CHECK(r.failure == http::http_failure::malformed);
  CHECK(r.detail == "not an HTTP/1.x response: 'SSH-2.0-OpenSSH_9.2'");
  CHECK_FALSE(r.answered);
}

TEST_CASE("http client: silence, cancellation and a socketpair", "[http]") {
  fake_openai::server srv([](connection& c, const request&) {
    c.pause(3000);  // never answers in time
    return false;
  });
  http::http_connection conn(http::parse_base_url(srv.url()), nullptr);
  http::request_limits l = quick();
  l.read_timeout_s = 0.3;
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(conn, l);
  CHECK(seconds_since(t0) < 1.5);
  CHECK(r.failure == http::http_failure::timeout);
  CHECK(r.detail ==
        "the server sent nothing for 0.3 s (read_timeout) while waiting for the response");
  // cancellation is seen within 100 ms
  t0 = std::chrono::steady_clock::now();
  r = get(conn, quick(), [&] { return seconds_since(t0) > 0.2; });
  CHECK(r.failure == http::http_failure::cancelled);
  CHECK(seconds_since(t0) < 0.6);
  // an adopted socket (what the fuzz harness does)
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  const std::string reply = fake_openai::response(200, "{}");
  REQUIRE(::write(sv[1], reply.data(), reply.size()) == ssize_t(reply.size()));
  ::shutdown(sv[1], SHUT_WR);
  http::http_connection pair(http::parse_base_url("http://127.0.0.1:1"), sv[0]);
  r = pair.exchange("POST", "/x", {}, "{}", quick());
  ::close(sv[1]);
  CHECK(r.failure == http::http_failure::none);
  CHECK(r.body == "{}");
}

TEST_CASE("http client: TLS verification", "[http]") {
  temp_dir dir;
  make_certificate(dir.path, "IP:127.0.0.1");
  tls_server srv(dir.path);
  const std::string url = "https://127.0.0.1:" + std::to_string(srv.port) + "/v1";
  queries q(2);
  openai_config c = config(url);
  {  // on by default: a self-signed certificate is refused, not retried
    openai_grounder g(c);
    std::vector<openai_answer> a;
    const auto r = g.ground_detailed(q.request(), a);
    CHECK(r[0].status == query_status::error);
    CHECK(r[0].message.find("TLS error: TLS certificate verification failed for 127.0.0.1:") == 0);
    CHECK(r[0].message.find("self-signed certificate") != std::string::npos);
    CHECK(a[0].failure == answer_failure::unreachable);
  }
  {  // with the certificate as CA bundle: answers, over one kept-alive connection
    c.ca_cert_file = (dir.path / "cert.pem").string();
    openai_grounder g(c);
    const auto r = g.ground(q.request());
    for (const auto& x : r) CHECK(x.status == query_status::ok);
  }
  {  // verification off
    openai_config off = config(url);
    off.verify_tls = false;
    openai_grounder g(off);
    CHECK(g.ground(q.request())[0].status == query_status::ok);
  }
  {  // a certificate for another name: refused even with the right CA
    temp_dir other;
    make_certificate(other.path, "DNS:other.example");
    tls_server srv2(other.path);
    openai_config o = config("https://127.0.0.1:" + std::to_string(srv2.port) + "/v1");
    o.ca_cert_file = (other.path / "cert.pem").string();
    openai_grounder g(o);
    const auto r = g.ground(q.request());
    CHECK(r[0].message.find("TLS certificate verification failed") != std::string::npos);
    CHECK(r[0].message.find("IP address mismatch") != std::string::npos);
  }
  // an unreadable CA bundle is a configuration error
  c.ca_cert_file = (dir.path / "missing.pem").string();
  CHECK_THROWS_AS(openai_grounder(c), error);
}

TEST_CASE("http: base URLs and credentials", "[http]") {
  auto u = http::parse_base_url("http://127.0.0.1:8000/v1/");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8000);
  CHECK(u.path == "/v1");
  CHECK(u.text() == "http://127.0.0.1:8000/v1");
  u = http::parse_base_url("https://api.example.com");
  CHECK(u.tls);
  CHECK(u.port == 443);
  CHECK(u.path.empty());
  u = http::parse_base_url("http://[::1]:9/v1");
  CHECK(u.host == "::1");
  CHECK(u.authority == "[::1]:9");
  for (const char* bad :
       {"ftp://h/v1", "http://", "http://h:0/v1", "http://h:99999/v1", "http://h/v1?key=x",
        "http://h/v1#x", "http://[::1/v1", "http://h /v1", "http://u:p@h/v1", "http://u:p/w@h/v1"})
    CHECK_THROWS_AS(http::parse_base_url(bad), error);
  CHECK(http::mask_url_credentials("openai:http://alice:pw@h:1/v1?model=m&x=1") ==
        "openai:http://***@h:1/v1?model=m&x=1");
  CHECK(http::mask_url_credentials("a https://u:p@w@h/v1 b http://h/v1") ==
        "a https://***@h/v1 b http://h/v1");
  CHECK(http::mask_url_credentials("no url here") == "no url here");
}

TEST_CASE("http: the secret masker", "[http]") {
  http::secret_redactor r;
  r.add("sk-a/b\"c");
  r.add("sk-a");
  r.add("");
  CHECK(r("x sk-a/b\"c y") == "x *** y");        // the longer secret first
  CHECK(r("x sk-a\\/b\\\"c y") == "x *** y");    // JSON-escaped, '/' as "\/"
  CHECK(r("x sk-a%2Fb%22c y") == "x *** y");     // percent-encoded
  CHECK(r("sk-asharp sk-a") == "***sharp ***");  // the shorter one alone
  CHECK(r.leaks("..sk-a.."));
  CHECK_FALSE(r.leaks("sk-"));
}

TEST_CASE("http: spec options", "[http]") {
  openai_config c;
  CHECK(set_openai_option(c, "request_timeout", "2.5"));
  CHECK(c.request_timeout_s == 2.5);
  CHECK(set_openai_option(c, "max_unreachable", "0"));
  CHECK(c.max_unreachable == 0);
  CHECK(set_openai_option(c, "headers", R"({"X-Title": "groundeval"})"));
  CHECK(set_openai_option(c, "header_env", R"({"X-Api-Key": "MY_VAR"})"));
  REQUIRE(c.headers.size() == 2);
  CHECK(c.headers[1].value_env == "MY_VAR");
  CHECK_FALSE(set_openai_option(c, "nonsense", "1"));
  const auto message = [&](const char* k, const char* v) {
    try {
      set_openai_option(c, k, v);
    } catch (const error& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK(message("concurrency", "0") == "concurrency must be an integer in 1..4096, got '0'");
  CHECK(message("concurrency", "-3") == "concurrency '-3' is not a non-negative integer");
  CHECK(message("temperature", "hot") == "temperature 'hot' is not a number");
  CHECK(message("retry_budget", "-1") ==
        "retry_budget must be a number of seconds in [0, 86400], got '-1'");
  CHECK(message("headers", R"({"X-Api-Key": "sk-123"})") ==
        "headers: 'X-Api-Key' looks like a credential, and `headers` values are recorded with the "
        "run: give it as header_env={\"X-Api-Key\": \"VAR\"} (the value read from the "
        "environment variable VAR)");
  CHECK(message("headers", R"({"Host": "x"})") ==
        "headers: 'Host' is set by groundeval itself and cannot be given");
  CHECK(message("headers", R"({"X-A": "a\r\nX-Injected: 1"})") ==
        "headers: the value of 'X-A' holds a control character (line breaks would split the "
        "request)");
  CHECK(message("headers", "[1]") ==
        "headers must be a JSON object of strings, e.g. {\"X-Title\": \"groundeval\"}");
  CHECK(message("url", "http://u:p@h/v1").rfind("the server URL holds credentials", 0) == 0);
}

TEST_CASE("openai grounder: extra headers and header_env secrets", "[http]") {
  constexpr const char* secret = "hdr-secret-6a1f0e9d22c4";
  ::setenv("GROUNDEVAL_TEST_HEADER", secret, 1);
  fake_openai::server srv([](connection& c, const request& q) {
    return c.send(fake_openai::response(
        200,
        fake_openai::chat("[1, 2, 3, 4] " + q.header("X-Title") + " " + q.header("X-Api-Key"))));
  });
  openai_config c = config(srv.url());
  c.headers = {{"X-Title", "groundeval", ""}, {"X-Api-Key", "", "GROUNDEVAL_TEST_HEADER"}};
  openai_grounder g(c);
  queries q(1);
  const auto r = g.ground(q.request());
  CHECK(r[0].raw_text == "[1, 2, 3, 4] groundeval ***");
  REQUIRE(srv.seen().size() == 1);
  CHECK(srv.seen()[0].header("X-Api-Key") == secret);
  const std::string d = g.describe();
  CHECK(d.find(R"("headers":{"X-Title":"groundeval"})") != std::string::npos);
  CHECK(d.find(R"("header_env":{"X-Api-Key":"GROUNDEVAL_TEST_HEADER"})") != std::string::npos);
  CHECK(d.find(secret) == std::string::npos);
  // describe() is unchanged for a configuration without headers (run directories resume)
  CHECK(openai_grounder(config(srv.url())).describe().find("header") == std::string::npos);
  // a variable that is not set
  c.headers = {{"X-Api-Key", "", "GROUNDEVAL_TEST_UNSET_VARIABLE"}};
  CHECK_THROWS_WITH(openai_grounder(c),
                    "openai: header_env: the environment variable GROUNDEVAL_TEST_UNSET_VARIABLE "
                    "of header 'X-Api-Key' is not set");
}

TEST_CASE("openai grounder: check_ready answers", "[http]") {
  int status = 401;
  fake_openai::server srv([&](connection& c, const request&) {
    return c.send(
        fake_openai::response(status, status == 200 ? "not json" : "{\"error\": \"no\"}"));
  });
  openai_config c = config(srv.url());
  std::vector<std::string> warnings;
  c.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  c.api_key_env = "GROUNDEVAL_TEST_UNSET_VARIABLE";
  openai_grounder g(c);
  const std::string url = srv.url();
  CHECK_THROWS_WITH(g.check_ready(), "the server at " + url +
                                         " refused the request for its model list (HTTP 401: "
                                         "{\"error\": \"no\"}): no API key was sent: the "
                                         "environment variable GROUNDEVAL_TEST_UNSET_VARIABLE "
                                         "(key_env) is not set");
  status = 404;  // no model list: not an error, but said
  CHECK(g.check_ready() ==
        url + " answers GET /models with HTTP 404, so the model was not checked");
  status = 200;
  CHECK(g.check_ready() == url +
                               "/models did not answer an OpenAI model list, so the model was "
                               "not checked");
  CHECK(warnings.size() == 2);
  status = 503;  // loading: not ready
  CHECK_THROWS_WITH(g.check_ready(),
                    Catch::StartsWith("the server at " + url + " is not ready: HTTP 503: "));
}

TEST_CASE("openai grounder: stop_requested, resume, and max_unreachable 0", "[http]") {
  fake_openai::server down([](connection&, const request&) { return false; }, false);
  openai_config c = config(down.url());
  c.max_unreachable = 0;  // never stop
  bool stop = false;
  c.stop_requested = [&] { return stop; };
  openai_grounder g(c);
  queries q(12);
  std::vector<openai_answer> a;
  g.ground_detailed(q.request(), a);
  for (const auto& x : a) CHECK(x.failure == answer_failure::unreachable);
  CHECK(g.halt_reason().empty());
  CHECK(g.unreachable_in_a_row() == 12);
  stop = true;
  g.ground_detailed(q.request(), a);
  for (const auto& x : a) CHECK(x.failure == answer_failure::not_asked);
  CHECK(g.halt_reason() == "the run was asked to stop");
  stop = false;
  g.request_stop();
  CHECK(g.halted());
  g.resume();
  CHECK_FALSE(g.halted());
  CHECK(g.unreachable_in_a_row() == 0);
}
