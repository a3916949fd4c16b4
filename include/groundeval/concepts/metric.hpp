// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/metric.hpp — the Metric concept: the one protocol of the built-in metrics
// (Recall@k, localization, answers, latency) and of user metrics. Target: groundeval::core.
//
// A model of `Metric` is a copyable accumulator over evaluated phrases:
//   m.add(const phrase_prediction&, const phrase_truth&)   add one evaluated phrase
//   m.merge(const M&)                                      add another instance's phrases
//   std::as_const(m).result()                              the value(s), any type
//   std::as_const(m).name() -> string-like                 its key in reports
// A copy of a metric that has seen nothing is an empty partial state: evaluate() gives each
// block of phrases (and each thread) its own copy and merges them, so merge must be associative,
// and the result must not depend on how phrases are split into blocks beyond the rounding of
// floating-point sums. A phrase without a valid answer in the run (phrase_prediction::answered
// false) is still added, so a metric decides whether it counts as a miss.
//
// Optional refinement, for results that must not depend even on rounding order (the built-in
// metrics are all of this kind):
//   MeasuredMetric  M::measurement, m.measure(p, t) const -> measurement (pure: called from any
//                   thread as soon as the answer is read), m.add_measured(x, t). The evaluator
//                   keeps one measurement per phrase and adds them in data-set order.
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
  /// False when the run has no (valid) answer for the phrase: missing, or malformed and counted
  /// as a miss; then `boxes` is empty and `status` is error.
  bool answered = true;
  /// The whole answer (raw text, message, geometry, ...) when it came from a per-phrase record
  /// (JSON Lines); nullptr for MDETR-layout lists and phrases without an answer.
  const query_result* answer = nullptr;
  /// Points ranked best first (point-answer families; empty otherwise): box metrics ignore them.
  std::span<const answer_point> points{};
};

template <class M>
concept Metric = std::copy_constructible<M> &&
    requires(M& m, const M& cm, const phrase_prediction& p, const phrase_truth& t) {
  m.add(p, t);
  m.merge(cm);
  cm.result();
  { cm.name() } -> std::convertible_to<std::string_view>;
};

template <class M>
concept MeasuredMetric = Metric<M> &&
    requires(M& m, const M& cm, const phrase_prediction& p, const phrase_truth& t) {
  typename M::measurement;
  { cm.measure(p, t) } -> std::same_as<typename M::measurement>;
  m.add_measured(std::declval<const typename M::measurement&>(), t);
};

}  // namespace groundeval
