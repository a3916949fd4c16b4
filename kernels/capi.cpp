// SPDX-License-Identifier: Apache-2.0
// A C ABI over groundeval::cuda for callers outside C++ (bench/gpu/compare_torchvision.py loads
// it with ctypes and passes torch tensors' device pointers and the current CUDA stream, so both
// libraries run on identical tensors, on the same stream and timer). Built as the shared library
// libgroundeval_cuda_capi.so when CUDA is enabled. Every function returns a cudaError_t value
// (0 = success) and never synchronizes the host.
#include <groundeval/cuda/api.hpp>

#include <cstddef>
#include <cstdint>

using groundeval::box_xyxy;
namespace gc = groundeval::cuda;

extern "C" {

int ge_device_count() { return gc::device_count(); }

int ge_pairwise_iou(const void* a, std::size_t n, const void* b, std::size_t m, void* out,
                    int out_kind, void* stream) {
  return gc::pairwise_iou(static_cast<const box_xyxy<float>*>(a), n,
                          static_cast<const box_xyxy<float>*>(b), m, out,
                          static_cast<gc::iou_output>(out_kind), 0, stream)
      .code;
}

int ge_max_iou_per_row(const void* a, std::size_t n, const void* b, std::size_t m, float* max_out,
                       std::int64_t* argmax_out, void* stream) {
  return gc::max_iou_per_row(static_cast<const box_xyxy<float>*>(a), n,
                             static_cast<const box_xyxy<float>*>(b), m, max_out, argmax_out, stream)
      .code;
}

int ge_max_iou_per_col(const void* a, std::size_t n, const void* b, std::size_t m, float* max_out,
                       std::int64_t* argmax_out, void* stream) {
  return gc::max_iou_per_col(static_cast<const box_xyxy<float>*>(a), n,
                             static_cast<const box_xyxy<float>*>(b), m, max_out, argmax_out, stream)
      .code;
}

std::size_t ge_nms_workspace_bytes(std::size_t n) { return gc::nms_workspace_bytes(n); }

std::size_t ge_segmented_nms_workspace_bytes(const std::size_t* host_offsets,
                                             std::size_t segments) {
  return gc::nms_workspace_bytes(host_offsets, segments);
}

int ge_nms(const void* boxes, const float* scores, std::size_t n, float iou_threshold,
           void* workspace, std::size_t workspace_bytes, std::int64_t* keep_out,
           std::size_t* keep_count, void* stream) {
  gc::nms_params p;
  p.iou_threshold = iou_threshold;
  return gc::nms(static_cast<const box_xyxy<float>*>(boxes), scores, n, p, workspace,
                 workspace_bytes, keep_out, keep_count, stream)
      .code;
}

int ge_segmented_nms(const void* boxes, const float* scores, const std::size_t* segment_offsets,
                     std::size_t segments, std::size_t n, float iou_threshold, void* workspace,
                     std::size_t workspace_bytes, std::int64_t* keep_out, std::size_t* keep_count,
                     void* stream) {
  gc::nms_params p;
  p.iou_threshold = iou_threshold;
  return gc::segmented_nms(static_cast<const box_xyxy<float>*>(boxes), scores, segment_offsets,
                           segments, n, p, workspace, workspace_bytes, keep_out, keep_count, stream)
      .code;
}

}  // extern "C"
