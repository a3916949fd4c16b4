// SPDX-License-Identifier: Apache-2.0
// Segmented bitmask NMS entry points of groundeval::cuda (see groundeval/cuda/nms_kernels.cuh
// for the pipeline). Workspace layout, in order, each part 256-byte aligned:
//   keys_in, keys_out (float n) | order_in, order_out (int64 n) | sorted boxes (float4 n) |
//   their areas (float n) |
//   valid, mask_words, tiles (size_t segments + 1 each) | tile_offsets, mask_offsets
//   (size_t segments + 1 each) | single-set offsets (2 size_t) | removed bits
//   (n / 64 + segments + 1 words) | CUB temporary storage | mask (sum n_s * ceil(n_s / 64)
//   words), last, so whatever the caller's workspace holds beyond the fixed part is mask capacity.
#include <groundeval/cuda/api.hpp>
#include <groundeval/cuda/nms_kernels.cuh>

#include <cuda_runtime.h>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_sort.cuh>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace groundeval::cuda {
namespace {
using kernels::box;
constexpr std::size_t kAlign = 256;
constexpr std::size_t round_up(std::size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

struct nms_layout {
  std::size_t keys_in, keys_out, order_in, order_out, sorted, sorted_area, valid, mask_words, tiles,
      tile_offsets, mask_offsets, single, removed, mask, cub, cub_bytes, total;
};

/// One segment of at most INT_MAX boxes is sorted by cub::DeviceRadixSort (stable, several times
/// faster than the segmented sort on one large segment).
bool radix_sorted(std::size_t n, std::size_t segments) { return segments == 1 && n <= INT_MAX; }

// CUB's temporary storage depends only on the problem sizes, so it can be queried up front.
std::size_t cub_bytes(std::size_t n, std::size_t segments) {
  std::size_t sort_bytes = 0, scan_bytes = 0, radix_bytes = 0;
  if (radix_sorted(n, segments))
    cub::DeviceRadixSort::SortPairsDescending(
        nullptr, radix_bytes, static_cast<const float*>(nullptr), static_cast<float*>(nullptr),
        static_cast<const std::int64_t*>(nullptr), static_cast<std::int64_t*>(nullptr),
        static_cast<int>(n));
  cub::DeviceSegmentedSort::StableSortPairsDescending(
      nullptr, sort_bytes, static_cast<const float*>(nullptr), static_cast<float*>(nullptr),
      static_cast<const std::int64_t*>(nullptr), static_cast<std::int64_t*>(nullptr),
      static_cast<std::int64_t>(n), static_cast<std::int64_t>(segments),
      static_cast<const std::size_t*>(nullptr), static_cast<const std::size_t*>(nullptr));
  cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, static_cast<const std::size_t*>(nullptr),
                                static_cast<std::size_t*>(nullptr),
                                static_cast<std::int64_t>(segments + 1));
  return std::max({sort_bytes, scan_bytes, radix_bytes});
}

nms_layout layout(std::size_t n, std::size_t segments, std::size_t mask_words) {
  nms_layout l{};
  std::size_t at = 0;
  auto take = [&](std::size_t bytes) {
    const std::size_t here = at;
    at += round_up(bytes ? bytes : 1);
    return here;
  };
  const std::size_t per_seg = (segments + 1) * sizeof(std::size_t);
  l.keys_in = take(n * sizeof(float));
  l.keys_out = take(n * sizeof(float));
  l.order_in = take(n * sizeof(std::int64_t));
  l.order_out = take(n * sizeof(std::int64_t));
  l.sorted = take(n * sizeof(float4));
  l.sorted_area = take(n * sizeof(float));
  l.valid = take(per_seg);
  l.mask_words = take(per_seg);
  l.tiles = take(per_seg);
  l.tile_offsets = take(per_seg);
  l.mask_offsets = take(per_seg);
  l.single = take(2 * sizeof(std::size_t));
  l.removed = take((n / kernels::kNmsTile + segments + 1) * sizeof(unsigned long long));
  l.cub_bytes = cub_bytes(n, segments);
  l.cub = take(l.cub_bytes);
  l.mask = take(mask_words * sizeof(unsigned long long));
  l.total = at;
  return l;
}

std::size_t host_mask_words(const std::size_t* off, std::size_t segments) {
  std::size_t words = 0;
  for (std::size_t s = 0; s < segments; ++s) {
    const std::size_t ns = off[s + 1] - off[s];
    words += ns * ((ns + kernels::kNmsTile - 1) / kernels::kNmsTile);
  }
  return words;
}

__global__ void single_offsets_kernel(std::size_t* off, std::size_t n) {
  off[0] = 0;
  off[1] = n;
}

// segment_counts_kernel writes entries [0, segments); the scans need a trailing 0.
__global__ void zero_tail_kernel(std::size_t* a, std::size_t* b, std::size_t segments) {
  a[segments] = 0;
  b[segments] = 0;
}

status check(cudaError_t e) { return {static_cast<int>(e)}; }
}  // namespace

std::size_t nms_workspace_bytes(const std::size_t* host_segment_offsets,
                                std::size_t segments) noexcept {
  if (!host_segment_offsets || segments == 0) return 0;
  const std::size_t n = host_segment_offsets[segments];
  return layout(n, segments, host_mask_words(host_segment_offsets, segments)).total;
}

std::size_t nms_workspace_bytes(std::size_t n) noexcept {
  const std::size_t off[2] = {0, n};
  return nms_workspace_bytes(off, 1);
}

namespace {
status run_nms(const box* boxes, const float* scores, const std::size_t* seg, std::size_t segments,
               std::size_t n, const nms_params& p, char* ws, std::size_t ws_bytes,
               std::int64_t* keep_out, std::size_t* keep_count, cudaStream_t s) {
  const nms_layout l = layout(n, segments, 0);
  if (!ws || ws_bytes < l.mask) return check(cudaErrorInvalidValue);
  const std::size_t mask_capacity = (ws_bytes - l.mask) / sizeof(unsigned long long);
  auto* keys_in = reinterpret_cast<float*>(ws + l.keys_in);
  auto* keys_out = reinterpret_cast<float*>(ws + l.keys_out);
  auto* order_in = reinterpret_cast<std::int64_t*>(ws + l.order_in);
  auto* order_out = reinterpret_cast<std::int64_t*>(ws + l.order_out);
  auto* sorted = reinterpret_cast<float4*>(ws + l.sorted);
  auto* sorted_area = reinterpret_cast<float*>(ws + l.sorted_area);
  auto* valid = reinterpret_cast<std::size_t*>(ws + l.valid);
  auto* mask_words = reinterpret_cast<std::size_t*>(ws + l.mask_words);
  auto* tiles = reinterpret_cast<std::size_t*>(ws + l.tiles);
  auto* tile_off = reinterpret_cast<std::size_t*>(ws + l.tile_offsets);
  auto* mask_off = reinterpret_cast<std::size_t*>(ws + l.mask_offsets);
  auto* removed = reinterpret_cast<unsigned long long*>(ws + l.removed);
  auto* mask = reinterpret_cast<unsigned long long*>(ws + l.mask);
  void* cub_tmp = ws + l.cub;

  const unsigned grid_n = static_cast<unsigned>(std::clamp<std::size_t>((n + 255) / 256, 1, 4096));
  const unsigned grid_s =
      static_cast<unsigned>(std::clamp<std::size_t>((segments + 255) / 256, 1, 4096));
  kernels::prepare_keys_kernel<<<grid_n, 256, 0, s>>>(scores, n, p.score_threshold, keys_in,
                                                      order_in);
  std::size_t tmp = l.cub_bytes;
  cudaError_t e;
  if (radix_sorted(n, segments)) {
    e = cub::DeviceRadixSort::SortPairsDescending(cub_tmp, tmp, keys_in, keys_out, order_in,
                                                  order_out, static_cast<int>(n), 0, 32, s);
    if (e != cudaSuccess) return check(e);
    kernels::single_setup_kernel<<<1, 1, 0, s>>>(keys_out, n, valid, tile_off, mask_off);
  } else {
    e = cub::DeviceSegmentedSort::StableSortPairsDescending(
        cub_tmp, tmp, keys_in, keys_out, order_in, order_out, static_cast<std::int64_t>(n),
        static_cast<std::int64_t>(segments), seg, seg + 1, s);
    if (e != cudaSuccess) return check(e);
    kernels::segment_counts_kernel<<<grid_s, 256, 0, s>>>(keys_out, seg, segments, valid,
                                                          mask_words, tiles);
    zero_tail_kernel<<<1, 1, 0, s>>>(mask_words, tiles, segments);
    tmp = l.cub_bytes;
    e = cub::DeviceScan::ExclusiveSum(cub_tmp, tmp, tiles, tile_off,
                                      static_cast<std::int64_t>(segments + 1), s);
    if (e != cudaSuccess) return check(e);
    tmp = l.cub_bytes;
    e = cub::DeviceScan::ExclusiveSum(cub_tmp, tmp, mask_words, mask_off,
                                      static_cast<std::int64_t>(segments + 1), s);
    if (e != cudaSuccess) return check(e);
  }
  kernels::gather_kernel<<<grid_n, 256, 0, s>>>(boxes, order_out, n, p.offset, sorted, sorted_area);
  // 64-thread tile blocks: 32 per multiprocessor fill it (132 SMs on an H100 / H200).
  const std::size_t all_words = (n + kernels::kNmsTile - 1) / kernels::kNmsTile;
  const std::size_t max_tiles = all_words * (all_words + 1) / 2 + segments;  // an upper bound
  const unsigned grid_t = static_cast<unsigned>(std::min<std::size_t>(max_tiles, 132 * 32));
  kernels::mask_kernel<<<grid_t, kernels::kNmsTile, 0, s>>>(sorted, sorted_area, seg, valid,
                                                            tile_off, mask_off, segments,
                                                            p.iou_threshold, mask, mask_capacity);
  const unsigned grid_w =
      static_cast<unsigned>(std::clamp<std::size_t>((segments + 7) / 8, 1, 4096));
  kernels::sweep_warp_kernel<<<grid_w, 256, 0, s>>>(order_out, seg, valid, mask_off, segments,
                                                    p.max_outputs, mask, keep_out, keep_count);
  // Only segments of more than kSweepWarpWords * 64 candidates need the block kernel.
  if (n > kernels::kSweepWarpWords * kernels::kNmsTile) {
    const std::size_t smem_words = std::min(all_words, kernels::kSweepSmemWords);
    const unsigned grid_b = static_cast<unsigned>(std::clamp<std::size_t>(segments, 1, 65535));
    kernels::sweep_block_kernel<<<grid_b, kernels::kSweepThreads,
                                  smem_words * sizeof(unsigned long long), s>>>(
        order_out, seg, valid, mask_off, segments, p.max_outputs, mask, smem_words, removed,
        keep_out, keep_count);
  }
  return check(cudaGetLastError());
}
}  // namespace

status segmented_nms(const box_xyxy<float>* boxes, const float* scores,
                     const std::size_t* segment_offsets, std::size_t segments, std::size_t n,
                     const nms_params& params, void* workspace, std::size_t workspace_bytes,
                     std::int64_t* keep_out, std::size_t* keep_count, void* stream) noexcept {
  if (segments == 0) return {};
  if (!segment_offsets || !keep_count || (n > 0 && (!boxes || !scores || !keep_out)))
    return check(cudaErrorInvalidValue);
  return run_nms(boxes, scores, segment_offsets, segments, n, params, static_cast<char*>(workspace),
                 workspace_bytes, keep_out, keep_count, static_cast<cudaStream_t>(stream));
}

status nms(const box_xyxy<float>* boxes, const float* scores, std::size_t n,
           const nms_params& params, void* workspace, std::size_t workspace_bytes,
           std::int64_t* keep_out, std::size_t* keep_count, void* stream) noexcept {
  if (!keep_count) return check(cudaErrorInvalidValue);
  const std::size_t words = n * ((n + kernels::kNmsTile - 1) / kernels::kNmsTile);
  const nms_layout l = layout(n, 1, words);
  if (!workspace || workspace_bytes < l.total) return check(cudaErrorInvalidValue);
  auto* seg = reinterpret_cast<std::size_t*>(static_cast<char*>(workspace) + l.single);
  const auto s = static_cast<cudaStream_t>(stream);
  single_offsets_kernel<<<1, 1, 0, s>>>(seg, n);
  return run_nms(boxes, scores, seg, 1, n, params, static_cast<char*>(workspace), workspace_bytes,
                 keep_out, keep_count, s);
}

}  // namespace groundeval::cuda
