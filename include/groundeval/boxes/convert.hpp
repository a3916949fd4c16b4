// SPDX-License-Identifier: Apache-2.0
// groundeval/boxes/convert.hpp — conversions between box forms, normalized <-> pixel, area,
// clipping, intersection and enclosing box. Every function is constexpr GROUNDEVAL_HD so the
// CUDA kernels run exactly this code. Target: groundeval::core.
#pragma once

#include <groundeval/boxes/box.hpp>

namespace groundeval {

// ---- form conversions --------------------------------------------------------------------

template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> to_xyxy(const box_xywh<T>& b) noexcept {
  return {b.x, b.y, b.x + b.w, b.y + b.h};
}
/// Centre form to corners: x1 = cx - w/2, x2 = cx + w/2 (the DETR / MDETR decode).
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> to_xyxy(const box_cxcywh<T>& b) noexcept {
  const T hw = b.w / T(2), hh = b.h / T(2);
  return {b.cx - hw, b.cy - hh, b.cx + hw, b.cy + hh};
}
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> to_xyxy(const box_xyxy<T>& b) noexcept {
  return b;
}
template <class T>
GROUNDEVAL_HD constexpr box_xywh<T> to_xywh(const box_xyxy<T>& b) noexcept {
  return {b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1};
}
template <class T>
GROUNDEVAL_HD constexpr box_cxcywh<T> to_cxcywh(const box_xyxy<T>& b) noexcept {
  return {(b.x1 + b.x2) / T(2), (b.y1 + b.y2) / T(2), b.x2 - b.x1, b.y2 - b.y1};
}

/// Element type conversion, e.g. box_cast<double>(box_xyxy<float>{...}).
template <class U, class T>
GROUNDEVAL_HD constexpr box_xyxy<U> box_cast(const box_xyxy<T>& b) noexcept {
  return {static_cast<U>(b.x1), static_cast<U>(b.y1), static_cast<U>(b.x2), static_cast<U>(b.y2)};
}

// ---- normalized <-> pixel ----------------------------------------------------------------

/// [0,1]-normalized corners to pixels of an image of size (w, h).
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> to_pixels(const box_xyxy<T>& b, T w, T h) noexcept {
  return {b.x1 * w, b.y1 * h, b.x2 * w, b.y2 * h};
}
/// Pixel corners to [0,1]-normalized ones for an image of size (w, h); w, h must be > 0.
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> to_normalized(const box_xyxy<T>& b, T w, T h) noexcept {
  return {b.x1 / w, b.y1 / h, b.x2 / w, b.y2 / h};
}

// ---- measures ----------------------------------------------------------------------------

template <class T>
GROUNDEVAL_HD constexpr T width(const box_xyxy<T>& b) noexcept {
  return b.x2 - b.x1;
}
template <class T>
GROUNDEVAL_HD constexpr T height(const box_xyxy<T>& b) noexcept {
  return b.y2 - b.y1;
}
/// Area with inverted sides counted as 0; never negative or NaN (a NaN side, or 0 x Inf,
/// gives 0).
template <class T>
GROUNDEVAL_HD constexpr T area(const box_xyxy<T>& b) noexcept {
  return detail::nonneg(detail::nonneg(b.x2 - b.x1) * detail::nonneg(b.y2 - b.y1));
}
/// True when all four coordinates are finite (not NaN, not +-Inf).
template <class T>
GROUNDEVAL_HD constexpr bool is_finite(const box_xyxy<T>& b) noexcept {
  const auto fin = [](T v) { return v == v && v - v == v - v; };  // Inf - Inf is NaN
  return fin(b.x1) && fin(b.y1) && fin(b.x2) && fin(b.y2);
}
/// Finite with x1 <= x2 and y1 <= y2 (zero area allowed).
template <class T>
GROUNDEVAL_HD constexpr bool is_valid(const box_xyxy<T>& b) noexcept {
  return is_finite(b) && b.x1 <= b.x2 && b.y1 <= b.y2;
}
/// Centre point.
template <class T>
GROUNDEVAL_HD constexpr void center(const box_xyxy<T>& b, T& cx, T& cy) noexcept {
  cx = (b.x1 + b.x2) / T(2);
  cy = (b.y1 + b.y2) / T(2);
}
/// Point-in-box test, edges inclusive (the pointing-game rule).
template <class T>
GROUNDEVAL_HD constexpr bool contains(const box_xyxy<T>& b, T x, T y) noexcept {
  return b.x1 <= x && x <= b.x2 && b.y1 <= y && y <= b.y2;
}

// ---- set operations ----------------------------------------------------------------------

/// Swap corners so that x1 <= x2 and y1 <= y2.
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> sorted_corners(const box_xyxy<T>& b) noexcept {
  return {detail::min2(b.x1, b.x2), detail::min2(b.y1, b.y2), detail::max2(b.x1, b.x2),
          detail::max2(b.y1, b.y2)};
}
/// Clamp every coordinate to [0, w] x [0, h].
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> clip(const box_xyxy<T>& b, T w, T h) noexcept {
  const auto c = [](T v, T hi) { return detail::min2(detail::max2(v, T(0)), hi); };
  return {c(b.x1, w), c(b.y1, h), c(b.x2, w), c(b.y2, h)};
}
/// Intersection rectangle; an empty intersection comes back inverted (area() == 0).
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> intersection(const box_xyxy<T>& a,
                                                 const box_xyxy<T>& b) noexcept {
  return {detail::max2(a.x1, b.x1), detail::max2(a.y1, b.y1), detail::min2(a.x2, b.x2),
          detail::min2(a.y2, b.y2)};
}
/// Smallest box enclosing both.
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> enclose(const box_xyxy<T>& a, const box_xyxy<T>& b) noexcept {
  return {detail::min2(a.x1, b.x1), detail::min2(a.y1, b.y1), detail::max2(a.x2, b.x2),
          detail::max2(a.y2, b.y2)};
}
/// Smallest box enclosing boxes[0..n) (the MERGED-box protocol's ground truth); n must be > 0.
template <class T>
GROUNDEVAL_HD constexpr box_xyxy<T> enclose(const box_xyxy<T>* boxes, unsigned long n) noexcept {
  box_xyxy<T> r = boxes[0];
  for (unsigned long i = 1; i < n; ++i) r = enclose(r, boxes[i]);
  return r;
}

}  // namespace groundeval
