// SPDX-License-Identifier: Apache-2.0
// [cuda] IoU family on the device against the CPU drivers of boxes/batched.hpp. groundeval::cuda
// is compiled with -fmad=false, so float32 results must be bit-identical to the CPU; converted
// outputs (f16, bf16, u8, bitmask) must equal the CPU value converted the same way. Inputs mix
// random boxes with zero-area, inverted, NaN and duplicate boxes, sizes that are not multiples
// of the tile, unaligned and padded layouts, empty inputs and 100k boxes.
#include "cuda_test_support.cuh"

#include <groundeval/boxes/batched.hpp>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

using namespace groundeval;
using B = box_xyxy<float>;

namespace {
std::vector<B> boxes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 100.f);
  std::vector<B> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float x = std::floor(u(rng)), y = std::floor(u(rng));
    v[i] = {x, y, x + std::floor(u(rng) / 2), y + u(rng) / 2};
    if (i % 17 == 3) v[i] = {0, 0, 0, 0};
    if (i % 23 == 5) v[i].x2 = std::numeric_limits<float>::quiet_NaN();
    if (i % 29 == 7) std::swap(v[i].x1, v[i].x2);
    if (i % 31 == 11 && i > 0) v[i] = v[i - 1];  // duplicates -> ties in argmax
  }
  return v;
}

void sync_ok(cuda::status st) {
  REQUIRE(st.ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
}

template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0);
}

const std::pair<std::size_t, std::size_t> kSizes[] = {
    {1, 1}, {33, 65}, {300, 257}, {1000, 3}, {7, 1031}};
}  // namespace

TEST_CASE("device pairwise IoU equals the CPU driver bit for bit", "[cuda]") {
  if (!test::have_cuda_device()) return;
  for (auto [n, m] : kSizes) {
    const auto a = boxes(n, 1), b = boxes(m, 2);
    std::vector<float> ref(n * m);
    pairwise_iou<float>(a, b, ref);
    test::device_buffer<B> da(a), db(b);
    test::device_buffer<float> dout(n * m);
    sync_ok(cuda::pairwise_iou(da.ptr, n, db.ptr, m, dout.ptr, nullptr));
    CHECK(same_bits(dout.to_host(), ref));

    // padded rows (ld > m) and an unaligned box array (offset by one float)
    const std::size_t ld = m + 3;
    test::device_buffer<float> padded(n * ld);
    sync_ok(
        cuda::pairwise_iou(da.ptr, n, db.ptr, m, padded.ptr, cuda::iou_output::f32, ld, nullptr));
    const auto hp = padded.to_host();
    bool rows_ok = true;
    for (std::size_t i = 0; i < n; ++i)
      rows_ok =
          rows_ok && std::memcmp(hp.data() + i * ld, ref.data() + i * m, m * sizeof(float)) == 0;
    CHECK(rows_ok);
    std::vector<float> flat(1 + 4 * m);
    std::memcpy(flat.data() + 1, b.data(), m * sizeof(B));
    test::device_buffer<float> dflat(flat);
    sync_ok(cuda::pairwise_iou(da.ptr, n, reinterpret_cast<const B*>(dflat.ptr + 1), m, dout.ptr,
                               nullptr));
    CHECK(same_bits(dout.to_host(), ref));
  }
}

TEST_CASE("device pairwise IoU in f16, bf16, u8 and as a bitmask", "[cuda]") {
  if (!test::have_cuda_device()) return;
  for (auto [n, m] : kSizes) {
    const auto a = boxes(n, 3), b = boxes(m, 4);
    std::vector<float> ref(n * m);
    pairwise_iou<float>(a, b, ref);
    test::device_buffer<B> da(a), db(b);
    test::device_buffer<std::uint16_t> h(n * m), bf(n * m);
    test::device_buffer<std::uint8_t> q(n * m);
    sync_ok(cuda::pairwise_iou(da.ptr, n, db.ptr, m, h.ptr, cuda::iou_output::f16, 0, nullptr));
    sync_ok(cuda::pairwise_iou(da.ptr, n, db.ptr, m, bf.ptr, cuda::iou_output::bf16, 0, nullptr));
    sync_ok(cuda::pairwise_iou(da.ptr, n, db.ptr, m, q.ptr, cuda::iou_output::u8, 0, nullptr));
    const auto hh = h.to_host(), hb = bf.to_host();
    const auto hq = q.to_host();
    std::size_t bad = 0;
    for (std::size_t k = 0; k < ref.size(); ++k) {
      const __half eh = __float2half_rn(ref[k]);
      const __nv_bfloat16 eb = __float2bfloat16_rn(ref[k]);
      std::uint16_t uh, ub;
      std::memcpy(&uh, &eh, 2);
      std::memcpy(&ub, &eb, 2);
      const auto eq = static_cast<std::uint8_t>(std::nearbyint(ref[k] * 255.0f));
      bad += (hh[k] != uh) + (hb[k] != ub) + (hq[k] != eq);
    }
    CHECK(bad == 0);

    const std::size_t words = cuda::bitmask_words(m);
    test::device_buffer<std::uint32_t> mask(n * words);
    sync_ok(cuda::pairwise_iou_bitmask(da.ptr, n, db.ptr, m, 0.5f, mask.ptr, nullptr));
    const auto hm = mask.to_host();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < m; ++j)
        wrong += ((hm[i * words + j / 32] >> (j % 32)) & 1u) !=
                 (iou_hit(ref[i * m + j], 0.5f) ? 1u : 0u);
    CHECK(wrong == 0);
  }
}

TEST_CASE("device paired IoU / GIoU and pairwise GIoU", "[cuda]") {
  if (!test::have_cuda_device()) return;
  for (std::size_t n : {std::size_t{1}, std::size_t{1000}, std::size_t{100000}}) {
    const auto a = boxes(n, 5), b = boxes(n, 6);
    std::vector<float> ref(n), gref(n);
    paired_iou<float>(a, b, ref);
    for (std::size_t i = 0; i < n; ++i) gref[i] = giou(a[i], b[i]);
    test::device_buffer<B> da(a), db(b);
    test::device_buffer<float> out(n);
    sync_ok(cuda::paired_iou(da.ptr, db.ptr, n, out.ptr, nullptr));
    CHECK(same_bits(out.to_host(), ref));
    sync_ok(cuda::paired_giou(da.ptr, db.ptr, n, out.ptr, nullptr));
    CHECK(same_bits(out.to_host(), gref));
  }
  const auto a = boxes(70, 7), b = boxes(45, 8);
  std::vector<float> gref(70 * 45);
  for (std::size_t i = 0; i < 70; ++i)
    for (std::size_t j = 0; j < 45; ++j) gref[i * 45 + j] = giou(a[i], b[j]);
  test::device_buffer<B> da(a), db(b);
  test::device_buffer<float> out(70 * 45);
  sync_ok(cuda::pairwise_giou(da.ptr, 70, db.ptr, 45, out.ptr, nullptr));
  CHECK(same_bits(out.to_host(), gref));
}

TEST_CASE("device fused max/argmax per row and column", "[cuda]") {
  if (!test::have_cuda_device()) return;
  for (auto [n, m] :
       {std::pair<std::size_t, std::size_t>{1, 1}, {31, 65}, {257, 300}, {100000, 100}, {5, 0}}) {
    const auto a = boxes(n, 9), b = boxes(m, 10);
    std::vector<float> rmax(n), cmax(m);
    std::vector<std::int64_t> rarg(n), carg(m);
    max_iou_per_row<float>(a, b, rmax, rarg);
    max_iou_per_col<float>(a, b, cmax, carg);
    test::device_buffer<B> da(a), db(b);
    test::device_buffer<float> dmax(std::max(n, m));
    test::device_buffer<std::int64_t> darg(std::max(n, m));
    sync_ok(cuda::max_iou_per_row(da.ptr, n, db.ptr, m, dmax.ptr, darg.ptr, nullptr));
    auto gm = dmax.to_host();
    auto ga = darg.to_host();
    gm.resize(n), ga.resize(n);
    CHECK(same_bits(gm, rmax));
    CHECK(ga == rarg);
    if (m == 0) continue;
    sync_ok(cuda::max_iou_per_col(da.ptr, n, db.ptr, m, dmax.ptr, darg.ptr, nullptr));
    gm = dmax.to_host(), ga = darg.to_host();
    gm.resize(m), ga.resize(m);
    CHECK(same_bits(gm, cmax));
    CHECK(ga == carg);
  }
}

TEST_CASE("device fused max/argmax: few rows x many columns, split across blocks", "[cuda]") {
  if (!test::have_cuda_device()) return;
  // Issue 19's shapes: the columns of a row are split over many warps and combined by atomicMax
  // on (IoU, index) keys; the lowest index must win every tie, wherever the tied columns fall.
  for (auto [n, m] : {std::pair<std::size_t, std::size_t>{1, 1000000},
                      {16, 1000000},
                      {100, 100000},
                      {3, 5000},
                      {4096, 16384}}) {
    const auto a = boxes(n, 21), b = boxes(m, 22);
    std::vector<float> rmax(n);
    std::vector<std::int64_t> rarg(n);
    max_iou_per_row<float>(a, b, rmax, rarg);
    test::device_buffer<B> da(a), db(b);
    test::device_buffer<float> dmax(n);
    test::device_buffer<std::int64_t> darg(n);
    sync_ok(cuda::max_iou_per_row(da.ptr, n, db.ptr, m, dmax.ptr, darg.ptr, nullptr));
    INFO("n = " << n << ", m = " << m);
    CHECK(same_bits(dmax.to_host(), rmax));
    CHECK(darg.to_host() == rarg);
    if (n > 16) continue;
    std::vector<float> cmax(n);
    std::vector<std::int64_t> carg(n);  // the column variant: the same split, transposed
    max_iou_per_col<float>(b, a, cmax, carg);
    sync_ok(cuda::max_iou_per_col(db.ptr, m, da.ptr, n, dmax.ptr, darg.ptr, nullptr));
    CHECK(same_bits(dmax.to_host(), cmax));
    CHECK(darg.to_host() == carg);
  }
  // Exact ties far apart: copies of the row's best box at columns 7000, 150000 and 199999.
  std::vector<B> a{{10, 10, 50, 50}}, b = boxes(200000, 23);
  for (auto& x : b) x = {x.x1 + 1000, x.y1 + 1000, x.x2 + 1000, x.y2 + 1000};  // no overlap
  b[150000] = b[7000] = b[199999] = {12, 12, 48, 52};
  b[3] = {0, 0, 1, 1};
  test::device_buffer<B> da(a), db(b);
  test::device_buffer<float> dmax(1);
  test::device_buffer<std::int64_t> darg(1);
  sync_ok(cuda::max_iou_per_row(da.ptr, 1, db.ptr, b.size(), dmax.ptr, darg.ptr, nullptr));
  CHECK(darg.to_host()[0] == 7000);
  CHECK(dmax.to_host()[0] == iou(a[0], b[7000]));
  // No overlap anywhere: IoU 0, and the smallest index (0) is the argmax, as on the CPU.
  b[150000] = b[7000] = b[199999] = b[3] = b[10];
  test::device_buffer<B> db_none(b);
  sync_ok(cuda::max_iou_per_row(da.ptr, 1, db_none.ptr, b.size(), dmax.ptr, darg.ptr, nullptr));
  CHECK(darg.to_host()[0] == 0);
  CHECK(dmax.to_host()[0] == 0.0f);
}

TEST_CASE("device ragged batches equal the CPU ragged drivers", "[cuda]") {
  if (!test::have_cuda_device()) return;
  const std::vector<std::size_t> na{3, 0, 40, 1, 17, 200}, nb{5, 4, 0, 33, 17, 1};
  std::vector<std::size_t> ao{0}, bo{0};
  for (std::size_t k = 0; k < na.size(); ++k)
    ao.push_back(ao.back() + na[k]), bo.push_back(bo.back() + nb[k]);
  const auto a = boxes(ao.back(), 11), b = boxes(bo.back(), 12);
  const auto oo = ragged_output_offsets(ao, bo);
  std::vector<float> ref(oo.back()), rmax(a.size());
  std::vector<std::int64_t> rarg(a.size());
  ragged_pairwise_iou<float>(a, ao, b, bo, ref);
  ragged_max_iou_per_row<float>(a, ao, b, bo, rmax, rarg);
  test::device_buffer<B> da(a), db(b);
  test::device_buffer<std::size_t> dao(ao), dbo(bo), doo(oo);
  test::device_buffer<float> out(oo.back()), mx(a.size());
  test::device_buffer<std::int64_t> arg(a.size());
  const std::size_t images = na.size();
  sync_ok(cuda::ragged_pairwise_iou(da.ptr, dao.ptr, db.ptr, dbo.ptr, doo.ptr, images, a.size(),
                                    out.ptr, nullptr));
  CHECK(same_bits(out.to_host(), ref));
  sync_ok(cuda::ragged_max_iou_per_row(da.ptr, dao.ptr, db.ptr, dbo.ptr, images, a.size(), mx.ptr,
                                       arg.ptr, nullptr));
  CHECK(same_bits(mx.to_host(), rmax));
  CHECK(arg.to_host() == rarg);

  // Few rows, large images: every row's columns split over many warps.
  const std::vector<std::size_t> ao2{0, 2, 2, 5}, bo2{0, 50000, 50010, 120000};
  const auto a2 = boxes(ao2.back(), 13), b2 = boxes(bo2.back(), 14);
  std::vector<float> rmax2(a2.size());
  std::vector<std::int64_t> rarg2(a2.size());
  ragged_max_iou_per_row<float>(a2, ao2, b2, bo2, rmax2, rarg2);
  test::device_buffer<B> da2(a2), db2(b2);
  test::device_buffer<std::size_t> dao2(ao2), dbo2(bo2);
  test::device_buffer<float> mx2(a2.size());
  test::device_buffer<std::int64_t> arg2(a2.size());
  sync_ok(cuda::ragged_max_iou_per_row(da2.ptr, dao2.ptr, db2.ptr, dbo2.ptr, 3, a2.size(), mx2.ptr,
                                       arg2.ptr, nullptr));
  CHECK(same_bits(mx2.to_host(), rmax2));
  CHECK(arg2.to_host() == rarg2);
}

TEST_CASE("device entry points reject bad arguments without launching", "[cuda][cuda-host]") {
  // Argument checks run before any CUDA call, so they are exercised on every machine.
  float* out = nullptr;
  CHECK_FALSE(cuda::pairwise_iou(nullptr, 3, nullptr, 4, out, nullptr).ok());
  CHECK(cuda::pairwise_iou(nullptr, 0, nullptr, 4, out, nullptr).ok());  // empty: nothing to do
  const B* fake = reinterpret_cast<const B*>(16);
  CHECK_FALSE(cuda::pairwise_iou(fake, 3, fake, 4, reinterpret_cast<float*>(64),
                                 cuda::iou_output::f32, 2, nullptr)
                  .ok());  // ld < m
  CHECK_FALSE(cuda::max_iou_per_row(fake, 3, fake, 2, nullptr, nullptr, nullptr).ok());
}

TEST_CASE("device count query never throws", "[cuda][cuda-host]") {
  const int n = cuda::device_count();
  CHECK(n >= 0);
  if (n == 0) WARN("no CUDA device on this machine");
}

namespace {
// The numeric edge cases of docs/robustness.md (N01-N06) in float: NaN, +-Inf, subnormal sizes,
// coordinates beyond 1e9, areas that overflow, zero-area and inverted boxes.
std::vector<B> edge_boxes() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float den = std::numeric_limits<float>::denorm_min();
  return {{0, 0, 10, 10},
          {nan, 0, 10, 10},
          {nan, nan, nan, nan},
          {0, 0, inf, 10},
          {-inf, -inf, inf, inf},
          {-inf, 0, 5, 10},
          {5, 5, 5, 5},
          {0, 0, 10, 0},
          {10, 10, 0, 0},
          {8, 0, 2, 10},
          {0, 0, 1e-30f, 1e-30f},  // area underflows to 0
          {0, 0, den, 10},         // subnormal but positive area
          {0, 0, den, den},
          {1e9f, 1e9f, 1e9f + 128, 1e9f + 128},
          {1e9f + 64, 1e9f, 1e9f + 192, 1e9f + 128},
          {1e12f, 1e12f, 1e12f + 100, 1e12f + 100},  // collapses to zero width in float
          {0, 0, 3e38f, 3e38f},                      // area overflows to Inf
          {-3e38f, -3e38f, 3e38f, 3e38f},
          {1, 1, 11, 11},
          {-0.0f, -0.0f, 10, 10},  // -0 corners (the kernels' min / max may keep either zero)
          {-5, -5, -0.0f, -0.0f},
          {0, -0.0f, 0, 10}};
}
}  // namespace

TEST_CASE(
    "device IoU family on NaN, Inf, subnormal, 1e9+, zero-area and inverted boxes equals "
    "the CPU bit for bit",
    "[cuda][robustness]") {
  if (!test::have_cuda_device()) return;
  const auto a = edge_boxes();
  std::vector<B> b(a.rbegin(), a.rend());
  const std::size_t n = a.size();
  std::vector<float> ref(n * n), gref(n * n), pref(n), pgref(n), rmax(n);
  std::vector<std::int64_t> rarg(n);
  pairwise_iou<float>(a, a, ref);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) gref[i * n + j] = giou(a[i], a[j]);
  paired_iou<float>(a, b, pref);
  for (std::size_t i = 0; i < n; ++i) pgref[i] = giou(a[i], b[i]);
  max_iou_per_row<float>(a, a, rmax, rarg);
  // the CPU results are themselves defined: in [0, 1] (GIoU in [-1, 1]), never NaN
  for (const float v : ref) CHECK((v >= 0.f && v <= 1.f));
  for (const float v : gref) CHECK((v >= -1.f && v <= 1.f));

  test::device_buffer<B> da(a), db(b);
  test::device_buffer<float> dout(n * n);
  sync_ok(cuda::pairwise_iou(da.ptr, n, da.ptr, n, dout.ptr, nullptr));
  CHECK(same_bits(dout.to_host(), ref));
  sync_ok(cuda::pairwise_giou(da.ptr, n, da.ptr, n, dout.ptr, nullptr));
  CHECK(same_bits(dout.to_host(), gref));
  test::device_buffer<float> dp(n);
  sync_ok(cuda::paired_iou(da.ptr, db.ptr, n, dp.ptr, nullptr));
  CHECK(same_bits(dp.to_host(), pref));
  sync_ok(cuda::paired_giou(da.ptr, db.ptr, n, dp.ptr, nullptr));
  CHECK(same_bits(dp.to_host(), pgref));
  test::device_buffer<std::int64_t> darg(n);
  sync_ok(cuda::max_iou_per_row(da.ptr, n, da.ptr, n, dp.ptr, darg.ptr, nullptr));
  CHECK(same_bits(dp.to_host(), rmax));
  CHECK(darg.to_host() == rarg);
}
