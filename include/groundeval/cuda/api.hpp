// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/api.hpp — host-only declarations of the compiled CUDA entry points, callable
// from code built with g++ alone. Includes no CUDA header (streams are passed as void*).
// Requires linking groundeval::cuda (built when nvcc is found; defines GROUNDEVAL_HAS_CUDA=1).
//
// Conventions of every entry point:
//  * all pointers are device memory the caller owns; `stream` is a cudaStream_t (nullptr = the
//    legacy default stream);
//  * asynchronous: no allocation, no host synchronization; the returned status only reports
//    launch errors (invalid arguments are reported as cudaErrorInvalidValue before launching);
//  * boxes are box_xyxy<float> in any coordinate unit; IoU is computed in float32 with exactly
//    the math of boxes/iou.hpp (compiled with -fmad=false, so results equal the CPU drivers);
//  * the IoU entry points need no workspace.
#pragma once

#include <groundeval/boxes/box.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace groundeval::cuda {

/// Result of a call: 0 is success, anything else a cudaError_t value.
struct status {
  int code = 0;
  bool ok() const noexcept { return code == 0; }
};

/// Number of usable CUDA devices; 0 when there is no device or no driver (never throws).
int device_count() noexcept;

/// Human-readable text of a status (cudaGetErrorString).
std::string message(status s);

/// Element type of a materialized IoU matrix. IoU is always computed in float32 and converted
/// on store: f16 / bf16 round to nearest; u8 stores round(iou * 255).
enum class iou_output : int { f32 = 0, f16 = 1, bf16 = 2, u8 = 3 };

/// Size in bytes of one output element of the given kind.
constexpr std::size_t element_bytes(iou_output t) noexcept {
  return t == iou_output::f32 ? 4 : (t == iou_output::u8 ? 1 : 2);
}

/// out[i * ld + j] = iou(a[i], b[j]) for i < n, j < m, in the element type `type`;
/// ld >= m (ld = 0 means m). 16-byte stores are used when ld is a multiple of 4 and `out` is
/// aligned accordingly; other layouts work with narrower stores.
status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, void* out, iou_output type, std::size_t ld,
                    void* stream) noexcept;

/// float32 shorthand of the above with ld = m.
status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, float* out, void* stream) noexcept;

/// out[i * m + j] = giou(a[i], b[j]) (float32).
status pairwise_giou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                     std::size_t m, float* out, void* stream) noexcept;

/// Words per row of pairwise_iou_bitmask: ceil(m / 32).
constexpr std::size_t bitmask_words(std::size_t m) noexcept { return (m + 31) / 32; }

/// Bit (j % 32) of out[i * bitmask_words(m) + j / 32] is set iff iou(a[i], b[j]) >= threshold
/// (the library's hit rule, iou_hit).
status pairwise_iou_bitmask(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                            std::size_t m, float threshold, std::uint32_t* out,
                            void* stream) noexcept;

/// out[i] = iou(a[i], b[i]) for i < n.
status paired_iou(const box_xyxy<float>* a, const box_xyxy<float>* b, std::size_t n, float* out,
                  void* stream) noexcept;

/// out[i] = giou(a[i], b[i]) for i < n.
status paired_giou(const box_xyxy<float>* a, const box_xyxy<float>* b, std::size_t n, float* out,
                   void* stream) noexcept;

/// For each a[i]: the max IoU over b and the smallest j reaching it (-1 and 0 when m == 0).
/// O(n + m) memory: the n x m matrix is never built.
status max_iou_per_row(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                       std::size_t m, float* max_out, std::int64_t* argmax_out,
                       void* stream) noexcept;

/// For each b[j]: the max IoU over a and the smallest i reaching it (IoU is symmetric to the bit).
status max_iou_per_col(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                       std::size_t m, float* max_out, std::int64_t* argmax_out,
                       void* stream) noexcept;

/// Ragged batch of `images` images: image k owns a[a_offsets[k] .. a_offsets[k+1]) and
/// b[b_offsets[k] .. b_offsets[k+1]); its |a_k| x |b_k| matrix is written row-major at
/// out + out_offsets[k]. The three offset arrays (images + 1 entries each, device memory) are
/// what groundeval::ragged_output_offsets computes on the host; total_a = a_offsets[images].
status ragged_pairwise_iou(const box_xyxy<float>* a, const std::size_t* a_offsets,
                           const box_xyxy<float>* b, const std::size_t* b_offsets,
                           const std::size_t* out_offsets, std::size_t images, std::size_t total_a,
                           float* out, void* stream) noexcept;

/// Ragged max/argmax per row: for every a box, the max IoU against its own image's b boxes and
/// the argmax as an index within that image's b segment (-1 when it is empty).
status ragged_max_iou_per_row(const box_xyxy<float>* a, const std::size_t* a_offsets,
                              const box_xyxy<float>* b, const std::size_t* b_offsets,
                              std::size_t images, std::size_t total_a, float* max_out,
                              std::int64_t* argmax_out, void* stream) noexcept;

}  // namespace groundeval::cuda

// ---- NMS -------------------------------------------------------------------------------------

namespace groundeval::cuda {

/// Parameters of the device NMS; the rules are those of groundeval::nms (boxes/nms.hpp):
/// candidates have score > score_threshold (NaN scores are never candidates — the CPU NMS rejects
/// them with an error instead); visiting order is score descending, ties by index ascending;
/// a kept box removes a later one when iou > iou_threshold (boxes grown by `offset` on x2/y2);
/// at most max_outputs boxes are kept per segment (0 = no cap).
struct nms_params {
  float iou_threshold = 0.5f;
  float score_threshold = -std::numeric_limits<float>::infinity();  ///< every finite score
  std::size_t max_outputs = 0;
  float offset = 0.0f;
};

/// Workspace bytes for segmented_nms over segments given by their *host* offsets (segments + 1
/// entries, non-decreasing, from 0 to n). Grows with the sum over segments of n_s^2 / 8 bytes
/// (one bit per candidate pair of a segment), not with n^2.
std::size_t nms_workspace_bytes(const std::size_t* host_segment_offsets,
                                std::size_t segments) noexcept;
/// Workspace bytes for nms over one set of n boxes.
std::size_t nms_workspace_bytes(std::size_t n) noexcept;

/// Greedy NMS independently in every segment (one image x class each; the boxes of a segment are
/// contiguous). `segment_offsets` (device, segments + 1 entries) must be the offsets whose host
/// copy sized the workspace. Results without a host sync: segment s's kept box indices (global
/// indices into `boxes`, in visiting order) at keep_out + segment_offsets[s] (capacity: the
/// segment's size) and their count at keep_count[s].
status segmented_nms(const box_xyxy<float>* boxes, const float* scores,
                     const std::size_t* segment_offsets, std::size_t segments, std::size_t n,
                     const nms_params& params, void* workspace, std::size_t workspace_bytes,
                     std::int64_t* keep_out, std::size_t* keep_count, void* stream) noexcept;

/// Greedy NMS over one set of n boxes: kept indices at keep_out[0 .. *keep_count).
status nms(const box_xyxy<float>* boxes, const float* scores, std::size_t n,
           const nms_params& params, void* workspace, std::size_t workspace_bytes,
           std::int64_t* keep_out, std::size_t* keep_count, void* stream) noexcept;

}  // namespace groundeval::cuda
