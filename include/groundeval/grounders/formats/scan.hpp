// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/formats/scan.hpp — the lexical helpers every box-format scanner shares:
// what a scanner produces (raw items and problems), plain-number parsing, splitting, and small
// token readers. Target: groundeval::core. The scanners themselves live next to this file, one
// header per kind of syntax (brackets, tags, JSON, location tokens); families.hpp says which
// family uses which.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// A box (or point) as found in the text, before mapping.
struct raw_item {
  std::array<double, 4> v{};  ///< x1, y1, x2, y2 as written (points: x, y, 0, 0)
  std::string label;
  bool patch = false;  ///< Kosmos-2: v[0], v[1] are patch indices
  bool point = false;  ///< a point answer: v[0], v[1] are x, y
  std::size_t at = 0;  ///< offset of the item in the answer (where the scanner records it)
};

/// What a scanner collects from one answer: the items in text order and the problems (malformed
/// box-like text), each naming its offset.
struct scan {
  std::string_view text;
  std::vector<raw_item> items;
  std::vector<std::string> problems;
  void problem(std::size_t at, std::string what) {
    problems.push_back(std::move(what) + " at offset " + std::to_string(at));
  }
};

inline bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// A plain decimal number: optional sign, digits, optional fraction; no exponent, no hex, at
/// most 24 characters (so every accepted value is finite). The whole token must match.
inline bool parse_number(std::string_view tok, double& out) noexcept {
  tok = trim(tok);
  if (tok.empty() || tok.size() > 24) return false;
  std::size_t i = 0;
  if (tok[0] == '-' || tok[0] == '+') ++i;
  std::size_t digits = 0;
  while (i < tok.size() && is_digit(tok[i])) ++i, ++digits;
  if (i < tok.size() && tok[i] == '.') {
    ++i;
    while (i < tok.size() && is_digit(tok[i])) ++i, ++digits;
  }
  if (digits == 0 || i != tok.size()) return false;
  const char* b = tok.data() + (tok[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(b, tok.data() + tok.size(), out);
  return ec == std::errc{} && p == tok.data() + tok.size();
}

/// Splits on `sep` (no trimming).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

/// Parses "a, b, c, d" (exactly four numbers) into v; on failure returns a reason.
inline bool parse_four(std::string_view s, std::array<double, 4>& v, std::string& why) {
  const auto parts = split(s, ',');
  if (parts.size() != 4) {
    why = "expected 4 comma-separated numbers, found " + std::to_string(parts.size()) + " fields";
    return false;
  }
  for (std::size_t i = 0; i < 4; ++i)
    if (!parse_number(parts[i], v[i])) {
      why = "'" + std::string(trim(parts[i])) + "' is not a plain number";
      return false;
    }
  return true;
}

/// Text of the <open>..</close> block that ends right before `at` (ignoring blanks), or empty.
inline std::string adjacent_label(std::string_view t, std::size_t at, std::string_view open,
                                  std::string_view close) {
  std::size_t e = at;
  while (e > 0 && is_space(t[e - 1])) --e;
  if (e < close.size() || t.substr(e - close.size(), close.size()) != close) return {};
  const auto o = t.rfind(open, e - close.size());
  if (o == std::string_view::npos) return {};
  return std::string(trim(t.substr(o + open.size(), e - close.size() - o - open.size())));
}

/// Calls on_block(open_at, body_begin, body_end) for each `open` ... `close` block of sc.text in
/// text order. on_block returns where to go on (npos: after the block's close tag). An open
/// tag without a close tag is reported ("unterminated <open>") and ends the scan. Returns
/// whether any open tag was seen.
template <class F>
bool for_each_block(scan& sc, std::string_view open, std::string_view close, F&& on_block) {
  const std::string_view t = sc.text;
  std::size_t pos = 0;
  bool any = false;
  while (true) {
    const auto k = t.find(open, pos);
    if (k == std::string_view::npos) break;
    any = true;
    const auto c = t.find(close, k);
    if (c == std::string_view::npos) {
      sc.problem(k, "unterminated " + std::string(open));
      break;
    }
    const std::size_t next = on_block(k, k + open.size(), c);
    pos = next == std::string_view::npos ? c + close.size() : next;
  }
  return any;
}

/// Reads "<prefix>DIGITS>" at t[i]; returns the end index or npos. `width` 0 = any length.
inline std::size_t read_loc(std::string_view t, std::size_t i, std::string_view prefix,
                            std::size_t width, long& value) {
  if (t.substr(i, prefix.size()) != prefix) return std::string_view::npos;
  std::size_t k = i + prefix.size();
  const std::size_t d0 = k;
  while (k < t.size() && is_digit(t[k]) && k - d0 < 8) ++k;
  const std::size_t nd = k - d0;
  if (nd == 0 || (width && nd != width) || k >= t.size() || t[k] != '>')
    return std::string_view::npos;
  value = std::stol(std::string(t.substr(d0, nd)));
  return k + 1;
}

}  // namespace groundeval::detail
