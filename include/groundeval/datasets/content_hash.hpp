// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/content_hash.hpp — a content hash of a data set: what a run is evaluated
// on (image ids, sizes, sentences, phrases, types, spans, boxes), independent of the files it was
// loaded from. Run manifests record it ("dataset_content_hash"). Target: groundeval::core.
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/detail/hash.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// 16 lower-case hex digits of `v`.
inline std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace detail {

/// Mixes one sample's fields into the FNV-1a 64 state `h` (see dataset_content_hash).
template <class Sample>
std::uint64_t mix_sample(std::uint64_t h, const Sample& s) {
  auto mix = [&](std::string_view v) {
    h = fnv1a64(v, h);
    h = fnv1a64(std::string_view("\x1f", 1), h);
  };
  auto num = [&](double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    mix(buf);
  };
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
  return h;
}

}  // namespace detail

/// FNV-1a 64 over every sample's fields, each followed by a 0x1F separator (numbers as %.17g),
/// each phrase closed by "|"; 16 hex digits. Fixed by this definition: equal data, equal hash on
/// every platform and version.
template <Dataset D>
std::string dataset_content_hash(const D& data) {
  std::uint64_t h = detail::fnv1a64("");
  for (const auto& s : data) h = detail::mix_sample(h, s);
  return hex64(h);
}

/// The same data in any order, one hash: FNV-1a 64 over the sorted per-sample hashes (each
/// sample's fields as in dataset_content_hash). Run manifests record it ("dataset_set_hash") so
/// that a run resumes on a reordered split list (queries are matched by key, not position).
template <Dataset D>
std::string dataset_set_hash(const D& data) {
  std::vector<std::uint64_t> each;
  for (const auto& s : data) each.push_back(detail::mix_sample(detail::fnv1a64(""), s));
  std::sort(each.begin(), each.end());
  std::uint64_t h = detail::fnv1a64("");
  for (const std::uint64_t v : each) h = detail::fnv1a64(hex64(v), h);
  return hex64(h);
}

}  // namespace groundeval
