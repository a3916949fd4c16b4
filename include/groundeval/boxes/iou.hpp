// SPDX-License-Identifier: Apache-2.0
// groundeval/boxes/iou.hpp — IoU, GIoU, DIoU and the hit rule, as constexpr GROUNDEVAL_HD
// per-element functions shared by the CPU loops and the CUDA kernels. Target: groundeval::core.
//
// Two IoU definitions, on purpose:
//  * iou(a, b) — groundeval's defined IoU, used by kernels, NMS and matching. Always in [0, 1]:
//      area(b) = max(0, x2 - x1) * max(0, y2 - y1)         (inverted or NaN sides count 0)
//      inter   = min(intersection area, area(a), area(b))   (so a NaN box never overlaps)
//      union   = area(a) + area(b) - inter
//      iou     = union > 0 ? inter / union : 0              (zero-area pairs give 0, never NaN)
//    so: a box with positive area has iou(a, a) == 1 exactly; a zero-area, inverted or NaN box has
//    IoU 0 with everything (itself included); boxes with +-Inf coordinates give 0 when the areas
//    overflow to Inf (Inf - Inf is NaN, which fails `union > 0`).
//  * reference_iou(a, b) — the arithmetic of MDETR's datasets/flickr_eval.py (numpy float64),
//    reproduced operation by operation so Recall@k matches it to the last bit: signed areas
//    (x2 - x1) * (y2 - y1), NaN-propagating max/min, intersection sides clipped at 0,
//    inter / union with no epsilon (0/0 gives NaN, x/0 gives Inf, negative unions pass through).
//    Use it only in the evaluator.
//
// The hit rule is defined once: a prediction hits when IoU >= threshold (inclusive), see iou_hit.
#pragma once

#include <groundeval/boxes/convert.hpp>

namespace groundeval {

/// Intersection area with the defined rule above (never negative, never NaN).
template <class T>
GROUNDEVAL_HD constexpr T intersection_area(const box_xyxy<T>& a, const box_xyxy<T>& b) noexcept {
  const T iw = detail::nonneg(detail::min2(a.x2, b.x2) - detail::max2(a.x1, b.x1));
  const T ih = detail::nonneg(detail::min2(a.y2, b.y2) - detail::max2(a.y1, b.y1));
  return iw * ih;
}

/// IoU of two corner boxes given their (defined) areas; the form the batched drivers use so
/// areas are computed once per box. `area_a` and `area_b` must come from area().
template <class T>
GROUNDEVAL_HD constexpr T iou_with_areas(const box_xyxy<T>& a, T area_a, const box_xyxy<T>& b,
                                         T area_b) noexcept {
  const T inter = detail::min2(detail::min2(intersection_area(a, b), area_a), area_b);
  const T uni = area_a + area_b - inter;
  // Divide unconditionally by a safe denominator, then select: branch-free, so the batched
  // drivers vectorize, and bit-identical to `uni > 0 ? inter / uni : 0`.
  const bool ok = uni > T(0);
  const T q = inter / (ok ? uni : T(1));
  return ok ? q : T(0);
}

/// groundeval's defined IoU in [0, 1] (see the header comment for degenerate boxes).
template <class T>
GROUNDEVAL_HD constexpr T iou(const box_xyxy<T>& a, const box_xyxy<T>& b) noexcept {
  return iou_with_areas(a, area(a), b, area(b));
}

/// Generalized IoU (Rezatofighi et al. 2019): iou - (C - union) / C, C = enclosing-box area.
/// In [-1, 1]; 0 when the enclosing box has zero area. Always <= iou(a, b).
template <class T>
GROUNDEVAL_HD constexpr T giou(const box_xyxy<T>& a, const box_xyxy<T>& b) noexcept {
  const T aa = area(a), ab = area(b);
  const T inter = detail::min2(detail::min2(intersection_area(a, b), aa), ab);
  const T uni = aa + ab - inter;
  const T c = area(enclose(a, b));
  const T i = uni > T(0) ? inter / uni : T(0);
  if (!(c > T(0))) return i;
  const T penalty = (c - uni) / c;
  return i - (penalty > T(0) ? penalty : T(0));  // rounding can make c - uni slightly negative
}

/// Distance IoU (Zheng et al. 2020): iou - d^2 / c^2, d = centre distance, c = enclosing-box
/// diagonal. In [-1, 1]; equals iou when the enclosing box is a point or a coordinate is NaN
/// or infinite.
template <class T>
GROUNDEVAL_HD constexpr T diou(const box_xyxy<T>& a, const box_xyxy<T>& b) noexcept {
  const T i = iou(a, b);
  const box_xyxy<T> e = enclose(a, b);
  const T cw = e.x2 - e.x1, ch = e.y2 - e.y1;
  const T c2 = cw * cw + ch * ch;
  if (!(c2 > T(0))) return i;
  const T dx = (a.x1 + a.x2 - b.x1 - b.x2) / T(2), dy = (a.y1 + a.y2 - b.y1 - b.y2) / T(2);
  const T penalty = (dx * dx + dy * dy) / c2;
  // NaN or infinite coordinates make the penalty NaN (Inf/Inf, Inf - Inf): such pairs get their
  // IoU (0), as in giou, so diou is never NaN and stays symmetric; rounding can push it past 1.
  if (detail::is_nan(penalty)) return i;
  return i - (penalty < T(1) ? penalty : T(1));
}

/// The hit rule, defined once for the whole library: IoU >= threshold (inclusive, as in
/// MDETR, GLIP, Kosmos-2, Qwen-VL and lmms-eval). A NaN IoU is never a hit.
template <class T>
GROUNDEVAL_HD constexpr bool iou_hit(T iou_value, T threshold) noexcept {
  return iou_value >= threshold;
}

namespace detail {
// numpy.maximum / numpy.minimum: NaN in either argument gives NaN.
template <class T>
GROUNDEVAL_HD constexpr T np_maximum(T a, T b) noexcept {
  return is_nan(a) ? a : (is_nan(b) ? b : (a >= b ? a : b));
}
template <class T>
GROUNDEVAL_HD constexpr T np_minimum(T a, T b) noexcept {
  return is_nan(a) ? a : (is_nan(b) ? b : (a <= b ? a : b));
}
// ndarray.clip(min=0): NaN stays NaN.
template <class T>
GROUNDEVAL_HD constexpr T np_clip0(T a) noexcept {
  return a < T(0) ? T(0) : a;
}
}  // namespace detail

/// The reference evaluator's IoU (MDETR datasets/flickr_eval.py `box_iou` in numpy float64),
/// reproduced operation by operation: `a` is the prediction, `b` the ground truth.
/// May return NaN (0/0), +-Inf or values outside [0, 1] for degenerate boxes, exactly as numpy.
inline constexpr double reference_iou(const box_xyxy<double>& a,
                                      const box_xyxy<double>& b) noexcept {
  const double area_a = (a.x2 - a.x1) * (a.y2 - a.y1);
  const double area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  const double ltx = detail::np_maximum(a.x1, b.x1), lty = detail::np_maximum(a.y1, b.y1);
  const double rbx = detail::np_minimum(a.x2, b.x2), rby = detail::np_minimum(a.y2, b.y2);
  const double w = detail::np_clip0(rbx - ltx), h = detail::np_clip0(rby - lty);
  const double inter = w * h;
  const double uni = area_a + area_b - inter;
  return inter / uni;
}

}  // namespace groundeval
