// SPDX-License-Identifier: Apache-2.0
// groundeval/report/text.hpp — escaping for HTML/SVG, Markdown and JSON, and number formatting
// for the report writers. Target: groundeval::core (standard library only).
//
// Every string that comes from a data set or a run (phrases, sentences, ids, type names, grounder
// specs) goes through one of the escape functions before it reaches a report file.
#pragma once

#include <groundeval/detail/json_text.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace groundeval::report {

namespace detail {

/// The loop both escapers share: each character of `s` is replaced by `rule(c)`, or kept when
/// the rule gives an empty string.
template <class Rule>
std::string escape_chars(std::string_view s, std::size_t reserve, Rule rule) {
  std::string out;
  out.reserve(reserve);
  for (char c : s) {
    const std::string_view r = rule(c);
    if (r.empty())
      out += c;
    else
      out += r;
  }
  return out;
}

/// & < > as character references; empty for any other character.
constexpr std::string_view markup_entity(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    default:
      return {};
  }
}

/// A C0 control character other than tab.
constexpr bool is_control_not_tab(char c) {
  return static_cast<unsigned char>(c) < 0x20 && c != '\t';
}

}  // namespace detail

/// Escapes text for HTML and SVG element content and quoted attribute values: & < > " ' become
/// character references; control characters other than tab and newline become U+FFFD.
inline std::string html_escape(std::string_view s) {
  return detail::escape_chars(s, s.size() + s.size() / 8, [](char c) -> std::string_view {
    if (c == '"') return "&quot;";
    if (c == '\'') return "&#39;";
    if (c != '\n' && detail::is_control_not_tab(c)) return "\xEF\xBF\xBD";
    return detail::markup_entity(c);
  });
}

/// Escapes text for a Markdown table cell or paragraph: backslash ` * _ [ ] | ~ are escaped,
/// < > & become character references (so no raw HTML gets through), line breaks become spaces.
inline std::string markdown_escape(std::string_view s) {
  // escaped.substr(2 * i, 2) is special[i] behind a backslash.
  static constexpr std::string_view special = "\\`*_[]|~";
  static constexpr std::string_view escaped = "\\\\\\`\\*\\_\\[\\]\\|\\~";
  static_assert(escaped.size() == 2 * special.size());
  return detail::escape_chars(s, s.size() + s.size() / 4, [](char c) -> std::string_view {
    if (const auto i = special.find(c); i != std::string_view::npos)
      return escaped.substr(2 * i, 2);
    if (detail::is_control_not_tab(c)) return " ";  // line breaks included
    return detail::markup_entity(c);
  });
}

using ::groundeval::detail::json_number;
using ::groundeval::detail::json_quote;

/// A fraction as a percentage with one decimal ("61.2"); "—" when not available.
inline std::string format_percent(double v) {
  if (!std::isfinite(v)) return "\xE2\x80\x94";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100.0 * v);
  return buf;
}

/// A signed difference of fractions in percentage points ("+3.2", "-0.5"); "—" when n/a.
inline std::string format_points(double v) {
  if (!std::isfinite(v)) return "\xE2\x80\x94";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", 100.0 * v);
  return buf;
}

/// A plain number with `digits` decimals; "—" when not available.
inline std::string format_fixed(double v, int digits) {
  if (!std::isfinite(v)) return "\xE2\x80\x94";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

/// A p-value: 3 significant digits, "< 0.0001" below 1e-4; "—" when not available.
inline std::string format_p_value(double p) {
  if (!std::isfinite(p)) return "\xE2\x80\x94";
  if (p < 1e-4) return "< 0.0001";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", p);
  return buf;
}

/// A p-value as a clause of a sentence: "p = 0.0457", "p < 0.0001", "p = —" (never "p = < …").
inline std::string format_p_clause(double p) {
  const std::string v = format_p_value(p);
  return v.front() == '<' ? "p " + v : "p = " + v;
}

/// The label of a Recall@k row: "R@k", and "Upper bound" for k < 0 (MDETR's k = -1: any box).
inline std::string recall_label(int k) {
  return k < 0 ? std::string("Upper bound") : "R@" + std::to_string(k);
}

/// Longest raw answer text (in code points) a page shows; the JSON report keeps all of it.
inline constexpr std::size_t raw_answer_shown_chars = 2000;

}  // namespace groundeval::report
