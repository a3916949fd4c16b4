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
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace groundeval::report {

/// Escapes text for HTML and SVG element content and quoted attribute values: & < > " ' become
/// character references; control characters other than tab and newline become U+FFFD.
inline std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

/// Escapes text for a Markdown table cell or paragraph: backslash ` * _ [ ] | ~ are escaped,
/// < > & become character references (so no raw HTML gets through), line breaks become spaces.
inline std::string markdown_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '|':
      case '~':
        out += '\\';
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
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

}  // namespace groundeval::report
