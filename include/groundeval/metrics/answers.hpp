// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/answers.hpp — how the model answered, apart from where its boxes are: query
// status counts (ok / empty / format failure / error), empty candidate lists, non-finite boxes,
// and latency statistics. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/boxes/convert.hpp>
#include <groundeval/concepts/metric.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace groundeval {

/// Counts of answer statuses and box anomalies.
struct answer_counts {
  std::uint64_t queries = 0;
  std::array<std::uint64_t, 4>
      by_status{};                ///< indexed by query_status (ok, empty, format_failure, error)
  std::uint64_t empty_lists = 0;  ///< no candidate box, whatever the status
  std::uint64_t non_finite_boxes = 0;  ///< candidate boxes with a NaN or infinite coordinate
  std::uint64_t boxes = 0;             ///< candidate boxes in total
  /// Answers with points and no box (point-answer families): misses for the box metrics, scored
  /// by the pointing game.
  std::uint64_t point_answers = 0;

  std::uint64_t count(query_status s) const { return by_status[static_cast<std::size_t>(s)]; }
};

/// Status and box-anomaly counter, a model of MeasuredMetric. Counts answered phrases only.
class answer_metric {
 public:
  /// What one answer contributes.
  struct measurement {  // the small members last: 32 bytes, not 40 (the evaluator keeps one
                        // per phrase)
    std::size_t boxes = 0;
    std::size_t non_finite = 0;
    std::size_t points = 0;
    query_status status = query_status::ok;
    bool answered = true;
  };
  measurement measure(const phrase_prediction& p, const phrase_truth&) const noexcept {
    return {.boxes = p.boxes.size(),
            .non_finite = count_non_finite(p.boxes),
            .points = p.points.size(),
            .status = p.status,
            .answered = p.answered};
  }
  void add_measured(const measurement& x, const phrase_truth& = {}) {
    if (!x.answered) return;
    add(x.status, x.boxes, x.non_finite);
    m_r.point_answers += x.boxes == 0 && x.points > 0 ? 1 : 0;
  }
  void add(const phrase_prediction& p, const phrase_truth& t) { add_measured(measure(p, t), t); }
  /// Boxes of a list with a NaN or infinite coordinate.
  static std::size_t count_non_finite(std::span<const scored_box> boxes) noexcept {
    std::size_t n = 0;
    for (const auto& b : boxes) n += is_finite(b.box) ? 0 : 1;
    return n;
  }
  /// Adds one answer from its parts.
  void add(query_status status, std::size_t boxes, std::size_t non_finite) {
    ++m_r.queries;
    const auto s = static_cast<std::size_t>(status);
    if (s < m_r.by_status.size()) ++m_r.by_status[s];
    m_r.empty_lists += boxes == 0 ? 1 : 0;
    m_r.boxes += boxes;
    m_r.non_finite_boxes += non_finite;
  }
  void merge(const answer_metric& o) {
    m_r.queries += o.m_r.queries;
    for (std::size_t i = 0; i < m_r.by_status.size(); ++i) m_r.by_status[i] += o.m_r.by_status[i];
    m_r.empty_lists += o.m_r.empty_lists;
    m_r.non_finite_boxes += o.m_r.non_finite_boxes;
    m_r.boxes += o.m_r.boxes;
    m_r.point_answers += o.m_r.point_answers;
  }
  const answer_counts& result() const noexcept { return m_r; }
  std::string_view name() const noexcept { return "answers"; }

 private:
  answer_counts m_r;
};

/// Latency summary. Percentiles use the nearest-rank rule on the sorted latencies:
/// p_q = sorted[ceil(q * n) - 1]. queries_per_s = count / total (sequential throughput).
struct latency_summary {
  std::uint64_t count = 0;  ///< queries with a measured latency
  double total_s = 0, mean_s = 0, p50_s = 0, p95_s = 0, max_s = 0, queries_per_s = 0;
};

/// Nearest-rank percentile of sorted values (q in (0, 1]); NaN for an empty input.
inline double nearest_rank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double r = std::ceil(q * static_cast<double>(sorted.size()));
  std::size_t i = r < 1 ? 0 : static_cast<std::size_t>(r) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

/// Latency statistics over queries whose latency was recorded (latency_s >= 0), a model of
/// Metric. Keeps every value so percentiles stay exact after merge.
class latency_metric {
 public:
  using measurement = double;  ///< seconds, negative when not measured or not answered
  double measure(const phrase_prediction& p, const phrase_truth&) const noexcept {
    return p.answered ? p.latency_s : -1.0;
  }
  void add_measured(double latency_s, const phrase_truth& = {}) {
    if (latency_s >= 0 && std::isfinite(latency_s)) m_values.push_back(latency_s);
  }
  void add(const phrase_prediction& p, const phrase_truth& t) { add_measured(measure(p, t), t); }
  void merge(const latency_metric& o) {
    m_values.insert(m_values.end(), o.m_values.begin(), o.m_values.end());
  }
  latency_summary result() const {
    latency_summary s;
    if (m_values.empty()) return s;
    std::vector<double> v = m_values;
    std::sort(v.begin(), v.end());
    s.count = v.size();
    for (double x : v) s.total_s += x;
    s.mean_s = s.total_s / static_cast<double>(v.size());
    s.p50_s = nearest_rank(v, 0.5);
    s.p95_s = nearest_rank(v, 0.95);
    s.max_s = v.back();
    s.queries_per_s = s.total_s > 0 ? static_cast<double>(v.size()) / s.total_s : 0.0;
    return s;
  }
  std::string_view name() const noexcept { return "latency"; }

 private:
  std::vector<double> m_values;
};

static_assert(MeasuredMetric<answer_metric>);
static_assert(MeasuredMetric<latency_metric>);

}  // namespace groundeval
