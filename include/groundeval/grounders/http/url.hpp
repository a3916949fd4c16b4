// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/url.hpp — the server URL of the HTTP grounders: parsing
// http(s)://host[:port][/path], refusing credentials written into it, and masking them in any
// text that is shown (a command line being echoed in an error). Standard library only, so the
// command line can mask a spec before anything else looks at it.
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval::http {

/// A parsed base URL.
struct base_url {
  bool tls = false;       ///< https
  std::string host;       ///< name or IP literal (an IPv6 literal without its brackets)
  int port = 0;           ///< 80 / 443 unless given
  std::string path;       ///< "" or "/v1" (no trailing '/')
  std::string authority;  ///< the Host header: host[:port] (IPv6 in brackets)
  /// scheme://authority/path, the form shown in messages (never holds credentials)
  std::string text() const { return (tls ? "https://" : "http://") + authority + path; }
};

namespace detail {

inline bool url_is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace detail

/// `text` with the credentials of every URL in it masked: in each "://" run of non-blank
/// characters, everything up to its last '@' becomes "***" ("http://alice:pw@host/v1" ->
/// "http://***@host/v1"). Errs on the side of hiding (an '@' in a path hides the path).
inline std::string mask_url_credentials(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t scheme = text.find("://", i);
    if (scheme == std::string_view::npos) break;
    const std::size_t begin = scheme + 3;
    std::size_t end = begin;
    while (end < text.size() && !detail::url_is_space(text[end])) ++end;
    const std::size_t at = text.substr(begin, end - begin).rfind('@');
    out.append(text.substr(i, begin - i));
    if (at != std::string_view::npos) {
      out += "***";
      out.append(text.substr(begin + at, end - begin - at));
    } else {
      out.append(text.substr(begin, end - begin));
    }
    i = end;
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

/// Parses "http://host[:port][/path]" or "https://...". Config errors (never echoing a
/// password): another scheme, credentials ("user:password@"), a query or fragment, an empty
/// host, a port outside 1..65535.
inline base_url parse_base_url(std::string_view url) {
  const auto fail = [&](const std::string& what) -> base_url {
    throw error(error_kind::config, "base_url", 0, what);
  };
  base_url u;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return fail("expected http://host[:port][/path] or https://..., got '" +
                mask_url_credentials(url) + "'");
  }
  for (const char c : rest)
    if (detail::url_is_space(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return fail("the server URL holds a blank or control character");
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (rest.find('@') != std::string_view::npos) {
    // the URL without anything up to the last '@' of the authority-or-beyond
    const std::string_view after = rest.substr(rest.rfind('@') + 1);
    return fail(
        "the server URL holds credentials ('user:password@'): groundeval does not send them, and "
        "they would be recorded with the run. Give the URL without them (" +
        std::string(u.tls ? "https://" : "http://") + std::string(after) +
        ") and the key through key_env=VAR (an environment variable, sent as 'Authorization: "
        "Bearer KEY') or, for another header, header_env={\"Header-Name\": \"VAR\"}");
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail(
        "the server URL holds a query or fragment ('?' or '#'): give the base URL only "
        "(http://host:port/v1); keys go in key_env or header_env, not in the URL");
  if (authority.empty()) return fail("the server URL has no host");
  std::string_view host = authority, port;
  if (authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("the server URL has an unclosed '[' host");
    host = authority.substr(1, close - 1);
    const std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return fail("the server URL has characters after ']'");
      port = tail.substr(1);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return fail("the server URL has no host");
  u.host = std::string(host);
  u.port = u.tls ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || p > 65535)
        return fail("the port of the server URL is not 1..65535");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return fail("the port of the server URL is not 1..65535");
    u.port = p;
  }
  u.authority = std::string(authority);
  if (slash != std::string_view::npos) {
    u.path = std::string(rest.substr(slash));
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  }
  return u;
}

}  // namespace groundeval::http
