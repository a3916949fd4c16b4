// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/dataset.hpp — the Dataset concept. Target: groundeval::core.
//
// A model of `Dataset` is a sized range (random access preferred) of `Sample`s, one per
// sentence, in a deterministic order. Optional, additive capabilities:
//   NamedDataset   d.name() -> string-like (shown in reports and manifests)
//   ImageDataset   d.image_path(sample) -> string-like path of the image file on disk
#pragma once

#include <groundeval/concepts/sample.hpp>

#include <ranges>
#include <string_view>
#include <utility>

namespace groundeval {

template <class D>
concept Dataset = std::ranges::sized_range<const D> && Sample<std::ranges::range_value_t<const D>>;

template <class D>
concept NamedDataset = Dataset<D> && requires(const D& d) {
  { d.name() } -> std::convertible_to<std::string_view>;
};

template <class D>
concept ImageDataset = Dataset<D> &&
    requires(const D& d, const std::ranges::range_value_t<const D>& s) {
  { d.image_path(s) } -> std::convertible_to<std::string_view>;
};

}  // namespace groundeval
