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

template <class Op, class Out>
status launch_pairwise(const box* a, std::size_t n, const box* b, std::size_t m, Out* out,
                       std::size_t ld, cudaStream_t s) {
  if (n == 0 || m == 0) return {};
  if (!a || !b || !out || ld < m) return invalid();
  const dim3 block(kernels::kTileThreadsX, kernels::kTileThreadsY);
  const std::size_t gx = (m + kernels::kTileColsPerBlock - 1) / kernels::kTileColsPerBlock;
  const std::size_t gy = (n + kernels::kTileRows - 1) / kernels::kTileRows;
  if (gx > 0x7fffffffu) return invalid();
  const dim3 grid(static_cast<unsigned>(gx),
                  static_cast<unsigned>(std::min<std::size_t>(gy, 65535)));
  const bool al = aligned16(a) && aligned16(b);
  const bool vec = ld % 4 == 0 && aligned(out, 4 * sizeof(Out));
  if (al && vec)
    kernels::pairwise_tile_kernel<Op, Out, true, true><<<grid, block, 0, s>>>(a, n, b, m, out, ld);
  else if (al)
    kernels::pairwise_tile_kernel<Op, Out, true, false><<<grid, block, 0, s>>>(a, n, b, m, out, ld);
  else if (vec)
    kernels::pairwise_tile_kernel<Op, Out, false, true><<<grid, block, 0, s>>>(a, n, b, m, out, ld);
  else
    kernels::pairwise_tile_kernel<Op, Out, false, false>
        <<<grid, block, 0, s>>>(a, n, b, m, out, ld);
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
      return launch_pairwise<kernels::iou_op>(a, n, b, m, static_cast<float*>(out), ld, s);
    case iou_output::f16:
      return launch_pairwise<kernels::iou_op>(a, n, b, m, static_cast<__half*>(out), ld, s);
    case iou_output::bf16:
      return launch_pairwise<kernels::iou_op>(a, n, b, m, static_cast<__nv_bfloat16*>(out), ld, s);
    case iou_output::u8:
      return launch_pairwise<kernels::iou_op>(a, n, b, m, static_cast<std::uint8_t*>(out), ld, s);
  }
  return invalid();
}

status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, float* out, void* stream) noexcept {
  return launch_pairwise<kernels::iou_op>(a, n, b, m, out, m, as_stream(stream));
}

status pairwise_giou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                     std::size_t m, float* out, void* stream) noexcept {
  return launch_pairwise<kernels::giou_op>(a, n, b, m, out, m, as_stream(stream));
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
  if (!a || !max_out || !argmax_out || (m > 0 && !b)) return invalid();
  constexpr unsigned rows_per_block = kernels::kFusedWarps * kernels::kFusedRowsPerWarp;
  const std::size_t grid = (n + rows_per_block - 1) / rows_per_block;
  if (grid > 0x7fffffffu) return invalid();
  auto* arg = reinterpret_cast<long long*>(argmax_out);
  const unsigned g = static_cast<unsigned>(grid);
  if (aligned16(a) && (m == 0 || aligned16(b)))
    kernels::max_rows_kernel<true>
        <<<g, kernels::kFusedWarps * 32, 0, as_stream(stream)>>>(a, n, b, m, max_out, arg);
  else
    kernels::max_rows_kernel<false>
        <<<g, kernels::kFusedWarps * 32, 0, as_stream(stream)>>>(a, n, b, m, max_out, arg);
  return last_error();
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
  const unsigned grid = blocks_for(total_a, 8, 1u << 16);
  auto* arg = reinterpret_cast<long long*>(argmax_out);
  if (aligned16(a) && (!b || aligned16(b)))
    kernels::ragged_max_rows_kernel<true><<<grid, 256, 0, as_stream(stream)>>>(
        a, a_offsets, b, b_offsets, images, total_a, max_out, arg);
  else
    kernels::ragged_max_rows_kernel<false><<<grid, 256, 0, as_stream(stream)>>>(
        a, a_offsets, b, b_offsets, images, total_a, max_out, arg);
  return last_error();
}

}  // namespace groundeval::cuda
