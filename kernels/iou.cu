// SPDX-License-Identifier: Apache-2.0
// Compiled entry points of groundeval::cuda (declared in groundeval/cuda/api.hpp) for the IoU
// family: launch shapes, argument checks and the alignment dispatch; the kernels themselves are
// in groundeval/cuda/iou_kernels.cuh.
#include <groundeval/cuda/api.hpp>
#include <groundeval/cuda/iou_kernels.cuh>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace groundeval::cuda {
namespace {
using kernels::box;

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
status invalid() { return {static_cast<int>(cudaErrorInvalidValue)}; }
status last_error() { return {static_cast<int>(cudaGetLastError())}; }
bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }
bool aligned(const void* p, std::size_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}
unsigned blocks_for(std::size_t work, unsigned per_block, unsigned cap = 1u << 20) {
  const std::size_t b = (work + per_block - 1) / per_block;
  return static_cast<unsigned>(std::clamp<std::size_t>(b, 1, cap));
}

template <class Out>
status launch_pairwise_iou(const box* a, std::size_t n, const box* b, std::size_t m, Out* out,
                           std::size_t ld, cudaStream_t s) {
  if (n == 0 || m == 0) return {};
  if (!a || !b || !out || ld < m) return invalid();
  constexpr int V = kernels::pw_vec<Out>;
  const dim3 block(kernels::kPwThreadsX, kernels::kPwThreadsY);
  const std::size_t gx = (m + kernels::kPwColsPerBlock - 1) / kernels::kPwColsPerBlock;
  const std::size_t gy = (n + kernels::kPwTileRows - 1) / kernels::kPwTileRows;
  if (gx > 0x7fffffffu) return invalid();
  const dim3 grid(static_cast<unsigned>(gx),
                  static_cast<unsigned>(std::min<std::size_t>(gy, 65535)));
  if (ld % V == 0 && aligned(out, V * sizeof(Out)))
    kernels::pairwise_iou_kernel<Out, true><<<grid, block, 0, s>>>(a, n, b, m, out, ld);
  else
    kernels::pairwise_iou_kernel<Out, false><<<grid, block, 0, s>>>(a, n, b, m, out, ld);
  return last_error();
}

status launch_pairwise_giou(const box* a, std::size_t n, const box* b, std::size_t m, float* out,
                            cudaStream_t s) {
  if (n == 0 || m == 0) return {};
  if (!a || !b || !out) return invalid();
  const dim3 block(kernels::kTileThreadsX, kernels::kTileThreadsY);
  const std::size_t gx = (m + kernels::kTileColsPerBlock - 1) / kernels::kTileColsPerBlock;
  const std::size_t gy = (n + kernels::kTileRows - 1) / kernels::kTileRows;
  if (gx > 0x7fffffffu) return invalid();
  const dim3 grid(static_cast<unsigned>(gx),
                  static_cast<unsigned>(std::min<std::size_t>(gy, 65535)));
  if (aligned16(a) && aligned16(b))
    kernels::pairwise_tile_kernel<kernels::giou_op, true><<<grid, block, 0, s>>>(a, n, b, m, out);
  else
    kernels::pairwise_tile_kernel<kernels::giou_op, false><<<grid, block, 0, s>>>(a, n, b, m, out);
  return last_error();
}

template <class Op>
status launch_paired(const box* a, const box* b, std::size_t n, float* out, cudaStream_t s) {
  if (n == 0) return {};
  if (!a || !b || !out) return invalid();
  const unsigned grid = blocks_for(n, 256, 1u << 16);
  if (aligned16(a) && aligned16(b))
    kernels::paired_kernel<Op, true><<<grid, 256, 0, s>>>(a, b, n, out);
  else
    kernels::paired_kernel<Op, false><<<grid, 256, 0, s>>>(a, b, n, out);
  return last_error();
}

/// Warps that keep the current device busy: 32 per multiprocessor (4 waves of the fused kernels'
/// 8-warp blocks at their occupancy), or 132 * 32 when the query fails.
std::size_t target_warps() {
  int dev = 0, sms = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess ||
      sms <= 0) {
    (void)cudaGetLastError();
    sms = 132;
  }
  return static_cast<std::size_t>(sms) * 32;
}

/// Column chunks per row group for the fused max: 1 (each warp owns whole rows) when there are
/// enough row groups to fill the device, else enough chunks to fill it, each of at least
/// kMinChunk columns (32 per lane), so that a unit's reduction and atomic stay a small part.
/// The shape heuristic of issue 19; bench/gpu/run.sh times 4096 x 16384, 100 x 100,000,
/// 1 x 1,000,000 and 16 x 1,000,000 against torchvision.
std::size_t column_chunks(std::size_t groups, std::size_t m) {
  constexpr std::size_t kMinChunk = 1024;
  const std::size_t want = target_warps();
  if (groups >= want || m <= kMinChunk) return 1;
  const std::size_t by_work = (want + groups - 1) / groups;
  const std::size_t by_size = (m + kMinChunk - 1) / kMinChunk;
  return std::max<std::size_t>(1, std::min(by_work, by_size));
}

status finalize_keys(std::size_t n, float* best, long long* arg, cudaStream_t s) {
  kernels::max_finalize_kernel<float><<<blocks_for(n, 256, 4096), 256, 0, s>>>(n, best, arg);
  return last_error();
}
}  // namespace

int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string message(status s) { return cudaGetErrorString(static_cast<cudaError_t>(s.code)); }

status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, void* out, iou_output type, std::size_t ld,
                    void* stream) noexcept {
  if (ld == 0) ld = m;
  const cudaStream_t s = as_stream(stream);
  switch (type) {
    case iou_output::f32:
      return launch_pairwise_iou(a, n, b, m, static_cast<float*>(out), ld, s);
    case iou_output::f16:
      return launch_pairwise_iou(a, n, b, m, static_cast<__half*>(out), ld, s);
    case iou_output::bf16:
      return launch_pairwise_iou(a, n, b, m, static_cast<__nv_bfloat16*>(out), ld, s);
    case iou_output::u8:
      return launch_pairwise_iou(a, n, b, m, static_cast<std::uint8_t*>(out), ld, s);
  }
  return invalid();
}

status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, float* out, void* stream) noexcept {
  return launch_pairwise_iou(a, n, b, m, out, m, as_stream(stream));
}

status pairwise_giou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                     std::size_t m, float* out, void* stream) noexcept {
  return launch_pairwise_giou(a, n, b, m, out, as_stream(stream));
}

status pairwise_iou_bitmask(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                            std::size_t m, float threshold, std::uint32_t* out,
                            void* stream) noexcept {
  if (n == 0 || m == 0) return {};
  if (!a || !b || !out) return invalid();
  const unsigned grid = blocks_for(n * bitmask_words(m), 8, 1u << 16);  // 8 warps per block
  if (aligned16(a) && aligned16(b))
    kernels::pairwise_bitmask_kernel<true>
        <<<grid, 256, 0, as_stream(stream)>>>(a, n, b, m, threshold, out);
  else
    kernels::pairwise_bitmask_kernel<false>
        <<<grid, 256, 0, as_stream(stream)>>>(a, n, b, m, threshold, out);
  return last_error();
}

status paired_iou(const box_xyxy<float>* a, const box_xyxy<float>* b, std::size_t n, float* out,
                  void* stream) noexcept {
  return launch_paired<kernels::iou_op>(a, b, n, out, as_stream(stream));
}

status paired_giou(const box_xyxy<float>* a, const box_xyxy<float>* b, std::size_t n, float* out,
                   void* stream) noexcept {
  return launch_paired<kernels::giou_op>(a, b, n, out, as_stream(stream));
}

status max_iou_per_row(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                       std::size_t m, float* max_out, std::int64_t* argmax_out,
                       void* stream) noexcept {
  if (n == 0) return {};
  if (!a || !max_out || !argmax_out || (m > 0 && !b) || m >= kernels::kMaxKeyColumns)
    return invalid();
  const cudaStream_t s = as_stream(stream);
  const std::size_t groups = (n + kernels::kFusedRowsPerWarp - 1) / kernels::kFusedRowsPerWarp;
  const std::size_t chunks = column_chunks(groups, m);
  const std::size_t chunk = (m + chunks - 1) / chunks;
  const unsigned grid = blocks_for(groups * chunks, kernels::kFusedWarps, 1u << 20);
  auto* arg = reinterpret_cast<long long*>(argmax_out);
  constexpr unsigned threads = kernels::kFusedWarps * 32;
  if (chunks == 1) {
    kernels::max_rows_kernel<false><<<grid, threads, 0, s>>>(a, n, b, m, chunk, 1, max_out, arg);
    return last_error();
  }
  const cudaError_t e = cudaMemsetAsync(arg, 0, n * sizeof(long long), s);
  if (e != cudaSuccess) return {static_cast<int>(e)};
  kernels::max_rows_kernel<true><<<grid, threads, 0, s>>>(a, n, b, m, chunk, chunks, max_out, arg);
  const status st = last_error();
  return st.ok() ? finalize_keys(n, max_out, arg, s) : st;
}

status max_iou_per_col(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                       std::size_t m, float* max_out, std::int64_t* argmax_out,
                       void* stream) noexcept {
  return max_iou_per_row(b, m, a, n, max_out, argmax_out, stream);
}

status ragged_pairwise_iou(const box_xyxy<float>* a, const std::size_t* a_offsets,
                           const box_xyxy<float>* b, const std::size_t* b_offsets,
                           const std::size_t* out_offsets, std::size_t images, std::size_t total_a,
                           float* out, void* stream) noexcept {
  if (images == 0 || total_a == 0) return {};
  if (!a || !a_offsets || !b_offsets || !out_offsets || !out) return invalid();
  const unsigned grid = blocks_for(total_a, 8, 1u << 16);
  if (aligned16(a) && (!b || aligned16(b)))
    kernels::ragged_pairwise_kernel<true><<<grid, 256, 0, as_stream(stream)>>>(
        a, a_offsets, b, b_offsets, out_offsets, images, total_a, out);
  else
    kernels::ragged_pairwise_kernel<false><<<grid, 256, 0, as_stream(stream)>>>(
        a, a_offsets, b, b_offsets, out_offsets, images, total_a, out);
  return last_error();
}

status ragged_max_iou_per_row(const box_xyxy<float>* a, const std::size_t* a_offsets,
                              const box_xyxy<float>* b, const std::size_t* b_offsets,
                              std::size_t images, std::size_t total_a, float* max_out,
                              std::int64_t* argmax_out, void* stream) noexcept {
  if (images == 0 || total_a == 0) return {};
  if (!a || !a_offsets || !b_offsets || !max_out || !argmax_out) return invalid();
  const cudaStream_t s = as_stream(stream);
  // Image sizes live on the device: split every row into the same number of chunks, enough to
  // fill the device when the rows are few (a chunk of a small image may be empty).
  const std::size_t want = target_warps();
  const std::size_t chunks =
      total_a >= want ? 1 : std::min<std::size_t>((want + total_a - 1) / total_a, 64);
  const unsigned grid = blocks_for(total_a * chunks, 8, 1u << 20);
  auto* arg = reinterpret_cast<long long*>(argmax_out);
  if (chunks == 1) {
    kernels::ragged_max_rows_kernel<false>
        <<<grid, 256, 0, s>>>(a, a_offsets, b, b_offsets, images, total_a, 1, max_out, arg);
    return last_error();
  }
  const cudaError_t e = cudaMemsetAsync(arg, 0, total_a * sizeof(long long), s);
  if (e != cudaSuccess) return {static_cast<int>(e)};
  kernels::ragged_max_rows_kernel<true>
      <<<grid, 256, 0, s>>>(a, a_offsets, b, b_offsets, images, total_a, chunks, max_out, arg);
  const status st = last_error();
  return st.ok() ? finalize_keys(total_a, max_out, arg, s) : st;
}

}  // namespace groundeval::cuda
