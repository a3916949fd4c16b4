// SPDX-License-Identifier: Apache-2.0
// groundeval/boxes/box.hpp — the box aggregates and the image size type.
// Target: groundeval::core (standard library only).
//
// Coordinate conventions (the one place they are defined; docs/boxes.md repeats them):
//  * Continuous coordinates: a box [x1, y1, x2, y2] covers x1 <= x < x2, y1 <= y < y2, so
//    width = x2 - x1 and area = width * height. No "+1 pixel" anywhere (this is what MDETR's
//    Flickr30k Entities evaluator and torchvision do; MiniGPT-v2's +1 variant is not used).
//  * Origin at the top-left corner, x to the right, y down, in pixels of the original image unless
//  a
//    function name says "normalized" (then [0, 1] relative to the image width/height).
//  * A box is "valid" when x1 <= x2 and y1 <= y2 and all four values are finite; zero-area boxes
//    (x1 == x2 or y1 == y2) are valid. Inverted boxes (x2 < x1 or y2 < y1) have area 0 in
//    groundeval's own math; see iou.hpp for IoU of degenerate and NaN boxes.
#pragma once

#include <groundeval/config.hpp>

#include <type_traits>

namespace groundeval {

/// Corner form [x1, y1, x2, y2]: top-left and bottom-right corners.
template <class T>
struct box_xyxy {
  T x1, y1, x2, y2;
  friend constexpr bool operator==(const box_xyxy&, const box_xyxy&) = default;
};

/// COCO form [x, y, w, h]: top-left corner plus width and height.
template <class T>
struct box_xywh {
  T x, y, w, h;
  friend constexpr bool operator==(const box_xywh&, const box_xywh&) = default;
};

/// Centre form [cx, cy, w, h], the output layout of DETR-style detectors (MDETR, Grounding DINO).
template <class T>
struct box_cxcywh {
  T cx, cy, w, h;
  friend constexpr bool operator==(const box_cxcywh&, const box_cxcywh&) = default;
};

/// Width and height of an image in pixels.
struct image_size {
  int width = 0;
  int height = 0;
  friend constexpr bool operator==(const image_size&, const image_size&) = default;
};

static_assert(std::is_trivially_copyable_v<box_xyxy<float>>);
static_assert(std::is_standard_layout_v<box_xyxy<float>>);
static_assert(sizeof(box_xyxy<float>) == 4 * sizeof(float));
static_assert(std::is_trivially_copyable_v<box_xywh<double>>);
static_assert(std::is_trivially_copyable_v<box_cxcywh<float>>);
static_assert(std::is_trivially_copyable_v<image_size>);

namespace detail {
// Local min/max/clamp that behave identically on host and device (std:: versions differ under
// nvcc) and have a defined NaN rule: when the comparison is false the *second* argument wins.
template <class T>
GROUNDEVAL_HD constexpr T min2(T a, T b) noexcept {
  return a < b ? a : b;
}
template <class T>
GROUNDEVAL_HD constexpr T max2(T a, T b) noexcept {
  return a > b ? a : b;
}
/// max(d, 0) for a length; a NaN length becomes 0.
template <class T>
GROUNDEVAL_HD constexpr T nonneg(T d) noexcept {
  return d > T(0) ? d : T(0);
}
template <class T>
GROUNDEVAL_HD constexpr bool is_nan(T v) noexcept {
  return !(v == v);  // constexpr-friendly std::isnan
}
}  // namespace detail

}  // namespace groundeval
