// SPDX-License-Identifier: Apache-2.0
// [cuda] pairwise IoU on the device against the CPU driver (same per-element math; within 1 ulp
// because nvcc may contract to FMA), on random and degenerate boxes and odd sizes.
#include "cuda_test_support.cuh"

#include <groundeval/boxes/batched.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace groundeval;

namespace {
std::vector<box_xyxy<float>> boxes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 100.f);
  std::vector<box_xyxy<float>> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float x = u(rng), y = u(rng);
    v[i] = {x, y, x + u(rng) / 2, y + u(rng) / 2};
    if (i % 17 == 3) v[i] = {0, 0, 0, 0};
    if (i % 23 == 5) v[i].x2 = std::numeric_limits<float>::quiet_NaN();
    if (i % 29 == 7) std::swap(v[i].x1, v[i].x2);
  }
  return v;
}
}  // namespace

TEST_CASE("pairwise IoU on the device matches the CPU driver", "[cuda]") {
  if (!test::have_cuda_device()) return;
  for (auto [n, m] : {std::pair<std::size_t, std::size_t>{1, 1}, {33, 65}, {300, 257}}) {
    const auto a = boxes(n, 1), b = boxes(m, 2);
    std::vector<float> ref(n * m);
    pairwise_iou<float>(a, b, ref);
    test::device_buffer<box_xyxy<float>> da(a), db(b);
    test::device_buffer<float> dout(n * m);
    const auto st = cuda::pairwise_iou(da.ptr, n, db.ptr, m, dout.ptr, nullptr);
    REQUIRE(st.ok());
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    const auto got = dout.to_host();
    for (std::size_t k = 0; k < ref.size(); ++k) {
      const float tol = std::abs(std::nextafter(ref[k], 2.0f) - ref[k]);
      CHECK(std::abs(got[k] - ref[k]) <= tol);
    }
  }
}

TEST_CASE("device count query never throws", "[cuda]") {
  const int n = cuda::device_count();
  CHECK(n >= 0);
  if (n == 0) WARN("no CUDA device on this machine");
}
