// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/paired.hpp — statistics for comparing two runs on the same phrases:
// McNemar's exact test, an image-level bootstrap with a fully specified PRNG, and deterministic
// hashing for case selection. Target: groundeval::core (standard library only).
//
// Reproducibility: no std:: distribution or engine is used (their output differs between
// standard libraries). The generator is PCG32 (O'Neill's pcg32, XSH-RR 64/32) seeded through
// splitmix64; integers in [0, n) use Lemire's multiply-and-reject method. The same seed gives
// the same intervals on every platform.
#pragma once

#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace groundeval {

/// splitmix64 (Steele, Lea, Flood 2014): advances `state` and returns the next value.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  return detail::splitmix64_next(state);
}

/// 64-bit FNV-1a hash of bytes (for stable keys of phrases), see detail/hash.hpp.
using detail::fnv1a64;

/// PCG32 (pcg32_random_r of the reference C implementation): 64-bit LCG state, XSH-RR output.
class pcg32 {
 public:
  /// Seeds like pcg32_srandom_r(initstate, initseq) with both derived from `seed_value` by
  /// splitmix64.
  explicit constexpr pcg32(std::uint64_t seed_value) noexcept {
    std::uint64_t sm = seed_value;
    const std::uint64_t initstate = splitmix64(sm);
    const std::uint64_t initseq = splitmix64(sm);
    this->seed(initstate, initseq);
  }
  /// Seeds exactly like the reference pcg32_srandom_r(initstate, initseq).
  constexpr pcg32(std::uint64_t initstate, std::uint64_t initseq) noexcept {
    seed(initstate, initseq);
  }
  /// The next 32-bit output.
  constexpr std::uint32_t next() noexcept {
    const std::uint64_t old = m_state;
    m_state = old * 6364136223846793005ull + m_inc;
    const auto xorshifted = static_cast<std::uint32_t>(((old >> 18u) ^ old) >> 27u);
    const auto rot = static_cast<std::uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
  }
  constexpr void seed(std::uint64_t initstate, std::uint64_t initseq) noexcept {
    m_inc = (initseq << 1u) | 1u;
    m_state = 0;
    next();
    m_state += initstate;
    next();
  }
  /// Uniform integer in [0, n), n >= 1 (Lemire 2019, "Fast random integer generation in an
  /// interval", with the rejection step, so the result is exactly uniform).
  constexpr std::uint32_t below(std::uint32_t n) noexcept {
    std::uint64_t m = std::uint64_t{next()} * n;
    auto l = static_cast<std::uint32_t>(m);
    if (l < n) {
      const std::uint32_t t = static_cast<std::uint32_t>(-n) % n;
      while (l < t) {
        m = std::uint64_t{next()} * n;
        l = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32u);
  }

 private:
  std::uint64_t m_state = 0, m_inc = 0;
};

/// McNemar's exact test on paired binary outcomes.
struct mcnemar_result {
  std::uint64_t both = 0;     ///< both right
  std::uint64_t a_only = 0;   ///< A right, B wrong (b)
  std::uint64_t b_only = 0;   ///< A wrong, B right (c)
  std::uint64_t neither = 0;  ///< both wrong
  double p_value = 1.0;       ///< two-sided: min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2)
};

/// Two-sided exact McNemar p-value for discordant counts b and c.
inline double mcnemar_exact_p(std::uint64_t b, std::uint64_t c) {
  const std::uint64_t n = b + c;
  if (n == 0) return 1.0;
  const std::uint64_t lo = std::min(b, c);
  const double dn = static_cast<double>(n);
  const double base = std::lgamma(dn + 1.0) - dn * std::log(2.0);
  // Sum the binomial tail in log space, relative to its largest term (the last one, i = lo).
  auto log_term = [&](std::uint64_t i) {
    const double di = static_cast<double>(i);
    return base - std::lgamma(di + 1.0) - std::lgamma(dn - di + 1.0);
  };
  const double top = log_term(lo);
  double s = 0.0;
  for (std::uint64_t i = 0; i <= lo; ++i) s += std::exp(log_term(i) - top);
  const double p = 2.0 * std::exp(top + std::log(s));
  return std::min(1.0, p);
}

/// McNemar's exact test from two aligned hit vectors (non-zero = right).
inline mcnemar_result mcnemar_exact(std::span<const std::uint8_t> a,
                                    std::span<const std::uint8_t> b) {
  if (a.size() != b.size())
    throw error(error_kind::invalid, "mcnemar: the two runs have different numbers of outcomes");
  mcnemar_result r;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] && b[i])
      ++r.both;
    else if (a[i])
      ++r.a_only;
    else if (b[i])
      ++r.b_only;
    else
      ++r.neither;
  }
  r.p_value = mcnemar_exact_p(r.a_only, r.b_only);
  return r;
}

/// A point estimate with a confidence interval.
struct interval {
  double estimate = 0, lower = 0, upper = 0;
};

/// Quantile of sorted values with linear interpolation (numpy's default "linear" method):
/// position q * (n - 1).
inline double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return std::nan("");
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

/// Per-image counts of one paired quantity: phrases and hits of run A and run B.
struct image_counts {
  std::uint64_t phrases = 0, hits_a = 0, hits_b = 0;
};

/// Result of the paired bootstrap: intervals for recall of A, of B, and of B - A.
struct bootstrap_result {
  interval a, b, diff;  ///< diff = recall(B) - recall(A)
};

/// Image-level percentile bootstrap: `samples` replicates, each drawing images.size() images
/// with replacement (pcg32(seed).below); interval = quantiles (1-conf)/2 and (1+conf)/2 of the
/// replicate values (quantile_sorted). Phrases of one image stay together.
inline bootstrap_result paired_bootstrap(std::span<const image_counts> images, std::size_t samples,
                                         std::uint64_t seed, double confidence = 0.95) {
  bootstrap_result r;
  std::uint64_t n = 0, ha = 0, hb = 0;
  for (const auto& im : images) n += im.phrases, ha += im.hits_a, hb += im.hits_b;
  const double dn = static_cast<double>(n);
  r.a.estimate = n ? static_cast<double>(ha) / dn : std::nan("");
  r.b.estimate = n ? static_cast<double>(hb) / dn : std::nan("");
  r.diff.estimate = r.b.estimate - r.a.estimate;
  if (images.empty() || samples == 0 || images.size() > 0xFFFFFFFFull) {
    r.a.lower = r.a.upper = r.a.estimate;
    r.b.lower = r.b.upper = r.b.estimate;
    r.diff.lower = r.diff.upper = r.diff.estimate;
    return r;
  }
  pcg32 rng(seed);
  std::vector<double> va(samples), vb(samples), vd(samples);
  const auto m = static_cast<std::uint32_t>(images.size());
  for (std::size_t s = 0; s < samples; ++s) {
    std::uint64_t sn = 0, sa = 0, sb = 0;
    for (std::uint32_t i = 0; i < m; ++i) {
      const image_counts& im = images[rng.below(m)];
      sn += im.phrases, sa += im.hits_a, sb += im.hits_b;
    }
    const double d = static_cast<double>(sn);
    va[s] = static_cast<double>(sa) / d;
    vb[s] = static_cast<double>(sb) / d;
    vd[s] = vb[s] - va[s];
  }
  const double lo = (1.0 - confidence) / 2.0, hi = 1.0 - lo;
  for (auto* p : {&va, &vb, &vd}) std::sort(p->begin(), p->end());
  r.a.lower = quantile_sorted(va, lo), r.a.upper = quantile_sorted(va, hi);
  r.b.lower = quantile_sorted(vb, lo), r.b.upper = quantile_sorted(vb, hi);
  r.diff.lower = quantile_sorted(vd, lo), r.diff.upper = quantile_sorted(vd, hi);
  return r;
}

}  // namespace groundeval
