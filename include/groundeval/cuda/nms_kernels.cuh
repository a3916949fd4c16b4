// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/nms_kernels.cuh — kernels of the segmented bitmask NMS (kernels/nms.cu).
// The per-pair rule is nms_suppresses() from boxes/nms.hpp, shared with the CPU NMS, so both keep
// the same boxes in the same order. Include from .cu files only (target groundeval::cuda).
//
// Pipeline (all on one stream, no host synchronization, memory from the caller's workspace):
//   1. prepare_keys_kernel   sort keys: the score when score > score_threshold (with -0 made +0),
//                            else -Inf (NaN scores are never candidates); values = box index
//   2. cub::DeviceSegmentedSort::StableSortPairsDescending per segment: score descending, ties
//                            by index ascending (the CPU visiting order)
//   3. segment_counts_kernel valid candidates, 64-bit mask words and upper-triangle tiles per
//                            segment; exclusive scans (cub::DeviceScan) give their offsets
//   4. gather_kernel         the boxes in visiting order
//   5. mask_kernel           persistent grid over the upper-triangle 64 x 64 tiles of every
//                            segment: bit j of row i = "keeping i removes j" (j > i only); memory
//                            grows with the sum over segments of n_s * ceil(n_s / 64) words
//   6. sweep_kernel          one warp per segment walks the rows in order, ORing kept rows into
//                            the removed bits, and writes the kept indices and their count
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
__global__ void segment_counts_kernel(const float* __restrict__ sorted_keys,
                                      const std::size_t* __restrict__ seg_offsets,
                                      std::size_t segments, std::size_t* __restrict__ valid,
                                      std::size_t* __restrict__ mask_words,
                                      std::size_t* __restrict__ tiles) {
  const float neg_inf = -__int_as_float(0x7f800000);
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       s < segments; s += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t b = seg_offsets[s], e = seg_offsets[s + 1];
    std::size_t lo = b, hi = e;  // first index with key == -Inf (keys are sorted descending)
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (sorted_keys[mid] > neg_inf)
        lo = mid + 1;
      else
        hi = mid;
    }
    const std::size_t v = lo - b, w = (v + kNmsTile - 1) / kNmsTile;
    valid[s] = v;
    mask_words[s] = v * w;
    tiles[s] = w * (w + 1) / 2;
  }
}

__global__ void gather_kernel(const box* __restrict__ boxes, const std::int64_t* __restrict__ order,
                              std::size_t n, box* __restrict__ sorted) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    sorted[i] = boxes[order[i]];
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
/// computes the 64-bit word of row (r * 64 + i) for column tile c.
__global__ void __launch_bounds__(kNmsTile)
    mask_kernel(const box* __restrict__ sorted, const std::size_t* __restrict__ seg_offsets,
                const std::size_t* __restrict__ valid, const std::size_t* __restrict__ tile_offsets,
                const std::size_t* __restrict__ mask_offsets, std::size_t segments,
                float iou_threshold, float offset, unsigned long long* __restrict__ mask,
                std::size_t mask_capacity) {
  __shared__ box col[kNmsTile];
  const std::size_t total = tile_offsets[segments];
  for (std::size_t t = blockIdx.x; t < total; t += gridDim.x) {
    const std::size_t s = segment_of(tile_offsets, segments, t);
    const std::size_t v = valid[s], words = (v + kNmsTile - 1) / kNmsTile, base = seg_offsets[s];
    std::size_t r, c;
    triangle_tile(t - tile_offsets[s], words, r, c);
    const std::size_t j = c * kNmsTile + threadIdx.x;
    __syncthreads();  // the previous tile's readers are done with `col`
    if (j < v) col[threadIdx.x] = sorted[base + j];
    __syncthreads();
    const std::size_t i = r * kNmsTile + threadIdx.x;
    if (i < v) {
      const box bi = sorted[base + i];
      const std::size_t cols = v - c * kNmsTile < kNmsTile ? v - c * kNmsTile : kNmsTile;
      unsigned long long word = 0;
      for (std::size_t k = 0; k < cols; ++k) {
        const std::size_t jj = c * kNmsTile + k;
        if (jj > i && nms_suppresses(bi, col[k], iou_threshold, offset)) word |= 1ull << k;
      }
      const std::size_t at = mask_offsets[s] + i * words + c;
      if (at < mask_capacity) mask[at] = word;  // a workspace sized for other offsets: no overrun
    }
  }
}

/// One warp per segment (grid-stride). `removed` holds ceil(n_s / 64) zeroed words per segment
/// at (seg_offsets[s] / 64 + s). Writes the kept original indices, in visiting order, to
/// keep_out + seg_offsets[s] and their number to keep_count[s].
__global__ void sweep_kernel(const std::int64_t* __restrict__ order,
                             const std::size_t* __restrict__ seg_offsets,
                             const std::size_t* __restrict__ valid,
                             const std::size_t* __restrict__ mask_offsets, std::size_t segments,
                             std::size_t max_outputs, const unsigned long long* __restrict__ mask,
                             unsigned long long* __restrict__ removed,
                             std::int64_t* __restrict__ keep_out,
                             std::size_t* __restrict__ keep_count) {
  const unsigned lane = threadIdx.x & 31u;
  const std::size_t warps = blockDim.x / 32;
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * warps + threadIdx.x / 32;
       s < segments; s += static_cast<std::size_t>(gridDim.x) * warps) {
    const std::size_t base = seg_offsets[s], v = valid[s], words = (v + kNmsTile - 1) / kNmsTile;
    unsigned long long* rem = removed + base / kNmsTile + s;
    const unsigned long long* m = mask + mask_offsets[s];
    for (std::size_t w = lane; w < words; w += 32) rem[w] = 0;
    __syncwarp();
    std::size_t kept = 0;
    bool full = false;
    for (std::size_t w = 0; w < words && !full; ++w) {
      unsigned long long cur = rem[w];
      const std::size_t end = v - w * kNmsTile < kNmsTile ? v - w * kNmsTile : kNmsTile;
      for (std::size_t bit = 0; bit < end; ++bit) {
        if ((cur >> bit) & 1ull) continue;
        const std::size_t i = w * kNmsTile + bit;
        if (lane == 0) keep_out[base + kept] = order[base + i];
        ++kept;
        if (max_outputs != 0 && kept == max_outputs) {
          full = true;
          break;
        }
        const unsigned long long* row = m + i * words;
        cur |= row[w];
        for (std::size_t ww = w + 1 + lane; ww < words; ww += 32) rem[ww] |= row[ww];
      }
      __syncwarp();  // later words' removed bits are visible to every lane before they are read
    }
    if (lane == 0) keep_count[s] = kept;
  }
}

}  // namespace groundeval::cuda::kernels
