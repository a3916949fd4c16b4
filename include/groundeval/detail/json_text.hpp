// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/json_text.hpp — the one JSON writing path of the core (reports, statistics,
// manifests, run records), without a JSON library: string and number literals, and a streaming
// writer of nested objects and arrays. Reading: detail/json_scan.hpp. Target: groundeval::core.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

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
inline void json_integer(std::string& out, long long v) { out += std::to_string(v); }

/// A streaming writer of one JSON document. Containers open on their own line, indented by two
/// spaces per level, one member per line; a container opened with `one_line` keeps its whole
/// content on the current line ("[1, 2, 3]", "{\"a\": 1, \"b\": 2}"). Keys are ignored inside
/// arrays. Strings go through json_quote, numbers through json_number.
class json_writer {
 public:
  std::string out;

  void begin_object(std::string_view key = {}, bool one_line = false) { open(key, '{', one_line); }
  void begin_array(std::string_view key = {}, bool one_line = false) { open(key, '[', one_line); }
  void end_object() { close('}'); }
  void end_array() { close(']'); }
  void value(std::string_view key, double v) {
    item(key);
    json_number(out, v);
  }
  void value(std::string_view key, std::uint64_t v) {
    item(key);
    json_number(out, v);
  }
  void value(std::string_view key, std::string_view v) {
    item(key);
    json_quote(out, v);
  }
  void integer(std::string_view key, long long v) {
    item(key);
    json_integer(out, v);
  }
  void boolean(std::string_view key, bool v) {
    item(key);
    out += v ? "true" : "false";
  }
  void null(std::string_view key) {
    item(key);
    out += "null";
  }
  /// Appends `json` (a complete JSON value, e.g. from another writer) as the value of `key`.
  void raw(std::string_view key, std::string_view json) {
    item(key);
    out += json;
  }
  /// Depth of open containers.
  std::size_t depth() const noexcept { return m_levels.size(); }

 private:
  struct level {
    bool first = true, object = false, one_line = false;
  };
  bool on_one_line() const {
    for (const auto& l : m_levels)
      if (l.one_line) return true;
    return false;
  }
  void item(std::string_view key) {
    if (!m_levels.empty()) {
      level& l = m_levels.back();
      if (!l.first) out += ',';
      l.first = false;
      if (on_one_line()) {
        if (out.back() == ',') out += ' ';
      } else {
        out += '\n';
        out.append(2 * m_levels.size(), ' ');
      }
    }
    if (!m_levels.empty() ? m_levels.back().object : !key.empty()) {
      json_quote(out, key);
      out += ": ";
    }
  }
  void open(std::string_view key, char c, bool one_line) {
    item(key);
    out += c;
    m_levels.push_back({true, c == '{', one_line});
  }
  void close(char c) {
    const level l = m_levels.back();
    m_levels.pop_back();
    if (!l.first && !l.one_line && !on_one_line()) {
      out += '\n';
      out.append(2 * m_levels.size(), ' ');
    }
    out += c;
  }
  std::vector<level> m_levels;
};

}  // namespace groundeval::detail
