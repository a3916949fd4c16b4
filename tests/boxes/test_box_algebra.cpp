// SPDX-License-Identifier: Apache-2.0
// Box algebra: conversions, measures, IoU / GIoU / DIoU properties and the defined results for
// degenerate boxes (zero area, inverted, NaN, Inf), plus the reference (numpy) IoU semantics.
#include <groundeval/boxes/iou.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace groundeval;
using B = box_xyxy<double>;
using BF = box_xyxy<float>;

namespace {
constexpr double nan_d = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_d = std::numeric_limits<double>::infinity();

// Random boxes with positive area; integer-valued half the time so ties and touching edges occur.
template <class T>
std::vector<box_xyxy<T>> random_boxes(std::size_t n, std::uint64_t seed, T span = T(100)) {
  std::mt19937_64 rng(seed);  // test-only randomness; results are checked by properties
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<box_xyxy<T>> v;
  for (std::size_t i = 0; i < n; ++i) {
    const bool integer = (rng() & 1u) != 0;
    auto r = [&](double s) {
      const double x = u(rng) * s;
      return static_cast<T>(integer ? std::floor(x) : x);
    };
    const T x1 = r(static_cast<double>(span)), y1 = r(static_cast<double>(span));
    const T w = r(static_cast<double>(span) / 2) + T(1),
            h = r(static_cast<double>(span) / 2) + T(1);
    v.push_back({x1, y1, x1 + w, y1 + h});
  }
  return v;
}
}  // namespace

TEST_CASE("form conversions round-trip", "[boxes]") {
  const B b{10, 20, 50, 80};
  CHECK(to_xywh(b) == box_xywh<double>{10, 20, 40, 60});
  CHECK(to_cxcywh(b) == box_cxcywh<double>{30, 50, 40, 60});
  CHECK(to_xyxy(to_xywh(b)) == b);
  CHECK(to_xyxy(to_cxcywh(b)) == b);
  CHECK(to_xyxy(b) == b);
  for (const auto& r : random_boxes<double>(500, 1)) {
    CHECK(to_xyxy(to_xywh(r)).x2 == Approx(r.x2));
    const auto c = to_xyxy(to_cxcywh(r));
    CHECK(c.x1 == Approx(r.x1));
    CHECK(c.y2 == Approx(r.y2));
  }
  constexpr auto f = box_cast<float>(B{1.5, 2.5, 3.5, 4.5});
  STATIC_REQUIRE(f == BF{1.5f, 2.5f, 3.5f, 4.5f});
}

TEST_CASE("normalized <-> pixels", "[boxes]") {
  const B px{64, 48, 320, 240};
  const B n = to_normalized(px, 640.0, 480.0);
  CHECK(n == B{0.1, 0.1, 0.5, 0.5});
  CHECK(to_pixels(n, 640.0, 480.0) == px);
}

TEST_CASE("area, validity, clip, contains", "[boxes]") {
  STATIC_REQUIRE(area(B{0, 0, 4, 3}) == 12);
  STATIC_REQUIRE(area(B{4, 0, 0, 3}) == 0);  // inverted side counts 0
  CHECK(area(B{nan_d, 0, 4, 3}) == 0);
  CHECK(area(B{nan_d, 0, 4, inf_d}) == 0);  // 0 x Inf would be NaN
  CHECK(area(B{-inf_d, 0, inf_d, 1}) == inf_d);
  CHECK(is_valid(B{1, 1, 1, 5}));
  CHECK_FALSE(is_valid(B{2, 1, 1, 5}));
  CHECK_FALSE(is_valid(B{nan_d, 1, 1, 5}));
  CHECK_FALSE(is_valid(B{0, 0, inf_d, 5}));
  CHECK(clip(B{-5, 10, 700, 500}, 640.0, 480.0) == B{0, 10, 640, 480});
  CHECK(sorted_corners(B{5, 6, 1, 2}) == B{1, 2, 5, 6});
  CHECK(contains(B{0, 0, 10, 10}, 10.0, 0.0));  // edges inclusive
  CHECK_FALSE(contains(B{0, 0, 10, 10}, 10.5, 5.0));
  const std::vector<B> gt{{10, 10, 20, 20}, {5, 30, 15, 40}, {12, 2, 30, 11}};
  CHECK(enclose(gt.data(), gt.size()) == B{5, 2, 30, 40});
  CHECK(area(intersection(B{0, 0, 5, 5}, B{6, 6, 9, 9})) == 0);
}

TEST_CASE("IoU of known configurations", "[boxes][iou]") {
  STATIC_REQUIRE(iou(B{0, 0, 2, 2}, B{0, 0, 2, 2}) == 1.0);         // identical
  STATIC_REQUIRE(iou(B{0, 0, 2, 2}, B{3, 3, 4, 4}) == 0.0);         // disjoint
  STATIC_REQUIRE(iou(B{0, 0, 2, 2}, B{2, 0, 4, 2}) == 0.0);         // touching edge
  STATIC_REQUIRE(iou(B{0, 0, 4, 4}, B{1, 1, 3, 3}) == 4.0 / 16.0);  // contained
  STATIC_REQUIRE(iou(B{0, 0, 2, 2}, B{1, 0, 3, 2}) == 2.0 / 6.0);   // half overlap
  // exactly 0.5 is a hit (inclusive rule, defined once)
  STATIC_REQUIRE(iou(B{0, 0, 2, 1}, B{0, 0, 1, 1}) == 0.5);
  STATIC_REQUIRE(iou_hit(iou(B{0, 0, 2, 1}, B{0, 0, 1, 1}), 0.5));
  STATIC_REQUIRE_FALSE(iou_hit(0.49999999999999994, 0.5));
  CHECK_FALSE(iou_hit(nan_d, 0.5));
}

TEST_CASE("IoU of degenerate boxes is defined", "[boxes][iou][edge]") {
  const B g{0, 0, 10, 10};
  CHECK(iou(B{0, 0, 0, 0}, g) == 0.0);              // the [0,0,0,0] placeholder
  CHECK(iou(B{0, 0, 0, 0}, B{0, 0, 0, 0}) == 0.0);  // zero area against itself: 0, not NaN
  CHECK(iou(B{5, 0, 5, 10}, g) == 0.0);             // a line
  CHECK(iou(B{10, 10, 0, 0}, g) == 0.0);            // inverted: area 0, no overlap
  CHECK(iou(B{8, 0, 2, 10}, B{0, 0, 10, 10}) == 0.0);
  for (const B bad : {B{nan_d, 0, 10, 10}, B{0, nan_d, 10, 10}, B{0, 0, nan_d, 10},
                      B{0, 0, 10, nan_d}, B{nan_d, nan_d, nan_d, nan_d}}) {
    CHECK(iou(bad, g) == 0.0);
    CHECK(iou(g, bad) == 0.0);
    CHECK(iou(bad, bad) == 0.0);
    CHECK(giou(bad, g) <= 0.0);
  }
  const B huge{-inf_d, -inf_d, inf_d, inf_d};
  CHECK(iou(huge, g) == 0.0);
  CHECK(iou(huge, huge) == 0.0);  // Inf / Inf is not 1: defined as 0
  // coordinates far beyond any image still give exact simple ratios
  CHECK(iou(B{0, 0, 2e9, 1e9}, B{1e9, 0, 3e9, 1e9}) == Approx(1.0 / 3));
  // subnormal sizes: area underflows to 0 -> IoU 0 rather than NaN
  const double d = std::numeric_limits<double>::denorm_min();
  CHECK(iou(B{0, 0, d, d}, B{0, 0, d, d}) == 0.0);
}

TEST_CASE("IoU properties on random boxes", "[boxes][iou][property]") {
  const auto a = random_boxes<double>(300, 7), b = random_boxes<double>(300, 8);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double v = iou(a[i], b[i]);
    CHECK(v >= 0.0);
    CHECK(v <= 1.0);
    CHECK(v == iou(b[i], a[i]));    // symmetric to the bit
    CHECK(iou(a[i], a[i]) == 1.0);  // exactly 1 for positive area
    CHECK(giou(a[i], b[i]) <= v);   // GIoU <= IoU
    CHECK(giou(a[i], b[i]) >= -1.0);
    CHECK(diou(a[i], b[i]) <= v);
    CHECK(diou(a[i], b[i]) >= -1.0);
    CHECK(giou(a[i], a[i]) == 1.0);
    CHECK(diou(a[i], a[i]) == 1.0);
    CHECK(v == Approx(reference_iou(a[i], b[i])).margin(1e-15));  // same value on valid boxes
  }
  const auto f = random_boxes<float>(300, 9), g = random_boxes<float>(300, 10);
  for (std::size_t i = 0; i < f.size(); ++i) {
    CHECK(iou(f[i], g[i]) == iou(g[i], f[i]));
    CHECK(iou(f[i], f[i]) == 1.0f);
  }
}

TEST_CASE("GIoU and DIoU known values", "[boxes][iou]") {
  // disjoint unit squares two apart: union 2, enclosing 3 x 1 -> giou = 0 - 1/3
  CHECK(giou(B{0, 0, 1, 1}, B{2, 0, 3, 1}) == Approx(-1.0 / 3));
  // centres 2 apart, enclosing diagonal^2 = 9 + 1 -> diou = -4/10
  CHECK(diou(B{0, 0, 1, 1}, B{2, 0, 3, 1}) == Approx(-0.4));
  CHECK(giou(B{0, 0, 0, 0}, B{0, 0, 0, 0}) == 0.0);
  CHECK(diou(B{1, 1, 1, 1}, B{1, 1, 1, 1}) == 0.0);
}

TEST_CASE("reference_iou reproduces numpy's arithmetic", "[boxes][iou][reference]") {
  const B gt{10, 10, 20, 20};
  // zero-area GT against itself: 0 / 0 -> NaN, which numpy's max propagates (a miss)
  CHECK(std::isnan(reference_iou(B{5, 5, 5, 5}, B{5, 5, 5, 5})));
  // inverted prediction: negative area enters the union unchanged
  // both sides inverted: the signed area is positive (+100), no overlap -> 0 / 200
  CHECK(reference_iou(B{20, 20, 10, 10}, gt) == 0.0);
  // one side inverted: area -1000, union -900 -> 0 / -900 = -0.0 (numpy gives the same)
  CHECK(reference_iou(B{0, 20, 100, 10}, gt) == 0.0);
  CHECK(std::signbit(reference_iou(B{0, 20, 100, 10}, gt)));
  // area -50 against area 50 with no overlap: union 0 -> 0 / 0 = NaN (numpy: nan)
  CHECK(std::isnan(reference_iou(B{10, 20, 15, 10}, B{10, 10, 15, 20})));
  CHECK(reference_iou(B{20, 10, 15, 20}, gt) == 0.0);  // area -50, union 50, inter 0
  CHECK(reference_iou(B{30, 10, 0, 20}, gt) == 0.0 / 400.0);
  // a NaN coordinate propagates through maximum/minimum and clip
  CHECK(std::isnan(reference_iou(B{nan_d, 10, 20, 20}, gt)));
  // groundeval's iou is 0 in the same situations
  CHECK(iou(B{5, 5, 5, 5}, B{5, 5, 5, 5}) == 0.0);
  // the plain case is exactly inter / union in double
  CHECK(reference_iou(B{0, 0, 2, 1}, B{0, 0, 1, 1}) == 0.5);
  CHECK(reference_iou(B{12.25, 10, 20, 20}, gt) == 77.5 / 100.0);
}
