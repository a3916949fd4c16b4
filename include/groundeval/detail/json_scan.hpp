// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/json_scan.hpp — the core's JSON reading path, standard library only: one
// JSON string decoder (escapes, \u surrogate pairs to UTF-8) and a scanner for the top-level
// members of one JSON object (run records, manifests). Files that need a whole JSON document
// (predictions, annotations) are read by the json component (io/json, datasets/json).
// Target: groundeval::core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Appends code point `cp` (at most 0x10FFFF) to `out` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// How decode_json_string treats text that RFC 8259 forbids.
struct json_string_rules {
  /// Accept raw control characters other than a line feed inside the string (model answers).
  bool allow_control_characters = false;
  /// Keep an unpaired \uD800-\uDFFF escape (encoded like any code point) instead of failing.
  bool allow_lone_surrogates = false;
};

/// The outcome of decode_json_string: `end` is the index after the closing quote, or npos with
/// `error` (a static message) and `error_pos` (the byte where decoding stopped).
struct json_string_result {
  std::size_t end = std::string_view::npos;
  const char* error = nullptr;
  std::size_t error_pos = 0;
  explicit operator bool() const noexcept { return error == nullptr; }
};

/// Decodes the JSON string literal starting at text[begin] == '"' into `out` (cleared first).
inline json_string_result decode_json_string(std::string_view text, std::size_t begin,
                                             std::string& out, json_string_rules rules = {}) {
  out.clear();
  std::size_t i = begin;
  auto failed = [&](const char* what) {
    return json_string_result{std::string_view::npos, what, i};
  };
  if (i >= text.size() || text[i] != '"') return failed("expected '\"'");
  ++i;
  auto hex4 = [&](std::uint32_t& v) {
    if (i + 4 > text.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    i += 4;
    return true;
  };
  for (;;) {
    if (i >= text.size()) return failed("unterminated string");
    const char c = text[i];
    if (c == '"') return json_string_result{i + 1, nullptr, 0};
    if (static_cast<unsigned char>(c) < 0x20 && (c == '\n' || !rules.allow_control_characters))
      return failed("control character inside a string");
    ++i;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i >= text.size()) return failed("unterminated escape");
    const char e = text[i++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!hex4(cp)) return failed("bad \\u escape");
        if (cp >= 0xD800 && cp < 0xDC00) {
          const std::size_t at = i;
          std::uint32_t lo = 0;
          if (i + 2 <= text.size() && text[i] == '\\' && text[i + 1] == 'u' && (i += 2, hex4(lo)) &&
              lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            if (!rules.allow_lone_surrogates) return failed("unpaired surrogate in \\u escape");
            i = at;  // the next escape is read on its own
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF && !rules.allow_lone_surrogates) {
          return failed("unpaired surrogate in \\u escape");
        }
        append_utf8(out, cp);
        break;
      }
      default:
        --i;
        return failed("unknown escape");
    }
  }
}

/// Whether `text` is exactly one well-formed JSON value (surrounding white space allowed).
inline bool is_json_value(std::string_view text);

/// A syntax error at byte `pos` of a scanned JSON text.
struct json_scan_error {
  std::size_t pos;
  std::string what;
};

/// One top-level member of a scanned object.
struct json_member {
  enum class kind : char { string, number, literal, nested };
  std::string key;
  std::string value;  ///< the decoded string, or the number / literal as written; empty: nested
  kind type = kind::string;
};

/// Reads the top-level members of the one JSON object `text` holds: strings are decoded, numbers
/// and literals (true/false/null) kept as written, nested objects and arrays skipped. Throws
/// json_scan_error for malformed text or anything after the object.
inline std::vector<json_member> scan_json_object(std::string_view text);

// ---- implementation -------------------------------------------------------------------------

namespace json_scan_impl {

class scanner {
 public:
  explicit scanner(std::string_view t) : m_t(t) {}

  std::vector<json_member> object() {
    std::vector<json_member> out;
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      ++m_p;
      finish();
      return out;
    }
    for (;;) {
      ws();
      if (peek() != '"') fail("expected a member name in double quotes");
      json_member m;
      m.key = string();
      ws();
      expect(':');
      ws();
      const char c = peek();
      if (c == '"') {
        m.type = json_member::kind::string;
        m.value = string();
      } else if (c == '{' || c == '[') {
        m.type = json_member::kind::nested;
        skip_value();
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        m.type = json_member::kind::number;
        m.value = number();
      } else {
        m.type = json_member::kind::literal;
        m.value = literal();
      }
      out.push_back(std::move(m));
      ws();
      if (peek() == ',') {
        ++m_p;
        continue;
      }
      expect('}');
      break;
    }
    finish();
    return out;
  }

 private:
  [[noreturn]] void fail(std::string what) const { throw json_scan_error{m_p, std::move(what)}; }
  char peek() const { return m_p < m_t.size() ? m_t[m_p] : '\0'; }
  void ws() {
    while (m_p < m_t.size() &&
           (m_t[m_p] == ' ' || m_t[m_p] == '\t' || m_t[m_p] == '\n' || m_t[m_p] == '\r'))
      ++m_p;
  }
  void expect(char c) {
    if (m_p >= m_t.size()) fail(std::string("unexpected end of text, expected '") + c + "'");
    if (m_t[m_p] != c) fail(std::string("expected '") + c + "'");
    ++m_p;
  }
  void finish() {
    ws();
    if (m_p != m_t.size()) fail("unexpected text after the object");
  }
  std::string string() {
    std::string s;
    const json_string_result r = decode_json_string(m_t, m_p, s);
    if (!r) {
      m_p = r.error_pos;
      fail(r.error);
    }
    m_p = r.end;
    return s;
  }
  /// A number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  std::string number() {
    const std::size_t b = m_p;
    auto digits = [&] {
      const std::size_t d = m_p;
      while (m_p < m_t.size() && m_t[m_p] >= '0' && m_t[m_p] <= '9') ++m_p;
      return m_p - d;
    };
    if (peek() == '-') ++m_p;
    if (peek() == '0')
      ++m_p;
    else if (digits() == 0)
      fail("malformed number");
    if (peek() == '.') {
      ++m_p;
      if (digits() == 0) fail("malformed number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++m_p;
      if (peek() == '+' || peek() == '-') ++m_p;
      if (digits() == 0) fail("malformed number");
    }
    return std::string(m_t.substr(b, m_p - b));
  }
  std::string literal() {
    for (std::string_view w : {"true", "false", "null"})
      if (m_t.substr(m_p, w.size()) == w) {
        m_p += w.size();
        return std::string(w);
      }
    fail("expected a value");
  }
  /// Reads (and validates) one value of any kind; nesting is tracked on a heap stack, not by
  /// recursion, so any depth is safe.
  void skip_value() {
    std::vector<char> open;  // '{' or '[' of each enclosing container
    auto member_name = [&] {
      ws();
      if (peek() != '"') fail("expected a member name in double quotes");
      (void)string();
      ws();
      expect(':');
    };
    for (;;) {
      ws();
      const char c = peek();
      if (c == '{' || c == '[') {
        ++m_p;
        ws();
        if (peek() == (c == '{' ? '}' : ']')) {
          ++m_p;
        } else {
          open.push_back(c);
          if (c == '{') member_name();
          continue;
        }
      } else if (c == '"') {
        (void)string();
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        (void)number();
      } else {
        (void)literal();
      }
      for (;;) {  // after a value: the next item, or close containers
        if (open.empty()) return;
        ws();
        if (peek() == ',') {
          ++m_p;
          if (open.back() == '{') member_name();
          break;
        }
        expect(open.back() == '{' ? '}' : ']');
        open.pop_back();
      }
    }
  }

 public:
  /// Whether the whole text is one JSON value (with surrounding white space).
  bool whole_value() {
    try {
      ws();
      skip_value();
      ws();
      return m_p == m_t.size();
    } catch (const json_scan_error&) {
      return false;
    }
  }

 private:
  std::string_view m_t;
  std::size_t m_p = 0;
};

}  // namespace json_scan_impl

inline std::vector<json_member> scan_json_object(std::string_view text) {
  return json_scan_impl::scanner(text).object();
}

inline bool is_json_value(std::string_view text) {
  return json_scan_impl::scanner(text).whole_value();
}

}  // namespace groundeval::detail
