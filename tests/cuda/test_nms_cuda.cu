// SPDX-License-Identifier: Apache-2.0
// [cuda] segmented bitmask NMS against the CPU greedy NMS of boxes/nms.hpp: identical kept
// indices in the identical order (ties in scores, identical boxes, zero-area, inverted and NaN
// boxes, sizes around the 64-box tile, empty segments, score threshold and max outputs).
#include "cuda_test_support.cuh"

#include <groundeval/boxes/nms.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

using namespace groundeval;
using B = box_xyxy<float>;

namespace {
// Detector-like: a few objects, each with jittered proposals; scores quantized so ties occur.
void make_set(std::size_t n, unsigned seed, std::vector<B>& boxes, std::vector<float>& scores) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const std::size_t objects = 1 + n / 20;
  std::vector<B> centers(objects);
  for (auto& c : centers) {
    const float x = u(rng) * 500, y = u(rng) * 400;
    c = {x, y, x + 20 + u(rng) * 100, y + 20 + u(rng) * 100};
  }
  for (std::size_t i = 0; i < n; ++i) {
    const B& c = centers[rng() % objects];
    const float j = 8.0f;
    B b{c.x1 + (u(rng) - 0.5f) * j, c.y1 + (u(rng) - 0.5f) * j, c.x2 + (u(rng) - 0.5f) * j,
        c.y2 + (u(rng) - 0.5f) * j};
    if (i % 41 == 5) b = {0, 0, 0, 0};
    if (i % 43 == 7) std::swap(b.x1, b.x2);
    if (i % 47 == 9) b.y1 = std::numeric_limits<float>::quiet_NaN();
    if (i % 13 == 1 && i > 0) b = boxes.back();  // identical boxes
    boxes.push_back(b);
    scores.push_back(std::floor(u(rng) * 32) / 32);  // many ties
  }
}

/// The CPU NMS of every segment, as global indices in segment order.
std::vector<std::size_t> cpu_segmented(const std::vector<B>& boxes,
                                       const std::vector<float>& scores,
                                       const std::vector<std::size_t>& off, const nms_options& o) {
  std::vector<std::size_t> ref;
  for (std::size_t s = 0; s + 1 < off.size(); ++s) {
    const auto local = nms<float>(std::span(boxes).subspan(off[s], off[s + 1] - off[s]),
                                  std::span(scores).subspan(off[s], off[s + 1] - off[s]), o);
    for (auto i : local) ref.push_back(i + off[s]);
  }
  return ref;
}

std::vector<std::size_t> gpu_segmented(const std::vector<B>& boxes,
                                       const std::vector<float>& scores,
                                       const std::vector<std::size_t>& off,
                                       const cuda::nms_params& p,
                                       std::vector<std::size_t>& counts) {
  const std::size_t segs = off.size() - 1, n = boxes.size();
  test::device_buffer<B> db(boxes);
  test::device_buffer<float> ds(scores);
  test::device_buffer<std::size_t> doff(off), dcount(segs);
  test::device_buffer<std::int64_t> keep(n);
  const std::size_t ws = cuda::nms_workspace_bytes(off.data(), segs);
  test::device_buffer<char> work(ws);
  REQUIRE(cuda::segmented_nms(db.ptr, ds.ptr, doff.ptr, segs, n, p, work.ptr, ws, keep.ptr,
                              dcount.ptr, nullptr)
              .ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  counts = dcount.to_host();
  const auto k = keep.to_host();
  std::vector<std::size_t> all;
  for (std::size_t s = 0; s < segs; ++s)
    for (std::size_t i = 0; i < counts[s]; ++i)
      all.push_back(static_cast<std::size_t>(k[off[s] + i]));
  return all;
}
}  // namespace

TEST_CASE("device NMS keeps exactly what the CPU NMS keeps", "[cuda][nms]") {
  if (!test::have_cuda_device()) return;
  for (std::size_t n : {1u, 2u, 63u, 64u, 65u, 130u, 1000u, 5000u}) {
    for (float thr : {0.5f, 0.7f}) {
      std::vector<B> boxes;
      std::vector<float> scores;
      make_set(n, static_cast<unsigned>(n) * 7u + 1u, boxes, scores);
      nms_options o;
      o.iou_threshold = thr;
      const auto ref = nms<float>(boxes, scores, o);
      cuda::nms_params p;
      p.iou_threshold = thr;
      test::device_buffer<B> db(boxes);
      test::device_buffer<float> ds(scores);
      test::device_buffer<std::int64_t> keep(n);
      test::device_buffer<std::size_t> count(1);
      const std::size_t ws = cuda::nms_workspace_bytes(n);
      test::device_buffer<char> work(ws);
      REQUIRE(cuda::nms(db.ptr, ds.ptr, n, p, work.ptr, ws, keep.ptr, count.ptr, nullptr).ok());
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      const auto c = count.to_host()[0];
      const auto k = keep.to_host();
      std::vector<std::size_t> got(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(c));
      INFO("n = " << n << ", threshold = " << thr);
      CHECK(got == ref);
    }
  }
}

TEST_CASE("device segmented NMS equals per-segment CPU NMS", "[cuda][nms]") {
  if (!test::have_cuda_device()) return;
  const std::vector<std::size_t> sizes{0, 5, 64, 1, 0, 300, 1000, 65};
  std::vector<B> boxes;
  std::vector<float> scores;
  std::vector<std::size_t> off{0};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    make_set(sizes[k], 100u + static_cast<unsigned>(k), boxes, scores);
    off.push_back(boxes.size());
  }
  for (std::size_t cap : {std::size_t{0}, std::size_t{3}}) {
    nms_options o;
    o.iou_threshold = 0.6;
    o.score_threshold = 0.25;
    o.max_outputs = cap;
    const auto ref = cpu_segmented(boxes, scores, off, o);
    cuda::nms_params p;
    p.iou_threshold = 0.6f;
    p.score_threshold = 0.25f;
    p.max_outputs = cap;
    std::vector<std::size_t> counts;
    CHECK(gpu_segmented(boxes, scores, off, p, counts) == ref);
  }
}

TEST_CASE("device NMS on large clustered sets: 1k, 10k, 30k boxes, ties, caps, the +1 offset",
          "[cuda][nms]") {
  if (!test::have_cuda_device()) return;
  // 10k and 30k take the block-per-segment greedy pass (more than 32 chunks), 1k the warp one.
  struct run {
    std::size_t n;
    float thr;
    std::size_t cap;
    float offset;
  };
  for (const run r : {run{1000, 0.5f, 0, 0}, run{10000, 0.5f, 0, 0}, run{10000, 0.7f, 500, 1},
                      run{30000, 0.5f, 0, 0}, run{30000, 0.6f, 2000, 0}}) {
    std::vector<B> boxes;
    std::vector<float> scores;
    make_set(r.n, static_cast<unsigned>(r.n) + 11u, boxes, scores);
    nms_options o;
    o.iou_threshold = r.thr;
    o.max_outputs = r.cap;
    o.legacy_offset = r.offset;
    const auto ref = nms<float>(boxes, scores, o);
    cuda::nms_params p;
    p.iou_threshold = r.thr;
    p.max_outputs = r.cap;
    p.offset = r.offset;
    test::device_buffer<B> db(boxes);
    test::device_buffer<float> ds(scores);
    test::device_buffer<std::int64_t> keep(r.n);
    test::device_buffer<std::size_t> count(1);
    const std::size_t ws = cuda::nms_workspace_bytes(r.n);
    test::device_buffer<char> work(ws);
    REQUIRE(cuda::nms(db.ptr, ds.ptr, r.n, p, work.ptr, ws, keep.ptr, count.ptr, nullptr).ok());
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    const auto c = count.to_host()[0];
    const auto k = keep.to_host();
    INFO("n = " << r.n << ", threshold = " << r.thr << ", cap = " << r.cap);
    CHECK(ref.size() > r.n / 40);  // clustered: many suppressed, many kept
    CHECK(std::vector<std::size_t>(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(c)) == ref);
  }
  // Segmented, one large segment among small ones: both greedy kernels in one call.
  const std::vector<std::size_t> sizes{3, 2500, 0, 64, 4000, 7};
  std::vector<B> boxes;
  std::vector<float> scores;
  std::vector<std::size_t> off{0};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    make_set(sizes[k], 300u + static_cast<unsigned>(k), boxes, scores);
    off.push_back(boxes.size());
  }
  std::vector<std::size_t> counts;
  CHECK(gpu_segmented(boxes, scores, off, cuda::nms_params{}, counts) ==
        cpu_segmented(boxes, scores, off, nms_options{}));
}

TEST_CASE("NMS workspace grows with the sum of squared segment sizes", "[nms][cuda-host]") {
  // Host-only arithmetic: runs on every machine.
  const std::vector<std::size_t> one{0, 64000};
  std::vector<std::size_t> many{0};
  for (int k = 0; k < 64 * 80; ++k) many.push_back(many.back() + 12);  // 64 images x 80 classes
  const std::size_t big = cuda::nms_workspace_bytes(one.data(), 1);
  const std::size_t seg = cuda::nms_workspace_bytes(many.data(), many.size() - 1);
  CHECK(big > std::size_t{64000} * 1000 * 8);  // n * ceil(n / 64) words
  CHECK(seg < big / 100);
  CHECK(cuda::nms_workspace_bytes(0) > 0);
}

TEST_CASE(
    "device NMS on NaN, Inf, zero-area and inverted boxes and +-Inf and NaN scores "
    "keeps what the CPU keeps",
    "[cuda][nms][robustness]") {
  if (!test::have_cuda_device()) return;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<B> boxes{{0, 0, 10, 10},
                             {nan, 0, 10, 10},
                             {0, 0, 10, 10},
                             {10, 10, 0, 0},
                             {1, 1, 11, 11},
                             {0, 0, inf, 10},
                             {5, 5, 5, 5},
                             {-inf, -inf, inf, inf},
                             {1e9f, 1e9f, 1e9f + 128, 1e9f + 128},
                             {1e9f + 16, 1e9f, 1e9f + 144, 1e9f + 128},
                             {0, 0, 3e38f, 3e38f},
                             {0, 0, 10, 10}};
  // the GPU drops a NaN score (never a candidate); the CPU rejects it, and drops -Inf: the CPU
  // reference gets -Inf where the GPU gets NaN
  const std::vector<float> gpu_scores{0.9f, 0.95f, 0.8f, 0.7f, inf,  0.6f,
                                      0.5f, 0.4f,  0.3f, 0.2f, 0.1f, nan};
  std::vector<float> cpu_scores = gpu_scores;
  cpu_scores.back() = -inf;
  const std::size_t n = boxes.size();
  const auto ref = nms<float>(boxes, cpu_scores);
  test::device_buffer<B> db(boxes);
  test::device_buffer<float> ds(gpu_scores);
  test::device_buffer<std::int64_t> keep(n);
  test::device_buffer<std::size_t> count(1);
  const std::size_t ws = cuda::nms_workspace_bytes(n);
  test::device_buffer<char> work(ws);
  REQUIRE(
      cuda::nms(db.ptr, ds.ptr, n, cuda::nms_params{}, work.ptr, ws, keep.ptr, count.ptr, nullptr)
          .ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const auto c = count.to_host()[0];
  const auto k = keep.to_host();
  const std::vector<std::size_t> got(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(c));
  CHECK(got == ref);
  // and the same set with -Inf on the device too
  test::device_buffer<float> ds2(cpu_scores);
  REQUIRE(
      cuda::nms(db.ptr, ds2.ptr, n, cuda::nms_params{}, work.ptr, ws, keep.ptr, count.ptr, nullptr)
          .ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const auto c2 = count.to_host()[0];
  const auto k2 = keep.to_host();
  CHECK(std::vector<std::size_t>(k2.begin(), k2.begin() + static_cast<std::ptrdiff_t>(c2)) == ref);
}
