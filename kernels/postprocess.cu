// SPDX-License-Identifier: Apache-2.0
// Detector post-processing entry points of groundeval::cuda (see
// groundeval/cuda/postprocess_kernels.cuh for the kernels). Workspace layout, 256-byte aligned:
// phrase scores [B, Q, P] float | probabilities [B, Q, T] float (GEMM form only) | pair cap
// prefix lengths [B, P] uint32.
#include <groundeval/cuda/api.hpp>
#include <groundeval/cuda/postprocess_kernels.cuh>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace groundeval::cuda {

namespace kernels {
// Explicit instantiations for the common element type (float32 dumps).
template __global__ void row_kernel<float>(const float*, std::size_t, std::size_t, std::size_t, int,
                                           float*, const token_span*, std::size_t, std::size_t, int,
                                           float, float*, std::uint32_t*);
template __global__ void topk_kernel<float>(const float*, const std::uint32_t*, std::size_t,
                                            const float*, std::size_t, std::size_t, std::size_t,
                                            const float*, float, std::size_t, bool, std::int32_t*,
                                            float*, box_xyxy<float>*, std::uint32_t*);
template __global__ void pair_rank_kernel<float>(std::size_t, std::size_t, std::size_t, std::size_t,
                                                 const std::int32_t*, const float*,
                                                 const std::uint32_t*, std::uint32_t*);
template __global__ void pair_select_kernel<float>(const float*, const std::uint32_t*, std::size_t,
                                                   const float*, std::size_t, std::size_t,
                                                   const float*, float, std::size_t, std::size_t,
                                                   bool, std::int32_t*, float*, box_xyxy<float>*,
                                                   std::uint32_t*);
template __global__ void pair_apply_kernel<float>(std::size_t, std::size_t, const std::uint32_t*,
                                                  std::int32_t*, float*, box_xyxy<float>*,
                                                  std::uint32_t*);
}  // namespace kernels

namespace {
constexpr std::size_t kAlign = 256;
constexpr std::size_t round_up(std::size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }
status check(cudaError_t e) { return {static_cast<int>(e)}; }
status invalid() { return check(cudaErrorInvalidValue); }

std::size_t pow2_at_least(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

status launch_rows(const float* logits, std::size_t batch, std::size_t queries, std::size_t tokens,
                   token_activation act, float* probs, const token_span* spans,
                   std::size_t span_stride, std::size_t phrases, score_aggregation agg,
                   float map_eps, float* scores, std::uint32_t* flags, cudaStream_t s) {
  if (batch == 0) return {};
  if (!flags || tokens > postprocess_max_tokens) return invalid();
  const cudaError_t e = cudaMemsetAsync(flags, 0, batch * sizeof(std::uint32_t), s);
  if (e != cudaSuccess) return check(e);
  const std::size_t rows = batch * queries;
  if (rows == 0) return {};
  if (tokens == 0) return invalid();  // no token slot: nothing to activate (the CPU throws too)
  const std::size_t blocks =
      std::clamp<std::size_t>((rows + kernels::kRowWarps - 1) / kernels::kRowWarps, 1, 65535);
  const std::size_t smem = kernels::kRowWarps * tokens * sizeof(float);
  kernels::row_kernel<float><<<static_cast<unsigned>(blocks), kernels::kRowWarps * 32, smem, s>>>(
      logits, rows, queries, tokens, static_cast<int>(act), probs, spans, span_stride, phrases,
      static_cast<int>(agg), map_eps, scores, flags);
  return check(cudaGetLastError());
}
}  // namespace

std::size_t postprocess_workspace_bytes(std::size_t batch, std::size_t queries, std::size_t tokens,
                                        std::size_t phrases, bool gemm) noexcept {
  std::size_t bytes = round_up(batch * queries * phrases * sizeof(float)) +
                      round_up(batch * phrases * sizeof(std::uint32_t));  // pair cap's keep
  if (gemm) bytes += round_up(batch * queries * tokens * sizeof(float));
  return bytes;
}

status activate_tokens(const float* logits, std::size_t batch, std::size_t queries,
                       std::size_t tokens, token_activation activation, float* probs,
                       std::uint32_t* flags, void* stream) noexcept {
  if (batch * queries * tokens != 0 && (!logits || !probs)) return invalid();
  return launch_rows(logits, batch, queries, tokens, activation, probs, nullptr, 0, 0,
                     score_aggregation::max, 0.0f, nullptr, flags,
                     static_cast<cudaStream_t>(stream));
}

status span_phrase_scores(const float* logits, std::size_t batch, std::size_t queries,
                          std::size_t tokens, token_activation activation, const token_span* spans,
                          bool per_image, std::size_t phrases, score_aggregation aggregation,
                          float map_eps, float* scores, std::uint32_t* flags,
                          void* stream) noexcept {
  const bool work = batch * queries * phrases != 0;
  if (work && (!logits || !spans || !scores)) return invalid();
  // Without phrases only the flags are computed (the NaN check still runs).
  return launch_rows(logits, batch, queries, tokens, activation, nullptr, work ? spans : nullptr,
                     per_image ? phrases : 0, phrases, aggregation, map_eps, scores, flags,
                     static_cast<cudaStream_t>(stream));
}

status gemm_phrase_scores(const float* probs, std::size_t batch, std::size_t queries,
                          std::size_t tokens, const float* weights, bool per_image,
                          std::size_t phrases, bool allow_tf32, float* scores, void* cublas,
                          void* stream) noexcept {
  if (batch * queries * phrases == 0) return {};
  if (!probs || !weights || !scores || !cublas) return invalid();
  if (tokens == 0) return invalid();
  if (batch > INT_MAX || queries > INT_MAX || tokens > INT_MAX || phrases > INT_MAX)
    return invalid();
  auto h = static_cast<cublasHandle_t>(cublas);
  if (cublasSetStream(h, static_cast<cudaStream_t>(stream)) != CUBLAS_STATUS_SUCCESS ||
      cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST) != CUBLAS_STATUS_SUCCESS)
    return invalid();
  const float alpha = 1.0f, beta = 0.0f;
  const auto p = static_cast<int>(phrases), q = static_cast<int>(queries),
             t = static_cast<int>(tokens);
  // Column-major view: S^T [P x Q] = W [P x T] (stored as T x P, transposed) x probs^T [T x Q].
  const cublasStatus_t st = cublasGemmStridedBatchedEx(
      h, CUBLAS_OP_T, CUBLAS_OP_N, p, q, t, &alpha, weights, CUDA_R_32F, t,
      per_image ? static_cast<long long>(phrases * tokens) : 0LL, probs, CUDA_R_32F, t,
      static_cast<long long>(queries * tokens), &beta, scores, CUDA_R_32F, p,
      static_cast<long long>(queries * phrases), static_cast<int>(batch),
      allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS) return check(cudaErrorLaunchFailure);
  return check(cudaGetLastError());
}

status phrase_topk(const float* scores, const std::uint32_t* counts, bool per_image,
                   const float* boxes, std::size_t batch, std::size_t queries, std::size_t phrases,
                   const float* scales, const postprocess_params& params,
                   const postprocess_outputs& out, void* stream) noexcept {
  if (batch * phrases == 0) return {};
  if (params.top_k == 0 || queries > postprocess_max_queries || !out.queries || !out.scores ||
      !out.boxes || !out.counts || (queries != 0 && (!scores || !boxes)))
    return invalid();
  const std::size_t n2 = pow2_at_least(queries);
  const std::size_t blocks = batch * phrases;
  if (blocks > INT_MAX) return invalid();
  kernels::topk_kernel<float>
      <<<static_cast<unsigned>(blocks), kernels::kTopkThreads, n2 * sizeof(unsigned long long),
         static_cast<cudaStream_t>(stream)>>>(scores, counts, per_image ? phrases : 0, boxes,
                                              queries, phrases, n2, scales, params.score_threshold,
                                              params.top_k, params.boxes_cxcywh, out.queries,
                                              out.scores, out.boxes, out.counts);
  return check(cudaGetLastError());
}

status postprocess(const float* logits, const float* boxes, std::size_t batch, std::size_t queries,
                   std::size_t tokens, std::size_t phrases, const phrase_map& map,
                   const float* scales, const postprocess_params& params,
                   const postprocess_outputs& out, void* workspace, std::size_t workspace_bytes,
                   void* cublas, void* stream) noexcept {
  const bool gemm = map.spans == nullptr;
  if (params.pair_top_k > params.top_k) return invalid();
  if (gemm && (map.weights == nullptr || params.aggregation == score_aggregation::max))
    return invalid();
  if (workspace_bytes < postprocess_workspace_bytes(batch, queries, tokens, phrases, gemm) ||
      (workspace == nullptr && workspace_bytes != 0))
    return invalid();
  auto* ws = static_cast<char*>(workspace);
  auto* scores = reinterpret_cast<float*>(ws);
  status st{};
  if (!gemm) {
    st = span_phrase_scores(logits, batch, queries, tokens, params.activation, map.spans,
                            map.per_image, phrases, params.aggregation, params.map_eps, scores,
                            out.flags, stream);
  } else {
    if (params.aggregation == score_aggregation::mean && map.counts == nullptr) return invalid();
    auto* probs =
        reinterpret_cast<float*>(ws + round_up(batch * queries * phrases * sizeof(float)));
    st = activate_tokens(logits, batch, queries, tokens, params.activation, probs, out.flags,
                         stream);
    if (st.ok())
      st = gemm_phrase_scores(probs, batch, queries, tokens, map.weights, map.per_image, phrases,
                              params.allow_tf32, scores, cublas, stream);
  }
  if (!st.ok()) return st;
  const bool divide = gemm && params.aggregation == score_aggregation::mean;
  if (params.pair_top_k > 0 && params.pair_top_k <= kernels::kMaxPairSelect &&
      phrases <= kernels::kMaxSelectPhrases && batch * phrases != 0) {
    // Grounding DINO's preset: the image's best pairs straight from its Q x P scores.
    if (queries > postprocess_max_queries || !out.queries || !out.scores || !out.boxes ||
        !out.counts || (queries != 0 && !boxes) || batch > INT_MAX)
      return invalid();
    kernels::pair_select_kernel<float><<<static_cast<unsigned>(batch), kernels::kSelectThreads, 0,
                                         static_cast<cudaStream_t>(stream)>>>(
        scores, divide ? map.counts : nullptr, map.per_image ? phrases : 0, boxes, queries, phrases,
        scales, params.score_threshold, params.top_k, params.pair_top_k, params.boxes_cxcywh,
        out.queries, out.scores, out.boxes, out.counts);
    return check(cudaGetLastError());
  }
  st = phrase_topk(scores, divide ? map.counts : nullptr, map.per_image, boxes, batch, queries,
                   phrases, scales, params, out, stream);
  if (!st.ok() || params.pair_top_k == 0 || batch * phrases == 0) return st;
  auto* keep = reinterpret_cast<std::uint32_t*>(
      ws + round_up(batch * queries * phrases * sizeof(float)) +
      (gemm ? round_up(batch * queries * tokens * sizeof(float)) : 0));
  const auto s = static_cast<cudaStream_t>(stream);
  const cudaError_t e = cudaMemsetAsync(keep, 0, batch * phrases * sizeof(std::uint32_t), s);
  if (e != cudaSuccess) return check(e);
  const std::size_t entries = batch * phrases * params.top_k;
  const auto grid = static_cast<unsigned>(std::clamp<std::size_t>((entries + 255) / 256, 1, 65535));
  kernels::pair_rank_kernel<float><<<grid, 256, 0, s>>>(
      batch, phrases, params.top_k, params.pair_top_k, out.queries, out.scores, out.counts, keep);
  kernels::pair_apply_kernel<float><<<grid, 256, 0, s>>>(
      batch * phrases, params.top_k, keep, out.queries, out.scores, out.boxes, out.counts);
  return check(cudaGetLastError());
}

}  // namespace groundeval::cuda
