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
};
template <>
struct out_conv<__half> {
  static __device__ __forceinline__ __half cvt(float v) { return __float2half_rn(v); }
};
template <>
struct out_conv<__nv_bfloat16> {
  static __device__ __forceinline__ __nv_bfloat16 cvt(float v) { return __float2bfloat16_rn(v); }
};
/// uint8 quantized IoU: round(iou * 255), so 255 means exactly 1 and 0 exactly 0.
template <>
struct out_conv<std::uint8_t> {
  static __device__ __forceinline__ std::uint8_t cvt(float v) {
    return static_cast<std::uint8_t>(__float2uint_rn(v * 255.0f));
  }
};

// ---- per-pair operations (all from boxes/iou.hpp) ------------------------------------------

using pbox = prepared_box<float>;

/// One box in the prepared form of boxes/iou.hpp (iou_prepared gives iou() bit for bit).
template <bool Aligned>
__device__ __forceinline__ pbox load_prepared(const box* p) {
  return prepare_for_iou(load_box<Aligned>(p));
}

struct iou_op {
  static __device__ __forceinline__ float apply(const box& a, const box& b) {
    return iou_prepared(prepare_for_iou(a), prepare_for_iou(b));
  }
};
struct giou_op {
  static __device__ __forceinline__ float apply(const box& a, const box& b) { return giou(a, b); }
};

// ---- pairwise IoU, materialized --------------------------------------------------------------

/// Launch shape of pairwise_iou_kernel: block (kPwThreadsX, kPwThreadsY) = 256 threads. Each
/// thread owns kPwCols = 8 columns, kept in registers in the prepared form for all its rows, as
/// kPwCols / V groups of V consecutive columns (V * sizeof(Out) = 16 bytes for float / half /
/// bfloat16 output: one 16-byte store per group; 8 bytes for uint8), the groups kPwThreadsX * V
/// columns apart so each store instruction of a warp writes one contiguous run. A block covers
/// kPwColsPerBlock = 512 columns and walks row tiles of kPwTileRows rows (grid-stride over
/// blockIdx.y), whose prepared boxes are staged once in shared memory and then read as broadcasts.
/// Per pair the inner loop is iou_prepared (12 floating-point instructions + the IEEE division's
/// fast path) and 1/V of a store; bench/cuda/sass_inst_per_pair.py counts it in the SASS.
inline constexpr int kPwThreadsX = 64;
inline constexpr int kPwThreadsY = 4;
inline constexpr int kPwCols = 8;
inline constexpr int kPwColsPerBlock = kPwThreadsX * kPwCols;
inline constexpr int kPwTileRows = 64;

template <class Out>
inline constexpr int pw_vec = sizeof(Out) == 4 ? 4 : 8;  ///< V: columns per store group

/// Stores V consecutive outputs: one 16-byte store (f32 x 4, f16 / bf16 x 8) or 8 bytes (u8 x 8).
template <class Out>
__device__ __forceinline__ void store_group(Out* p, const float* v);
template <>
__device__ __forceinline__ void store_group<float>(float* p, const float* v) {
  __stcs(reinterpret_cast<float4*>(p), make_float4(v[0], v[1], v[2], v[3]));
}
template <>
__device__ __forceinline__ void store_group<__half>(__half* p, const float* v) {
  uint4 u;
  unsigned* w = &u.x;
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const __half2 h = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
    w[k] = *reinterpret_cast<const unsigned*>(&h);
  }
  __stcs(reinterpret_cast<uint4*>(p), u);
}
template <>
__device__ __forceinline__ void store_group<__nv_bfloat16>(__nv_bfloat16* p, const float* v) {
  uint4 u;
  unsigned* w = &u.x;
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(v[2 * k], v[2 * k + 1]);
    w[k] = *reinterpret_cast<const unsigned*>(&h);
  }
  __stcs(reinterpret_cast<uint4*>(p), u);
}
template <>
__device__ __forceinline__ void store_group<std::uint8_t>(std::uint8_t* p, const float* v) {
  unsigned w[2];
#pragma unroll
  for (int k = 0; k < 2; ++k)
    w[k] = unsigned(out_conv<std::uint8_t>::cvt(v[4 * k])) |
           unsigned(out_conv<std::uint8_t>::cvt(v[4 * k + 1])) << 8 |
           unsigned(out_conv<std::uint8_t>::cvt(v[4 * k + 2])) << 16 |
           unsigned(out_conv<std::uint8_t>::cvt(v[4 * k + 3])) << 24;
  __stcs(reinterpret_cast<uint2*>(p), make_uint2(w[0], w[1]));
}

/// The rows [r_begin, r_end) of one staged row tile for one thread's kPwCols columns. Full:
/// every column of the thread is < m and 16-byte (8-byte for u8) stores are allowed.
template <class Out, bool Full>
__device__ __forceinline__ void pairwise_rows(const float4* __restrict__ rbox,
                                              const float* __restrict__ rarea, int r_begin,
                                              int r_end, const pbox (&cb)[kPwCols],
                                              Out* __restrict__ dst, std::size_t ld, std::size_t j0,
                                              std::size_t m) {
  constexpr int V = pw_vec<Out>;
  constexpr int G = kPwCols / V;
#pragma unroll 2
  for (int r = r_begin; r < r_end; r += kPwThreadsY) {
    const float4 rb = rbox[r];
    const pbox row{{rb.x, rb.y, rb.z, rb.w}, rarea[r]};
    float v[kPwCols];
#pragma unroll
    for (int c = 0; c < kPwCols; ++c) v[c] = iou_prepared(row, cb[c]);
    Out* d = dst + static_cast<std::size_t>(r) * ld;
#pragma unroll
    for (int g = 0; g < G; ++g) {
      Out* dg = d + g * kPwThreadsX * V;
      if constexpr (Full) {
        store_group<Out>(dg, v + g * V);
      } else {
#pragma unroll
        for (int e = 0; e < V; ++e)
          if (j0 + g * kPwThreadsX * V + e < m) dg[e] = out_conv<Out>::cvt(v[g * V + e]);
      }
    }
  }
}

/// out[i * ld + j] = iou(a[i], b[j]). grid.x = ceil(m / 512), grid.y = min(row tiles, 65535)
/// with a grid-stride loop over the row tiles. VecStore requires ld % V == 0 and an output base
/// aligned to V elements (checked by the launcher).
template <class Out, bool VecStore>
__global__ void __launch_bounds__(kPwThreadsX* kPwThreadsY)
    pairwise_iou_kernel(const box* __restrict__ a, std::size_t n, const box* __restrict__ b,
                        std::size_t m, Out* __restrict__ out, std::size_t ld) {
  constexpr int V = pw_vec<Out>;
  constexpr int G = kPwCols / V;
  __shared__ float4 rbox[kPwTileRows];
  __shared__ float rarea[kPwTileRows];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kPwThreadsX + tx;
  const std::size_t j0 =
      static_cast<std::size_t>(blockIdx.x) * kPwColsPerBlock + static_cast<std::size_t>(tx) * V;
  pbox cb[kPwCols];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < V; ++e) {
      const std::size_t j = j0 + g * kPwThreadsX * V + e;
      cb[g * V + e] = j < m ? load_prepared<false>(b + j) : prepare_for_iou(box{0, 0, 0, 0});
    }
  const bool full = VecStore && j0 + (G - 1) * kPwThreadsX * V + V <= m;
  const std::size_t tiles = (n + kPwTileRows - 1) / kPwTileRows;
  for (std::size_t t = blockIdx.y; t < tiles; t += gridDim.y) {
    const std::size_t i0 = t * kPwTileRows;
    const int rows = static_cast<int>(n - i0 < kPwTileRows ? n - i0 : kPwTileRows);
    __syncthreads();  // the previous tile's readers are done
    if (tid < rows) {
      const pbox p = load_prepared<false>(a + i0 + tid);
      rbox[tid] = make_float4(p.box.x1, p.box.y1, p.box.x2, p.box.y2);
      rarea[tid] = p.area;
    }
    __syncthreads();
    if (j0 >= m) continue;  // no column here (the barriers above still need this thread)
    Out* dst = out + i0 * ld + j0;
    if (full)
      pairwise_rows<Out, true>(rbox, rarea, ty, rows, cb, dst, ld, j0, m);
    else
      pairwise_rows<Out, false>(rbox, rarea, ty, rows, cb, dst, ld, j0, m);
  }
}

/// Generic pairwise kernel for the other operations (GIoU): block (kTileThreadsX, kTileThreadsY)
/// = 256 threads; each thread owns kTileCols consecutive columns and kTileRowsPerThread rows
/// strided by kTileThreadsY, so a block covers a 32 x 256 output tile; grid.x = ceil(m / 256);
/// grid.y = min(ceil(n / 32), 65535) with a grid-stride loop over rows.
inline constexpr int kTileCols = 4;
inline constexpr int kTileThreadsX = 64;
inline constexpr int kTileThreadsY = 4;
inline constexpr int kTileRowsPerThread = 8;
inline constexpr int kTileRows = kTileThreadsY * kTileRowsPerThread;
inline constexpr int kTileColsPerBlock = kTileThreadsX * kTileCols;

template <class Op, bool Aligned>
__global__ void __launch_bounds__(kTileThreadsX* kTileThreadsY)
    pairwise_tile_kernel(const box* __restrict__ a, std::size_t n, const box* __restrict__ b,
                         std::size_t m, float* __restrict__ out) {
  const std::size_t j0 =
      (static_cast<std::size_t>(blockIdx.x) * kTileThreadsX + threadIdx.x) * kTileCols;
  if (j0 >= m) return;
  box bb[kTileCols];
#pragma unroll
  for (int c = 0; c < kTileCols; ++c)
    bb[c] = j0 + c < m ? load_box<Aligned>(b + j0 + c) : box{0, 0, 0, 0};
  const std::size_t row_tiles = (n + kTileRows - 1) / kTileRows;
  for (std::size_t t = blockIdx.y; t < row_tiles; t += gridDim.y) {
#pragma unroll
    for (int r = 0; r < kTileRowsPerThread; ++r) {
      const std::size_t i =
          t * kTileRows + static_cast<std::size_t>(r) * kTileThreadsY + threadIdx.y;
      if (i >= n) break;
      const box ai = load_box<Aligned>(a + i);
      float* dst = out + i * m + j0;
#pragma unroll
      for (int c = 0; c < kTileCols; ++c)
        if (j0 + c < m) __stcs(dst + c, Op::apply(ai, bb[c]));
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
    if (j < m)
      hit = iou_hit(iou_prepared(load_prepared<Aligned>(a + i), load_prepared<Aligned>(b + j)),
                    threshold);
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
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    __stcs(out + i, Op::apply(load_box<Aligned>(a + i), load_box<Aligned>(b + i)));
}

// ---- fused max / argmax per row ---------------------------------------------------------------
//
// Every (row, column range) unit ends in one 64-bit key per row: the IoU's bits (IoU >= 0, so
// its bits order like its value) in the high word and 0xffffffff - j in the low word, so the
// larger key has the larger IoU and, between equal IoUs, the smaller column (the documented
// tie rule). Key 0 means "no column". When a row's columns are split over several units
// (few rows, many columns), the units combine with atomicMax on the keys, stored in the argmax
// array itself and decoded by max_finalize_kernel; otherwise each unit writes its row directly.

inline constexpr int kFusedRowsPerWarp = 4;
inline constexpr int kFusedWarps = 8;
/// Column indices must fit the key's low word: m < kMaxKeyColumns.
inline constexpr std::size_t kMaxKeyColumns = 0xffffff00u;  // and j + 32 cannot wrap

__device__ __forceinline__ unsigned long long best_key(float best, std::uint32_t arg, bool any) {
  return any ? (static_cast<unsigned long long>(__float_as_uint(best)) << 32) | (~arg) : 0ull;
}

/// The warp's largest key (all lanes get it): max of the high words, then of the low words of
/// the lanes that have it.
__device__ __forceinline__ unsigned long long warp_max_key(unsigned long long key) {
  const auto hi = static_cast<unsigned>(key >> 32), lo = static_cast<unsigned>(key);
  const unsigned top = __reduce_max_sync(0xffffffffu, hi);
  const unsigned low = __reduce_max_sync(0xffffffffu, hi == top ? lo : 0u);
  return (static_cast<unsigned long long>(top) << 32) | low;
}

/// Writes a row's result from its key (0: no column: IoU 0, argmax -1).
__device__ __forceinline__ void write_key(unsigned long long key, float* best_out,
                                          long long* arg_out, std::size_t row) {
  best_out[row] = __uint_as_float(static_cast<unsigned>(key >> 32));
  arg_out[row] = key ? static_cast<long long>(~static_cast<std::uint32_t>(key)) : -1ll;
}

/// best[i] = max_j iou(a[i], b[j]), arg[i] = the smallest j reaching it. Units: row group g
/// (kFusedRowsPerWarp rows) x column chunk c of `chunk` columns, unit u = g * chunks + c; each
/// warp takes units grid-stride, its lanes stride over the chunk's columns with the rows'
/// prepared boxes in registers, then the keys meet in warp_max_key. Atomic: several chunks per
/// row, combined by atomicMax on keys (= arg_out, zeroed before); else chunks == 1 and the warp
/// writes best_out / arg_out itself. The N x M matrix never exists.
template <bool Atomic>
__global__ void __launch_bounds__(kFusedWarps * 32)
    max_rows_kernel(const box* __restrict__ a, std::size_t n, const box* __restrict__ b,
                    std::size_t m, std::size_t chunk, std::size_t chunks,
                    float* __restrict__ best_out, long long* __restrict__ arg_out) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t groups = (n + kFusedRowsPerWarp - 1) / kFusedRowsPerWarp;
  const std::size_t units = groups * chunks;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * kFusedWarps;
  for (std::size_t u = static_cast<std::size_t>(blockIdx.x) * kFusedWarps + threadIdx.x / 32;
       u < units; u += warps) {
    const std::size_t row0 = (u / chunks) * kFusedRowsPerWarp, c = u % chunks;
    const std::size_t rows = n - row0 < kFusedRowsPerWarp ? n - row0 : kFusedRowsPerWarp;
    pbox ar[kFusedRowsPerWarp];
    float best[kFusedRowsPerWarp];
    std::uint32_t arg[kFusedRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kFusedRowsPerWarp; ++r) {
      ar[r] = static_cast<std::size_t>(r) < rows ? load_prepared<false>(a + row0 + r)
                                                 : prepare_for_iou(box{0, 0, 0, 0});
      best[r] = -1.0f;  // below every IoU: the lane's first column always wins
      arg[r] = 0;
    }
    const std::size_t j_end = (c + 1) * chunk < m ? (c + 1) * chunk : m;
    // 32-bit column indices (m < 2^32 - 1 is checked by the launcher)
    for (std::uint32_t j = static_cast<std::uint32_t>(c * chunk) + lane; j < j_end; j += 32) {
      const pbox bj = load_prepared<false>(b + j);
#pragma unroll
      for (int r = 0; r < kFusedRowsPerWarp; ++r) {
        const float v = iou_prepared(ar[r], bj);
        if (v > best[r]) best[r] = v, arg[r] = j;  // strict: a lane's columns ascend
      }
    }
#pragma unroll
    for (int r = 0; r < kFusedRowsPerWarp; ++r) {
      const unsigned long long key = warp_max_key(best_key(best[r], arg[r], best[r] >= 0.0f));
      if (lane == 0 && static_cast<std::size_t>(r) < rows) {
        if constexpr (Atomic) {
          if (key) atomicMax(reinterpret_cast<unsigned long long*>(arg_out) + row0 + r, key);
        } else {
          write_key(key, best_out, arg_out, row0 + r);
        }
      }
    }
  }
}

/// Decodes the keys that the Atomic kernels left in arg_out (in place) into best_out / arg_out.
/// (A template only so that the header defines no non-inline symbol.)
template <class F>
__global__ void max_finalize_kernel(std::size_t n, F* __restrict__ best_out,
                                    long long* __restrict__ arg_out) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    write_key(static_cast<unsigned long long>(arg_out[i]), best_out, arg_out, i);
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
    const pbox ai = load_prepared<Aligned>(a + i);
    float* dst = out + out_off[k] + (i - a_off[k]) * mk;
    for (std::size_t j = lane; j < mk; j += 32)
      __stcs(dst + j, iou_prepared(ai, load_prepared<Aligned>(b + b0 + j)));
  }
}

/// Per image k and each row of a_k: max IoU against b_k and the argmax within b_k (-1 if empty).
/// Units: (global row i, chunk c of `chunks` per row), one warp each, grid-stride; the chunk's
/// columns are the c-th of `chunks` equal parts of the row's image's b segment (sizes are only
/// known on the device). Atomic (chunks > 1) as max_rows_kernel.
template <bool Atomic>
__global__ void ragged_max_rows_kernel(
    const box* __restrict__ a, const std::size_t* __restrict__ a_off, const box* __restrict__ b,
    const std::size_t* __restrict__ b_off, std::size_t images, std::size_t total_rows,
    std::size_t chunks, float* __restrict__ best_out, long long* __restrict__ arg_out) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / 32);
  for (std::size_t u = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
       u < total_rows * chunks; u += warps) {
    const std::size_t i = u / chunks, c = u % chunks;
    const std::size_t k = segment_of(a_off, images, i);
    const std::size_t b0 = b_off[k], mk = b_off[k + 1] - b0;
    const std::size_t span = (mk + chunks - 1) / chunks;
    const std::size_t j_end = (c + 1) * span < mk ? (c + 1) * span : mk;
    const pbox ai = load_prepared<false>(a + i);
    float best = -1.0f;
    std::uint32_t arg = 0;
    for (std::size_t j = c * span + lane; j < j_end; j += 32) {
      const float v = iou_prepared(ai, load_prepared<false>(b + b0 + j));
      if (v > best) best = v, arg = static_cast<std::uint32_t>(j);
    }
    const unsigned long long key = warp_max_key(best_key(best, arg, best >= 0.0f));
    if (lane == 0) {
      if constexpr (Atomic) {
        if (key) atomicMax(reinterpret_cast<unsigned long long*>(arg_out) + i, key);
      } else {
        write_key(key, best_out, arg_out, i);
      }
    }
  }
}

}  // namespace groundeval::cuda::kernels
