// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/subsample.hpp — seeded, deterministic sub-sampling of a data set by image
// or by phrase. Target: groundeval::core (standard library only).
//
// The choice depends only on the seed and the identities of the items (image id; image id,
// sentence index and phrase position), never on the standard library's random distributions,
// the order of the data set, the thread count or the platform: every item gets the key
//   key = splitmix64_mix(fnv1a64(identity) ^ splitmix64_mix(seed + 0x9e3779b97f4a7c15))
// and the n items with the smallest (key, identity) are kept. A superset data set (e.g. the
// whole split vs. a split missing some images) keeps the same relative choice.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/detail/hash.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

namespace groundeval {

namespace detail {

/// The selection key of an item identity under a seed.
constexpr std::uint64_t selection_key(std::uint64_t seed, std::string_view identity) noexcept {
  return splitmix64_mix(fnv1a64(identity) ^ splitmix64_mix(seed + 0x9e3779b97f4a7c15ULL));
}

/// Identity string of a phrase: "<image_id>#<sentence_index>#<phrase position in the sentence>".
inline std::string phrase_identity(const sample& s, std::size_t k) {
  return s.image_id + '#' + std::to_string(s.sentence_index) + '#' + std::to_string(k);
}

/// Indices of the n smallest (key, identity) pairs.
inline std::vector<std::size_t> smallest_keys(
    const std::vector<std::pair<std::uint64_t, std::string>>& items, std::size_t n) {
  std::vector<std::size_t> idx(items.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  if (n >= idx.size()) return idx;
  auto less = [&](std::size_t a, std::size_t b) { return items[a] < items[b]; };
  std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(), less);
  idx.resize(n);
  return idx;
}

}  // namespace detail

/// The `n` image ids chosen by `seed` among the distinct ids of `ids` (all if n >= their number),
/// in the order of `ids`. The same choice as subsample_images on a data set with these images, so
/// a caller can select before loading (e.g. load only the chosen images of a split).
inline std::vector<std::string> select_image_ids(const std::vector<std::string>& ids, std::size_t n,
                                                 std::uint64_t seed) {
  std::vector<std::pair<std::uint64_t, std::string>> items;
  std::unordered_set<std::string_view> seen;
  for (const std::string& id : ids)
    if (seen.insert(id).second) items.emplace_back(detail::selection_key(seed, id), id);
  std::vector<std::size_t> chosen = detail::smallest_keys(items, n);
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::string> out;
  out.reserve(chosen.size());
  for (const std::size_t i : chosen) out.push_back(std::move(items[i].second));
  return out;
}

/// Keeps the sentences of `n` images chosen by `seed` (all images if n >= their number), in the
/// data set's order. The name gets a suffix "[images=n,seed=s]".
inline in_memory_dataset subsample_images(const in_memory_dataset& ds, std::size_t n,
                                          std::uint64_t seed) {
  std::vector<std::string> ids;
  std::unordered_set<std::string_view> seen;
  for (const sample& s : ds)
    if (seen.insert(s.image_id).second) ids.push_back(s.image_id);
  std::unordered_set<std::string> keep;
  for (std::string& id : select_image_ids(ids, n, seed)) keep.insert(std::move(id));
  std::vector<sample> out;
  for (const sample& s : ds)
    if (keep.count(s.image_id)) out.push_back(s);
  return in_memory_dataset(
      ds.name() + "[images=" + std::to_string(n) + ",seed=" + std::to_string(seed) + "]",
      std::move(out), ds.image_dir());
}

/// Keeps `n` evaluable phrase occurrences chosen by `seed` (all if n >= their number). The other
/// phrases stay in their sentences (the caption is unchanged) but lose their boxes, so they are
/// not evaluated; sentences without a chosen phrase are dropped. Order is preserved.
inline in_memory_dataset subsample_phrases(const in_memory_dataset& ds, std::size_t n,
                                           std::uint64_t seed) {
  std::vector<std::pair<std::uint64_t, std::string>> items;
  std::vector<std::pair<std::size_t, std::size_t>> where;
  for (std::size_t i = 0; i < ds.size(); ++i)
    for (std::size_t k = 0; k < ds[i].phrases.size(); ++k)
      if (!ds[i].phrases[k].boxes.empty()) {
        std::string id = detail::phrase_identity(ds[i], k);
        items.emplace_back(detail::selection_key(seed, id), std::move(id));
        where.emplace_back(i, k);
      }
  std::vector<std::vector<char>> chosen(ds.size());
  for (std::size_t i = 0; i < ds.size(); ++i) chosen[i].assign(ds[i].phrases.size(), 0);
  for (const std::size_t j : detail::smallest_keys(items, n))
    chosen[where[j].first][where[j].second] = 1;
  std::vector<sample> out;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (std::find(chosen[i].begin(), chosen[i].end(), 1) == chosen[i].end()) continue;
    sample s = ds[i];
    for (std::size_t k = 0; k < s.phrases.size(); ++k)
      if (!chosen[i][k]) s.phrases[k].boxes.clear();
    out.push_back(std::move(s));
  }
  return in_memory_dataset(
      ds.name() + "[phrases=" + std::to_string(n) + ",seed=" + std::to_string(seed) + "]",
      std::move(out), ds.image_dir());
}

}  // namespace groundeval
