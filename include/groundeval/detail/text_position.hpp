// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/text_position.hpp — where a byte offset lies in a text, for error messages
// that name FILE:LINE. Target: groundeval::core (standard library only).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace groundeval::detail {

/// The 1-based line of byte `pos` in `text` (the line count of the text when `pos` is past its
/// end).
inline std::size_t line_of(std::string_view text, std::size_t pos) noexcept {
  pos = std::min(pos, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

}  // namespace groundeval::detail
