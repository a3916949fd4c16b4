// SPDX-License-Identifier: Apache-2.0
// CPU batched IoU benchmarks (Google Benchmark). items_per_second = box pairs per second.
// Each family runs groundeval's driver next to its baselines in the same binary and run:
//   *_naive      the plain scalar double loop over corner boxes (one iou() call per pair),
//                compiled without auto-vectorization so it is the scalar loop it claims to be,
//   *_autovec    the same plain loop as GCC auto-vectorizes it at -O3 (reported for honesty:
//                on AVX-512 GCC vectorizes the pairwise AoS loop by itself),
//   *_broadcast  the NumPy/torchvision formulation written in C++ with full N x M temporaries
//                (areas, lt, rb, wh, inter, union, then the division), as box_iou does,
//   store_bandwidth  writing an output of the same size (std::fill on the same threads), the
//                bound for a materialized N x M float result.
// scripts/bench_iou_table.py turns the JSON output into the ratio table of bench/README.md.
#include <groundeval/boxes/batched.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

using namespace groundeval;
using F = float;

namespace {
// Deterministic, never-zero test boxes (a small LCG: this file only needs reproducible inputs).
std::vector<box_xyxy<F>> make_boxes(std::size_t n, std::uint64_t seed) {
  std::vector<box_xyxy<F>> v(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<F>((s >> 40) & 0xFFFF) / F(65536);
  };
  for (auto& b : v) {
    const F x = next() * 600, y = next() * 400, w = next() * 200 + 1, h = next() * 200 + 1;
    b = {x, y, x + w, y + h};
  }
  return v;
}

void set_pairs(benchmark::State& st, std::size_t n, std::size_t m) {
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(n * m));
}

// ---- pairwise ------------------------------------------------------------------------------
void pairwise_groundeval(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 1), b = make_boxes(n, 2);
  std::vector<F> out(n * n);
  for (auto _ : st) {
    pairwise_iou<F>(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
// The scalar baselines: identical source to pairwise_iou_reference / max_iou_per_row_reference,
// but GCC is told not to vectorize them.
#define GROUNDEVAL_BENCH_SCALAR \
  __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
GROUNDEVAL_BENCH_SCALAR void scalar_pairwise(const std::vector<box_xyxy<F>>& a,
                                             const std::vector<box_xyxy<F>>& b,
                                             std::vector<F>& out) {
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) out[i * b.size() + j] = iou(a[i], b[j]);
}
GROUNDEVAL_BENCH_SCALAR void scalar_paired(const std::vector<box_xyxy<F>>& a,
                                           const std::vector<box_xyxy<F>>& b, std::vector<F>& out) {
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = iou(a[i], b[i]);
}
GROUNDEVAL_BENCH_SCALAR void scalar_fused(const std::vector<box_xyxy<F>>& a,
                                          const std::vector<box_xyxy<F>>& b, std::vector<F>& mx,
                                          std::vector<std::int64_t>& arg) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    F best = 0;
    std::int64_t k = -1;
    for (std::size_t j = 0; j < b.size(); ++j) {
      const F v = iou(a[i], b[j]);
      if (k < 0 || v > best) best = v, k = static_cast<std::int64_t>(j);
    }
    mx[i] = best, arg[i] = k;
  }
}

void pairwise_naive(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 1), b = make_boxes(n, 2);
  std::vector<F> out(n * n);
  for (auto _ : st) {
    scalar_pairwise(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
void pairwise_autovec(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 1), b = make_boxes(n, 2);
  std::vector<F> out(n * n);
  for (auto _ : st) {
    pairwise_iou_reference<F>(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
// box_iou as torchvision / MDETR write it, with every intermediate materialized.
void broadcast_box_iou(const std::vector<box_xyxy<F>>& a, const std::vector<box_xyxy<F>>& b,
                       std::vector<F>& iou_out) {
  const std::size_t n = a.size(), m = b.size(), nm = n * m;
  std::vector<F> area1(n), area2(m);
  for (std::size_t i = 0; i < n; ++i) area1[i] = (a[i].x2 - a[i].x1) * (a[i].y2 - a[i].y1);
  for (std::size_t j = 0; j < m; ++j) area2[j] = (b[j].x2 - b[j].x1) * (b[j].y2 - b[j].y1);
  std::vector<F> lt(2 * nm), rb(2 * nm);  // [N, M, 2] each
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      lt[2 * (i * m + j)] = std::max(a[i].x1, b[j].x1);
      lt[2 * (i * m + j) + 1] = std::max(a[i].y1, b[j].y1);
    }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      rb[2 * (i * m + j)] = std::min(a[i].x2, b[j].x2);
      rb[2 * (i * m + j) + 1] = std::min(a[i].y2, b[j].y2);
    }
  std::vector<F> wh(2 * nm);
  for (std::size_t k = 0; k < 2 * nm; ++k) wh[k] = rb[k] - lt[k];
  std::vector<F>().swap(lt);
  std::vector<F>().swap(rb);
  for (auto& v : wh) v = std::max(v, F(0));  // clamp(min=0)
  std::vector<F> inter(nm);
  for (std::size_t k = 0; k < nm; ++k) inter[k] = wh[2 * k] * wh[2 * k + 1];
  std::vector<F>().swap(wh);
  std::vector<F> uni(nm);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) uni[i * m + j] = area1[i] + area2[j];
  for (std::size_t k = 0; k < nm; ++k) uni[k] -= inter[k];
  iou_out.assign(nm, F(0));
  for (std::size_t k = 0; k < nm; ++k) iou_out[k] = inter[k] / uni[k];
}
void pairwise_broadcast(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 1), b = make_boxes(n, 2);
  std::vector<F> out;
  for (auto _ : st) {
    broadcast_box_iou(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
void store_bandwidth(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  std::vector<F> out(n * n);
  F value = 0.25f;
  for (auto _ : st) {
    detail::parallel_for(n, n, parallel_options{}, [&](std::size_t i0, std::size_t i1) {
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(i0 * n),
                out.begin() + static_cast<std::ptrdiff_t>(i1 * n), value);
    });
    value += 1.0f;  // a different value each time: nothing can be skipped
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(n * n * sizeof(F)));
}

// ---- paired --------------------------------------------------------------------------------
void paired_groundeval(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0)) * static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 3), b = make_boxes(n, 4);
  std::vector<F> out(n);
  for (auto _ : st) {
    paired_iou<F>(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, 1);
}
void paired_naive(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0)) * static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 3), b = make_boxes(n, 4);
  std::vector<F> out(n);
  for (auto _ : st) {
    scalar_paired(a, b, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, 1);
}

// ---- fused max / argmax per row ------------------------------------------------------------
void fused_groundeval(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 5), b = make_boxes(n, 6);
  std::vector<F> mx(n);
  std::vector<std::int64_t> arg(n);
  for (auto _ : st) {
    max_iou_per_row<F>(a, b, mx, arg);
    benchmark::DoNotOptimize(mx.data());
    benchmark::DoNotOptimize(arg.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
void fused_naive(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 5), b = make_boxes(n, 6);
  std::vector<F> mx(n);
  std::vector<std::int64_t> arg(n);
  for (auto _ : st) {
    scalar_fused(a, b, mx, arg);
    benchmark::DoNotOptimize(mx.data());
    benchmark::DoNotOptimize(arg.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}
void fused_broadcast(benchmark::State& st) {  // box_iou(a, b).max(dim=1): full matrix, then reduce
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto a = make_boxes(n, 5), b = make_boxes(n, 6);
  std::vector<F> mat, mx(n);
  std::vector<std::int64_t> arg(n);
  for (auto _ : st) {
    broadcast_box_iou(a, b, mat);
    for (std::size_t i = 0; i < n; ++i) {
      const auto it = std::max_element(mat.begin() + static_cast<std::ptrdiff_t>(i * n),
                                       mat.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
      mx[i] = *it;
      arg[i] = it - (mat.begin() + static_cast<std::ptrdiff_t>(i * n));
    }
    benchmark::DoNotOptimize(mx.data());
    benchmark::ClobberMemory();
  }
  set_pairs(st, n, n);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (long n : {64L, 1024L, 4096L, 16384L}) b->Arg(n);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
void sizes_no_16k(benchmark::internal::Benchmark* b) {  // the slow baselines: 16384^2 needs GiBs
  for (long n : {64L, 1024L, 4096L}) b->Arg(n);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
}  // namespace

BENCHMARK(pairwise_groundeval)->Apply(sizes);
BENCHMARK(pairwise_naive)->Apply(sizes);
BENCHMARK(pairwise_autovec)->Apply(sizes);
BENCHMARK(pairwise_broadcast)->Apply(sizes);
BENCHMARK(store_bandwidth)->Apply(sizes);
BENCHMARK(paired_groundeval)->Apply(sizes_no_16k);
BENCHMARK(paired_naive)->Apply(sizes_no_16k);
BENCHMARK(fused_groundeval)->Apply(sizes);
BENCHMARK(fused_naive)->Apply(sizes);
BENCHMARK(fused_broadcast)->Apply(sizes_no_16k);
BENCHMARK_MAIN();
