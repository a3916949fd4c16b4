// SPDX-License-Identifier: Apache-2.0
// CPU batched IoU drivers: bit-identical to the scalar reference for every size, thread count
// and degenerate input; fused max/argmax agrees with the materialized matrix; ragged batches.
#include <groundeval/boxes/batched.hpp>

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
std::vector<box_xyxy<T>> mixed_boxes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 64.0);
  std::vector<box_xyxy<T>> v;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<T>(std::floor(u(rng))), y = static_cast<T>(std::floor(u(rng)));
    const auto w = static_cast<T>(u(rng) / 2), h = static_cast<T>(u(rng) / 2);
    switch (rng() % 16) {
      case 0:
        v.push_back({0, 0, 0, 0});
        break;  // placeholder
      case 1:
        v.push_back({x + w, y, x, y + h});
        break;  // inverted
      case 2:
        v.push_back({x, y, nan, y + h});
        break;  // NaN
      case 3:
        v.push_back(v.empty() ? box_xyxy<T>{x, y, x + 1, y + 1} : v[rng() % v.size()]);
        break;  // duplicate
      default:
        v.push_back({x, y, x + w, y + h});
    }
  }
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

parallel_options threads(unsigned t) {
  parallel_options o;
  o.threads = t;
  o.min_work_per_thread = 1;  // force the threaded path even on small inputs
  return o;
}
}  // namespace

TEMPLATE_TEST_CASE("pairwise_iou is bit-identical to the scalar loop", "[boxes][batched]", float,
                   double) {
  for (auto [n, m] :
       {std::pair<std::size_t, std::size_t>{0, 5}, {5, 0}, {1, 1}, {7, 13}, {64, 65}, {129, 31}}) {
    const auto a = mixed_boxes<TestType>(n, 11 + n), b = mixed_boxes<TestType>(m, 17 + m);
    std::vector<TestType> ref(n * m, TestType(-1));
    pairwise_iou_reference<TestType>(a, b, ref);
    for (unsigned t : {1u, 2u, 3u}) {
      std::vector<TestType> out(n * m, TestType(-1));
      pairwise_iou<TestType>(a, b, out, threads(t));
      CHECK(same_bits(out, ref));
    }
    for (TestType v : ref) {
      CHECK(v >= TestType(0));
      CHECK(v <= TestType(1));
    }
  }
}

TEST_CASE("paired_iou matches iou elementwise", "[boxes][batched]") {
  const auto a = mixed_boxes<float>(1000, 3), b = mixed_boxes<float>(1000, 4);
  std::vector<float> out(a.size());
  paired_iou<float>(a, b, out, threads(2));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(out[i] == iou(a[i], b[i]));
  std::vector<float> small(3);
  CHECK_THROWS_AS(paired_iou<float>(a, b, small), error);
  CHECK_THROWS_WITH(paired_iou<float>(std::span(a).first(3), b, small),
                    Catch::Contains("a has 3 boxes, b has 1000"));
}

TEMPLATE_TEST_CASE("fused max/argmax equals the materialized matrix", "[boxes][batched][fused]",
                   float, double) {
  for (auto [n, m] :
       {std::pair<std::size_t, std::size_t>{1, 1}, {31, 1}, {33, 40}, {100, 7}, {257, 129}}) {
    const auto a = mixed_boxes<TestType>(n, 5 + n), b = mixed_boxes<TestType>(m, 9 + m);
    std::vector<TestType> mat(n * m);
    pairwise_iou_reference<TestType>(a, b, mat);
    std::vector<TestType> ref_max(n);
    std::vector<std::int64_t> ref_arg(n);
    max_iou_per_row_reference<TestType>(a, b, ref_max, ref_arg);
    for (unsigned t : {1u, 2u}) {
      std::vector<TestType> mx(n, TestType(-1));
      std::vector<std::int64_t> arg(n, -7);
      max_iou_per_row<TestType>(a, b, mx, arg, threads(t));
      CHECK(same_bits(mx, ref_max));
      CHECK(arg == ref_arg);
    }
    for (std::size_t i = 0; i < n; ++i) {  // the reference itself: first index of the row max
      std::size_t first = 0;
      for (std::size_t j = 1; j < m; ++j)
        if (mat[i * m + j] > mat[i * m + first]) first = j;
      CHECK(ref_arg[i] == static_cast<std::int64_t>(first));
      CHECK(ref_max[i] == mat[i * m + first]);
    }
    // per column == per row of the transposed problem, checked against the matrix
    std::vector<TestType> cmax(m);
    std::vector<std::int64_t> carg(m);
    max_iou_per_col<TestType>(a, b, cmax, carg, threads(2));
    for (std::size_t j = 0; j < m; ++j) {
      std::size_t first = 0;
      for (std::size_t i = 1; i < n; ++i)
        if (mat[i * m + j] > mat[first * m + j]) first = i;
      CHECK(carg[j] == static_cast<std::int64_t>(first));
      CHECK(cmax[j] == mat[first * m + j]);
    }
  }
}

TEST_CASE("fused max with an empty b and ties", "[boxes][batched][fused]") {
  const std::vector<box_xyxy<float>> a{{0, 0, 2, 2}, {5, 5, 6, 6}};
  std::vector<float> mx(2, 9);
  std::vector<std::int64_t> arg(2, 9);
  max_iou_per_row<float>(a, {}, mx, arg);
  CHECK(mx == std::vector<float>{0, 0});
  CHECK(arg == std::vector<std::int64_t>{-1, -1});
  const std::vector<box_xyxy<float>> b{{9, 9, 10, 10}, {0, 0, 2, 2}, {0, 0, 2, 2}};
  max_iou_per_row<float>(a, b, mx, arg);
  CHECK(mx[0] == 1.0f);
  CHECK(arg[0] == 1);  // tie between 1 and 2: smallest index
  CHECK(mx[1] == 0.0f);
  CHECK(arg[1] == 0);  // all zero: first column
}

TEST_CASE("ragged batches equal per-image calls", "[boxes][batched][ragged]") {
  const std::vector<std::size_t> na{3, 0, 40, 1, 17}, nb{5, 4, 0, 33, 17};
  std::vector<std::size_t> ao{0}, bo{0};
  for (std::size_t k = 0; k < na.size(); ++k)
    ao.push_back(ao.back() + na[k]), bo.push_back(bo.back() + nb[k]);
  const auto a = mixed_boxes<float>(ao.back(), 21), b = mixed_boxes<float>(bo.back(), 22);
  const auto oo = ragged_output_offsets(ao, bo);
  std::vector<float> out(oo.back(), -1.0f);
  ragged_pairwise_iou<float>(a, ao, b, bo, out, threads(2));
  std::vector<float> mx(a.size());
  std::vector<std::int64_t> arg(a.size());
  ragged_max_iou_per_row<float>(a, ao, b, bo, mx, arg, threads(2));
  for (std::size_t k = 0; k < na.size(); ++k) {
    const auto ak = std::span(a).subspan(ao[k], na[k]);
    const auto bk = std::span(b).subspan(bo[k], nb[k]);
    std::vector<float> ref(na[k] * nb[k]);
    pairwise_iou_reference<float>(ak, bk, ref);
    CHECK((ref.empty() ||
           std::memcmp(ref.data(), out.data() + oo[k], ref.size() * sizeof(float)) == 0));
    std::vector<float> rmx(na[k]);
    std::vector<std::int64_t> rarg(na[k]);
    max_iou_per_row_reference<float>(ak, bk, rmx, rarg);
    for (std::size_t i = 0; i < na[k]; ++i) {
      CHECK(mx[ao[k] + i] == rmx[i]);
      CHECK(arg[ao[k] + i] == rarg[i]);
    }
  }
  std::vector<std::size_t> bad{0, 5, 3, 60};
  CHECK_THROWS_WITH(ragged_pairwise_iou<float>(a, bad, b, bo, out), Catch::Contains("offsets"));
  std::vector<float> tiny(1);
  CHECK_THROWS_WITH(ragged_pairwise_iou<float>(a, ao, b, bo, tiny),
                    Catch::Contains("output span holds 1"));
}
