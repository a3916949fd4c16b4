// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/postprocess_kernels.cuh — kernels of the GPU detector post-processing
// (kernels/postprocess.cu). The per-element math is postprocess/score_math.hpp and
// boxes/convert.hpp, shared with the CPU pipeline; the kernels add the launch, the tiling and keep
// the CPU's reduction orders. Include from .cu files only (target groundeval::cuda, compiled with
// -fmad=false so every multiply and add rounds as on the CPU).
//
//   row_kernel   one warp per (image, query) row: the T logits into shared memory, NaN check,
//                sigmoid (per element) or softmax (warp max, then the row sum in token order by
//                one lane, as the CPU loop), then optionally the probabilities to global memory
//                and / or the phrase scores of the span form (one lane per phrase, a sequential
//                max / sum over the span, exactly the CPU loop's order and operations).
//   topk_kernel  one block per (image, phrase): the Q scores as 64-bit keys (descending score,
//                then ascending query — the CPU's `better` order) in shared memory, a bitonic
//                sort, then decode (cxcywh -> xyxy) and scale of the top k boxes only.
//   pair_select_kernel  Grounding DINO's preset (pair_top_k > 0): one block per image selects the
//                best pair_top_k (query, phrase) pairs of the image's Q x P scores directly (radix
//                select in shared memory, ties by flat index), sorts them by (phrase, score desc,
//                query asc) and writes the per-phrase lists: no per-phrase sort of the Q scores.
//   pair_rank_kernel, pair_apply_kernel  the same cap after topk_kernel, for sizes beyond
//                pair_select_kernel's limits.
#pragma once
#if !defined(__CUDACC__)
#error "groundeval/cuda/postprocess_kernels.cuh must be included from a .cu file compiled by nvcc"
#endif

#include <groundeval/boxes/convert.hpp>
#include <groundeval/cuda/api.hpp>
#include <groundeval/postprocess/score_math.hpp>

#include <cub/block/block_scan.cuh>

#include <cstddef>
#include <cstdint>

namespace groundeval::cuda::kernels {

inline constexpr int kRowWarps = 4;       ///< warps (rows in flight) per row_kernel block
inline constexpr int kTopkThreads = 256;  ///< threads per topk_kernel block

/// Per (image, query) row; dynamic shared memory: kRowWarps * tokens elements of T.
/// probs (nullable) [rows, tokens]; spans (nullable) [P] or [B, P]; scores [rows, phrases].
template <class T>
__global__ void __launch_bounds__(kRowWarps * 32)
    row_kernel(const T* __restrict__ logits, std::size_t rows, std::size_t queries,
               std::size_t tokens, int activation, T* __restrict__ probs,
               const token_span* __restrict__ spans, std::size_t span_stride, std::size_t phrases,
               int aggregation, T map_eps, T* __restrict__ scores,
               std::uint32_t* __restrict__ flags) {
  extern __shared__ __align__(16) unsigned char row_smem_raw[];
  T* const smem = reinterpret_cast<T*>(row_smem_raw);
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x / 32u;
  T* const v = smem + static_cast<std::size_t>(warp) * tokens;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kRowWarps;
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * kRowWarps + warp; r < rows;
       r += stride) {
    const std::size_t b = r / queries;
    const T* in = logits + r * tokens;
    bool nan = false;
    for (std::size_t j = lane; j < tokens; j += 32) {
      const T x = in[j];
      nan = nan || detail::is_nan(x);
      v[j] = x;
    }
    const bool row_nan = __any_sync(0xffffffffu, nan) != 0;
    std::uint32_t flag = row_nan ? flag_nan_logit : 0u;
    if (activation == static_cast<int>(token_activation::sigmoid)) {
      for (std::size_t j = lane; j < tokens; j += 32) v[j] = detail::sigmoid(v[j]);
      __syncwarp();
    } else {
      // Max: order-free for non-NaN values (a NaN row is flagged). From -Inf, as the CPU.
      T m = -__int_as_float(0x7f800000);
      for (std::size_t j = lane; j < tokens; j += 32) m = detail::running_max(m, v[j]);
      for (int o = 16; o > 0; o /= 2)
        m = detail::running_max(m, __shfl_xor_sync(0xffffffffu, m, o));
      for (std::size_t j = lane; j < tokens; j += 32) v[j] = detail::softmax_numerator(v[j], m);
      __syncwarp();
      T s = T(0);
      if (lane == 0)
        for (std::size_t j = 0; j < tokens; ++j) s += v[j];  // token order, as the CPU
      s = __shfl_sync(0xffffffffu, s, 0);
      __syncwarp();  // lane 0's reads of v are done before the lanes overwrite it
      // A NaN row is reported as such (the CPU names the NaN first), not as a bad softmax.
      if (!row_nan && (!(s > T(0)) || detail::is_nan(s))) flag |= flag_softmax_undefined;
      for (std::size_t j = lane; j < tokens; j += 32) v[j] = v[j] / s;
      __syncwarp();
    }
    if (probs != nullptr)
      for (std::size_t j = lane; j < tokens; j += 32) probs[r * tokens + j] = v[j];
    if (spans != nullptr) {
      const token_span* sp = spans + b * span_stride;
      for (std::size_t p = lane; p < phrases; p += 32) {
        const token_span s = sp[p];
        T out = T(0);
        if (s.begin > s.end || s.end > tokens) {
          flag |= flag_bad_span;
        } else if (aggregation == static_cast<int>(score_aggregation::max)) {
          // (pos * prob).max(-1): from 0, the other slots' zeros take part.
          for (std::uint32_t j = s.begin; j < s.end; ++j) out = detail::running_max(out, v[j]);
        } else if (s.end > s.begin) {
          const unsigned long long n = s.end - s.begin;
          // The CPU GEMM adds prob * weight token by token; tokens outside the span add +0.
          const T w = aggregation == static_cast<int>(score_aggregation::normalized_sum)
                          ? detail::normalized_weight(n, map_eps)
                          : T(1);
          for (std::uint32_t j = s.begin; j < s.end; ++j) out += v[j] * w;
          if (aggregation == static_cast<int>(score_aggregation::mean))
            out = detail::span_mean(out, n);
        }
        scores[r * phrases + p] = out;
      }
    }
    flag = __reduce_or_sync(0xffffffffu, flag);
    if (lane == 0 && flag != 0) atomicOr(flags + b, flag);
    __syncwarp();  // every lane is done with v before the next row overwrites it
  }
}

/// 64-bit sort key: ascending key = descending score, then ascending query. Scores are
/// canonicalized (-0 -> +0) so that equal scores compare equal, as the CPU's `>`.
__device__ __forceinline__ unsigned long long topk_key(float s, std::uint32_t q) {
  const std::uint32_t u = static_cast<std::uint32_t>(__float_as_int(s + 0.0f));
  const std::uint32_t ord = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending in s
  return (static_cast<unsigned long long>(~ord) << 32) | q;
}

__device__ __forceinline__ float topk_key_score(unsigned long long key) {
  const std::uint32_t ord = ~static_cast<std::uint32_t>(key >> 32);
  const std::uint32_t u = (ord & 0x80000000u) ? (ord & 0x7fffffffu) : ~ord;
  return __int_as_float(static_cast<int>(u));
}

/// Slot `at` of the outputs: query q of image b with its score, its box decoded (cxcywh -> xyxy
/// when cxcywh) and scaled by (sx, sy), as the CPU pipeline does for the selected boxes only.
template <class T>
__device__ __forceinline__ void write_entry(std::size_t at, std::uint32_t q, T score, std::size_t b,
                                            std::size_t queries, const T* __restrict__ boxes,
                                            bool cxcywh, T sx, T sy,
                                            std::int32_t* __restrict__ out_queries,
                                            T* __restrict__ out_scores,
                                            box_xyxy<T>* __restrict__ out_boxes) {
  const T* v = boxes + (b * queries + q) * 4;
  const box_xyxy<T> m =
      cxcywh ? to_xyxy(box_cxcywh<T>{v[0], v[1], v[2], v[3]}) : box_xyxy<T>{v[0], v[1], v[2], v[3]};
  out_queries[at] = static_cast<std::int32_t>(q);
  out_scores[at] = score;
  out_boxes[at] = to_pixels(m, sx, sy);
}

/// An empty slot: query -1, score 0, box 0.
template <class T>
__device__ __forceinline__ void write_padding(std::size_t at,
                                              std::int32_t* __restrict__ out_queries,
                                              T* __restrict__ out_scores,
                                              box_xyxy<T>* __restrict__ out_boxes) {
  out_queries[at] = -1;
  out_scores[at] = T(0);
  out_boxes[at] = box_xyxy<T>{T(0), T(0), T(0), T(0)};
}

/// One block per (image b, phrase p) = blockIdx.x; dynamic shared memory: n2 keys (n2 = the
/// power of two >= queries). scores [B, Q, P]; counts (nullable) tokens per phrase ([P] or
/// [B, P]) for the GEMM form's mean; boxes [B, Q, 4]; scales (nullable) [B, 2].
template <class T>
__global__ void __launch_bounds__(kTopkThreads)
    topk_kernel(const T* __restrict__ scores, const std::uint32_t* __restrict__ counts,
                std::size_t count_stride, const T* __restrict__ boxes, std::size_t queries,
                std::size_t phrases, std::size_t n2, const T* __restrict__ scales, T threshold,
                std::size_t k, bool cxcywh, std::int32_t* __restrict__ out_queries,
                T* __restrict__ out_scores, box_xyxy<T>* __restrict__ out_boxes,
                std::uint32_t* __restrict__ out_counts) {
  extern __shared__ unsigned long long topk_keys[];
  const std::size_t bp = blockIdx.x, b = bp / phrases, p = bp % phrases;
  const unsigned long long none = ~0ull;
  __shared__ int total;
  if (threadIdx.x == 0) total = 0;
  __syncthreads();
  int local = 0;
  for (std::size_t q = threadIdx.x; q < n2; q += blockDim.x) {
    unsigned long long key = none;
    if (q < queries) {
      T s = scores[(b * queries + q) * phrases + p];
      if (counts != nullptr) s = detail::span_mean(s, counts[b * count_stride + p]);
      if (s > threshold) {  // strict, NaN never a candidate
        key = topk_key(s, static_cast<std::uint32_t>(q));
        ++local;
      }
    }
    topk_keys[q] = key;
  }
  if (local) atomicAdd(&total, local);  // the sort's first barrier orders it before the read
  for (std::size_t len = 2; len <= n2; len <<= 1)
    for (std::size_t j = len >> 1; j > 0; j >>= 1) {
      __syncthreads();
      for (std::size_t i = threadIdx.x; i < n2; i += blockDim.x) {
        const std::size_t x = i ^ j;
        if (x > i) {
          const unsigned long long a = topk_keys[i], c = topk_keys[x];
          const bool ascending = (i & len) == 0;
          if ((a > c) == ascending) {
            topk_keys[i] = c;
            topk_keys[x] = a;
          }
        }
      }
    }
  __syncthreads();
  const std::size_t n = static_cast<std::size_t>(total) < k ? static_cast<std::size_t>(total) : k;
  const T sx = scales ? scales[2 * b] : T(1), sy = scales ? scales[2 * b + 1] : T(1);
  for (std::size_t i = threadIdx.x; i < k; i += blockDim.x) {
    const std::size_t at = bp * k + i;
    if (i < n) {
      const unsigned long long key = topk_keys[i];
      write_entry(at, static_cast<std::uint32_t>(key & 0xffffffffu), topk_key_score(key), b,
                  queries, boxes, cxcywh, sx, sy, out_queries, out_scores, out_boxes);
    } else {
      write_padding(at, out_queries, out_scores, out_boxes);
    }
  }
  if (threadIdx.x == 0) out_counts[bp] = static_cast<std::uint32_t>(n);
}

/// Grounding DINO's cap of the best pair_top_k (query, phrase) pairs of an image (CPU step 6:
/// score descending, ties by flat index q * P + p ascending), applied to per-phrase top-k lists
/// of at least pair_top_k slots: the global best pairs are inside the union of the lists, and
/// each phrase keeps a prefix of its list. One thread per list entry (b, p, i): its global rank
/// is i + (entries of the image's other lists that are better), each found by a binary search;
/// keep[b * P + p] (zeroed) becomes the length of the kept prefix. Reads the lists only.
template <class T>
__global__ void pair_rank_kernel(std::size_t batch, std::size_t phrases, std::size_t k,
                                 std::size_t pair_top_k, const std::int32_t* __restrict__ queries,
                                 const T* __restrict__ scores,
                                 const std::uint32_t* __restrict__ counts,
                                 std::uint32_t* __restrict__ keep) {
  const std::size_t total = batch * phrases * k;
  for (std::size_t e = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t bp = e / k, i = e % k, b = bp / phrases, p = bp % phrases;
    if (i >= counts[bp]) continue;
    const T s = scores[e];
    const auto flat = [phrases](std::int32_t q, std::size_t ph) {
      return static_cast<unsigned long long>(q) * phrases + ph;
    };
    const unsigned long long f = flat(queries[e], p);
    std::size_t rank = i;
    for (std::size_t o = 0; o < phrases && rank < pair_top_k; ++o) {
      if (o == p) continue;
      const std::size_t ob = (b * phrases + o) * k;
      std::size_t lo = 0, hi = counts[b * phrases + o];  // first entry not better than (s, f)
      while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const T os = scores[ob + mid];
        if (os > s || (!(s > os) && flat(queries[ob + mid], o) < f))
          lo = mid + 1;
        else
          hi = mid;
      }
      rank += lo;
    }
    if (rank < pair_top_k) atomicMax(keep + bp, static_cast<std::uint32_t>(i + 1));
  }
}

/// Second half of the cap: every slot past the kept prefix is cleared and counts = keep.
template <class T>
__global__ void pair_apply_kernel(std::size_t lists, std::size_t k,
                                  const std::uint32_t* __restrict__ keep,
                                  std::int32_t* __restrict__ queries, T* __restrict__ scores,
                                  box_xyxy<T>* __restrict__ boxes,
                                  std::uint32_t* __restrict__ counts) {
  for (std::size_t e = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       e < lists * k; e += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t bp = e / k, i = e % k;
    if (i >= keep[bp]) write_padding(e, queries, scores, boxes);
    if (i == 0) counts[bp] = keep[bp];
  }
}

// ---- Grounding DINO's cap, selected directly ---------------------------------------------------

inline constexpr int kSelectThreads = 1024;
inline constexpr std::size_t kMaxPairSelect = 2048;     ///< pair_top_k limit of pair_select_kernel
inline constexpr std::size_t kMaxSelectPhrases = 2048;  ///< phrases limit of pair_select_kernel
inline constexpr int kSelectBins = 2048;                ///< radix digits of 11 bits
inline constexpr int kSelectPerThread = 8;              ///< entries per thread and sweep

/// Orderable bits of a score: larger score, larger value (-0 counts as +0).
__device__ __forceinline__ std::uint32_t score_order(float s) {
  const auto u = static_cast<std::uint32_t>(__float_as_int(s + 0.0f));
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float order_score(std::uint32_t ord) {
  const std::uint32_t u = (ord & 0x80000000u) ? (ord & 0x7fffffffu) : ~ord;
  return __int_as_float(static_cast<int>(u));
}

/// One block of kSelectThreads per image b (blockIdx.x). The candidates are the flat entries
/// f = q * P + p of scores[b] (divided by the phrase's token count when `counts`, GLIP's mean)
/// with score > threshold; the best pair_top_k of them (score descending, ties by f ascending:
/// the CPU's order) are found by an 11 / 11 / 10-bit radix select of the K-th largest score,
/// then collected in flat order (so that the ties at the K-th score are the smallest f), sorted
/// by (phrase, score descending, query ascending) and written as the per-phrase lists, each
/// padded to top_k slots (query -1, score 0, box 0). Needs pair_top_k <= kMaxPairSelect,
/// phrases <= kMaxSelectPhrases, queries <= 4096 and pair_top_k <= top_k.
template <class T>
__global__ void __launch_bounds__(kSelectThreads)
    pair_select_kernel(const T* __restrict__ scores, const std::uint32_t* __restrict__ counts,
                       std::size_t count_stride, const T* __restrict__ boxes, std::size_t queries,
                       std::size_t phrases, const T* __restrict__ scales, T threshold,
                       std::size_t top_k, std::size_t pair_top_k, bool cxcywh,
                       std::int32_t* __restrict__ out_queries, T* __restrict__ out_scores,
                       box_xyxy<T>* __restrict__ out_boxes,
                       std::uint32_t* __restrict__ out_counts) {
  using scan_t = cub::BlockScan<unsigned, kSelectThreads>;
  __shared__ typename scan_t::TempStorage scan_tmp;
  __shared__ unsigned long long keys[kMaxPairSelect];
  __shared__ unsigned hist[kSelectBins];  // the radix histogram, later the phrase starts
  __shared__ unsigned cnt[kMaxSelectPhrases];
  __shared__ unsigned s_bin, s_before, s_total;
  const std::size_t b = blockIdx.x;
  const unsigned tid = threadIdx.x;
  const std::size_t n = queries * phrases;
  const T* sc = scores + b * n;
  // Each sweep reads kSelectPerThread contiguous entries per thread, all loads in flight at once
  // (one block per image: the loads must overlap to hide their latency). Key 0
  // marks a non-candidate: every candidate's orderable bits are >= those of -FLT_MAX, above 0.
  const std::size_t per_sweep = std::size_t{kSelectThreads} * kSelectPerThread;
  const std::size_t sweeps = (n + per_sweep - 1) / per_sweep;
  const auto load_keys = [&](std::size_t sweep, std::uint32_t(&u)[kSelectPerThread]) {
    const std::size_t f0 = (sweep * kSelectThreads + tid) * kSelectPerThread;
#pragma unroll
    for (int k = 0; k < kSelectPerThread; ++k) {
      const std::size_t f = f0 + k;
      u[k] = 0;
      if (f < n) {
        T s = sc[f];
        if (counts != nullptr) s = detail::span_mean(s, counts[b * count_stride + f % phrases]);
        if (s > threshold) u[k] = score_order(s);  // strict; NaN is never a candidate
      }
    }
  };

  // Radix select: prefix / k_rem describe the K-th largest key once the three passes are done.
  std::uint32_t prefix = 0;
  unsigned k_rem = static_cast<unsigned>(pair_top_k);
  bool take_all = false;
  const int shifts[3] = {21, 10, 0}, widths[3] = {11, 11, 10};
  for (int pass = 0; pass < 3 && !take_all; ++pass) {
    const int lo = shifts[pass], width = widths[pass];
    const int hi_shift = lo + width;  // bits above this pass's digit must equal the prefix
    for (int i = static_cast<int>(tid); i < kSelectBins; i += kSelectThreads) hist[i] = 0;
    __syncthreads();
    for (std::size_t w = 0; w < sweeps; ++w) {
      std::uint32_t u[kSelectPerThread];
      load_keys(w, u);
#pragma unroll
      for (int k = 0; k < kSelectPerThread; ++k) {
        const bool in = u[k] != 0 && (hi_shift >= 32 || (u[k] >> hi_shift) == prefix);
        if (__any_sync(0xffffffffu, in)) {
          const unsigned bin = in ? (u[k] >> lo) & ((1u << width) - 1u) : 0xffffffffu;
          const unsigned peers = __match_any_sync(0xffffffffu, bin);
          if (in && (__ffs(static_cast<int>(peers)) - 1) == static_cast<int>(tid & 31u))
            atomicAdd(&hist[bin], static_cast<unsigned>(__popc(peers)));
        }
      }
    }
    __syncthreads();
    // bins in descending order: thread t owns digits 2047 - 2t and 2046 - 2t
    const unsigned d0 = kSelectBins - 1 - 2 * tid, d1 = d0 - 1;
    const unsigned h0 = hist[d0], h1 = hist[d1];
    unsigned before = 0, total = 0;
    scan_t(scan_tmp).ExclusiveSum(h0 + h1, before, total);
    if (tid == 0) s_total = total;
    if (before < k_rem && k_rem <= before + h0) s_bin = d0, s_before = before;
    if (before + h0 < k_rem && k_rem <= before + h0 + h1) s_bin = d1, s_before = before + h0;
    __syncthreads();
    if (pass == 0 && s_total <= k_rem) {
      take_all = true;  // at most pair_top_k candidates: all of them
    } else {
      prefix = (prefix << width) | s_bin;
      k_rem -= s_before;
    }
    __syncthreads();  // hist and the s_ values are rewritten by the next pass
  }
  const unsigned selected = take_all ? s_total : static_cast<unsigned>(pair_top_k);
  const unsigned greater = take_all ? selected : selected - k_rem;  // keys > prefix

  // Collect, in flat order (threads own contiguous entries): every key > prefix, and the first
  // k_rem keys == prefix.
  unsigned gt_seen = 0, eq_seen = 0;
  for (std::size_t w = 0; w < sweeps; ++w) {
    std::uint32_t u[kSelectPerThread];
    load_keys(w, u);
    unsigned gts = 0, eqs = 0;
#pragma unroll
    for (int k = 0; k < kSelectPerThread; ++k) {
      gts += u[k] != 0 && (take_all || u[k] > prefix);
      eqs += u[k] != 0 && !take_all && u[k] == prefix;
    }
    unsigned excl = 0, agg = 0;  // both counts of a sweep are below 2^16
    scan_t(scan_tmp).ExclusiveSum(gts | eqs << 16, excl, agg);
    unsigned g_rank = gt_seen + (excl & 0xffffu), e_rank = eq_seen + (excl >> 16);
    const std::size_t f0 = (w * kSelectThreads + tid) * kSelectPerThread;
#pragma unroll
    for (int k = 0; k < kSelectPerThread; ++k) {
      std::size_t at = kMaxPairSelect;
      if (u[k] != 0 && (take_all || u[k] > prefix)) at = g_rank++;
      if (u[k] != 0 && !take_all && u[k] == prefix) {
        if (e_rank < k_rem) at = greater + e_rank;
        ++e_rank;
      }
      if (at < kMaxPairSelect) {
        const std::size_t f = f0 + k, q = f / phrases, p = f % phrases;
        keys[at] = (static_cast<unsigned long long>(p) << 44) |
                   (static_cast<unsigned long long>(~u[k]) << 12) | q;
      }
    }
    gt_seen += agg & 0xffffu;
    eq_seen += agg >> 16;
    __syncthreads();  // scan_tmp is reused by the next sweep
  }
  // Bitonic sort of the selected keys, ascending: phrase, then score descending, then query.
  unsigned n2 = 1;
  while (n2 < selected) n2 <<= 1;
  for (unsigned i = selected + tid; i < n2; i += kSelectThreads) keys[i] = ~0ull;
  for (std::size_t p = tid; p < phrases; p += kSelectThreads) cnt[p] = 0;
  for (unsigned len = 2; len <= n2; len <<= 1)
    for (unsigned j = len >> 1; j > 0; j >>= 1) {
      __syncthreads();
      for (unsigned i = tid; i < n2; i += kSelectThreads) {
        const unsigned x = i ^ j;
        if (x > i) {
          const unsigned long long a = keys[i], c = keys[x];
          if ((a > c) == ((i & len) == 0)) keys[i] = c, keys[x] = a;
        }
      }
    }
  __syncthreads();
  for (unsigned i = tid; i < selected; i += kSelectThreads) {
    const auto p = static_cast<unsigned>(keys[i] >> 44);
    if (i == 0 || static_cast<unsigned>(keys[i - 1] >> 44) != p) hist[p] = i;  // phrase start
    atomicAdd(&cnt[p], 1u);
  }
  __syncthreads();
  const T sx = scales ? scales[2 * b] : T(1), sy = scales ? scales[2 * b + 1] : T(1);
  for (unsigned i = tid; i < selected; i += kSelectThreads) {
    const unsigned long long key = keys[i];
    const auto p = static_cast<std::size_t>(key >> 44);
    const auto q = static_cast<std::uint32_t>(key & 0xfffu);
    const auto u = static_cast<std::uint32_t>(~(key >> 12));
    write_entry((b * phrases + p) * top_k + (i - hist[p]), q, order_score(u), b, queries, boxes,
                cxcywh, sx, sy, out_queries, out_scores, out_boxes);
  }
  for (std::size_t e = tid; e < phrases * top_k; e += kSelectThreads) {
    const std::size_t p = e / top_k, slot = e % top_k;
    if (slot >= cnt[p]) write_padding(b * phrases * top_k + e, out_queries, out_scores, out_boxes);
  }
  for (std::size_t p = tid; p < phrases; p += kSelectThreads) out_counts[b * phrases + p] = cnt[p];
}

}  // namespace groundeval::cuda::kernels
