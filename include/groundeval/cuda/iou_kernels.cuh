// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/iou_kernels.cuh — templated batched-IoU kernels. Every kernel evaluates the
// shared per-element math of boxes/iou.hpp (iou_with_areas / giou); the kernels only add the
// launch shape, the tiling and the stores. Include from .cu files only (target groundeval::cuda,
// which compiles them with -fmad=false so device results equal the CPU drivers bit for bit).
#pragma once
#if !defined(__CUDACC__)
#error "groundeval/cuda/iou_kernels.cuh must be included from a .cu file compiled by nvcc"
#endif

#include <groundeval/boxes/iou.hpp>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstddef>
#include <cstdint>

namespace groundeval::cuda::kernels {

using box = box_xyxy<float>;

// ---- loads and stores ------------------------------------------------------------------------

/// One box; a single 16-byte read-only load when the array is 16-byte aligned.
template <bool Aligned>
__device__ __forceinline__ box load_box(const box* p) {
  if constexpr (Aligned) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(p));
    return {v.x, v.y, v.z, v.w};
  } else {
    return {__ldg(&p->x1), __ldg(&p->y1), __ldg(&p->x2), __ldg(&p->y2)};
  }
}

/// Output element conversion: IoU is computed in float32 and converted only when stored.
template <class Out>
struct out_conv;
template <>
struct out_conv<float> {
  static __device__ __forceinline__ float cvt(float v) { return v; }
  static __device__ __forceinline__ void store4(float* p, const float (&v)[4]) {
    __stcs(reinterpret_cast<float4*>(p), make_float4(v[0], v[1], v[2], v[3]));
  }
};
template <>
struct out_conv<__half> {
  static __device__ __forceinline__ __half cvt(float v) { return __float2half_rn(v); }
  static __device__ __forceinline__ void store4(__half* p, const float (&v)[4]) {
    const __half2 lo = __floats2half2_rn(v[0], v[1]), hi = __floats2half2_rn(v[2], v[3]);
    uint2 u;
    u.x = *reinterpret_cast<const unsigned*>(&lo);
    u.y = *reinterpret_cast<const unsigned*>(&hi);
    __stcs(reinterpret_cast<uint2*>(p), u);
  }
};
template <>
struct out_conv<__nv_bfloat16> {
  static __device__ __forceinline__ __nv_bfloat16 cvt(float v) { return __float2bfloat16_rn(v); }
  static __device__ __forceinline__ void store4(__nv_bfloat16* p, const float (&v)[4]) {
    const __nv_bfloat162 lo = __floats2bfloat162_rn(v[0], v[1]);
    const __nv_bfloat162 hi = __floats2bfloat162_rn(v[2], v[3]);
    uint2 u;
    u.x = *reinterpret_cast<const unsigned*>(&lo);
    u.y = *reinterpret_cast<const unsigned*>(&hi);
    __stcs(reinterpret_cast<uint2*>(p), u);
  }
};
/// uint8 quantized IoU: round(iou * 255), so 255 means exactly 1 and 0 exactly 0.
template <>
struct out_conv<std::uint8_t> {
  static __device__ __forceinline__ std::uint8_t cvt(float v) {
    return static_cast<std::uint8_t>(__float2uint_rn(v * 255.0f));
  }
  static __device__ __forceinline__ void store4(std::uint8_t* p, const float (&v)[4]) {
    const unsigned u = unsigned(cvt(v[0])) | unsigned(cvt(v[1])) << 8 | unsigned(cvt(v[2])) << 16 |
                       unsigned(cvt(v[3])) << 24;
    __stcs(reinterpret_cast<unsigned*>(p), u);
  }
};

// ---- per-pair operations (all from boxes/iou.hpp) ------------------------------------------

struct iou_op {
  static __device__ __forceinline__ float apply(const box& a, float aa, const box& b, float ab) {
    return iou_with_areas(a, aa, b, ab);
  }
};
struct giou_op {
  static __device__ __forceinline__ float apply(const box& a, float, const box& b, float) {
    return giou(a, b);
  }
};

// ---- pairwise, materialized ------------------------------------------------------------------

/// Launch shape of pairwise_tile_kernel: block (kTileThreadsX, kTileThreadsY) = 256 threads;
/// each thread owns kTileCols consecutive columns (one 16-byte store for float output) and
/// kTileRowsPerThread rows strided by kTileThreadsY, so a block covers a 32 x 256 output tile.
/// grid.x = ceil(m / 256); grid.y = min(ceil(n / 32), 65535) with a grid-stride loop over rows.
inline constexpr int kTileCols = 4;
inline constexpr int kTileThreadsX = 64;
inline constexpr int kTileThreadsY = 4;
inline constexpr int kTileRowsPerThread = 8;
inline constexpr int kTileRows = kTileThreadsY * kTileRowsPerThread;
inline constexpr int kTileColsPerBlock = kTileThreadsX * kTileCols;

/// out[i * ld + j] = Op(a[i], b[j]). The b boxes a thread needs stay in registers for all its
/// rows; the a box of a row is one broadcast load per warp. VecStore requires ld % 4 == 0 and an
/// output base aligned to 4 elements (checked by the launcher).
template <class Op, class Out, bool Aligned, bool VecStore>
__global__ void __launch_bounds__(kTileThreadsX* kTileThreadsY)
    pairwise_tile_kernel(const box* __restrict__ a, std::size_t n, const box* __restrict__ b,
                         std::size_t m, Out* __restrict__ out, std::size_t ld) {
  const std::size_t j0 =
      (static_cast<std::size_t>(blockIdx.x) * kTileThreadsX + threadIdx.x) * kTileCols;
  if (j0 >= m) return;
  box bb[kTileCols];
  float ab[kTileCols];
#pragma unroll
  for (int c = 0; c < kTileCols; ++c) {
    bb[c] = j0 + c < m ? load_box<Aligned>(b + j0 + c) : box{0, 0, 0, 0};
    ab[c] = area(bb[c]);
  }
  const std::size_t row_tiles = (n + kTileRows - 1) / kTileRows;
  for (std::size_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
#pragma unroll
    for (int r = 0; r < kTileRowsPerThread; ++r) {
      const std::size_t i =
          t * kTileRows + static_cast<std::size_t>(r) * kTileThreadsY + threadIdx.y;
      if (i >= n) break;
      const box ai = load_box<Aligned>(a + i);
      const float aa = area(ai);
      float v[kTileCols];
#pragma unroll
      for (int c = 0; c < kTileCols; ++c) v[c] = Op::apply(ai, aa, bb[c], ab[c]);
      Out* dst = out + i * ld + j0;
      if (VecStore && j0 + kTileCols <= m) {
        out_conv<Out>::store4(dst, v);
      } else {
#pragma unroll
        for (int c = 0; c < kTileCols; ++c)
          if (j0 + c < m) dst[c] = out_conv<Out>::cvt(v[c]);
      }
    }
  }
}

/// Thresholded bitmask: bit (j % 32) of word out[i * words + j / 32] is set iff
/// iou_hit(iou(a[i], b[j]), threshold). One warp per (row, word), grid-stride; __ballot_sync
/// builds each 32-bit word. words = ceil(m / 32).
template <bool Aligned>
__global__ void pairwise_bitmask_kernel(const box* __restrict__ a, std::size_t n,
                                        const box* __restrict__ b, std::size_t m, float threshold,
                                        std::uint32_t* __restrict__ out) {
  const std::size_t words = (m + 31) / 32;
  const std::size_t total = n * words;
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps_per_block = blockDim.x / 32;
  for (std::size_t w = static_cast<std::size_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
       w < total; w += static_cast<std::size_t>(gridDim.x) * warps_per_block) {
    const std::size_t i = w / words, j = (w % words) * 32 + lane;
    bool hit = false;
    if (j < m) {
      const box ai = load_box<Aligned>(a + i), bj = load_box<Aligned>(b + j);
      hit = iou_hit(iou_with_areas(ai, area(ai), bj, area(bj)), threshold);
    }
    const unsigned word = __ballot_sync(0xffffffffu, hit);
    if (lane == 0) out[w] = word;
  }
}

// ---- paired ---------------------------------------------------------------------------------

/// out[i] = Op(a[i], b[i]); grid-stride, one pair per thread per step.
template <class Op, bool Aligned>
__global__ void paired_kernel(const box* __restrict__ a, const box* __restrict__ b, std::size_t n,
                              float* __restrict__ out) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const box ai = load_box<Aligned>(a + i), bi = load_box<Aligned>(b + i);
    __stcs(out + i, Op::apply(ai, area(ai), bi, area(bi)));
  }
}

// ---- fused max / argmax per row ---------------------------------------------------------------

/// Rows handled by one warp of max_rows_kernel; block = 256 threads = 8 warps = 32 rows.
inline constexpr int kFusedRowsPerWarp = 4;
inline constexpr int kFusedWarps = 8;

/// Combines (value, index) candidates: the larger value wins, ties go to the smaller index;
/// index -1 means "no candidate".
__device__ __forceinline__ void take_better(float& best, long long& arg, float v, long long k) {
  if (k >= 0 && (arg < 0 || v > best || (v == best && k < arg))) best = v, arg = k;
}

/// Merges the (value, index) candidates of the 32 lanes with take_better's rule (larger value,
/// ties to the smaller index); afterwards every lane holds the warp's winner.
__device__ __forceinline__ void warp_reduce_best(float& best, long long& arg) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, off);
    const long long oa = __shfl_xor_sync(0xffffffffu, arg, off);
    take_better(best, arg, ov, oa);
  }
}

/// best[i] = max_j iou(a[i], b[j]), arg[i] = the smallest j reaching it (-1 and 0 when m == 0),
/// for rows [row_begin, row_end) of `a` against b[0..m). Each warp owns kFusedRowsPerWarp rows;
/// lanes stride over the columns with the rows' boxes in registers, then a shuffle reduction
/// merges the lanes. The N x M matrix never exists.
template <bool Aligned>
__device__ __forceinline__ void max_rows_warp(const box* __restrict__ a, std::size_t row0,
                                              std::size_t rows, const box* __restrict__ b,
                                              std::size_t m, float* __restrict__ best_out,
                                              long long* __restrict__ arg_out) {
  const unsigned lane = threadIdx.x & 31u;
  box ar[kFusedRowsPerWarp];
  float aa[kFusedRowsPerWarp], best[kFusedRowsPerWarp];
  long long arg[kFusedRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kFusedRowsPerWarp; ++r) {
    ar[r] = static_cast<std::size_t>(r) < rows ? load_box<Aligned>(a + row0 + r) : box{0, 0, 0, 0};
    aa[r] = area(ar[r]);
    best[r] = 0.0f;
    arg[r] = -1;
  }
  for (std::size_t j = lane; j < m; j += 32) {
    const box bj = load_box<Aligned>(b + j);
    const float ab = area(bj);
#pragma unroll
    for (int r = 0; r < kFusedRowsPerWarp; ++r)
      take_better(best[r], arg[r], iou_with_areas(ar[r], aa[r], bj, ab), static_cast<long long>(j));
  }
#pragma unroll
  for (int r = 0; r < kFusedRowsPerWarp; ++r) {
    warp_reduce_best(best[r], arg[r]);
    if (lane == 0 && static_cast<std::size_t>(r) < rows) {
      best_out[row0 + r] = best[r];
      arg_out[row0 + r] = arg[r];
    }
  }
}

/// Launch: block kFusedWarps * 32 threads, grid = ceil(n / (kFusedWarps * kFusedRowsPerWarp)).
template <bool Aligned>
__global__ void __launch_bounds__(kFusedWarps * 32)
    max_rows_kernel(const box* __restrict__ a, std::size_t n, const box* __restrict__ b,
                    std::size_t m, float* __restrict__ best_out, long long* __restrict__ arg_out) {
  const std::size_t row0 =
      (static_cast<std::size_t>(blockIdx.x) * kFusedWarps + threadIdx.x / 32) * kFusedRowsPerWarp;
  if (row0 >= n) return;  // whole warp leaves together
  const std::size_t rows = n - row0 < kFusedRowsPerWarp ? n - row0 : kFusedRowsPerWarp;
  max_rows_warp<Aligned>(a, row0, rows, b, m, best_out, arg_out);
}

// ---- ragged batches ----------------------------------------------------------------------------

/// Image of global row i: the k with offsets[k] <= i < offsets[k + 1] (binary search over the
/// images + 1 non-decreasing offsets; empty images are skipped naturally).
__device__ __forceinline__ std::size_t segment_of(const std::size_t* __restrict__ offsets,
                                                  std::size_t images, std::size_t i) {
  std::size_t lo = 0, hi = images;  // invariant: offsets[lo] <= i < offsets[hi]
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= i)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/// Per image k, the |a_k| x |b_k| IoU matrix at out + out_offsets[k] (row-major). One warp per
/// global row of a (grid-stride); lanes stride over that image's columns.
template <bool Aligned>
__global__ void ragged_pairwise_kernel(const box* __restrict__ a,
                                       const std::size_t* __restrict__ a_off,
                                       const box* __restrict__ b,
                                       const std::size_t* __restrict__ b_off,
                                       const std::size_t* __restrict__ out_off, std::size_t images,
                                       std::size_t total_rows, float* __restrict__ out) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps = blockDim.x / 32;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * warps + threadIdx.x / 32;
       i < total_rows; i += static_cast<std::size_t>(gridDim.x) * warps) {
    const std::size_t k = segment_of(a_off, images, i);
    const std::size_t b0 = b_off[k], mk = b_off[k + 1] - b0;
    const box ai = load_box<Aligned>(a + i);
    const float aa = area(ai);
    float* dst = out + out_off[k] + (i - a_off[k]) * mk;
    for (std::size_t j = lane; j < mk; j += 32) {
      const box bj = load_box<Aligned>(b + b0 + j);
      __stcs(dst + j, iou_with_areas(ai, aa, bj, area(bj)));
    }
  }
}

/// Per image k and each row of a_k: max IoU against b_k and the argmax within b_k (-1 if empty).
/// Launch like max_rows_kernel over the total rows; a warp's rows may span images, so each warp
/// handles one row at a time here.
template <bool Aligned>
__global__ void ragged_max_rows_kernel(const box* __restrict__ a,
                                       const std::size_t* __restrict__ a_off,
                                       const box* __restrict__ b,
                                       const std::size_t* __restrict__ b_off, std::size_t images,
                                       std::size_t total_rows, float* __restrict__ best_out,
                                       long long* __restrict__ arg_out) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps = blockDim.x / 32;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * warps + threadIdx.x / 32;
       i < total_rows; i += static_cast<std::size_t>(gridDim.x) * warps) {
    const std::size_t k = segment_of(a_off, images, i);
    const std::size_t b0 = b_off[k], mk = b_off[k + 1] - b0;
    const box ai = load_box<Aligned>(a + i);
    const float aa = area(ai);
    float best = 0.0f;
    long long arg = -1;
    for (std::size_t j = lane; j < mk; j += 32) {
      const box bj = load_box<Aligned>(b + b0 + j);
      take_better(best, arg, iou_with_areas(ai, aa, bj, area(bj)), static_cast<long long>(j));
    }
    warp_reduce_best(best, arg);
    if (lane == 0) best_out[i] = best, arg_out[i] = arg;
  }
}

}  // namespace groundeval::cuda::kernels
