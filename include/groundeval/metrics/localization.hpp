// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/localization.hpp — top-1 localization quality: mean IoU, accuracy at IoU
// thresholds and averaged over 0.5:0.95, the pointing game, and a breakdown by ground-truth size.
// Target: groundeval::core (standard library only).
//
// These use groundeval's defined IoU (boxes/iou.hpp `iou`, always in [0, 1], never NaN), not the
// reference arithmetic: the top-1 IoU of a phrase is max over its ground truth (all boxes under
// ANY-box, the enclosing box under MERGED-box) of iou(top-1 prediction, gt), and 0 when the
// candidate list is empty. Recall@k (recall.hpp) stays the reference-exact headline number.
#pragma once

#include <groundeval/boxes/iou.hpp>
#include <groundeval/concepts/metric.hpp>
#include <groundeval/error.hpp>
#include <groundeval/metrics/pointing.hpp>
#include <groundeval/metrics/recall.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace groundeval {

/// Ground-truth size buckets: area of the phrase's enclosing GT box relative to the image area.
enum class size_bucket : std::uint8_t {
  small,    ///< relative area < 0.05
  medium,   ///< 0.05 <= relative area < 0.25
  large,    ///< relative area >= 0.25
  unknown,  ///< image size not known (width or height <= 0)
};
inline constexpr std::size_t size_bucket_count = 4;
inline constexpr double size_bucket_small_below = 0.05;
inline constexpr double size_bucket_large_from = 0.25;

constexpr std::string_view to_string(size_bucket b) noexcept {
  switch (b) {
    case size_bucket::small:
      return "small";
    case size_bucket::medium:
      return "medium";
    case size_bucket::large:
      return "large";
    case size_bucket::unknown:
      return "unknown";
  }
  return "unknown";
}

/// Bucket of a phrase's ground truth (see size_bucket). `gt` must be non-empty.
inline size_bucket classify_size(std::span<const box_xyxy<double>> gt, image_size size) noexcept {
  if (size.width <= 0 || size.height <= 0 || gt.empty()) return size_bucket::unknown;
  const double rel = area(enclose(gt.data(), gt.size())) /
                     (static_cast<double>(size.width) * static_cast<double>(size.height));
  if (rel < size_bucket_small_below) return size_bucket::small;
  if (rel < size_bucket_large_from) return size_bucket::medium;
  return size_bucket::large;
}

/// Top-1 IoU (defined IoU) of a phrase under a protocol; 0 for an empty candidate list.
inline double top1_iou(std::span<const scored_box> preds, std::span<const box_xyxy<double>> gt,
                       gt_protocol protocol) noexcept {
  if (preds.empty() || gt.empty()) return 0.0;
  const box_xyxy<double>& p = preds.front().box;
  if (protocol == gt_protocol::merged_box) return iou(p, enclose(gt.data(), gt.size()));
  double best = 0.0;
  for (const auto& g : gt) best = std::max(best, iou(p, g));
  return best;
}

/// Pointing game: the top-1 box centre lies inside (edges inclusive) a GT box of the protocol.
inline bool pointing_hit(std::span<const scored_box> preds, std::span<const box_xyxy<double>> gt,
                         gt_protocol protocol) noexcept {
  if (preds.empty() || gt.empty()) return false;
  double cx = 0, cy = 0;
  center(preds.front().box, cx, cy);
  if (protocol == gt_protocol::merged_box) return contains(enclose(gt.data(), gt.size()), cx, cy);
  for (const auto& g : gt)
    if (contains(g, cx, cy)) return true;
  return false;
}

/// The fixed IoU thresholds reported individually and the COCO-style 0.50:0.05:0.95 set.
inline constexpr std::array<double, 5> localization_thresholds{0.1, 0.3, 0.5, 0.7, 0.9};
inline constexpr std::array<double, 10> coco_thresholds{0.5,  0.55, 0.6,  0.65, 0.7,
                                                        0.75, 0.8,  0.85, 0.9,  0.95};

/// Counts of one size bucket.
struct size_bucket_counts {
  std::uint64_t phrases = 0;
  std::uint64_t top1_hits = 0;  ///< top-1 IoU >= 0.5 (defined IoU)
  double iou_sum = 0.0;
};

/// Accumulated localization counts; the derived values are member functions.
struct localization_result {
  std::uint64_t phrases = 0;
  double iou_sum = 0.0;
  std::array<std::uint64_t, localization_thresholds.size()> at_threshold{};
  std::array<std::uint64_t, coco_thresholds.size()> at_coco{};
  std::uint64_t pointing_hits = 0;
  std::array<size_bucket_counts, size_bucket_count> buckets{};

  static double ratio(double a, std::uint64_t n) {
    return n ? a / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  }
  double mean_iou() const { return ratio(iou_sum, phrases); }
  /// Accuracy at localization_thresholds[i].
  double accuracy(std::size_t i) const { return ratio(double(at_threshold[i]), phrases); }
  /// Mean of the accuracies at the ten COCO thresholds 0.5:0.95.
  double accuracy_coco() const {
    if (!phrases) return std::numeric_limits<double>::quiet_NaN();
    double s = 0;
    for (auto c : at_coco) s += static_cast<double>(c) / static_cast<double>(phrases);
    return s / static_cast<double>(at_coco.size());
  }
  double pointing_accuracy() const { return ratio(double(pointing_hits), phrases); }
};

/// Top-1 localization metric, a model of MeasuredMetric. A phrase without an answer counts with
/// IoU 0 (and in its ground truth's size bucket).
class localization_metric {
 public:
  explicit localization_metric(gt_protocol protocol = gt_protocol::any_box)
      : m_protocol(protocol) {}

  /// What one phrase contributes (computed independently of the accumulated state, so the
  /// evaluator can measure phrases in parallel and add them in a fixed order).
  struct top1_measure {
    double iou = 0.0;
    bool pointing = false;
    size_bucket bucket = size_bucket::unknown;
  };
  using measurement = top1_measure;

  static top1_measure measure(const phrase_prediction& p, const phrase_truth& t,
                              gt_protocol protocol) noexcept {
    if (!p.answered) return {0.0, false, classify_size(t.boxes, t.size)};
    // The pointing game's top point: the top-1 box centre, or a point answer's first point.
    double x = 0, y = 0;
    const bool pointed = top_point(p, x, y) != point_source::none;
    return {top1_iou(p.boxes, t.boxes, protocol),
            pointed && point_in_truth(x, y, t.boxes, protocol), classify_size(t.boxes, t.size)};
  }
  top1_measure measure(const phrase_prediction& p, const phrase_truth& t) const noexcept {
    return measure(p, t, m_protocol);
  }
  /// Adds one phrase; returns its top-1 IoU.
  double add(const phrase_prediction& p, const phrase_truth& t) {
    const top1_measure m = measure(p, t);
    add_measured(m, t);
    return m.iou;
  }
  /// Adds a measured phrase.
  void add_measured(const top1_measure& m, const phrase_truth& = {}) {
    const double v = m.iou;
    auto& r = m_result;
    ++r.phrases;
    r.iou_sum += v;
    for (std::size_t i = 0; i < localization_thresholds.size(); ++i)
      r.at_threshold[i] += iou_hit(v, localization_thresholds[i]) ? 1 : 0;
    for (std::size_t i = 0; i < coco_thresholds.size(); ++i)
      r.at_coco[i] += iou_hit(v, coco_thresholds[i]) ? 1 : 0;
    r.pointing_hits += m.pointing ? 1 : 0;
    auto& b = r.buckets[static_cast<std::size_t>(m.bucket)];
    ++b.phrases;
    b.top1_hits += iou_hit(v, 0.5) ? 1 : 0;
    b.iou_sum += v;
  }
  gt_protocol protocol() const noexcept { return m_protocol; }

  void merge(const localization_metric& o) {
    if (o.m_protocol != m_protocol)
      throw error(error_kind::config, "localization: cannot merge results of another protocol");
    auto& r = m_result;
    const auto& s = o.m_result;
    r.phrases += s.phrases;
    r.iou_sum += s.iou_sum;
    for (std::size_t i = 0; i < r.at_threshold.size(); ++i) r.at_threshold[i] += s.at_threshold[i];
    for (std::size_t i = 0; i < r.at_coco.size(); ++i) r.at_coco[i] += s.at_coco[i];
    r.pointing_hits += s.pointing_hits;
    for (std::size_t i = 0; i < r.buckets.size(); ++i) {
      r.buckets[i].phrases += s.buckets[i].phrases;
      r.buckets[i].top1_hits += s.buckets[i].top1_hits;
      r.buckets[i].iou_sum += s.buckets[i].iou_sum;
    }
  }

  const localization_result& result() const noexcept { return m_result; }
  std::string_view name() const noexcept { return "localization"; }

 private:
  gt_protocol m_protocol;
  localization_result m_result;
};

static_assert(MeasuredMetric<localization_metric>);

}  // namespace groundeval
