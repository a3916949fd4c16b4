// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/client.hpp — the HTTP/1.1 client of the HTTP grounders: one
// keep-alive connection (plain TCP or TLS through OpenSSL) whose every request is bounded.
// Target: groundeval::http (OpenSSL, POSIX sockets).
//
// What a server cannot do to a request, whatever it sends or withholds:
// * take longer than request_timeout_s in total: name resolution aside (the system resolver's
//   own timeouts), connecting, the TLS handshake, sending, the status line, the headers and the
//   body all run against one deadline, so endless headers or a body trickled one byte at a time
//   end there;
// * stay silent longer than read_timeout_s, or take longer than connect_timeout_s to accept the
//   connection and finish the TLS handshake;
// * make it hold more than max_response_bytes of body (Content-Length above it is refused before
//   reading; a chunked or unframed body stops at the limit) or max_header_bytes of status line,
//   headers and trailers;
// * keep it from being cancelled: a `cancelled` predicate is polled at least every 100 ms.
// Every failure is a value (http_failure + detail in words), never an exception or a signal
// (SIGPIPE is avoided: sockets are written with MSG_NOSIGNAL, TLS runs through memory BIOs).
// TLS: certificate and host name verification on unless told otherwise (system CA store, or a
// CA bundle), SNI, TLS 1.2 at least. No redirects are followed, no proxy is used and no
// compression is asked for.
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/grounders/http/url.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::http {

/// Why an exchange produced no complete response.
enum class http_failure : std::uint8_t {
  none,       ///< a complete response (any status)
  resolve,    ///< the host name did not resolve
  connect,    ///< no TCP connection (refused, unreachable, connect timeout)
  tls,        ///< the TLS handshake failed (certificate, protocol)
  closed,     ///< the server closed or reset the connection before the response was complete
  timeout,    ///< the request deadline passed or the server was silent too long
  too_large,  ///< the body or the headers went past their limit
  malformed,  ///< not a valid HTTP/1.x response
  cancelled   ///< the caller's cancellation predicate said so
};

constexpr std::string_view to_string(http_failure f) noexcept {
  switch (f) {
    case http_failure::none:
      return "none";
    case http_failure::resolve:
      return "resolve";
    case http_failure::connect:
      return "connect";
    case http_failure::tls:
      return "tls";
    case http_failure::closed:
      return "closed";
    case http_failure::timeout:
      return "timeout";
    case http_failure::too_large:
      return "too_large";
    case http_failure::malformed:
      return "malformed";
    case http_failure::cancelled:
      return "cancelled";
  }
  return "unknown";
}

struct http_header {
  std::string name, value;
};
using http_headers = std::vector<http_header>;

/// Bounds of one exchange.
struct request_limits {
  double connect_timeout_s = 10.0;   ///< TCP connect + TLS handshake
  double read_timeout_s = 120.0;     ///< longest silence while sending or waiting for bytes
  double request_timeout_s = 300.0;  ///< the whole exchange
  std::size_t max_response_bytes = std::size_t{8} << 20;  ///< body (after chunked decoding)
  std::size_t max_header_bytes = std::size_t{64} << 10;   ///< status line + headers + trailers
};

/// The outcome of one exchange.
struct http_response {
  http_failure failure = http_failure::none;
  std::string detail;     ///< why it failed, in words (empty on success)
  bool answered = false;  ///< a status line arrived: the server is up, whatever followed
  int status = 0;
  http_headers headers;
  std::string body;
  /// The first header named `name` (case-insensitive).
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& h : headers)
      if (h.name.size() == name.size() &&
          std::equal(h.name.begin(), h.name.end(), name.begin(),
                     [](char a, char b) { return (a | 0x20) == (b | 0x20); }))
        return h.value;
    return std::nullopt;
  }
};

/// TLS settings shared by a grounder's connections: one SSL_CTX.
class tls_context {
 public:
  /// Throws error_kind::config when the CA bundle cannot be loaded.
  tls_context(bool verify, const std::string& ca_file) : m_verify(verify) {
    m_ctx = SSL_CTX_new(TLS_client_method());
    if (!m_ctx) throw error(error_kind::backend, "tls", 0, "SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(m_ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(m_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    if (verify) {
      SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, nullptr);
      const int ok = ca_file.empty()
                         ? SSL_CTX_set_default_verify_paths(m_ctx)
                         : SSL_CTX_load_verify_locations(m_ctx, ca_file.c_str(), nullptr);
      if (ok != 1) {
        SSL_CTX_free(m_ctx);
        ERR_clear_error();
        throw error(error_kind::config, ca_file.empty() ? "tls" : ca_file, 0,
                    ca_file.empty() ? "cannot load the system's CA certificates"
                                    : "cannot load the CA certificates (ca_cert)");
      }
    } else {
      SSL_CTX_set_verify(m_ctx, SSL_VERIFY_NONE, nullptr);
    }
  }
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;
  ~tls_context() { SSL_CTX_free(m_ctx); }
  SSL_CTX* get() const noexcept { return m_ctx; }
  bool verify() const noexcept { return m_verify; }

 private:
  SSL_CTX* m_ctx = nullptr;
  bool m_verify = true;
};

namespace detail {

/// The last OpenSSL error of this thread, in words (and the queue cleared).
inline std::string openssl_error_text() {
  std::string s;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s = buf;  // the last (innermost) one
  }
  return s.empty() ? std::string("unknown TLS error") : s;
}

inline std::string errno_text(int e) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf)
  return ::strerror_r(e, buf, sizeof buf);
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

inline bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// A short printable excerpt of bytes a server sent (for "not an HTTP response: '...'").
inline std::string printable_excerpt(std::string_view s, std::size_t n = 40) {
  std::string out;
  for (const char c : s.substr(0, n)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace detail

/// One keep-alive connection to a server; not thread-safe (one per thread).
class http_connection {
 public:
  http_connection(base_url url, std::shared_ptr<const tls_context> tls)
      : m_url(std::move(url)), m_tls(std::move(tls)) {}
  /// Adopts a connected plain socket (owned from here) for the first exchange, e.g. one end of
  /// a socketpair in tests and the fuzz harness; later exchanges connect to `url` as usual.
  http_connection(base_url url, int connected_fd)
      : m_url(std::move(url)), m_fd(connected_fd), m_adopted(true) {
    ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
  }
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;
  ~http_connection() { close(); }

  const base_url& url() const noexcept { return m_url; }

  /// Sends `method target` with `headers` and `body` (Content-Type application/json when the
  /// body is not empty) and reads the response within `limits`. A connection kept alive from an
  /// earlier exchange that turns out to be closed is reopened once, transparently.
  http_response exchange(std::string_view method, std::string_view target,
                         const http_headers& headers, std::string_view body,
                         const request_limits& limits,
                         const std::function<bool()>& cancelled = {}) {
    m_limits = limits;
    m_cancelled = &cancelled;
    m_deadline = clock::now() + seconds(limits.request_timeout_s);
    const std::string head = request_head(method, target, headers, body);
    for (int round = 0;; ++round) {
      const bool adopted = std::exchange(m_adopted, false);
      const bool reused = !adopted && m_fd >= 0 && idle_alive();
      if (!reused && !adopted) close();
      m_got_bytes = false;
      m_progress = clock::now();
      http_response res;
      try {
        if (m_fd < 0) open();
        send_all(head);
        send_all(body);
        read_response(method, res);
        if (!m_keep) close();
        return res;
      } catch (const failure_exit& f) {
        close();
        // a kept-alive connection the server had closed: once more on a fresh one
        if (reused && round == 0 && !m_got_bytes && f.kind == http_failure::closed) continue;
        res.failure = f.kind;
        res.detail = f.detail;
        res.body.clear();
        return res;
      }
    }
  }

  void close() noexcept {
    if (m_ssl) SSL_free(m_ssl);  // frees the memory BIOs too
    m_ssl = nullptr;
    m_rbio = m_wbio = nullptr;
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    m_in.clear();
    m_keep = false;
  }

 private:
  using clock = std::chrono::steady_clock;
  struct failure_exit {
    http_failure kind;
    std::string detail;
  };
  [[noreturn]] static void fail(http_failure kind, std::string detail) {
    throw failure_exit{kind, std::move(detail)};
  }
  static clock::duration seconds(double s) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
  }
  std::string where() const { return m_url.authority; }

  std::string request_head(std::string_view method, std::string_view target,
                           const http_headers& headers, std::string_view body) const {
    std::string h;
    h.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    h += "Host: " + m_url.authority + "\r\n";
    h += "Accept: application/json\r\n";
    h += "Connection: keep-alive\r\n";
    if (!body.empty() || method == "POST") {
      h += "Content-Type: application/json\r\n";
      h += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    for (const auto& x : headers) h += x.name + ": " + x.value + "\r\n";
    h += "\r\n";
    return h;
  }

  // ---- waiting ---------------------------------------------------------------------------

  enum class waited { ready, deadline, phase, silence, cancelled };

  /// Waits for `events` on the socket until the request deadline, `phase_end` or (when
  /// `silence` is set) read_timeout_s after the last progress; polls `cancelled` every 100 ms.
  waited wait(short events, clock::time_point phase_end, bool silence) {
    for (;;) {
      if (*m_cancelled && (*m_cancelled)()) return waited::cancelled;
      const auto now = clock::now();
      if (now >= m_deadline) return waited::deadline;
      if (now >= phase_end) return waited::phase;
      const auto silent_end = m_progress + seconds(m_limits.read_timeout_s);
      if (silence && now >= silent_end) return waited::silence;
      auto until = std::min({m_deadline, phase_end, now + std::chrono::milliseconds(100)});
      if (silence) until = std::min(until, silent_end);
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
      pollfd p{m_fd, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(1, ms)));
      if (r > 0) return waited::ready;
      if (r < 0 && errno != EINTR) fail(http_failure::closed, "poll: " + detail::errno_text(errno));
    }
  }

  [[noreturn]] void fail_wait(waited w, const char* doing) {
    switch (w) {
      case waited::cancelled:
        fail(http_failure::cancelled, "cancelled");
      case waited::deadline:
        fail(http_failure::timeout, std::string("no complete response within the ") +
                                        number(m_limits.request_timeout_s) +
                                        " s request deadline (request_timeout) while " + doing);
      case waited::phase:
        fail(http_failure::connect, "connecting to " + where() + " took longer than " +
                                        number(m_limits.connect_timeout_s) +
                                        " s (connect_timeout)");
      case waited::silence:
      case waited::ready:
        break;
    }
    fail(http_failure::timeout, std::string("the server sent nothing for ") +
                                    number(m_limits.read_timeout_s) + " s (read_timeout) while " +
                                    doing);
  }

  static std::string number(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  /// Whether a kept-alive connection is still usable (not closed by the server, nothing unread).
  bool idle_alive() {
    if (!m_keep) return false;
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;  // readable now means EOF, a reset or unsolicited bytes
  }

  // ---- connecting ------------------------------------------------------------------------

  void open() {
    const auto phase_end = clock::now() + seconds(m_limits.connect_timeout_s);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(m_url.port);
    if (const int r = ::getaddrinfo(m_url.host.c_str(), port.c_str(), &hints, &list); r != 0)
      fail(http_failure::resolve,
           "cannot resolve the host '" + m_url.host + "': " +
               (r == EAI_SYSTEM ? detail::errno_text(errno) : std::string(::gai_strerror(r))));
    std::string last = "no address";
    for (addrinfo* a = list; a && m_fd < 0; a = a->ai_next) {
      const int fd =
          ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        last = detail::errno_text(errno);
        continue;
      }
      m_fd = fd;
      int err = 0;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
          const waited w = wait(POLLOUT, phase_end, false);
          if (w != waited::ready) {
            ::freeaddrinfo(list);
            close();
            fail_wait(w, "connecting");
          }
          socklen_t len = sizeof err;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
      if (err != 0) {
        last = detail::errno_text(err);
        ::close(fd);
        m_fd = -1;
      }
    }
    ::freeaddrinfo(list);
    if (m_fd < 0) fail(http_failure::connect, "cannot connect to " + where() + ": " + last);
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_progress = clock::now();
    if (m_url.tls) handshake(phase_end);
  }

  void handshake(clock::time_point phase_end) {
    if (!m_tls) fail(http_failure::tls, "https without a TLS context");
    ERR_clear_error();
    m_ssl = SSL_new(m_tls->get());
    m_rbio = BIO_new(BIO_s_mem());
    m_wbio = BIO_new(BIO_s_mem());
    if (!m_ssl || !m_rbio || !m_wbio) {
      if (m_rbio) BIO_free(m_rbio);
      if (m_wbio) BIO_free(m_wbio);
      if (m_ssl) SSL_free(m_ssl);
      m_ssl = nullptr;
      m_rbio = m_wbio = nullptr;
      fail(http_failure::tls, "cannot create the TLS session: " + detail::openssl_error_text());
    }
    SSL_set_bio(m_ssl, m_rbio, m_wbio);  // m_ssl owns them from here
    in_addr v4{};
    in6_addr v6{};
    const bool ip = ::inet_pton(AF_INET, m_url.host.c_str(), &v4) == 1 ||
                    ::inet_pton(AF_INET6, m_url.host.c_str(), &v6) == 1;
    if (!ip) SSL_set_tlsext_host_name(m_ssl, m_url.host.c_str());
    if (m_tls->verify()) {
      const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), m_url.host.c_str())
                        : SSL_set1_host(m_ssl, m_url.host.c_str());
      if (ok != 1) fail(http_failure::tls, "cannot set the host name to verify");
    }
    SSL_set_connect_state(m_ssl);
    for (;;) {
      const int r = SSL_do_handshake(m_ssl);
      flush_tls(phase_end);
      if (r == 1) return;
      const int e = SSL_get_error(m_ssl, r);
      if (e == SSL_ERROR_WANT_READ) {
        if (!feed_tls(phase_end, "the TLS handshake"))
          fail(http_failure::tls, "the server closed the connection during the TLS handshake");
        continue;
      }
      const long v = SSL_get_verify_result(m_ssl);
      if (v != X509_V_OK)
        fail(http_failure::tls, "TLS certificate verification failed for " + where() + ": " +
                                    X509_verify_cert_error_string(v) +
                                    " (ca_cert=FILE names a CA bundle; verify_tls=false turns the "
                                    "check off)");
      fail(http_failure::tls,
           "TLS handshake with " + where() + " failed: " + detail::openssl_error_text());
    }
  }

  // ---- raw socket I/O --------------------------------------------------------------------

  void send_raw(std::string_view data, clock::time_point phase_end) {
    while (!data.empty()) {
      const ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        m_progress = clock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const waited w = wait(POLLOUT, phase_end, true);
        if (w != waited::ready) fail_wait(w, "sending the request");
        continue;
      }
      fail(http_failure::closed,
           "the connection to " + where() + " broke while sending: " + detail::errno_text(errno));
    }
  }

  /// Up to `cap` bytes from the socket; 0 at end of stream.
  std::size_t recv_raw(char* buf, std::size_t cap, clock::time_point phase_end, const char* doing) {
    for (;;) {
      const ssize_t n = ::recv(m_fd, buf, cap, 0);
      if (n > 0) {
        m_progress = clock::now();
        return static_cast<std::size_t>(n);
      }
      if (n == 0) return 0;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        const waited w = wait(POLLIN, phase_end, true);
        if (w != waited::ready) fail_wait(w, doing);
        continue;
      }
      fail(http_failure::closed, "the connection to " + where() + " broke while " + doing + ": " +
                                     detail::errno_text(errno));
    }
  }

  // ---- TLS through memory BIOs -----------------------------------------------------------

  void flush_tls(clock::time_point phase_end) {
    char buf[16384];
    for (int n; (n = BIO_read(m_wbio, buf, sizeof buf)) > 0;)
      send_raw(std::string_view(buf, static_cast<std::size_t>(n)), phase_end);
  }

  /// Moves bytes from the socket into the TLS engine; false at end of stream.
  bool feed_tls(clock::time_point phase_end, const char* doing) {
    char buf[16384];
    const std::size_t n = recv_raw(buf, sizeof buf, phase_end, doing);
    if (n == 0) return false;
    if (BIO_write(m_rbio, buf, static_cast<int>(n)) != static_cast<int>(n))
      fail(http_failure::tls, "TLS buffer error");
    return true;
  }

  void send_all(std::string_view data) {
    const auto never = clock::time_point::max();
    if (!m_ssl) return send_raw(data, never);
    while (!data.empty()) {
      const std::size_t piece = std::min<std::size_t>(data.size(), 65536);
      std::size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(m_ssl, data.data(), piece, &written) != 1 || written == 0)
        fail(http_failure::closed, "TLS write failed: " + detail::openssl_error_text());
      data.remove_prefix(written);
      flush_tls(never);
    }
  }

  /// Up to `cap` decrypted or plain bytes; 0 at end of stream.
  std::size_t read_some(char* buf, std::size_t cap, const char* doing) {
    const auto never = clock::time_point::max();
    if (!m_ssl) return recv_raw(buf, cap, never, doing);
    for (;;) {
      std::size_t n = 0;
      ERR_clear_error();
      const int r = SSL_read_ex(m_ssl, buf, cap, &n);
      if (r == 1) return n;
      const int e = SSL_get_error(m_ssl, r);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if (e == SSL_ERROR_WANT_READ) {
        flush_tls(never);
        if (!feed_tls(never, doing)) return 0;
        continue;
      }
      fail(http_failure::closed,
           std::string("TLS error while ") + doing + ": " + detail::openssl_error_text());
    }
  }

  // ---- reading the response --------------------------------------------------------------

  /// Appends what arrives to m_in; false at end of stream.
  bool fill(const char* doing) {
    char buf[16384];
    const std::size_t n = read_some(buf, sizeof buf, doing);
    if (n == 0) return false;
    m_got_bytes = true;
    m_in.append(buf, n);
    return true;
  }

  /// The next line of m_in (without CRLF or LF), reading more as needed; at most `max` bytes
  /// (counted in `budget`, which runs out with http_failure::too_large).
  std::string read_line(std::size_t& budget, std::size_t limit, const char* what,
                        const char* doing) {
    const auto too_long = [&] {
      fail(http_failure::too_large, std::string("the response's ") + what + " are longer than " +
                                        std::to_string(limit) + " bytes");
    };
    for (std::size_t scanned = 0;;) {
      const std::size_t nl = m_in.find('\n', scanned);
      if (nl != std::string::npos) {
        if (nl + 1 > budget) too_long();
        budget -= nl + 1;
        std::string line = m_in.substr(0, nl);
        m_in.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      scanned = m_in.size();
      if (m_in.size() > budget) too_long();
      if (!fill(doing))
        fail(http_failure::closed, m_got_bytes ? std::string("the server closed the connection "
                                                             "in the middle of the response's ") +
                                                     what
                                               : "the server closed the connection without "
                                                 "answering");
    }
  }

  void read_response(std::string_view method, http_response& res) {
    std::size_t budget = m_limits.max_header_bytes;
    std::string version;
    for (;;) {  // skip interim 1xx responses
      const std::string status_line =
          read_line(budget, m_limits.max_header_bytes, "headers", "waiting for the response");
      // HTTP/1.x SSS reason
      if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0 ||
          status_line[8] != ' ' || !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
          !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
          !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
          (status_line.size() > 12 && status_line[12] != ' '))
        fail(http_failure::malformed,
             "not an HTTP/1.x response: '" + detail::printable_excerpt(status_line) + "'");
      version = status_line.substr(0, 8);
      res.answered = true;
      res.status = std::stoi(status_line.substr(9, 3));
      res.headers.clear();
      for (;;) {
        const std::string line =
            read_line(budget, m_limits.max_header_bytes, "headers", "reading the response headers");
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t')
          fail(http_failure::malformed, "a folded header line in the response");
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos || colon == 0)
          fail(http_failure::malformed,
               "a header line without a name: '" + detail::printable_excerpt(line) + "'");
        res.headers.push_back(
            {line.substr(0, colon),
             std::string(detail::trim_ows(std::string_view(line).substr(colon + 1)))});
      }
      if (res.status >= 200 || res.status == 101) break;
    }
    const bool http11 = version == "HTTP/1.1";
    const auto connection = res.header("Connection");
    m_keep = http11 && !(connection && detail::icontains(*connection, "close"));
    if (method == "HEAD" || res.status == 204 || res.status == 304) return;
    const std::size_t max = m_limits.max_response_bytes;
    const auto too_large = [&]() {
      fail(http_failure::too_large, "the response body is larger than the limit of " +
                                        std::to_string(max) + " bytes (max_response_bytes)");
    };
    if (const auto te = res.header("Transfer-Encoding")) {
      if (!detail::icontains(*te, "chunked"))
        fail(http_failure::malformed,
             "unsupported Transfer-Encoding '" + detail::printable_excerpt(*te) + "'");
      read_chunked(res, budget, too_large);
      return;
    }
    if (const auto cl = res.header("Content-Length")) {
      std::uint64_t n = 0;
      bool overflow = false;
      if (cl->empty()) fail(http_failure::malformed, "an empty Content-Length");
      for (const char c : *cl) {
        if (c < '0' || c > '9')
          fail(http_failure::malformed, "a Content-Length that is not a number");
        const auto d = static_cast<std::uint64_t>(c - '0');
        overflow = overflow || n > (UINT64_MAX - d) / 10;
        if (!overflow) n = n * 10 + d;
      }
      if (overflow)
        fail(http_failure::too_large, "the server announces a body of more than 2^64 bytes");
      if (n > max)
        fail(http_failure::too_large, "the server announces a body of " + std::to_string(n) +
                                          " bytes, more than the limit of " + std::to_string(max) +
                                          " bytes (max_response_bytes)");
      while (m_in.size() < n)
        if (!fill("reading the response body"))
          fail(http_failure::closed, "the server closed the connection after " +
                                         std::to_string(m_in.size()) + " of " + std::to_string(n) +
                                         " body bytes");
      res.body = m_in.substr(0, n);
      if (m_in.size() > n) m_keep = false;  // unsolicited bytes: do not reuse
      m_in.clear();
      return;
    }
    // neither: the body runs to the end of the connection
    m_keep = false;
    while (fill("reading the response body"))
      if (m_in.size() > max) too_large();
    res.body = std::move(m_in);
    m_in.clear();
  }

  template <class TooLarge>
  void read_chunked(http_response& res, std::size_t& budget, TooLarge&& too_large) {
    const std::size_t max = m_limits.max_response_bytes;
    for (;;) {
      constexpr std::size_t max_chunk_line = 4096;
      std::size_t line_budget = max_chunk_line;
      const std::string line =
          read_line(line_budget, max_chunk_line, "chunk-size lines", "reading the body");
      std::size_t size = 0, digits = 0;
      for (const char c : line) {
        const int v = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
        if (v < 0) break;
        if (size > max) too_large();
        size = size * 16 + std::size_t(v);
        ++digits;
      }
      if (digits == 0) fail(http_failure::malformed, "a malformed chunk size in the response body");
      if (size == 0) break;
      if (size > max || res.body.size() + size > max) too_large();
      while (m_in.size() < size + 2)
        if (!fill("reading the response body"))
          fail(http_failure::closed, "the server closed the connection in the middle of a chunk");
      if (m_in.compare(size, 2, "\r\n") != 0 && m_in[size] != '\n')
        fail(http_failure::malformed, "a chunk not followed by CRLF in the response body");
      res.body.append(m_in, 0, size);
      m_in.erase(0, size + (m_in[size] == '\n' ? 1 : 2));
    }
    for (;;)  // trailers, counted against the header limit
      if (read_line(budget, m_limits.max_header_bytes, "trailers", "reading the trailers").empty())
        break;
    if (!m_in.empty()) m_keep = false;
  }

  base_url m_url;
  std::shared_ptr<const tls_context> m_tls;
  int m_fd = -1;
  SSL* m_ssl = nullptr;
  BIO* m_rbio = nullptr;
  BIO* m_wbio = nullptr;
  std::string m_in;
  bool m_keep = false;       ///< the last response left the connection reusable
  bool m_got_bytes = false;  ///< a byte of the response arrived in this round
  bool m_adopted = false;    ///< m_fd was handed over (constructor): use it as it is
  request_limits m_limits;
  const std::function<bool()>* m_cancelled = nullptr;
  clock::time_point m_deadline, m_progress;
};

}  // namespace groundeval::http
