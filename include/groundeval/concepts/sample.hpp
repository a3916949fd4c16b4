// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/sample.hpp — what one annotated sentence looks like to the library.
// Target: groundeval::core (standard library only).
//
// A model of `Phrase` provides, as data members:
//   text        the phrase words, convertible to std::string_view
//   chain_id    the coreference chain ("entity") id, convertible to std::string_view ("0" = none)
//   types       a range of type names (Flickr30k Entities: people, clothing, ..., notvisual)
//   boxes       a range of box_xyxy<double>: every ground-truth box of the chain (ANY-box
//               protocol), in original-image pixels; empty when the phrase is not evaluable
//   char_begin, char_end   the phrase's character span [begin, end) in the sample's sentence
// A model of `Sample` provides, as data members:
//   image_id (string-like), size (image_size), sentence_index (integral, 0-based), sentence
//   (string-like), phrases (a forward range of Phrase, read more than once).
// Members may be any types convertible as stated: the evaluator views boxes stored contiguously
// as box_xyxy<double> and types stored contiguously as std::string in place, and copies others.
// groundeval::phrase and groundeval::sample (datasets/in_memory.hpp) are the library's models.
#pragma once

#include <groundeval/boxes/box.hpp>

#include <concepts>
#include <cstddef>
#include <ranges>
#include <string_view>
#include <type_traits>

namespace groundeval {

/// A range whose elements convert to std::string_view.
template <class R>
concept StringRange = std::ranges::range<R> &&
    std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

/// A range of ground-truth boxes in double precision (the evaluator never rounds to float).
template <class R>
concept BoxRange = std::ranges::range<R> &&
    std::same_as<std::remove_cvref_t<std::ranges::range_reference_t<R>>, box_xyxy<double>>;

template <class P>
concept Phrase = requires(const P& p) {
  { p.text } -> std::convertible_to<std::string_view>;
  { p.chain_id } -> std::convertible_to<std::string_view>;
  { p.char_begin } -> std::convertible_to<std::size_t>;
  { p.char_end } -> std::convertible_to<std::size_t>;
  requires StringRange<const std::remove_cvref_t<decltype(p.types)>>;
  requires BoxRange<const std::remove_cvref_t<decltype(p.boxes)>>;
};

template <class S>
concept Sample = requires(const S& s) {
  { s.image_id } -> std::convertible_to<std::string_view>;
  { s.size } -> std::convertible_to<image_size>;
  { s.sentence_index } -> std::convertible_to<long long>;
  { s.sentence } -> std::convertible_to<std::string_view>;
  requires std::ranges::forward_range<const std::remove_cvref_t<decltype(s.phrases)>>;
  requires Phrase<std::ranges::range_value_t<const std::remove_cvref_t<decltype(s.phrases)>>>;
};

/// A phrase is evaluable when its chain has at least one ground-truth box (MDETR's rule).
template <Phrase P>
constexpr bool is_evaluable(const P& p) {
  return !std::ranges::empty(p.boxes);
}

/// A sample takes part in evaluation when at least one of its phrases is evaluable.
template <Sample S>
constexpr bool has_evaluable_phrase(const S& s) {
  for (const auto& p : s.phrases)
    if (is_evaluable(p)) return true;
  return false;
}

}  // namespace groundeval
