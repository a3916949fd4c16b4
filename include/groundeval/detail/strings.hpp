// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/strings.hpp — small string helpers shared by messages and option readers.
// Target: groundeval::core (standard library only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace groundeval::detail {

/// The items joined by `separator` ("a, b, c").
template <class Range>
std::string join(const Range& items, std::string_view separator = ", ") {
  std::string s;
  bool first = true;
  for (const auto& x : items) {
    if (!first) s += separator;
    first = false;
    s += std::string_view(x);
  }
  return s;
}

/// `text` without leading and trailing spaces and tabs.
inline std::string_view trim_blanks(std::string_view text) noexcept {
  const auto b = text.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = text.find_last_not_of(" \t");
  return text.substr(b, e - b + 1);
}

}  // namespace groundeval::detail
