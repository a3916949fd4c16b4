// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/json_text.hpp — writing JSON text without a JSON library (the core's reports,
// statistics, manifests and run records). Target: groundeval::core.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace groundeval::detail {

/// Appends `s` as a JSON string literal (RFC 8259 escaping; bytes >= 0x80 pass through, so valid
/// UTF-8 stays valid). '<', '>' and '&' are written as \u escapes so the JSON may be embedded in
/// HTML safely.
inline void json_quote(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20 || c == '<' || c == '>' || c == '&') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

/// Appends a number in the shortest form that reads back to the same double; NaN and infinities
/// become null.
inline void json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline void json_number(std::string& out, std::uint64_t v) { out += std::to_string(v); }

}  // namespace groundeval::detail
