// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/dataset.hpp — the Dataset concept. Target: groundeval::core.
//
// A model of `Dataset` is what evaluate() (eval/evaluate.hpp), run_grounder() (run/runner.hpp),
// compare_runs() and the query enumeration need: a sized forward range of `Sample`s (one per
// sentence, in a deterministic order) whose elements are stored, not made on the fly (its
// reference type is an lvalue reference: the evaluator and the runner keep pointers to samples
// while they work). Optional, additive capabilities:
//   NamedDataset   d.name() -> string-like (shown in reports and manifests)
//   ImageDataset   d.image_path(sample) -> string-like path of the image file on disk (the
//                  runner puts it in each request; grounders that need pixels read it)
#pragma once

#include <groundeval/concepts/sample.hpp>

#include <ranges>
#include <string_view>
#include <type_traits>
#include <utility>

namespace groundeval {

template <class D>
concept Dataset = std::ranges::forward_range<const D> && std::ranges::sized_range<const D> &&
    std::is_lvalue_reference_v<std::ranges::range_reference_t<const D>> &&
    Sample<std::ranges::range_value_t<const D>>;

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
