// SPDX-License-Identifier: Apache-2.0
// groundeval/postprocess/positive_map.hpp — phrase-to-token positive maps built from character
// spans and the tokenizer's per-token character offsets (supplied by the caller, so the library
// stays tokenizer-agnostic). Target: groundeval::core (standard library only).
//
// The rules are MDETR's `create_positive_map` (datasets/coco.py), which Grounding DINO repeats
// in `create_positive_map_from_span` (groundingdino/util/vl_utils.py); see docs/specialist.md:
//  * char_to_token(c): the first token t whose offsets satisfy begin_t <= c < end_t (special
//    tokens carry the empty offsets (0, 0) and never match); none when no token covers c or
//    c < 0 (the HF fast-tokenizer behaviour, where the Python wrapper turns negative indices into
//    an exception that MDETR's try/except maps to None).
//  * For a span [b, e): first = char_to_token(b), falling back to b + 1 then b + 2;
//    last = char_to_token(e - 1), falling back to e - 2 then e - 3.
//  * When both resolve, tokens first..last (inclusive) are positive; when either stays unresolved
//    the row stays empty (MDETR silently drops it; groundeval throws unless told otherwise).
//  * Several spans of one phrase are OR-ed (MDETR's tokens_positive lists).
// Offsets and spans must use the same unit (groundeval's spans are byte offsets into the UTF-8
// sentence; HF offsets count code points, so convert them for non-ASCII captions).
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/postprocess/score_math.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace groundeval {

/// A token's character offsets [begin, end) in the caption; special tokens use (0, 0).
struct token_offset {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend constexpr bool operator==(const token_offset&, const token_offset&) = default;
};

/// A character span [begin, end) in the caption.
struct char_span {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend constexpr bool operator==(const char_span&, const char_span&) = default;
};

/// What to do with a phrase whose span resolves to no token.
enum class unresolved_span_policy : std::uint8_t {
  error,     ///< throw groundeval::error naming the phrase (default)
  empty_row  ///< keep an all-zero row, as MDETR and Grounding DINO do (the phrase scores 0)
};

/// A binary [phrases x token_slots] map, row-major.
struct positive_map {
  std::size_t phrases = 0;
  std::size_t token_slots = 0;
  std::vector<std::uint8_t> mask;  ///< phrases * token_slots entries, 0 or 1

  bool at(std::size_t p, std::size_t t) const noexcept { return mask[p * token_slots + t] != 0; }
  /// Number of positive tokens of phrase p.
  std::size_t count(std::size_t p) const noexcept {
    std::size_t n = 0;
    for (std::size_t t = 0; t < token_slots; ++t) n += mask[p * token_slots + t];
    return n;
  }
};

/// MDETR's char_to_token on caller-supplied offsets (see the header comment). `c` is signed so
/// the fallbacks e - 2, e - 3 may go below zero (then: none).
inline std::optional<std::size_t> char_to_token(std::span<const token_offset> offsets,
                                                long long c) noexcept {
  if (c < 0) return std::nullopt;
  const auto uc = static_cast<std::size_t>(c);
  for (std::size_t t = 0; t < offsets.size(); ++t)
    if (offsets[t].begin <= uc && uc < offsets[t].end) return t;
  return std::nullopt;
}

/// The inclusive token range [first, last] of a span with MDETR's fallbacks; none when either
/// end stays unresolved or the range is reversed (which MDETR's slice also leaves empty).
inline std::optional<std::pair<std::size_t, std::size_t>> span_to_tokens(
    std::span<const token_offset> offsets, char_span s) noexcept {
  const auto b = static_cast<long long>(s.begin), e = static_cast<long long>(s.end);
  auto first = char_to_token(offsets, b);
  if (!first) first = char_to_token(offsets, b + 1);
  if (!first) first = char_to_token(offsets, b + 2);
  auto last = char_to_token(offsets, e - 1);
  if (!last) last = char_to_token(offsets, e - 2);
  if (!last) last = char_to_token(offsets, e - 3);
  if (!first || !last || *last < *first) return std::nullopt;
  return std::pair{*first, *last};
}

/// Options of build_positive_map().
struct positive_map_options {
  std::size_t token_slots = 256;  ///< text-token slots of the model (MDETR, GLIP, GDINO: 256)
  unresolved_span_policy unresolved = unresolved_span_policy::error;
  std::string item;  ///< name of the caption in error messages (e.g. "image 123 sentence 2")
};

namespace detail {
inline std::string pm_where(const positive_map_options& o) {
  return o.item.empty() ? std::string("positive map") : o.item;
}
inline void check_token_offsets(std::span<const token_offset> offsets, std::size_t caption_length,
                                const positive_map_options& o) {
  if (offsets.size() > o.token_slots)
    throw error(error_kind::invalid, pm_where(o), 0,
                std::to_string(offsets.size()) + " tokens do not fit in " +
                    std::to_string(o.token_slots) + " token slots");
  for (std::size_t t = 0; t < offsets.size(); ++t) {
    const token_offset& k = offsets[t];
    if (k.begin > k.end || k.end > caption_length)
      throw error(error_kind::invalid, pm_where(o), 0,
                  "token " + std::to_string(t) + " has offsets [" + std::to_string(k.begin) + ", " +
                      std::to_string(k.end) + ") outside the caption of " +
                      std::to_string(caption_length) + " characters");
  }
}
}  // namespace detail

/// Positive map of phrases given as groups of spans: phrase p owns spans[span_offsets[p] ..
/// span_offsets[p + 1]). Throws groundeval::error naming the item and phrase for an empty span,
/// a span outside the caption, bad token offsets, or (by default) an unresolvable span.
inline positive_map build_positive_map(std::span<const char_span> spans,
                                       std::span<const std::size_t> span_offsets,
                                       std::span<const token_offset> offsets,
                                       std::size_t caption_length,
                                       const positive_map_options& o = {}) {
  detail::check_token_offsets(offsets, caption_length, o);
  if (span_offsets.empty() || span_offsets.front() != 0 || span_offsets.back() != spans.size())
    throw error(error_kind::invalid, detail::pm_where(o), 0,
                "span offsets must start at 0 and end at the number of spans");
  positive_map pm;
  pm.phrases = span_offsets.size() - 1;
  pm.token_slots = o.token_slots;
  pm.mask.assign(pm.phrases * pm.token_slots, 0);
  for (std::size_t p = 0; p < pm.phrases; ++p) {
    if (span_offsets[p + 1] < span_offsets[p])
      throw error(error_kind::invalid, detail::pm_where(o), 0,
                  "span offsets decrease at phrase " + std::to_string(p));
    if (span_offsets[p + 1] == span_offsets[p])
      throw error(error_kind::invalid, detail::pm_where(o), 0,
                  "phrase " + std::to_string(p) + " has no character span");
    for (std::size_t k = span_offsets[p]; k < span_offsets[p + 1]; ++k) {
      const char_span s = spans[k];
      const std::string what = "phrase " + std::to_string(p) + " span [" + std::to_string(s.begin) +
                               ", " + std::to_string(s.end) + ")";
      if (s.begin >= s.end)
        throw error(error_kind::invalid, detail::pm_where(o), 0, what + " is empty");
      if (s.end > caption_length)
        throw error(
            error_kind::invalid, detail::pm_where(o), 0,
            what + " is outside the caption of " + std::to_string(caption_length) + " characters");
      const auto r = span_to_tokens(offsets, s);
      if (!r) {
        if (o.unresolved == unresolved_span_policy::error)
          throw error(error_kind::invalid, detail::pm_where(o), 0,
                      what + " covers no token (MDETR's fallbacks b+1, b+2 / e-2, e-3 included)");
        continue;
      }
      for (std::size_t t = r->first; t <= r->second; ++t) pm.mask[p * pm.token_slots + t] = 1;
    }
  }
  return pm;
}

/// One span per phrase.
inline positive_map build_positive_map(std::span<const char_span> spans,
                                       std::span<const token_offset> offsets,
                                       std::size_t caption_length,
                                       const positive_map_options& o = {}) {
  std::vector<std::size_t> so(spans.size() + 1);
  for (std::size_t i = 0; i <= spans.size(); ++i) so[i] = i;
  return build_positive_map(spans, so, offsets, caption_length, o);
}

/// Row weights of the normalized positive map of MDETR / Grounding DINO:
/// w[p, t] = mask[p, t] / (count(p) + eps), in T, computed as the references do in float32
/// (`positive_map / (positive_map.sum(-1)[:, None] + 1e-6)`). eps = 0 gives the exact mean
/// (GLIP's `.mean(-1)`); an empty row stays 0 either way.
template <class T>
std::vector<T> normalized_weights(const positive_map& pm, T eps) {
  std::vector<T> w(pm.mask.size(), T(0));
  for (std::size_t p = 0; p < pm.phrases; ++p) {
    const std::size_t n = pm.count(p);
    if (n == 0) continue;
    const T wn = detail::normalized_weight(n, eps);
    for (std::size_t t = 0; t < pm.token_slots; ++t)
      if (pm.at(p, t)) w[p * pm.token_slots + t] = wn;
  }
  return w;
}

}  // namespace groundeval
