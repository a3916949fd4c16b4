// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/metric.hpp — the Metric concept. Target: groundeval::core.
//
// A model of `Metric` accumulates over phrase predictions and can be merged, so a run can be
// split across threads, shards or machines and combined afterwards:
//   m.update(const phrase_prediction&, const phrase_truth&)  add one evaluated phrase
//   m.merge(const M&)                                        add another instance's counts
//   std::as_const(m).result()                                the current value(s), any type
//   std::as_const(m).name() -> string-like
// merge must be associative and commutative up to floating-point rounding of sums, and
// update(a..) then merge(update(b..)) must equal update(a.., b..) for integer counters.
#pragma once

#include <groundeval/concepts/grounder.hpp>

#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace groundeval {

/// Ground truth of one evaluated phrase, as a view into the data set.
struct phrase_truth {
  std::span<const box_xyxy<double>> boxes;  ///< all boxes of the chain (ANY-box protocol)
  std::span<const std::string> types;       ///< phrase types (a phrase may have several)
  image_size size;                          ///< original image size
};

/// What a grounder produced for that phrase, as a view.
struct phrase_prediction {
  std::span<const scored_box> boxes;  ///< ranked best first
  query_status status = query_status::ok;
  double latency_s = -1.0;
};

template <class M>
concept Metric = requires(M& m, const M& cm, const phrase_prediction& p, const phrase_truth& t) {
  m.update(p, t);
  m.merge(cm);
  cm.result();
  { cm.name() } -> std::convertible_to<std::string_view>;
};

}  // namespace groundeval
