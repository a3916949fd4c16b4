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
#include <groundeval/postprocess/positive_map.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace groundeval::cuda {

/// Result of a call: 0 is success, anything else a cudaError_t value.
struct [[nodiscard]] status {
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
/// O(n + m) memory: the n x m matrix is never built. When the rows are too few to fill the
/// device, each row's columns are split over several warps that meet by atomicMax on 64-bit
/// (IoU, index) keys kept in argmax_out (so m < 2^32 - 256; larger m is cudaErrorInvalidValue).
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

// ---- detector post-processing ----------------------------------------------------------------
// The GPU counterpart of postprocess/pipeline.hpp for the DETR-style presets (MDETR, Grounding
// DINO, GLIP's token aggregation) ranked per phrase: activation of the token logits [B, Q, T],
// phrase scores [B, Q, P], per-phrase top-k over the queries, decode + scale of the selected boxes
// only. Equal, for the same inputs, to postprocess_batch() with no centerness, no NMS, no
// detections_per_image cap, no clipping, per_phrase_top_k = k and pair_top_k as given (see
// docs/specialist.md "Post-processing on the GPU" for what is bit-identical and what is not).

namespace groundeval::cuda {

enum class token_activation : int { softmax = 0, sigmoid = 1 };
enum class score_aggregation : int { max = 0, normalized_sum = 1, mean = 2 };

/// Tokens [begin, end) of one phrase (the contiguous-span form of a positive-map row; begin ==
/// end is an empty row, which scores 0).
struct token_span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

/// Bits of the per-image error flags (device, one std::uint32_t per image). The CPU pipeline
/// throws for the first two; the GPU flags the image and its outputs are then unspecified.
enum postprocess_flag : std::uint32_t {
  flag_nan_logit = 1,          ///< a NaN logit anywhere in the image
  flag_softmax_undefined = 2,  ///< softmax of a row with a +Inf logit or only -Inf logits
  flag_bad_span = 4            ///< a token_span outside [0, T] or reversed (scored 0)
};

/// Largest sizes of the kernels (larger calls return cudaErrorInvalidValue).
inline constexpr std::size_t postprocess_max_tokens = 2048;
inline constexpr std::size_t postprocess_max_queries = 4096;

/// The phrase-to-token map of every image, in device memory, in one of two forms:
///  * spans [P] (or [B, P] when per_image): the exact shortcut — a sequential sum / max over
///    each contiguous span, in the CPU's order, so the phrase scores equal the CPU's bit for bit;
///  * weights [P, T] (or [B, P, T]) float, row-major: phrase scores by a cuBLAS batched GEMM
///    probabilities x weights^T (any map; the sum order is cuBLAS's, so the last bits can differ
///    from the CPU). For mean, weights are 0/1 and counts [P] (or [B, P]) the tokens per phrase.
/// When spans is set it is used; otherwise weights (required).
struct phrase_map {
  const token_span* spans = nullptr;
  const float* weights = nullptr;
  const std::uint32_t* counts = nullptr;  ///< GEMM + mean only
  bool per_image = false;
};

struct postprocess_params {
  token_activation activation = token_activation::sigmoid;
  score_aggregation aggregation = score_aggregation::normalized_sum;
  float map_eps = 1e-6f;  ///< normalized_sum, span form: weight 1 / (n + map_eps)
  float score_threshold = -std::numeric_limits<float>::infinity();  ///< keep scores > this
  std::size_t top_k = 100;  ///< per (image, phrase): slots of the outputs, >= 1
  /// Grounding DINO's cap: keep only the best pair_top_k (query, phrase) pairs of each image
  /// (score descending, ties by q * P + p), each phrase a prefix of its list; 0 = none. Needs
  /// top_k >= pair_top_k (the preset: pair_top_k = top_k = 300).
  std::size_t pair_top_k = 0;
  bool boxes_cxcywh = true;  ///< pred_boxes are cxcywh (else xyxy)
  bool allow_tf32 = false;   ///< GEMM form only: let cuBLAS use TF32 tensor cores (off: FP32)
};

/// Outputs, device memory, [B, P, top_k] each (slot i of phrase p of image b at
/// (b * P + p) * top_k + i): rank i's query (-1 past the count), its score (0 past the count) and
/// its box (xyxy, times the image's scale; 0 past the count); counts [B, P] = min(top_k, number
/// of queries with score > threshold); flags [B] (postprocess_flag bits, zeroed by the call).
struct postprocess_outputs {
  std::int32_t* queries = nullptr;
  float* scores = nullptr;
  box_xyxy<float>* boxes = nullptr;
  std::uint32_t* counts = nullptr;
  std::uint32_t* flags = nullptr;
};

/// Workspace bytes of postprocess(): phrase scores [B, Q, P] float, the pair cap's [B, P]
/// prefix lengths, plus the probabilities [B, Q, T] float for the GEMM form.
std::size_t postprocess_workspace_bytes(std::size_t batch, std::size_t queries, std::size_t tokens,
                                        std::size_t phrases, bool gemm) noexcept;

/// The whole pipeline on one stream, without a host sync or an allocation. logits [B, Q, T] and
/// boxes [B, Q, 4] float (device); scales [B, 2] device floats (sx, sy) multiplying the decoded
/// boxes (the CPU's (W, H) for normalized boxes, (W / W_in, H / H_in) for input pixels), or
/// nullptr for none. `cublas` is a cublasHandle_t (GEMM form only; its stream and pointer mode
/// are set for the call); the span form needs none (nullptr).
status postprocess(const float* logits, const float* boxes, std::size_t batch, std::size_t queries,
                   std::size_t tokens, std::size_t phrases, const phrase_map& map,
                   const float* scales, const postprocess_params& params,
                   const postprocess_outputs& out, void* workspace, std::size_t workspace_bytes,
                   void* cublas, void* stream) noexcept;

// The stages, for callers that keep intermediate results (same rules as above).

/// probs[B, Q, T] = activation of logits (all T slots); flags [B] zeroed, then NaN / softmax bits.
status activate_tokens(const float* logits, std::size_t batch, std::size_t queries,
                       std::size_t tokens, token_activation activation, float* probs,
                       std::uint32_t* flags, void* stream) noexcept;

/// scores[B, Q, P] from the logits through the activation and the span form, fused (the
/// probabilities stay in shared memory); flags as activate_tokens plus flag_bad_span.
status span_phrase_scores(const float* logits, std::size_t batch, std::size_t queries,
                          std::size_t tokens, token_activation activation, const token_span* spans,
                          bool per_image, std::size_t phrases, score_aggregation aggregation,
                          float map_eps, float* scores, std::uint32_t* flags,
                          void* stream) noexcept;

/// scores[B, Q, P] = probs[B, Q, T] x weights^T by cublasGemmStridedBatchedEx (FP32 compute,
/// CUBLAS_COMPUTE_32F_PEDANTIC unless allow_tf32). No division (see phrase_topk's counts).
status gemm_phrase_scores(const float* probs, std::size_t batch, std::size_t queries,
                          std::size_t tokens, const float* weights, bool per_image,
                          std::size_t phrases, bool allow_tf32, float* scores, void* cublas,
                          void* stream) noexcept;

/// Per-phrase top-k of scores[B, Q, P] over the queries (score descending, ties by query
/// ascending, candidates score > threshold; with counts the score is first divided by the
/// phrase's token count as GLIP's mean), then decode + scale of the selected boxes. Ignores
/// params.pair_top_k (postprocess applies it after this stage).
status phrase_topk(const float* scores, const std::uint32_t* counts, bool per_image,
                   const float* boxes, std::size_t batch, std::size_t queries, std::size_t phrases,
                   const float* scales, const postprocess_params& params,
                   const postprocess_outputs& out, void* stream) noexcept;

// ---- host helpers: the device forms of a positive_map ----------------------------------------

/// The span form of `pm` when every row's tokens are one contiguous run (or none); else false.
inline bool contiguous_spans(const positive_map& pm, std::vector<token_span>& spans) {
  spans.assign(pm.phrases, token_span{});
  for (std::size_t p = 0; p < pm.phrases; ++p) {
    std::size_t b = pm.token_slots, e = 0, n = 0;
    for (std::size_t t = 0; t < pm.token_slots; ++t)
      if (pm.at(p, t)) {
        b = t < b ? t : b;
        e = t + 1;
        ++n;
      }
    if (n == 0) continue;
    if (e - b != n) return false;
    spans[p] = {static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e)};
  }
  return true;
}

/// The GEMM form's weights [P, T]: normalized_weights (normalized_sum) or the 0/1 map (mean).
inline std::vector<float> gemm_weights(const positive_map& pm, score_aggregation aggregation,
                                       float map_eps) {
  if (aggregation == score_aggregation::normalized_sum)
    return normalized_weights<float>(pm, map_eps);
  std::vector<float> w(pm.mask.size());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = pm.mask[i] ? 1.0f : 0.0f;
  return w;
}

/// Tokens per phrase (the GEMM form's counts for mean).
inline std::vector<std::uint32_t> token_counts(const positive_map& pm) {
  std::vector<std::uint32_t> c(pm.phrases);
  for (std::size_t p = 0; p < pm.phrases; ++p) c[p] = static_cast<std::uint32_t>(pm.count(p));
  return c;
}

}  // namespace groundeval::cuda
