// SPDX-License-Identifier: Apache-2.0
// GPU benchmarks of groundeval::cuda (Google Benchmark, manual time from CUDA events).
// Rules (../shared/spec/kernels.md section 4.7): inputs are never zeros (deterministic random
// boxes); when one set of buffers is smaller than 4x the L2 cache, several sets are rotated so
// every launch reads cold inputs; each timed iteration is a batch of launches between two events.
// Counters: items_per_second = box pairs (or boxes for NMS) per second, and for materialized
// outputs bytes_per_second counts the output bytes written. d2d_copy measures the device-to-device
// copy bandwidth in the same run (bytes_per_second counts bytes read plus written).
#include <groundeval/boxes/batched.hpp>
#include <groundeval/cuda/api.hpp>

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

using namespace groundeval;
using B = box_xyxy<float>;

namespace {
bool have_device(benchmark::State& st) {
  if (cuda::device_count() > 0) return true;
  st.SkipWithError("no CUDA device");
  return false;
}

std::size_t l2_bytes() {
  int dev = 0, l2 = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev);
  return static_cast<std::size_t>(l2 > 0 ? l2 : 50 << 20);
}

std::vector<B> make_boxes(std::size_t n, std::uint64_t seed) {
  std::vector<B> v(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>((s >> 40) & 0xFFFF) / 65536.0f;
  };
  for (auto& b : v) {
    const float x = next() * 1000, y = next() * 800, w = next() * 200 + 1, h = next() * 200 + 1;
    b = {x, y, x + w, y + h};
  }
  return v;
}

struct device_mem {
  void* p = nullptr;
  explicit device_mem(std::size_t bytes) {
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) p = nullptr;
  }
  ~device_mem() { cudaFree(p); }
  device_mem(const device_mem&) = delete;
  device_mem& operator=(const device_mem&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(p);
  }
};

std::unique_ptr<device_mem> upload(const std::vector<B>& h) {
  auto d = std::make_unique<device_mem>(h.size() * sizeof(B));
  cudaMemcpy(d->p, h.data(), h.size() * sizeof(B), cudaMemcpyHostToDevice);
  return d;
}

/// Times `launch(set)` batches with CUDA events; `sets` rotates input/output buffer sets.
/// `launch` returns the groundeval call's status: a failed call ends the benchmark with an error.
template <class F>
void time_batches(benchmark::State& st, std::size_t sets, F&& launch) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  constexpr int kBatch = 8;
  cuda::status bad{};
  const auto call = [&](std::size_t k) {
    const cuda::status s = launch(k);
    if (!s.ok()) bad = s;
  };
  for (std::size_t k = 0; k < sets; ++k) call(k);  // warm-up
  cudaDeviceSynchronize();
  if (!bad.ok()) {
    st.SkipWithError(("groundeval call failed: " + cuda::message(bad)).c_str());
    return;
  }
  std::size_t k = 0;
  for (auto _ : st) {
    cudaEventRecord(e0);
    for (int r = 0; r < kBatch; ++r) call(k++ % sets);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    st.SetIterationTime(ms / 1e3 / kBatch);
  }
  if (cudaGetLastError() != cudaSuccess) st.SkipWithError("CUDA error during the benchmark");
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
}

std::size_t rotation(std::size_t bytes_per_set) {
  const std::size_t l2 = l2_bytes();
  return bytes_per_set >= 4 * l2
             ? 1
             : std::min<std::size_t>(8, 4 * l2 / std::max<std::size_t>(bytes_per_set, 1) + 1);
}

// ---- pairwise --------------------------------------------------------------------------------
template <cuda::iou_output Out>
void pairwise(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto n = static_cast<std::size_t>(st.range(0)), m = static_cast<std::size_t>(st.range(1));
  const std::size_t out_bytes = n * m * cuda::element_bytes(Out);
  const std::size_t sets = rotation(out_bytes + (n + m) * sizeof(B));
  std::vector<std::unique_ptr<device_mem>> a, b, out;
  for (std::size_t k = 0; k < sets; ++k) {
    a.push_back(upload(make_boxes(n, 2 * k + 1)));
    b.push_back(upload(make_boxes(m, 2 * k + 2)));
    out.push_back(std::make_unique<device_mem>(out_bytes));
    if (!out.back()->p) return st.SkipWithError("out of device memory");
  }
  time_batches(st, sets, [&](std::size_t k) {
    return cuda::pairwise_iou(a[k]->as<B>(), n, b[k]->as<B>(), m, out[k]->p, Out, 0, nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n * m));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * out_bytes));
}

void pairwise_giou(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto n = static_cast<std::size_t>(st.range(0)), m = static_cast<std::size_t>(st.range(1));
  auto a = upload(make_boxes(n, 1)), b = upload(make_boxes(m, 2));
  device_mem out(n * m * sizeof(float));
  time_batches(st, 1, [&](std::size_t) {
    return cuda::pairwise_giou(a->as<B>(), n, b->as<B>(), m, out.as<float>(), nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n * m));
}

void bitmask(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto n = static_cast<std::size_t>(st.range(0)), m = static_cast<std::size_t>(st.range(1));
  auto a = upload(make_boxes(n, 1)), b = upload(make_boxes(m, 2));
  device_mem out(n * cuda::bitmask_words(m) * 4);
  time_batches(st, 1, [&](std::size_t) {
    return cuda::pairwise_iou_bitmask(a->as<B>(), n, b->as<B>(), m, 0.5f, out.as<std::uint32_t>(),
                                      nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n * m));
}

// ---- fused and paired --------------------------------------------------------------------------
void fused_row_max(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto n = static_cast<std::size_t>(st.range(0)), m = static_cast<std::size_t>(st.range(1));
  auto a = upload(make_boxes(n, 1)), b = upload(make_boxes(m, 2));
  device_mem mx(n * sizeof(float)), arg(n * sizeof(std::int64_t));
  time_batches(st, 1, [&](std::size_t) {
    return cuda::max_iou_per_row(a->as<B>(), n, b->as<B>(), m, mx.as<float>(),
                                 arg.as<std::int64_t>(), nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n * m));
}

void paired(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto n = static_cast<std::size_t>(st.range(0));
  const std::size_t sets = rotation(n * (2 * sizeof(B) + sizeof(float)));
  std::vector<std::unique_ptr<device_mem>> a, b, out;
  for (std::size_t k = 0; k < sets; ++k) {
    a.push_back(upload(make_boxes(n, 2 * k + 1)));
    b.push_back(upload(make_boxes(n, 2 * k + 2)));
    out.push_back(std::make_unique<device_mem>(n * sizeof(float)));
  }
  time_batches(st, sets, [&](std::size_t k) {
    return cuda::paired_iou(a[k]->as<B>(), b[k]->as<B>(), n, out[k]->as<float>(), nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
  st.SetBytesProcessed(
      static_cast<std::int64_t>(st.iterations() * n * (2 * sizeof(B) + sizeof(float))));
}

// ---- NMS ---------------------------------------------------------------------------------------
std::vector<float> make_scores(std::size_t n, std::uint64_t seed) {
  std::vector<float> s(n);
  std::uint64_t x = seed + 12345;
  for (auto& v : s) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>((x >> 33) % 1000003) / 1000003.0f + 1e-6f;
  }
  return s;
}

/// NMS over one set of boxes (uploaded once), with the kept count as a counter.
void time_nms(benchmark::State& st, const std::vector<B>& host_boxes) {
  const std::size_t n = host_boxes.size();
  auto boxes = upload(host_boxes);
  const auto hs = make_scores(n, 4);
  device_mem scores(n * sizeof(float)), keep(n * sizeof(std::int64_t)), count(sizeof(std::size_t));
  cudaMemcpy(scores.p, hs.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  const std::size_t ws = cuda::nms_workspace_bytes(n);
  device_mem work(ws);
  cuda::nms_params p;
  time_batches(st, 1, [&](std::size_t) {
    return cuda::nms(boxes->as<B>(), scores.as<float>(), n, p, work.p, ws, keep.as<std::int64_t>(),
                     count.as<std::size_t>(), nullptr);
  });
  std::size_t kept = 0;
  cudaMemcpy(&kept, count.p, sizeof(kept), cudaMemcpyDeviceToHost);
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
  st.counters["workspace_MiB"] = static_cast<double>(ws) / (1 << 20);
  st.counters["kept"] = static_cast<double>(kept);
}

void nms_single(benchmark::State& st) {
  if (!have_device(st)) return;
  time_nms(st, make_boxes(static_cast<std::size_t>(st.range(0)), 3));
}

// images x boxes-per-image, each box with one of `classes` labels: segments = images x classes.
void nms_batched(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto images = static_cast<std::size_t>(st.range(0)),
             per = static_cast<std::size_t>(st.range(1)),
             classes = static_cast<std::size_t>(st.range(2));
  const std::size_t n = images * per;
  auto boxes = upload(make_boxes(n, 5));
  const auto hs = make_scores(n, 6);
  std::vector<std::size_t> off{0};
  for (std::size_t s = 0; s < images * classes; ++s)
    off.push_back(off.back() + per / classes + (s % classes < per % classes));
  device_mem scores(n * sizeof(float)), keep(n * sizeof(std::int64_t)),
      count(off.size() * sizeof(std::size_t)), doff(off.size() * sizeof(std::size_t));
  cudaMemcpy(scores.p, hs.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(doff.p, off.data(), off.size() * sizeof(std::size_t), cudaMemcpyHostToDevice);
  const std::size_t segs = off.size() - 1, ws = cuda::nms_workspace_bytes(off.data(), segs);
  device_mem work(ws);
  cuda::nms_params p;
  time_batches(st, 1, [&](std::size_t) {
    return cuda::segmented_nms(boxes->as<B>(), scores.as<float>(), doff.as<std::size_t>(), segs, n,
                               p, work.p, ws, keep.as<std::int64_t>(), count.as<std::size_t>(),
                               nullptr);
  });
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
  st.counters["workspace_MiB"] = static_cast<double>(ws) / (1 << 20);
}

void d2d_copy(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto bytes = static_cast<std::size_t>(st.range(0)) << 20;
  device_mem src(bytes), dst(bytes);
  cudaMemset(src.p, 1, bytes);
  time_batches(st, 1, [&](std::size_t) {
    return cuda::status{
        static_cast<int>(cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice))};
  });
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * 2 * bytes));
}

/// Write-only bandwidth (cudaMemsetAsync): the ceiling of a materialized IoU matrix.
void d2d_fill(benchmark::State& st) {
  if (!have_device(st)) return;
  const auto bytes = static_cast<std::size_t>(st.range(0)) << 20;
  device_mem dst(bytes);
  time_batches(st, 1, [&](std::size_t) {
    return cuda::status{static_cast<int>(cudaMemsetAsync(dst.p, 0, bytes))};
  });
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bytes));
}

/// Clustered boxes (the NMS benchmark of torchvision's own pull requests): n / 20 objects, each
/// with about 20 jittered proposals, and distinct scores.
std::vector<B> make_clustered(std::size_t n, std::uint64_t seed) {
  const auto centers = make_boxes(n / 20 + 1, seed);
  const auto jitter = make_boxes(n, seed + 7);
  std::vector<B> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const B& c = centers[(i * 2654435761u) % centers.size()];
    const float dx = jitter[i].x1 / 1000 - 0.5f, dy = jitter[i].y1 / 800 - 0.5f;
    const float dw = jitter[i].x2 - jitter[i].x1 - 101, dh = jitter[i].y2 - jitter[i].y1 - 101;
    v[i] = {c.x1 + 8 * dx, c.y1 + 8 * dy, c.x2 + 8 * dx + dw / 25, c.y2 + 8 * dy + dh / 25};
  }
  return v;
}

void nms_clustered(benchmark::State& st) {
  if (!have_device(st)) return;
  time_nms(st, make_clustered(static_cast<std::size_t>(st.range(0)), 3));
}

void pair_sizes(benchmark::internal::Benchmark* b) {
  for (auto [n, m] : {std::pair<long, long>{1000, 1000},
                      {5000, 5000},
                      {10000, 10000},
                      {16384, 16384},
                      {120000, 100},
                      {1000000, 64}})
    b->Args({n, m});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}
}  // namespace

BENCHMARK(d2d_copy)->Arg(1024)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(d2d_fill)->Arg(1024)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(pairwise<cuda::iou_output::f32>)->Name("pairwise_iou_f32")->Apply(pair_sizes);
BENCHMARK(pairwise<cuda::iou_output::f16>)->Name("pairwise_iou_f16")->Apply(pair_sizes);
BENCHMARK(pairwise<cuda::iou_output::u8>)->Name("pairwise_iou_u8")->Apply(pair_sizes);
BENCHMARK(bitmask)->Args({10000, 10000})->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(pairwise_giou)->Args({10000, 10000})->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(fused_row_max)->Apply(pair_sizes);
// issue 19's shapes of the fused max: many rows, and few rows x many columns
BENCHMARK(fused_row_max)
    ->Args({4096, 16384})
    ->Args({100, 100000})
    ->Args({1, 1000000})
    ->Args({16, 1000000})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(paired)->Arg(1000)->Arg(100000)->Arg(10000000)->UseManualTime()->Unit(
    benchmark::kMicrosecond);
BENCHMARK(nms_single)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(30000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(nms_clustered)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(30000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(nms_batched)
    ->Args({64, 1000, 80})
    ->Args({8, 1000, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
