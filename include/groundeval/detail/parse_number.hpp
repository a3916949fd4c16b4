// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/parse_number.hpp — the one strict text-to-number parser of the library:
// the whole text must be the number (no spaces, no '+', no trailing characters), values out of
// the type's range are rejected. Target: groundeval::core (standard library only).
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <optional>
#include <string_view>
#include <system_error>

namespace groundeval::detail {

/// `text` as a decimal integer of type T: an optional '-' (signed T only) then digits, nothing
/// else; nullopt when it is not one or does not fit in T.
template <std::integral T>
constexpr std::optional<T> parse_integer(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  T v{};
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

/// `text` as a finite decimal floating-point number (from_chars syntax: an optional '-', digits,
/// '.', exponent); nullopt otherwise (also for "nan", "inf" and out-of-range values).
inline std::optional<double> parse_finite_double(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace groundeval::detail
