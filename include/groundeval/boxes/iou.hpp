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

#include <cmath>

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

// ---- the kernels' form of iou_with_areas -----------------------------------------------------
//
// iou_prepared(prepare_for_iou(a), prepare_for_iou(b)) == iou(a, b) bit for bit, for every pair
// of boxes (NaN, +-Inf, -0, subnormal and huge coordinates included), in about 12 floating-point
// instructions on a GPU instead of about 20 plus a division slow path. Why it is the same value:
//  1. iou_with_areas gives +0 whenever area(a) or area(b) is 0 (zero-size, inverted or NaN
//     sides) or +Inf (overflow): min(..., 0) makes the intersection +0, or the union is Inf or
//     NaN. prepare_for_iou replaces every such box by the far-away "empty" box
//     (M, M, -M, -M), M = 2^64, with area 1, whose intersection with any box is <= 0.
//  2. Any other box has finite coordinates and a finite positive area. For two such boxes the
//     rounded sides satisfy iw <= width(a) and iw <= width(b) (rounding is monotone), likewise ih,
//     so iw * ih <= min(area(a), area(b)): the two min() with the areas in iou_with_areas never
//     change the intersection, and the union is > 0.
//  3. IEEE minNum / maxNum (FMNMX on the GPU) differ from detail::min2 / max2 only for NaN
//     operands (none left after 1) and for the sign of a zero, which only reaches the result
//     through `inter > 0`, false for either zero.
//  4. max(iw, 0) * ih is > 0 exactly when both sides are, and then equals the clamped product;
//     the division runs with numerator 1 when the result is 0, so a zero intersection (most pairs
//     of a large matrix) never takes the division's slow path. The division is IEEE (`/`).
// tests/boxes/test_iou_prepared.cpp checks the identity on millions of pairs, edge cases
// included; the CUDA tests check the kernels against the CPU drivers.

/// A box and its area, in the form iou_prepared() takes.
template <class T>
struct prepared_box {
  box_xyxy<T> box;
  T area;
};

/// The box and its area, or the empty box (M, M, -M, -M) with area 1 when area(b) is 0 or +Inf
/// (such a box has IoU +0 with every box).
template <class T>
GROUNDEVAL_HD constexpr prepared_box<T> prepare_for_iou(const box_xyxy<T>& b) noexcept {
  const T a = area(b);
  const T m = T(18446744073709551616.0);         // 2^64: far from any finite box, no overflow
  if (a > T(0) && a - a == T(0)) return {b, a};  // finite and positive
  return {{m, m, -m, -m}, T(1)};
}

namespace detail {
/// IEEE minNum / maxNum (fminf / fmaxf on the device: one FMNMX instruction).
template <class T>
GROUNDEVAL_HD T fmin_num(T a, T b) noexcept {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4)
    return ::fminf(a, b);
  else
    return ::fmin(a, b);
#else
  return std::fmin(a, b);
#endif
}
template <class T>
GROUNDEVAL_HD T fmax_num(T a, T b) noexcept {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4)
    return ::fmaxf(a, b);
  else
    return ::fmax(a, b);
#else
  return std::fmax(a, b);
#endif
}
}  // namespace detail

/// iou(a, b) for boxes from prepare_for_iou (the same bits; see above).
template <class T>
GROUNDEVAL_HD T iou_prepared(const prepared_box<T>& a, const prepared_box<T>& b) noexcept {
  const T iw = detail::fmin_num(a.box.x2, b.box.x2) - detail::fmax_num(a.box.x1, b.box.x1);
  const T ih = detail::fmin_num(a.box.y2, b.box.y2) - detail::fmax_num(a.box.y1, b.box.y1);
  const T inter = detail::fmax_num(iw, T(0)) * ih;
  const T uni = a.area + b.area - inter;
  const bool hit = inter > T(0);
  T num = hit ? inter : T(1);
#if defined(__CUDA_ARCH__)
  // Opaque to the optimizer, which would otherwise divide `inter` itself (the quotient is unused
  // when !hit) and send every zero intersection through the division's slow path.
  if constexpr (sizeof(T) == 4)
    asm("" : "+f"(num));
  else
    asm("" : "+d"(num));
#endif
  const T q = num / uni;
  return hit ? q : T(0);
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
