// SPDX-License-Identifier: Apache-2.0
// groundeval/report/palette.hpp — the colours shared by the SVG charts and the PNG overlays, so a
// run has the same colour everywhere. Target: groundeval::core (standard library only).
//
// Okabe-Ito colour-blind-safe palette; ground truth is always green, runs cycle through the rest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace groundeval::report {

struct rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend constexpr bool operator==(const rgb&, const rgb&) = default;
};

/// The colour of ground-truth boxes (Okabe-Ito bluish green).
inline constexpr rgb ground_truth_color{0x00, 0x9E, 0x73};

/// Run colours in order: blue, vermillion, reddish purple, orange, sky blue, yellow, black.
inline constexpr std::array<rgb, 7> run_palette{
    rgb{0x00, 0x72, 0xB2}, rgb{0xD5, 0x5E, 0x00}, rgb{0xCC, 0x79, 0xA7}, rgb{0xE6, 0x9F, 0x00},
    rgb{0x56, 0xB4, 0xE9}, rgb{0xF0, 0xE4, 0x42}, rgb{0x00, 0x00, 0x00}};

/// The colour of the i-th run of a report.
constexpr rgb run_color(std::size_t i) noexcept { return run_palette[i % run_palette.size()]; }

/// "#rrggbb".
inline std::string to_hex(rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

}  // namespace groundeval::report
