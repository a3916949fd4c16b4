// SPDX-License-Identifier: Apache-2.0
// A misbehaving OpenAI-compatible server for the HTTP grounder's tests: a raw TCP server on
// 127.0.0.1 whose handler writes whatever bytes it wants, so it can do what no well-behaved
// server library lets it do — an endless chunked body, endless headers, a body trickled a byte
// at a time, a 1 GiB Content-Length, echoing the API key — and be down then up (bound, not
// listening: connections are refused until it listens). A test fixture: its answers are fixed
// texts, not a model's.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace fake_openai {

/// One request as the server read it.
struct request {
  std::string method, target, head, body;
  /// The value of header `name` (case-insensitive), "" when absent.
  std::string header(std::string_view name) const {
    std::size_t p = head.find("\r\n");
    while (p != std::string::npos && p + 2 < head.size()) {
      const std::size_t e = head.find("\r\n", p + 2);
      const std::string line = head.substr(p + 2, e == std::string::npos ? e : e - p - 2);
      const std::size_t colon = line.find(':');
      if (colon == name.size() &&
          std::equal(name.begin(), name.end(), line.begin(),
                     [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
        std::size_t v = colon + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        return line.substr(v);
      }
      p = e;
    }
    return {};
  }
  /// The text part of a chat-completions request ("" for other requests).
  std::string prompt() const {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("messages")) return {};
    for (const auto& part : j["messages"][0]["content"])
      if (part.value("type", "") == "text") return part.value("text", "");
    return {};
  }
};

/// The client side of one accepted connection, for a handler to write to.
class connection {
 public:
  connection(int fd, const std::atomic<bool>& stop, std::atomic<long long>& sent)
      : m_fd(fd), m_stop(stop), m_sent(sent) {}
  /// Writes all of `bytes`; false when the client is gone or the server stops.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      if (m_stop) return false;
      const ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      m_sent += n;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// Sleeps `ms`, returning early (false) when the server stops.
  bool pause(int ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      if (m_stop) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !m_stop;
  }
  bool stopped() const { return m_stop; }

 private:
  int m_fd;
  const std::atomic<bool>& m_stop;
  std::atomic<long long>& m_sent;
};

/// A complete response with a Content-Length.
inline std::string response(int status, std::string_view body,
                            std::string_view content_type = "application/json",
                            std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

/// A chat-completions body answering `content`.
inline std::string chat(std::string_view content, std::string_view model = "fake-model",
                        std::string_view finish_reason = "stop") {
  return nlohmann::json{{"id", "chatcmpl-fake"},
                        {"object", "chat.completion"},
                        {"model", model},
                        {"choices",
                         {{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", content}}},
                           {"finish_reason", finish_reason}}}},
                        {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 7}}}}
      .dump();
}

/// An OpenAI model list of `ids`.
inline std::string model_list(const std::vector<std::string>& ids) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& id : ids) data.push_back({{"id", id}, {"object", "model"}});
  return nlohmann::json{{"object", "list"}, {"data", data}}.dump();
}

/// The server. The handler answers one request; returning true keeps the connection open for
/// the next one. One thread per connection; every thread ends when the server is destroyed.
class server {
 public:
  using handler = std::function<bool(connection&, const request&)>;

  /// `listening` false: bound but refusing connections until listen() (a server that is down).
  explicit server(handler h, bool listening = true) : m_handler(std::move(h)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("fake server: bind failed");
    socklen_t len = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    if (listening) listen();
  }
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    {
      std::lock_guard lock(m_mutex);
      for (const int c : m_clients) ::shutdown(c, SHUT_RDWR);
    }
    if (m_accept.joinable()) m_accept.join();
    for (auto& t : m_threads) t.join();
    ::close(m_fd);
  }

  /// Starts accepting connections.
  void listen() {
    if (::listen(m_fd, 64) != 0) throw std::runtime_error("fake server: listen failed");
    m_accept = std::thread([this] { accept_loop(); });
  }

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/v1"; }
  int requests() const { return m_requests; }
  int connections() const { return m_connections; }
  /// Bytes the handlers have written to clients.
  long long bytes_sent() const { return m_sent; }
  /// The requests seen so far (copies).
  std::vector<request> seen() const {
    std::lock_guard lock(m_mutex);
    return m_seen;
  }

 private:
  void accept_loop() {
    while (!m_stop) {
      const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (m_stop) return;
        continue;
      }
      ++m_connections;
      const int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(m_mutex);
      if (m_stop) {
        ::close(c);
        return;
      }
      m_clients.push_back(c);
      m_threads.emplace_back([this, c] { serve(c); });
    }
  }

  void serve(int c) {
    connection conn(c, m_stop, m_sent);
    std::string buf;
    for (bool keep = true; keep && !m_stop;) {
      request r;
      if (!read_request(c, buf, r)) break;
      ++m_requests;
      {
        std::lock_guard lock(m_mutex);
        m_seen.push_back(r);
      }
      keep = m_handler(conn, r);
    }
    ::shutdown(c, SHUT_RDWR);
    std::lock_guard lock(m_mutex);
    m_clients.erase(std::remove(m_clients.begin(), m_clients.end(), c), m_clients.end());
    ::close(c);
  }

  bool read_request(int c, std::string& buf, request& r) {
    char tmp[65536];
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > (1u << 20)) return false;
      const ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    r.head = buf.substr(0, end);
    buf.erase(0, end + 4);
    const std::size_t sp1 = r.head.find(' '), sp2 = r.head.find(' ', sp1 + 1);
    r.method = r.head.substr(0, sp1);
    r.target = r.head.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string cl = r.header("Content-Length");
    const std::size_t n = cl.empty() ? 0 : std::stoul(cl);
    if (n > (std::size_t{256} << 20)) return false;
    while (buf.size() < n) {
      const ssize_t k = ::recv(c, tmp, sizeof tmp, 0);
      if (k <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(k));
    }
    r.body = buf.substr(0, n);
    buf.erase(0, n);
    return true;
  }

  handler m_handler;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_requests{0}, m_connections{0};
  std::atomic<long long> m_sent{0};
  mutable std::mutex m_mutex;
  std::vector<int> m_clients;
  std::vector<std::thread> m_threads;
  std::vector<request> m_seen;
  std::thread m_accept;
};

}  // namespace fake_openai
