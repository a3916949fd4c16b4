// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/secrets.hpp — masking the secrets an HTTP grounder sends (the API
// key, header values read from the environment) in everything that comes back from a server or
// goes into a message, before any cutting: a server that echoes a key in its answer or its error
// body must not get it into predictions, the answer cache, the manifest or a message. Standard
// library only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::http {

/// What a masked secret is replaced with.
inline constexpr std::string_view redacted_text = "***";

/// Replaces every occurrence of each secret, and of the forms a server may echo it in (JSON
/// escaped, percent-encoded), with "***". Secrets are matched longest first, so a secret that
/// contains another is masked whole.
class secret_redactor {
 public:
  secret_redactor() = default;

  /// Adds a secret (an empty one is ignored).
  void add(std::string_view secret) {
    if (secret.empty()) return;
    add_form(std::string(secret));
    add_form(json_escaped(secret));
    add_form(percent_encoded(secret));
    std::sort(m_forms.begin(), m_forms.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  bool empty() const noexcept { return m_forms.empty(); }

  /// `s` with every secret masked.
  std::string operator()(std::string s) const {
    for (const std::string& f : m_forms)
      for (std::size_t p = s.find(f); p != std::string::npos;
           p = s.find(f, p + redacted_text.size()))
        s.replace(p, f.size(), redacted_text);
    return s;
  }

  /// Whether `s` holds a secret in any of its forms.
  bool leaks(std::string_view s) const {
    return std::any_of(m_forms.begin(), m_forms.end(),
                       [&](const std::string& f) { return s.find(f) != std::string_view::npos; });
  }

 private:
  void add_form(std::string f) {
    if (std::find(m_forms.begin(), m_forms.end(), f) == m_forms.end()) m_forms.push_back(f);
  }

  /// The secret as a JSON string body, '/' escaped as "\/" as some servers write it.
  static std::string json_escaped(std::string_view s) {
    std::string out;
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\' || c == '/') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out += buf;
      } else {
        out += c;
      }
    }
    return out;
  }

  /// RFC 3986 percent-encoding of everything but unreserved characters.
  static std::string percent_encoded(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_' || c == '~') {
        out += c;
      } else {
        out += '%';
        out += hex[u >> 4];
        out += hex[u & 15];
      }
    }
    return out;
  }

  std::vector<std::string> m_forms;
};

}  // namespace groundeval::http
