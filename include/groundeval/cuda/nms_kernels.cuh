// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/nms_kernels.cuh — kernels of the segmented bitmask NMS (kernels/nms.cu).
// The per-pair rule is nms_suppresses() from boxes/nms.hpp, shared with the CPU NMS, so both keep
// the same boxes in the same order. Include from .cu files only (target groundeval::cuda).
//
// Pipeline (all on one stream, no host synchronization, memory from the caller's workspace):
//   1. prepare_keys_kernel   sort keys: the score when score > score_threshold (with -0 made +0),
//                            else -Inf (NaN scores are never candidates); values = box index
//   2. sort, score descending, ties by index ascending (the CPU visiting order): one segment
//                            with cub::DeviceRadixSort (stable), several with
//                            cub::DeviceSegmentedSort::StableSortPairsDescending
//   3. segment_counts_kernel valid candidates, 64-bit mask words and upper-triangle tiles per
//                            segment; exclusive scans (cub::DeviceScan) give their offsets (one
//                            segment: single_setup_kernel does all of it in one thread)
//   4. gather_kernel         the boxes in visiting order, grown by the offset and prepared
//                            (prepare_for_iou, boxes/iou.hpp: the same IoU in fewer instructions)
//   5. mask_kernel           persistent grid over the upper-triangle 64 x 64 tiles of every
//                            segment: bit j of row i = "keeping i removes j" (j > i only); memory
//                            grows with the sum over segments of n_s * ceil(n_s / 64) words
//   6. the greedy pass, per segment, in 64-box chunks, never waiting on one load per kept box:
//      the chunk's 64 diagonal mask words are loaded together (prefetched during the previous
//      chunk), the chunk's keep bits are resolved in registers (resolve_chunk: one shuffle per
//      kept box), and then the chunk's kept rows are ORed into the removed bits of all later
//      chunks in parallel, each thread owning words and loading up to 16 rows at once.
//      sweep_warp_kernel: one warp per segment of at most 32 chunks (2048 candidates), removed
//      bits in registers; sweep_block_kernel: one 256-thread block per larger segment, removed
//      bits in shared memory (global memory beyond kSweepSmemWords words).
#pragma once
#if !defined(__CUDACC__)
#error "groundeval/cuda/nms_kernels.cuh must be included from a .cu file compiled by nvcc"
#endif

#include <groundeval/boxes/nms.hpp>
#include <groundeval/cuda/iou_kernels.cuh>

#include <cstddef>
#include <cstdint>

namespace groundeval::cuda::kernels {

inline constexpr int kNmsTile = 64;

__global__ void prepare_keys_kernel(const float* __restrict__ scores, std::size_t n,
                                    float score_threshold, float* __restrict__ keys,
                                    std::int64_t* __restrict__ values) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float s = scores[i];
    keys[i] = s > score_threshold ? s + 0.0f : -__int_as_float(0x7f800000);  // -Inf
    values[i] = static_cast<std::int64_t>(i);
  }
}

/// Per segment s (one thread each): valid = number of sorted keys > -Inf; words = ceil(valid/64);
/// mask words = valid * words; tiles = words * (words + 1) / 2.
/// Candidates among sorted_keys[b, e): the first index whose key is -Inf (keys descend), minus b.
__device__ __forceinline__ std::size_t candidates(const float* __restrict__ sorted_keys,
                                                  std::size_t b, std::size_t e) {
  const float neg_inf = -__int_as_float(0x7f800000);
  std::size_t lo = b, hi = e;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (sorted_keys[mid] > neg_inf)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - b;
}

__global__ void segment_counts_kernel(const float* __restrict__ sorted_keys,
                                      const std::size_t* __restrict__ seg_offsets,
                                      std::size_t segments, std::size_t* __restrict__ valid,
                                      std::size_t* __restrict__ mask_words,
                                      std::size_t* __restrict__ tiles) {
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       s < segments; s += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t v = candidates(sorted_keys, seg_offsets[s], seg_offsets[s + 1]);
    const std::size_t w = (v + kNmsTile - 1) / kNmsTile;
    valid[s] = v;
    mask_words[s] = v * w;
    tiles[s] = w * (w + 1) / 2;
  }
}

/// One segment (nms()): what segment_counts_kernel and the two scans compute, in one thread.
/// Writes valid[0], tile_offsets[0..1] and mask_offsets[0..1].
__global__ void single_setup_kernel(const float* __restrict__ sorted_keys, std::size_t n,
                                    std::size_t* __restrict__ valid,
                                    std::size_t* __restrict__ tile_offsets,
                                    std::size_t* __restrict__ mask_offsets) {
  const std::size_t lo = candidates(sorted_keys, 0, n);
  const std::size_t w = (lo + kNmsTile - 1) / kNmsTile;
  valid[0] = lo;
  tile_offsets[0] = 0;
  tile_offsets[1] = w * (w + 1) / 2;
  mask_offsets[0] = 0;
  mask_offsets[1] = lo * w;
}

/// sorted[i] / sorted_area[i]: box order[i] grown by `offset` on x2 / y2 (nms_suppresses' rule)
/// and prepared for iou_prepared.
__global__ void gather_kernel(const box* __restrict__ boxes, const std::int64_t* __restrict__ order,
                              std::size_t n, float offset, float4* __restrict__ sorted,
                              float* __restrict__ sorted_area) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const box b = boxes[order[i]];
    const pbox p = prepare_for_iou(box{b.x1, b.y1, b.x2 + offset, b.y2 + offset});
    sorted[i] = make_float4(p.box.x1, p.box.y1, p.box.x2, p.box.y2);
    sorted_area[i] = p.area;
  }
}

/// Row tile r and column tile c (c >= r) of local upper-triangle tile t, row-major over r.
/// Row r holds words - r tiles, so T(r) = r * (2 * words + 1 - r) / 2 tiles come before it; r is
/// the largest row with T(r) <= t, from the quadratic formula and then corrected exactly.
__device__ __forceinline__ void triangle_tile(std::size_t t, std::size_t words, std::size_t& r,
                                              std::size_t& c) {
  const auto before = [words](std::size_t row) { return row * (2 * words + 1 - row) / 2; };
  const double w2 = 2.0 * static_cast<double>(words) + 1.0;
  const double disc = w2 * w2 - 8.0 * static_cast<double>(t);
  double guess = (w2 - sqrt(disc > 0 ? disc : 0.0)) / 2.0;
  r = guess > 0 ? static_cast<std::size_t>(guess) : 0;
  if (r >= words) r = words - 1;
  while (r > 0 && before(r) > t) --r;
  while (r + 1 < words && before(r + 1) <= t) ++r;
  c = r + (t - before(r));
}

/// Persistent grid, block = kNmsTile threads; each block takes whole tiles. Thread i of a tile
/// computes the 64-bit word of row (r * 64 + i) for column tile c: bit k set iff
/// iou(row, column k) > iou_threshold (nms_suppresses on the grown boxes, through iou_prepared:
/// the same IoU bit for bit) and, on the diagonal tile, k > i.
__global__ void __launch_bounds__(kNmsTile)
    mask_kernel(const float4* __restrict__ sorted, const float* __restrict__ sorted_area,
                const std::size_t* __restrict__ seg_offsets, const std::size_t* __restrict__ valid,
                const std::size_t* __restrict__ tile_offsets,
                const std::size_t* __restrict__ mask_offsets, std::size_t segments,
                float iou_threshold, unsigned long long* __restrict__ mask,
                std::size_t mask_capacity) {
  __shared__ float4 col[kNmsTile];
  __shared__ float col_area[kNmsTile];
  const std::size_t total = tile_offsets[segments];
  for (std::size_t t = blockIdx.x; t < total; t += gridDim.x) {
    const std::size_t s = segment_of(tile_offsets, segments, t);
    const std::size_t v = valid[s], words = (v + kNmsTile - 1) / kNmsTile, base = seg_offsets[s];
    std::size_t r, c;
    triangle_tile(t - tile_offsets[s], words, r, c);
    const std::size_t j = c * kNmsTile + threadIdx.x;
    __syncthreads();  // the previous tile's readers are done with `col`
    if (j < v) col[threadIdx.x] = sorted[base + j], col_area[threadIdx.x] = sorted_area[base + j];
    __syncthreads();
    const std::size_t i = r * kNmsTile + threadIdx.x;
    if (i < v) {
      const float4 rb = sorted[base + i];
      const pbox row{{rb.x, rb.y, rb.z, rb.w}, sorted_area[base + i]};
      const int cols = static_cast<int>(v - c * kNmsTile < kNmsTile ? v - c * kNmsTile : kNmsTile);
      // on the diagonal tile only the columns after the row count
      const int k0 = r == c ? static_cast<int>(threadIdx.x) + 1 : 0;
      unsigned long long word = 0;
      for (int k = k0; k < cols; ++k) {
        const float4 cb = col[k];
        if (iou_prepared(row, pbox{{cb.x, cb.y, cb.z, cb.w}, col_area[k]}) > iou_threshold)
          word |= 1ull << k;
      }
      const std::size_t at = mask_offsets[s] + i * words + c;
      if (at < mask_capacity) mask[at] = word;  // a workspace sized for other offsets: no overrun
    }
  }
}

// ---- the greedy pass -------------------------------------------------------------------------

/// Chunks (of 64 candidates) of the segments that sweep_warp_kernel handles; larger segments go
/// to sweep_block_kernel.
inline constexpr std::size_t kSweepWarpWords = 32;
inline constexpr int kSweepThreads = 256;
/// Removed-bit words kept in shared memory by sweep_block_kernel (48 KB: 393,216 candidates).
inline constexpr std::size_t kSweepSmemWords = 6144;
/// Kept rows whose mask words one thread loads at once.
inline constexpr int kSweepBatch = 16;

/// The keep bits of one chunk, computed identically by all 32 lanes of a warp: candidates in
/// order, each kept unless already removed, each kept one removing the later ones its diagonal
/// word names. Lane l holds the diagonal words of rows l (lo) and l + 32 (hi). `cur`: the
/// chunk's removed bits on entry; at most `cap` boxes are kept.
__device__ __forceinline__ unsigned long long resolve_chunk(unsigned long long lo,
                                                            unsigned long long hi,
                                                            unsigned long long cur, int rows,
                                                            std::size_t cap) {
  const unsigned long long in_chunk = rows >= 64 ? ~0ull : (1ull << rows) - 1;
  unsigned long long avail = ~cur & in_chunk, keep = 0;
  while (avail != 0 && cap != 0) {
    const int b = __ffsll(static_cast<long long>(avail)) - 1;
    keep |= 1ull << b;
    --cap;
    const unsigned long long a = __shfl_sync(0xffffffffu, lo, b & 31);
    const unsigned long long c = __shfl_sync(0xffffffffu, hi, b & 31);
    cur |= b < 32 ? a : c;
    avail = ~cur & in_chunk & ~((2ull << b) - 1);  // b = 63: 2 << 63 is 0, so nothing is left
  }
  return keep;
}

/// OR of word `ww` of the chunk's kept rows (row0 + bit of `keep`), kSweepBatch loads in flight.
__device__ __forceinline__ unsigned long long or_kept_rows(const unsigned long long* __restrict__ m,
                                                           std::size_t words, std::size_t row0,
                                                           unsigned long long keep,
                                                           std::size_t ww) {
  unsigned long long acc = 0;
  while (keep != 0) {
    unsigned long long x[kSweepBatch];
#pragma unroll
    for (int u = 0; u < kSweepBatch; ++u) {
      x[u] = 0;
      if (keep != 0) {
        const int b = __ffsll(static_cast<long long>(keep)) - 1;
        keep &= keep - 1;
        x[u] = m[(row0 + b) * words + ww];
      }
    }
#pragma unroll
    for (int u = 0; u < kSweepBatch; ++u) acc |= x[u];
  }
  return acc;
}

/// Writes the kept boxes of chunk w (the original indices, in visiting order) after the `kept`
/// ones before it; all lanes of a warp call it.
__device__ __forceinline__ void write_kept(unsigned long long keep, std::size_t kept, std::size_t w,
                                           std::size_t base, const std::int64_t* __restrict__ order,
                                           std::int64_t* __restrict__ keep_out, unsigned lane) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const unsigned bit = lane + 32u * h;
    if ((keep >> bit) & 1ull) {
      const std::size_t pos = kept + __popcll(keep & ((1ull << bit) - 1));
      keep_out[base + pos] = order[base + w * kNmsTile + bit];
    }
  }
}

/// Diagonal words of chunk w (rows w * 64 + lane and + 32), 0 past the segment's candidates.
__device__ __forceinline__ void load_diagonal(const unsigned long long* __restrict__ m,
                                              std::size_t v, std::size_t words, std::size_t w,
                                              unsigned lane, unsigned long long& lo,
                                              unsigned long long& hi) {
  const std::size_t r = w * kNmsTile + lane;
  lo = r < v ? m[r * words + w] : 0;
  hi = r + 32 < v ? m[(r + 32) * words + w] : 0;
}

/// One warp per segment with at most kSweepWarpWords chunks (grid-stride over the segments);
/// lane l keeps removed word l in a register. Writes the kept original indices, in visiting
/// order, to keep_out + seg_offsets[s] and their number to keep_count[s].
__global__ void sweep_warp_kernel(
    const std::int64_t* __restrict__ order, const std::size_t* __restrict__ seg_offsets,
    const std::size_t* __restrict__ valid, const std::size_t* __restrict__ mask_offsets,
    std::size_t segments, std::size_t max_outputs, const unsigned long long* __restrict__ mask,
    std::int64_t* __restrict__ keep_out, std::size_t* __restrict__ keep_count) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / 32);
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
       s < segments; s += warps) {
    const std::size_t v = valid[s], words = (v + kNmsTile - 1) / kNmsTile;
    if (words > kSweepWarpWords) continue;  // sweep_block_kernel's
    const std::size_t base = seg_offsets[s];
    const unsigned long long* m = mask + mask_offsets[s];
    unsigned long long rem = 0, lo, hi;
    std::size_t kept = 0;
    const std::size_t cap = max_outputs ? max_outputs : ~std::size_t{0};
    if (words) load_diagonal(m, v, words, 0, lane, lo, hi);
    for (std::size_t w = 0; w < words && kept < cap; ++w) {
      const int rows = static_cast<int>(v - w * kNmsTile < kNmsTile ? v - w * kNmsTile : kNmsTile);
      const unsigned long long cur = __shfl_sync(0xffffffffu, rem, static_cast<int>(w));
      const unsigned long long keep = resolve_chunk(lo, hi, cur, rows, cap - kept);
      if (w + 1 < words) load_diagonal(m, v, words, w + 1, lane, lo, hi);  // next chunk's, early
      write_kept(keep, kept, w, base, order, keep_out, lane);
      kept += __popcll(keep);
      if (lane > w && lane < words) rem |= or_kept_rows(m, words, w * kNmsTile, keep, lane);
    }
    if (lane == 0) keep_count[s] = kept;
  }
}

/// One block of kSweepThreads per segment with more than kSweepWarpWords chunks (grid-stride
/// over the segments; the others are skipped). Warp 0 resolves each chunk while the next
/// chunk's diagonal words load; then the whole block ORs the kept rows into the later words.
/// Dynamic shared memory: smem_words removed words; a larger segment keeps them in
/// `removed` (global, n / 64 + segments + 1 words) at seg_offsets[s] / 64 + s.
__global__ void __launch_bounds__(kSweepThreads)
    sweep_block_kernel(const std::int64_t* __restrict__ order,
                       const std::size_t* __restrict__ seg_offsets,
                       const std::size_t* __restrict__ valid,
                       const std::size_t* __restrict__ mask_offsets, std::size_t segments,
                       std::size_t max_outputs, const unsigned long long* __restrict__ mask,
                       std::size_t smem_words, unsigned long long* __restrict__ removed,
                       std::int64_t* __restrict__ keep_out, std::size_t* __restrict__ keep_count) {
  extern __shared__ unsigned long long sweep_smem[];
  __shared__ unsigned long long s_keep;
  __shared__ std::size_t s_kept;
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x / 32u;
  const std::size_t cap = max_outputs ? max_outputs : ~std::size_t{0};
  for (std::size_t s = blockIdx.x; s < segments; s += gridDim.x) {
    const std::size_t v = valid[s], words = (v + kNmsTile - 1) / kNmsTile;
    if (words <= kSweepWarpWords) continue;  // sweep_warp_kernel's (uniform over the block)
    const std::size_t base = seg_offsets[s];
    const unsigned long long* m = mask + mask_offsets[s];
    unsigned long long* rem = words <= smem_words ? sweep_smem : removed + base / kNmsTile + s;
    for (std::size_t w = threadIdx.x; w < words; w += kSweepThreads) rem[w] = 0;
    unsigned long long lo = 0, hi = 0;
    if (warp == 0) load_diagonal(m, v, words, 0, lane, lo, hi);
    std::size_t kept = 0;
    __syncthreads();
    for (std::size_t w = 0; w < words && kept < cap; ++w) {
      if (warp == 0) {
        const int rows =
            static_cast<int>(v - w * kNmsTile < kNmsTile ? v - w * kNmsTile : kNmsTile);
        const unsigned long long keep = resolve_chunk(lo, hi, rem[w], rows, cap - kept);
        if (w + 1 < words) load_diagonal(m, v, words, w + 1, lane, lo, hi);
        write_kept(keep, kept, w, base, order, keep_out, lane);
        if (lane == 0) s_keep = keep, s_kept = kept + __popcll(keep);
      }
      __syncthreads();
      const unsigned long long keep = s_keep;
      kept = s_kept;
      if (keep != 0)
        for (std::size_t ww = w + 1 + threadIdx.x; ww < words; ww += kSweepThreads)
          rem[ww] |= or_kept_rows(m, words, w * kNmsTile, keep, ww);
      __syncthreads();  // rem[w + 1] is final; s_keep may be overwritten
    }
    if (threadIdx.x == 0) keep_count[s] = kept;
    __syncthreads();  // the next segment reuses the shared memory
  }
}

}  // namespace groundeval::cuda::kernels
