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

std::size_t ge_postprocess_workspace_bytes(std::size_t batch, std::size_t queries,
                                           std::size_t tokens, std::size_t phrases, int gemm) {
  return gc::postprocess_workspace_bytes(batch, queries, tokens, phrases, gemm != 0);
}

// Detector post-processing (see groundeval::cuda::postprocess). spans ([P] or [B, P] pairs of
// uint32 begin / end) select the span form; else weights ([P, T] or [B, P, T] float), counts
// (mean only) and a cublasHandle_t select the GEMM form. activation: 0 softmax, 1 sigmoid;
// aggregation: 0 max, 1 normalized sum, 2 mean; pair_top_k: Grounding DINO's cap (0 = none).
int ge_postprocess(const float* logits, const float* boxes, std::size_t batch, std::size_t queries,
                   std::size_t tokens, std::size_t phrases, const void* spans, const float* weights,
                   const std::uint32_t* counts, int per_image, const float* scales, int activation,
                   int aggregation, float map_eps, float score_threshold, std::size_t top_k,
                   std::size_t pair_top_k, int boxes_cxcywh, int allow_tf32,
                   std::int32_t* out_queries, float* out_scores, void* out_boxes,
                   std::uint32_t* out_counts, std::uint32_t* flags, void* workspace,
                   std::size_t workspace_bytes, void* cublas, void* stream) {
  gc::phrase_map map;
  map.spans = static_cast<const gc::token_span*>(spans);
  map.weights = weights;
  map.counts = counts;
  map.per_image = per_image != 0;
  gc::postprocess_params p;
  p.activation = static_cast<gc::token_activation>(activation);
  p.aggregation = static_cast<gc::score_aggregation>(aggregation);
  p.map_eps = map_eps;
  p.score_threshold = score_threshold;
  p.top_k = top_k;
  p.pair_top_k = pair_top_k;
  p.boxes_cxcywh = boxes_cxcywh != 0;
  p.allow_tf32 = allow_tf32 != 0;
  const gc::postprocess_outputs out{out_queries, out_scores,
                                    static_cast<box_xyxy<float>*>(out_boxes), out_counts, flags};
  return gc::postprocess(logits, boxes, batch, queries, tokens, phrases, map, scales, p, out,
                         workspace, workspace_bytes, cublas, stream)
      .code;
}

}  // extern "C"
