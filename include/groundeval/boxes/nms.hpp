// SPDX-License-Identifier: Apache-2.0
// groundeval/boxes/nms.hpp — greedy non-maximum suppression on the CPU: class-agnostic and
// per-class (per-phrase), with IoU threshold, score threshold and a cap on the outputs.
// Target: groundeval::core (standard library only).
//
// Rules (defined once here; the CUDA NMS shares nms_suppresses()):
//  * Candidates: boxes whose score is strictly greater than score_threshold (default -Inf keeps
//    every finite score). A NaN score is an input error (groundeval::error naming its index).
//  * Visiting order: score descending, ties by index ascending (a stable sort), so the result is
//    deterministic and independent of the thread count or the platform's sort.
//  * A candidate is suppressed by an already kept box of the same class when
//    iou(kept, candidate) > iou_threshold (strict, as torchvision and maskrcnn-benchmark), using
//    groundeval::iou on the boxes grown by `legacy_offset` on x2/y2 (0 = continuous coordinates;
//    1 reproduces the "+1 pixel" IoU of maskrcnn-benchmark / GLIP ml_nms).
//  * Output: indices of the kept boxes, in visiting order (score descending, index ascending), at
//    most max_outputs of them (0 = no cap). The per-class variant merges the classes in the same
//    order, so max_outputs applies across classes (the detections-per-image cap).
#pragma once

#include <groundeval/boxes/iou.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace groundeval {

/// Options of nms() and per_class_nms().
struct nms_options {
  double iou_threshold = 0.5;  ///< suppress when IoU > this (strict)
  double score_threshold = -std::numeric_limits<double>::infinity();  ///< keep score > this
  std::size_t max_outputs = 0;                                        ///< 0: no cap
  double legacy_offset = 0.0;  ///< added to x2 and y2 before the IoU (1: the "+1 pixel" rule)
};

/// The per-pair suppression rule shared by the CPU and CUDA NMS: true when `candidate` must be
/// dropped because `kept` (a box already kept, of the same class) overlaps it by more than
/// `iou_threshold`. `offset` grows both boxes on x2/y2 (see nms_options::legacy_offset).
template <class T>
GROUNDEVAL_HD constexpr bool nms_suppresses(const box_xyxy<T>& kept, const box_xyxy<T>& candidate,
                                            T iou_threshold, T offset = T(0)) noexcept {
  const box_xyxy<T> a{kept.x1, kept.y1, kept.x2 + offset, kept.y2 + offset};
  const box_xyxy<T> b{candidate.x1, candidate.y1, candidate.x2 + offset, candidate.y2 + offset};
  return iou(a, b) > iou_threshold;
}

namespace detail {

template <class T>
void check_nms_inputs(std::size_t boxes, std::span<const T> scores, const char* what) {
  if (scores.size() != boxes)
    throw error(error_kind::invalid, std::string(what) + ": " + std::to_string(boxes) +
                                         " boxes but " + std::to_string(scores.size()) + " scores");
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (is_nan(scores[i]))
      throw error(error_kind::invalid,
                  std::string(what) + ": score of box " + std::to_string(i) + " is NaN");
}

/// Indices with score > threshold, sorted by score descending then index ascending.
template <class T>
std::vector<std::size_t> nms_order(std::span<const T> scores, double score_threshold) {
  std::vector<std::size_t> order;
  order.reserve(scores.size());
  const T thr = static_cast<T>(score_threshold);  // compared in T (0.05f for float scores)
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (scores[i] > thr) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace detail

namespace detail {

/// A uniform grid over the kept boxes so each candidate is compared only with kept boxes that
/// share a cell with it. Exact: with iou_threshold >= 0, suppression needs IoU > 0, i.e. a
/// positive-area overlap of the (grown) boxes, and two such boxes always share a cell (cell
/// indices are the same monotone floor((x - x0) / cell) for both). Boxes that are not finite or
/// have zero area can neither suppress nor be suppressed (their IoU is 0), so they stay out of the
/// grid; boxes spanning many cells go to a list that every candidate checks.
template <class T>
class nms_grid {
 public:
  nms_grid(const std::vector<box_xyxy<T>>& grown, const std::vector<std::uint8_t>& eligible) {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0, sw = 0, sh = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < grown.size(); ++i) {
      if (!eligible[i]) continue;
      const auto& g = grown[i];
      const double a = static_cast<double>(g.x1), b = static_cast<double>(g.y1),
                   c = static_cast<double>(g.x2), d = static_cast<double>(g.y2);
      if (n == 0) x0 = a, y0 = b, x1 = c, y1 = d;
      x0 = std::min(x0, a), y0 = std::min(y0, b), x1 = std::max(x1, c), y1 = std::max(y1, d);
      sw += c - a, sh += d - b, ++n;
    }
    m_x0 = x0, m_y0 = y0;
    const double ex = x1 - x0, ey = y1 - y0;
    if (n == 0 || !std::isfinite(ex) || !std::isfinite(ey)) {  // one cell: a plain scan
      m_cells.resize(1);
      return;
    }
    double cell = std::max(sw, sh) / static_cast<double>(n);
    const double limit = 4.0 * static_cast<double>(n) + 64.0;
    for (;;) {
      if (!(cell > 0) || !std::isfinite(cell)) cell = std::max(ex, ey) + 1.0;
      const double nx = std::floor(ex / cell) + 1, ny = std::floor(ey / cell) + 1;
      if (nx * ny <= limit && std::isfinite(nx * ny)) {
        m_nx = static_cast<std::size_t>(nx), m_ny = static_cast<std::size_t>(ny);
        break;
      }
      cell *= std::sqrt(nx * ny / limit) * 1.01;
    }
    m_cell = cell;
    m_cells.resize(m_nx * m_ny);
  }

  /// Cell range [ix0, ix1] x [iy0, iy1] of a grown box; false when it spans too many cells.
  bool range(const box_xyxy<T>& g, std::size_t& ix0, std::size_t& ix1, std::size_t& iy0,
             std::size_t& iy1) const noexcept {
    ix0 = index(static_cast<double>(g.x1), m_x0, m_nx),
    ix1 = index(static_cast<double>(g.x2), m_x0, m_nx);
    iy0 = index(static_cast<double>(g.y1), m_y0, m_ny),
    iy1 = index(static_cast<double>(g.y2), m_y0, m_ny);
    return (ix1 - ix0 + 1) * (iy1 - iy0 + 1) <= 64;
  }

  void insert(const box_xyxy<T>& g, std::size_t id) {
    std::size_t ix0, ix1, iy0, iy1;
    if (!range(g, ix0, ix1, iy0, iy1)) {
      m_big.push_back(id);
      return;
    }
    for (std::size_t y = iy0; y <= iy1; ++y)
      for (std::size_t x = ix0; x <= ix1; ++x) m_cells[y * m_nx + x].push_back(id);
  }

  /// Calls f(id) for every kept box that may overlap g until f returns true; returns whether
  /// it did.
  template <class F>
  bool any(const box_xyxy<T>& g, F&& f) const {
    for (const std::size_t id : m_big)
      if (f(id)) return true;
    std::size_t ix0, ix1, iy0, iy1;
    if (!range(g, ix0, ix1, iy0, iy1)) {  // a big candidate: scan every cell once
      ix0 = 0, ix1 = m_nx - 1, iy0 = 0, iy1 = m_ny - 1;
    }
    for (std::size_t y = iy0; y <= iy1; ++y)
      for (std::size_t x = ix0; x <= ix1; ++x)
        for (const std::size_t id : m_cells[y * m_nx + x])
          if (f(id)) return true;
    return false;
  }

 private:
  std::size_t index(double v, double origin, std::size_t n) const noexcept {
    const double c = std::floor((v - origin) / m_cell);
    if (!(c > 0)) return 0;
    return c >= static_cast<double>(n - 1) ? n - 1 : static_cast<std::size_t>(c);
  }
  double m_x0 = 0, m_y0 = 0, m_cell = 1;
  std::size_t m_nx = 1, m_ny = 1;
  std::vector<std::vector<std::size_t>> m_cells;
  std::vector<std::size_t> m_big;
};

/// The greedy pass shared by nms() and per_class_nms(); `classes` empty = one class.
template <class T>
std::vector<std::size_t> greedy_nms(std::span<const box_xyxy<T>> boxes, std::span<const T> scores,
                                    std::span<const std::int64_t> classes, const nms_options& opt) {
  const std::vector<std::size_t> order = nms_order(scores, opt.score_threshold);
  const T thr = static_cast<T>(opt.iou_threshold), off = static_cast<T>(opt.legacy_offset);
  const auto same_class = [&](std::size_t a, std::size_t b) {
    return classes.empty() || classes[a] == classes[b];
  };
  std::vector<std::size_t> keep;
  if (!(thr >= T(0))) {
    // A negative threshold lets non-overlapping boxes suppress each other: plain scan.
    for (const std::size_t i : order) {
      if (opt.max_outputs != 0 && keep.size() == opt.max_outputs) break;
      bool suppressed = false;
      for (const std::size_t k : keep)
        if (same_class(k, i) && nms_suppresses(boxes[k], boxes[i], thr, off)) {
          suppressed = true;
          break;
        }
      if (!suppressed) keep.push_back(i);
    }
    return keep;
  }
  std::vector<box_xyxy<T>> grown(boxes.size());
  std::vector<std::uint8_t> eligible(boxes.size(), 0);
  for (const std::size_t i : order) {
    const auto& b = boxes[i];
    grown[i] = {b.x1, b.y1, b.x2 + off, b.y2 + off};
    const T a = area(grown[i]);
    eligible[i] = is_finite(grown[i]) && a > T(0) && a - a == T(0);
  }
  nms_grid<T> grid(grown, eligible);
  for (const std::size_t i : order) {
    if (opt.max_outputs != 0 && keep.size() == opt.max_outputs) break;
    const bool suppressed = eligible[i] && grid.any(grown[i], [&](std::size_t k) {
      return same_class(k, i) && nms_suppresses(boxes[k], boxes[i], thr, off);
    });
    if (suppressed) continue;
    keep.push_back(i);
    if (eligible[i]) grid.insert(grown[i], i);
  }
  return keep;
}

}  // namespace detail

/// Class-agnostic greedy NMS; returns the kept indices, best first (see the header comment).
template <class T>
std::vector<std::size_t> nms(std::span<const box_xyxy<T>> boxes, std::span<const T> scores,
                             const nms_options& opt = {}) {
  detail::check_nms_inputs(boxes.size(), scores, "nms");
  return detail::greedy_nms<T>(boxes, scores, {}, opt);
}

/// Per-class greedy NMS: boxes suppress only boxes of the same class (e.g. the same phrase).
/// Returns the kept indices of all classes merged best first, capped at max_outputs (the same
/// result as nms() per class merged by score descending, index ascending).
template <class T>
std::vector<std::size_t> per_class_nms(std::span<const box_xyxy<T>> boxes,
                                       std::span<const T> scores,
                                       std::span<const std::int64_t> classes,
                                       const nms_options& opt = {}) {
  detail::check_nms_inputs(boxes.size(), scores, "per_class_nms");
  if (classes.size() != boxes.size())
    throw error(error_kind::invalid, "per_class_nms: " + std::to_string(boxes.size()) +
                                         " boxes but " + std::to_string(classes.size()) +
                                         " class ids");
  return detail::greedy_nms<T>(boxes, scores, classes, opt);
}

/// The textbook O(n^2) formulation used as the reference in tests: a full suppression matrix,
/// then a scan. Same rules and result as nms(); class ids optional (empty = one class).
template <class T>
std::vector<std::size_t> nms_reference(std::span<const box_xyxy<T>> boxes,
                                       std::span<const T> scores,
                                       std::span<const std::int64_t> classes,
                                       const nms_options& opt = {}) {
  detail::check_nms_inputs(boxes.size(), scores, "nms_reference");
  const std::size_t n = boxes.size();
  std::vector<std::uint8_t> sup(n * n, 0);
  const T thr = static_cast<T>(opt.iou_threshold), off = static_cast<T>(opt.legacy_offset);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      sup[i * n + j] = (classes.empty() || classes[i] == classes[j]) &&
                       nms_suppresses(boxes[i], boxes[j], thr, off);
  const std::vector<std::size_t> order = detail::nms_order(scores, opt.score_threshold);
  std::vector<std::uint8_t> removed(n, 0);
  std::vector<std::size_t> keep;
  for (const std::size_t i : order) {
    if (removed[i]) continue;
    if (opt.max_outputs != 0 && keep.size() == opt.max_outputs) break;
    keep.push_back(i);
    for (std::size_t j = 0; j < n; ++j)
      if (sup[i * n + j]) removed[j] = 1;
  }
  return keep;
}

}  // namespace groundeval
