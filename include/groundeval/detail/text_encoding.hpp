// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/text_encoding.hpp — encoding checks of the text loaders (private helper):
// UTF-8 byte-order mark, UTF-16 text, invalid UTF-8. Target: groundeval::core.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval::detail {

/// Drops a leading UTF-8 byte-order mark (EF BB BF); true when there was one.
inline bool strip_utf8_bom(std::string_view& s) noexcept {
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") {
    s.remove_prefix(3);
    return true;
  }
  return false;
}

/// A message when `s` starts with a UTF-16 byte-order mark, else empty.
inline std::string utf16_problem(std::string_view s) {
  if (s.size() >= 2 && ((s[0] == '\xFF' && s[1] == '\xFE') || (s[0] == '\xFE' && s[1] == '\xFF')))
    return std::string("UTF-16 text (byte-order mark ") + (s[0] == '\xFF' ? "FF FE" : "FE FF") +
           "); save the file as UTF-8";
  return {};
}

/// Index of the first byte of `s` that is not part of well-formed UTF-8, or npos.
inline std::size_t first_invalid_utf8(std::string_view s) noexcept {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// `s` with each byte that is not part of well-formed UTF-8 replaced by U+FFFD (so text from a
/// model can always be written as JSON).
inline std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (;;) {
    const std::size_t bad = first_invalid_utf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      return out;
    }
    out.append(s.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    s.remove_prefix(bad + 1);
  }
}

/// "not UTF-8 (byte 0xE9 at column 23); save the file as UTF-8" for the first bad byte of
/// `line`, or empty when the line is valid UTF-8.
inline std::string utf8_line_problem(std::string_view line) {
  const std::size_t at = first_invalid_utf8(line);
  if (at == std::string_view::npos) return {};
  static const char hex[] = "0123456789ABCDEF";
  const auto b = static_cast<unsigned char>(line[at]);
  return std::string("not UTF-8 (byte 0x") + hex[b >> 4] + hex[b & 15] + " at column " +
         std::to_string(at + 1) + "); save the file as UTF-8";
}

}  // namespace groundeval::detail
