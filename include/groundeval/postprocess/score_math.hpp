// SPDX-License-Identifier: Apache-2.0
// groundeval/postprocess/score_math.hpp — the per-element formulas of detector post-processing
// (token activation and phrase aggregation), shared by the CPU pipeline (pipeline.hpp,
// positive_map.hpp) and the CUDA kernels (cuda/postprocess_kernels.cuh). Every function is
// GROUNDEVAL_HD: the kernels run exactly this code; they only add the launch and the tiling and
// keep the CPU's reduction order. Target: groundeval::core (standard library only).
//
// The one difference between host and device is exp(): the host calls std::exp (glibc's expf for
// float, within 0.502 ulp); the device evaluates exp in double and rounds to float, which is the
// correctly rounded value except in vanishingly rare cases. An activation can therefore differ by
// 1 ulp between CPU and GPU where glibc's expf is not correctly rounded (see docs/specialist.md).
#pragma once

#include <groundeval/config.hpp>

#include <cmath>

namespace groundeval::detail {

/// exp(x) in T: std::exp on the host; on the device exp in double rounded to T (see above).
template <class T>
GROUNDEVAL_HD T score_exp(T x) noexcept {
#if defined(__CUDA_ARCH__)
  return static_cast<T>(::exp(static_cast<double>(x)));
#else
  return std::exp(x);
#endif
}

/// Logistic sigmoid 1 / (1 + exp(-x)) in T (GLIP, Grounding DINO token probabilities).
template <class T>
GROUNDEVAL_HD T sigmoid(T x) noexcept {
  return T(1) / (T(1) + score_exp(-x));
}

/// One step of the running max used by the softmax (over logits, from -Inf) and by the MAX
/// aggregation (over probabilities, from 0): the new value when it is strictly greater.
template <class T>
GROUNDEVAL_HD T running_max(T m, T x) noexcept {
  return x > m ? x : m;
}

/// Softmax numerator exp(x - m) for the row max m (the softmax sums these in token order).
template <class T>
GROUNDEVAL_HD T softmax_numerator(T x, T m) noexcept {
  return score_exp(x - m);
}

/// Weight of each of a phrase's n > 0 tokens in the row-normalized positive map of MDETR /
/// Grounding DINO: 1 / (n + eps), computed in T as the references do in float32.
template <class T>
GROUNDEVAL_HD T normalized_weight(unsigned long long n, T eps) noexcept {
  return T(1) / (static_cast<T>(n) + eps);
}

/// GLIP's exact mean of a phrase's token-probability sum over its n tokens (0 for n == 0).
template <class T>
GROUNDEVAL_HD T span_mean(T sum, unsigned long long n) noexcept {
  return n ? sum / static_cast<T>(n) : T(0);
}

}  // namespace groundeval::detail
