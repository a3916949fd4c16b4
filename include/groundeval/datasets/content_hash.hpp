// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/content_hash.hpp — a content hash of a data set: what a run is evaluated
// on (image ids, sizes, sentences, phrases, types, spans, boxes), independent of the files it was
// loaded from. Run manifests record it ("dataset_content_hash"). Target: groundeval::core.
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/detail/hash.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace groundeval {

/// 16 lower-case hex digits of `v`.
inline std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// FNV-1a 64 over every sample's fields, each followed by a 0x1F separator (numbers as %.17g),
/// each phrase closed by "|"; 16 hex digits. Fixed by this definition: equal data, equal hash on
/// every platform and version.
template <Dataset D>
std::string dataset_content_hash(const D& data) {
  std::uint64_t h = detail::fnv1a64("");
  auto mix = [&](std::string_view s) {
    h = detail::fnv1a64(s, h);
    h = detail::fnv1a64(std::string_view("\x1f", 1), h);
  };
  auto num = [&](double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    mix(buf);
  };
  for (const auto& s : data) {
    mix(std::string_view(s.image_id));
    num(static_cast<double>(s.size.width));
    num(static_cast<double>(s.size.height));
    num(static_cast<double>(s.sentence_index));
    mix(std::string_view(s.sentence));
    for (const auto& p : s.phrases) {
      mix(std::string_view(p.text));
      mix(std::string_view(p.chain_id));
      for (const auto& t : p.types) mix(std::string_view(t));
      num(static_cast<double>(p.char_begin));
      num(static_cast<double>(p.char_end));
      for (const auto& b : p.boxes) {
        num(b.x1);
        num(b.y1);
        num(b.x2);
        num(b.y2);
      }
      mix("|");
    }
  }
  return hex64(h);
}

}  // namespace groundeval
