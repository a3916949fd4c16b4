// SPDX-License-Identifier: Apache-2.0
// iou_prepared(prepare_for_iou(a), prepare_for_iou(b)) — the form the CUDA kernels compute — is
// iou(a, b) bit for bit. Runs on the CPU (std::fmin / std::fmax stand for the GPU's FMNMX, which
// may differ only in the sign of a zero: iou.hpp explains why that cannot reach the result), on
// adversarial coordinates: NaN, +-Inf, -0, subnormals, values near FLT_MAX, equal and touching
// edges, and random boxes at several scales.
#include <groundeval/boxes/iou.hpp>

#include <catch2/catch.hpp>

#include <cmath>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace groundeval;

namespace {
template <class T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  return {T(0),
          -T(0),
          T(1),
          T(2),
          T(3),
          T(10),
          T(0.5),
          T(-1),
          T(-7.25),
          T(100),
          T(1e-3),
          L::min(),
          L::denorm_min(),
          -L::denorm_min(),
          T(1e-30),
          L::max(),
          -L::max(),
          L::max() / 2,
          L::infinity(),
          -L::infinity(),
          L::quiet_NaN(),
          T(1e18),
          T(18446744073709551616.0),
          T(1e9),
          T(1e9) + T(128)};
}

template <class T>
std::vector<box_xyxy<T>> adversarial_boxes(std::size_t random_count, unsigned seed) {
  std::mt19937 rng(seed);
  const auto sv = special_values<T>();
  std::vector<box_xyxy<T>> v;
  std::uniform_int_distribution<std::size_t> pick(0, sv.size() - 1);
  for (std::size_t i = 0; i < random_count / 4; ++i)  // corners from the special values
    v.push_back({sv[pick(rng)], sv[pick(rng)], sv[pick(rng)], sv[pick(rng)]});
  std::uniform_real_distribution<T> u(0, 1);
  const T scales[] = {T(1), T(100), T(1e6), T(1e20), T(1e-20), T(1e36)};
  for (std::size_t i = v.size(); i < random_count; ++i) {
    const T s = scales[i % 6];
    const T x = (u(rng) - T(0.3)) * s, y = (u(rng) - T(0.3)) * s;
    box_xyxy<T> b{x, y, x + u(rng) * s / 2, y + u(rng) * s / 2};
    if (i % 7 == 0) b.x2 = b.x1;                                        // zero width
    if (i % 11 == 0) b = v[i % v.size()];                               // duplicates of specials
    if (i % 13 == 0) b.y1 = std::floor(b.y1), b.y2 = std::floor(b.y2);  // touching edges
    if (i % 17 == 0) std::swap(b.x1, b.x2);                             // inverted
    v.push_back(b);
  }
  return v;
}

template <class T>
std::size_t mismatches(const std::vector<box_xyxy<T>>& boxes) {
  std::vector<prepared_box<T>> p(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) p[i] = prepare_for_iou(boxes[i]);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < boxes.size(); ++i)
    for (std::size_t j = 0; j < boxes.size(); ++j) {
      const T want = iou(boxes[i], boxes[j]), got = iou_prepared(p[i], p[j]);
      if (std::memcmp(&want, &got, sizeof(T)) != 0) {
        if (bad < 5)
          UNSCOPED_INFO("pair " << i << ", " << j << ": iou " << want << ", prepared " << got);
        ++bad;
      }
    }
  return bad;
}
}  // namespace

TEST_CASE("iou_prepared equals iou bit for bit (float)", "[boxes][iou]") {
  const auto boxes = adversarial_boxes<float>(2400, 1);
  CHECK(mismatches(boxes) == 0);
  std::size_t positive = 0;  // the check is not vacuous: many pairs overlap
  for (const auto& a : boxes)
    for (const auto& b : boxes) positive += iou(a, b) > 0.0f;
  CHECK(positive > 50000);
}

TEST_CASE("iou_prepared equals iou bit for bit (double)", "[boxes][iou]") {
  CHECK(mismatches(adversarial_boxes<double>(900, 2)) == 0);
}

TEST_CASE("prepare_for_iou keeps ordinary boxes and empties the degenerate ones", "[boxes][iou]") {
  const box_xyxy<float> b{1, 2, 4, 6};
  const auto p = prepare_for_iou(b);
  CHECK(p.box == b);
  CHECK(p.area == 12.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (const box_xyxy<float> d :
       {box_xyxy<float>{0, 0, 0, 5}, box_xyxy<float>{5, 0, 1, 5}, box_xyxy<float>{0, 0, inf, 5},
        box_xyxy<float>{std::numeric_limits<float>::quiet_NaN(), 0, 1, 1},
        box_xyxy<float>{-3e38f, -3e38f, 3e38f, 3e38f}}) {
    const auto e = prepare_for_iou(d);
    CHECK(e.area == 1.0f);
    CHECK(e.box.x1 > e.box.x2);
    CHECK(iou_prepared(e, p) == 0.0f);
    CHECK(iou_prepared(e, e) == 0.0f);
  }
}
