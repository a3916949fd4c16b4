// SPDX-License-Identifier: Apache-2.0
// groundeval/postprocess/captions.hpp — the text each specialist family feeds its model for a
// data-set caption, and where a phrase span lands in it. Target: groundeval::core (std only).
//
// Families (what their evaluation code does to the caption before tokenizing it):
//   mdetr           the caption unchanged (RoBERTa, cased; MDETR datasets/flickr.py)
//   glip            the caption unchanged (GLIP's Flickr evaluation feeds the MDETR-format
//                   caption; its BERT-uncased tokenizer lower-cases internally and reports
//                   offsets into the original text)
//   grounding-dino  Python `caption.lower().strip()`, then "." appended unless it already ends
//                   with "." (GroundingDINO groundingdino/util/inference.py preprocess_caption;
//                   the Hugging Face model card asks for the same "lowercased + ends with a dot")
//   owlv2           the phrase alone (one text query per phrase; the CLIP tokenizer lower-cases)
// Lower-casing and stripping here cover ASCII only. A caption with bytes >= 0x80 may differ from
// Python's Unicode str.lower()/strip(); `mapped_caption::exact` is then false and a pipeline must
// apply the model's own mapping (the Python exporters do, and record the result in each dump).
#pragma once

#include <groundeval/error.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

/// A caption as one family's model reads it, with one phrase's span in it (byte offsets).
struct mapped_caption {
  std::string text;
  std::size_t begin = 0;  ///< the phrase span [begin, end) in `text`
  std::size_t end = 0;
  bool exact = true;  ///< false when non-ASCII bytes make the ASCII-only mapping uncertain
};

/// The families map_caption() knows, in the order `groundeval queries` writes them.
inline constexpr std::array<std::string_view, 4> caption_families{"mdetr", "glip", "grounding-dino",
                                                                  "owlv2"};

namespace detail {
constexpr bool ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
constexpr bool has_non_ascii(std::string_view s) noexcept {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
}  // namespace detail

/// Grounding DINO's caption for `sentence` (lower-cased, stripped, "." appended when missing),
/// ASCII rules; `lead` receives the number of bytes stripped at the front.
inline std::string grounding_dino_caption(std::string_view sentence, std::size_t* lead = nullptr) {
  std::size_t a = 0, e = sentence.size();
  while (a < e && detail::ascii_space(sentence[a])) ++a;
  while (e > a && detail::ascii_space(sentence[e - 1])) --e;
  std::string out = detail::ascii_lower(sentence.substr(a, e - a));
  if (out.empty() || out.back() != '.') out += '.';
  if (lead) *lead = a;
  return out;
}

/// The caption `family` feeds its model and the span [begin, end) of the phrase in it; a config
/// error for an unknown family. The span must lie inside `sentence`.
inline mapped_caption map_caption(std::string_view family, std::string_view sentence,
                                  std::size_t begin, std::size_t end) {
  if (begin > end || end > sentence.size())
    throw error(error_kind::invalid, "map_caption: span [" + std::to_string(begin) + ", " +
                                         std::to_string(end) + ") is outside the caption of " +
                                         std::to_string(sentence.size()) + " bytes");
  if (family == "mdetr" || family == "glip") return {std::string(sentence), begin, end, true};
  if (family == "grounding-dino") {
    std::size_t lead = 0;
    mapped_caption m{grounding_dino_caption(sentence, &lead), 0, 0,
                     !detail::has_non_ascii(sentence)};
    // Stripping only removes whitespace around the words, so a phrase span moves by `lead` and
    // is clipped to the stripped text (a phrase never starts or ends in that whitespace).
    const auto clip = [&](std::size_t x) {
      const std::size_t v = x > lead ? x - lead : 0;
      return v < m.text.size() ? v : m.text.size();
    };
    m.begin = clip(begin), m.end = clip(end);
    return m;
  }
  if (family == "owlv2") {
    const std::string_view p = sentence.substr(begin, end - begin);
    return {std::string(p), 0, p.size(), true};
  }
  throw error(error_kind::config, "unknown caption family '" + std::string(family) +
                                      "' (valid: mdetr, glip, grounding-dino, owlv2)");
}

/// Number of code points in the UTF-8 bytes `s[0, byte)` (Python's str index of that byte);
/// continuation bytes are not counted, so invalid UTF-8 never throws here.
constexpr std::size_t code_point_index(std::string_view s, std::size_t byte) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < byte && i < s.size(); ++i)
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace groundeval
