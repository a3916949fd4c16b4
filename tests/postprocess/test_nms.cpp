// SPDX-License-Identifier: Apache-2.0
// Tests of boxes/nms.hpp (groundeval::core): hand-worked suppression cases, tie order, score
// threshold, caps, per-class behaviour, bad input, and agreement with the matrix reference.
#include <groundeval/boxes/nms.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using groundeval::box_xyxy;
using groundeval::nms_options;
using B = box_xyxy<double>;

namespace {
std::vector<std::size_t> run(const std::vector<B>& b, const std::vector<double>& s,
                             const nms_options& o = {}) {
  return groundeval::nms<double>(b, s, o);
}
}  // namespace

TEST_CASE("nms: hand-worked overlaps", "[nms]") {
  // b0 = [0,0,10,10] and b1 = [1,0,11,10]: inter 9*10 = 90, union 110, IoU 0.818 > 0.5 -> b1 gone.
  // b2 = [5,0,15,10] vs b0: inter 50, union 150, IoU 1/3 -> survives at 0.5.
  // b3 = [100,100,110,110]: disjoint, survives.
  const std::vector<B> boxes{{0, 0, 10, 10}, {1, 0, 11, 10}, {5, 0, 15, 10}, {100, 100, 110, 110}};
  const std::vector<double> scores{0.9, 0.8, 0.7, 0.1};
  CHECK(run(boxes, scores) == std::vector<std::size_t>{0, 2, 3});
  // At IoU threshold 0.3 the 1/3 overlap suppresses b2 as well.
  nms_options o;
  o.iou_threshold = 0.3;
  CHECK(run(boxes, scores, o) == std::vector<std::size_t>{0, 3});
  // Strict rule: IoU exactly equal to the threshold does not suppress. [0,0,10,10] vs
  // [0,0,10,20]: inter 100, union 200, IoU 0.5 exactly.
  const std::vector<B> eq{{0, 0, 10, 10}, {0, 0, 10, 20}};
  CHECK(run(eq, {0.9, 0.8}) == std::vector<std::size_t>{0, 1});
  o.iou_threshold = 0.49;
  CHECK(run(eq, {0.9, 0.8}, o) == std::vector<std::size_t>{0});
}

TEST_CASE("nms: suppression follows the kept box, not the candidate chain", "[nms]") {
  // b1 overlaps b0 (suppressed); b2 overlaps b1 but not b0 -> b2 is kept (greedy NMS).
  const std::vector<B> boxes{{0, 0, 10, 10}, {2, 0, 12, 10}, {9, 0, 19, 10}};
  // b0-b1: inter 80, union 120 -> 0.667; b1-b2: inter 30, union 170 -> 0.176 ... use 0.15
  // threshold so b1 would suppress b2 if b1 were kept; b0-b2: inter 10, union 190 -> 0.053.
  nms_options o;
  o.iou_threshold = 0.15;
  CHECK(run(boxes, {0.9, 0.8, 0.7}, o) == std::vector<std::size_t>{0, 2});
}

TEST_CASE("nms: tie order is score descending then index ascending", "[nms]") {
  const std::vector<B> boxes{{0, 0, 10, 10}, {0, 0, 10, 10}, {0, 0, 10, 10}, {50, 50, 60, 60}};
  // All three identical boxes tie on score: the lowest index wins.
  CHECK(run(boxes, {0.5, 0.5, 0.5, 0.5}) == std::vector<std::size_t>{0, 3});
  CHECK(run(boxes, {0.4, 0.5, 0.5, 0.5}) == std::vector<std::size_t>{1, 3});
  CHECK(run(boxes, {0.4, 0.5, 0.5, 0.9}) == std::vector<std::size_t>{3, 1});
}

TEST_CASE("nms: score threshold (strict) and max outputs", "[nms]") {
  const std::vector<B> boxes{{0, 0, 1, 1}, {2, 2, 3, 3}, {4, 4, 5, 5}, {6, 6, 7, 7}};
  const std::vector<double> scores{0.05, 0.2, 0.06, 0.9};
  nms_options o;
  o.score_threshold = 0.05;  // 0.05 itself is dropped
  CHECK(run(boxes, scores, o) == std::vector<std::size_t>{3, 1, 2});
  o.max_outputs = 2;
  CHECK(run(boxes, scores, o) == std::vector<std::size_t>{3, 1});
  o.score_threshold = 1.0;
  CHECK(run(boxes, scores, o).empty());
  CHECK(groundeval::nms<double>({}, {}).empty());
}

TEST_CASE("nms: degenerate boxes never suppress and are kept", "[nms]") {
  // Zero-area and NaN boxes have IoU 0 with everything (iou.hpp), so nothing suppresses them.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<B> boxes{{0, 0, 10, 10}, {0, 0, 0, 0}, {nan, 0, 10, 10}, {0, 0, 10, 10}};
  CHECK(run(boxes, {0.9, 0.8, 0.7, 0.6}) == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("nms: legacy +1 offset", "[nms]") {
  // [0,0,9,9] vs [0,0,9,19]. Continuous: 81 / 171 = 0.4737. With +1: 100 / 200 = 0.5.
  const std::vector<B> boxes{{0, 0, 9, 9}, {0, 0, 9, 19}};
  nms_options o;
  o.iou_threshold = 0.48;
  CHECK(run(boxes, {0.9, 0.8}, o) == std::vector<std::size_t>{0, 1});
  o.legacy_offset = 1.0;
  CHECK(run(boxes, {0.9, 0.8}, o) == std::vector<std::size_t>{0});
  static_assert(groundeval::nms_suppresses(B{0, 0, 10, 10}, B{0, 0, 10, 10}, 0.5));
  static_assert(!groundeval::nms_suppresses(B{0, 0, 10, 10}, B{0, 0, 10, 20}, 0.5));
}

TEST_CASE("per_class_nms: classes do not suppress each other; cap spans classes", "[nms]") {
  const std::vector<B> boxes{{0, 0, 10, 10}, {0, 0, 10, 10}, {1, 0, 11, 10}, {0, 0, 10, 10}};
  const std::vector<double> scores{0.9, 0.8, 0.7, 0.6};
  const std::vector<std::int64_t> cls{0, 1, 0, 1};
  // class 0: b0 kept, b2 suppressed; class 1: b1 kept, b3 suppressed.
  CHECK(groundeval::per_class_nms<double>(boxes, scores, cls) == std::vector<std::size_t>{0, 1});
  nms_options o;
  o.max_outputs = 1;
  CHECK(groundeval::per_class_nms<double>(boxes, scores, cls, o) == std::vector<std::size_t>{0});
  const std::vector<std::int64_t> bad{0, 1};
  CHECK_THROWS_WITH(groundeval::per_class_nms<double>(boxes, scores, bad),
                    Catch::Contains("4 boxes but 2 class ids"));
}

TEST_CASE("nms: bad input names the item", "[nms]") {
  const std::vector<B> boxes{{0, 0, 1, 1}, {0, 0, 1, 1}};
  CHECK_THROWS_WITH(run(boxes, {0.1}), Catch::Contains("2 boxes but 1 scores"));
  CHECK_THROWS_WITH(run(boxes, {0.1, std::nan("")}), Catch::Contains("score of box 1 is NaN"));
}

TEST_CASE("nms: greedy pass equals the matrix reference on random sets", "[nms]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(0.f, 100.f), wh(1.f, 30.f);
  std::uniform_int_distribution<int> q(0, 20), c(0, 3);
  for (int rep = 0; rep < 50; ++rep) {
    const std::size_t n = 1 + static_cast<std::size_t>(rep) * 7;
    std::vector<box_xyxy<float>> b(n);
    std::vector<float> s(n);
    std::vector<std::int64_t> cls(n);
    for (std::size_t i = 0; i < n; ++i) {
      const float x = u(rng), y = u(rng);
      b[i] = {x, y, x + wh(rng), y + wh(rng)};
      s[i] = static_cast<float>(q(rng)) / 20.f;  // coarse scores: many ties
      cls[i] = c(rng);
    }
    nms_options o;
    o.iou_threshold = 0.3 + 0.01 * rep;
    o.score_threshold = rep % 3 == 0 ? 0.2 : -1.0;
    o.max_outputs = rep % 4 == 0 ? 5 : 0;
    const std::vector<std::int64_t> none;
    CHECK(groundeval::nms<float>(b, s, o) == groundeval::nms_reference<float>(b, s, none, o));
    CHECK(groundeval::per_class_nms<float>(b, s, cls, o) ==
          groundeval::nms_reference<float>(b, s, cls, o));
  }
}

TEST_CASE("nms: grid pass equals the matrix reference on clustered and odd sets", "[nms]") {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(0.0, 500.0), j(-6.0, 6.0), wh(0.0, 40.0);
  std::uniform_int_distribution<int> q(0, 50), c(0, 2), odd(0, 40);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < 40; ++rep) {
    const std::size_t n = 50 + static_cast<std::size_t>(rep) * 25;
    std::vector<B> centres(1 + n / 8);
    for (auto& b : centres) {
      const double x = u(rng), y = u(rng);
      b = {x, y, x + wh(rng), y + wh(rng)};
    }
    std::vector<B> b(n);
    std::vector<double> s(n);
    std::vector<std::int64_t> cls(n);
    for (std::size_t i = 0; i < n; ++i) {
      const B& k = centres[i % centres.size()];
      b[i] = {k.x1 + j(rng), k.y1 + j(rng), k.x2 + j(rng), k.y2 + j(rng)};
      switch (odd(rng)) {  // sprinkle degenerate, huge and non-finite boxes
        case 0:
          b[i].x1 = nan;
          break;
        case 1:
          b[i].x2 = inf;
          break;
        case 2:
          b[i] = {0, 0, 1e6, 1e6};
          break;
        case 3:
          b[i].x2 = b[i].x1;
          break;
        case 4:
          b[i] = {-1e300, -1e300, 1e300, 1e300};
          break;
        default:
          break;
      }
      s[i] = q(rng) / 50.0;
      cls[i] = c(rng);
    }
    nms_options o;
    o.iou_threshold = rep % 5 == 0 ? 0.0 : 0.2 + 0.015 * rep;
    o.legacy_offset = rep % 3 == 0 ? 1.0 : 0.0;
    o.max_outputs = rep % 7 == 0 ? 20 : 0;
    const std::vector<std::int64_t> none;
    CHECK(groundeval::nms<double>(b, s, o) == groundeval::nms_reference<double>(b, s, none, o));
    CHECK(groundeval::per_class_nms<double>(b, s, cls, o) ==
          groundeval::nms_reference<double>(b, s, cls, o));
    o.iou_threshold = -0.5;  // everything of a class suppresses everything: plain scan path
    CHECK(groundeval::per_class_nms<double>(b, s, cls, o) ==
          groundeval::nms_reference<double>(b, s, cls, o));
  }
}
