// SPDX-License-Identifier: Apache-2.0
// groundeval/boxes/batched.hpp — CPU drivers for batched IoU: pairwise N x M into caller memory,
// paired (elementwise), fused "max IoU and argmax per row / per column" without the N x M
// matrix, and ragged batches of many images. Target: groundeval::core (std + Threads).
//
// Every driver evaluates exactly iou() from iou.hpp (through iou_with_areas with areas from
// area()), so results are bit-identical to the scalar reference loops at the bottom of this file
// for any element type and any thread count. Speed comes from a structure-of-arrays copy of the
// inner operand (the compiler vectorizes the branch-free per-element math) and from threads for
// large problems. Argmax ties resolve to the smallest index; an empty row gives max 0, index -1.
#pragma once

#include <groundeval/boxes/iou.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace groundeval {

/// Boxes as four coordinate arrays plus precomputed areas (the vectorizable layout).
template <class T>
struct boxes_soa {
  std::vector<T> x1, y1, x2, y2, area;
  std::size_t size() const noexcept { return x1.size(); }
};

/// Transposes corner boxes into a boxes_soa (areas from area()).
template <class T>
boxes_soa<T> to_soa(std::span<const box_xyxy<T>> boxes) {
  boxes_soa<T> s;
  const std::size_t n = boxes.size();
  s.x1.resize(n), s.y1.resize(n), s.x2.resize(n), s.y2.resize(n), s.area.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.x1[i] = boxes[i].x1, s.y1[i] = boxes[i].y1, s.x2[i] = boxes[i].x2, s.y2[i] = boxes[i].y2;
    s.area[i] = area(boxes[i]);
  }
  return s;
}

namespace detail {

inline void check_output(std::size_t have, std::size_t need, const char* what) {
  if (have < need)
    throw error(error_kind::invalid, std::string(what) + ": output span holds " +
                                         std::to_string(have) + " elements, " +
                                         std::to_string(need) + " needed");
}

// out[j] = iou(a, b[j]) for j in [0, m): the vectorized row kernel.
template <class T>
inline void iou_row(const box_xyxy<T> a_in, T area_a, const T* __restrict bx1,
                    const T* __restrict by1, const T* __restrict bx2, const T* __restrict by2,
                    const T* __restrict barea, std::size_t m, T* __restrict out) noexcept {
  const box_xyxy<T> a = a_in;  // a local copy: loads hoisted out of the loop, which then vectorizes
  for (std::size_t j = 0; j < m; ++j) {
    const box_xyxy<T> b{bx1[j], by1[j], bx2[j], by2[j]};
    out[j] = iou_with_areas(a, area_a, b, barea[j]);
  }
}

// Fused max/argmax for a block of up to kRowBlock rows of `a` (in SoA form) against all of b:
// the inner loop runs across rows, so it vectorizes, and the N x M matrix never exists.
inline constexpr std::size_t kRowBlock = 32;

template <class T>
inline void max_iou_rows_block(const boxes_soa<T>& a, std::size_t r0, std::size_t rn,
                               std::span<const box_xyxy<T>> b, T* __restrict best_out,
                               std::int64_t* __restrict arg_out) noexcept {
  T ax1[kRowBlock], ay1[kRowBlock], ax2[kRowBlock], ay2[kRowBlock], aar[kRowBlock];
  T best[kRowBlock];
  std::int64_t arg[kRowBlock];
  for (std::size_t r = 0; r < kRowBlock; ++r) {
    const std::size_t i = r0 + (r < rn ? r : 0);
    ax1[r] = a.x1[i], ay1[r] = a.y1[i], ax2[r] = a.x2[i], ay2[r] = a.y2[i], aar[r] = a.area[i];
    best[r] = T(0);
    arg[r] = -1;
  }
  for (std::size_t j = 0; j < b.size(); ++j) {
    const box_xyxy<T> bj = b[j];
    const T bar = area(bj);
    const auto jj = static_cast<std::int64_t>(j);
    for (std::size_t r = 0; r < kRowBlock; ++r) {
      const T v = iou_with_areas(box_xyxy<T>{ax1[r], ay1[r], ax2[r], ay2[r]}, aar[r], bj, bar);
      const bool better =
          v > best[r] || arg[r] < 0;  // first column always taken: ties -> smallest j
      best[r] = better ? v : best[r];
      arg[r] = better ? jj : arg[r];
    }
  }
  for (std::size_t r = 0; r < rn; ++r) best_out[r] = best[r], arg_out[r] = arg[r];
}

}  // namespace detail

/// out[i * b.size() + j] = iou(a[i], b[j]). `out` must hold a.size() * b.size() values.
template <class T>
void pairwise_iou(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b, std::span<T> out,
                  const parallel_options& opt = {}) {
  const std::size_t n = a.size(), m = b.size();
  detail::check_output(out.size(), n * m, "pairwise_iou");
  if (n == 0 || m == 0) return;
  if (n * m <= (std::size_t{1} << 14)) {  // small: the SoA copy would cost more than it saves
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < m; ++j) out[i * m + j] = iou(a[i], b[j]);
    return;
  }
  const boxes_soa<T> s = to_soa(b);
  detail::parallel_for(n, m, opt, [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i)
      detail::iou_row(a[i], area(a[i]), s.x1.data(), s.y1.data(), s.x2.data(), s.y2.data(),
                      s.area.data(), m, out.data() + i * m);
  });
}

/// out[i] = iou(a[i], b[i]); a and b must have the same size.
template <class T>
void paired_iou(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b, std::span<T> out,
                const parallel_options& opt = {}) {
  if (a.size() != b.size())
    throw error(error_kind::invalid, "paired_iou: a has " + std::to_string(a.size()) +
                                         " boxes, b has " + std::to_string(b.size()));
  detail::check_output(out.size(), a.size(), "paired_iou");
  detail::parallel_for(a.size(), 1, opt, [&](std::size_t i0, std::size_t i1) {
    const box_xyxy<T>* __restrict pa = a.data();
    const box_xyxy<T>* __restrict pb = b.data();
    T* __restrict po = out.data();
    for (std::size_t i = i0; i < i1; ++i) po[i] = iou(pa[i], pb[i]);
  });
}

/// For each a[i]: max_j iou(a[i], b[j]) into max_out[i] and the first j reaching it into
/// argmax_out[i] (-1 and 0 when b is empty). Never materializes the N x M matrix.
template <class T>
void max_iou_per_row(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b,
                     std::span<T> max_out, std::span<std::int64_t> argmax_out,
                     const parallel_options& opt = {}) {
  const std::size_t n = a.size();
  detail::check_output(max_out.size(), n, "max_iou_per_row (max)");
  detail::check_output(argmax_out.size(), n, "max_iou_per_row (argmax)");
  if (n == 0) return;
  const boxes_soa<T> s = to_soa(a);
  const std::size_t blocks = (n + detail::kRowBlock - 1) / detail::kRowBlock;
  detail::parallel_for(
      blocks, detail::kRowBlock * (b.size() + 1), opt, [&](std::size_t k0, std::size_t k1) {
        for (std::size_t k = k0; k < k1; ++k) {
          const std::size_t r0 = k * detail::kRowBlock;
          const std::size_t rn = std::min(detail::kRowBlock, n - r0);
          detail::max_iou_rows_block(s, r0, rn, b, max_out.data() + r0, argmax_out.data() + r0);
        }
      });
}

/// For each b[j]: max_i iou(a[i], b[j]) and the first i reaching it (the column version).
template <class T>
void max_iou_per_col(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b,
                     std::span<T> max_out, std::span<std::int64_t> argmax_out,
                     const parallel_options& opt = {}) {
  // iou() is symmetric to the bit (both operand orders compute the same operations on the same
  // values: min/max are symmetric for non-NaN inputs and a NaN box has area 0 either way).
  max_iou_per_row(b, a, max_out, argmax_out, opt);
}

// ---- ragged batches ------------------------------------------------------------------------
// Image k owns a[a_offsets[k] .. a_offsets[k+1]) and b[b_offsets[k] .. b_offsets[k+1]); both
// offset arrays have (images + 1) non-decreasing entries starting at 0.

namespace detail {
inline void check_offsets(std::span<const std::size_t> off, std::size_t total, const char* what) {
  if (off.empty() || off.front() != 0 || off.back() != total)
    throw error(error_kind::invalid, std::string(what) + ": offsets must start at 0 and end at " +
                                         std::to_string(total));
  for (std::size_t k = 1; k < off.size(); ++k)
    if (off[k] < off[k - 1])
      throw error(error_kind::invalid,
                  std::string(what) + ": offsets decrease at entry " + std::to_string(k));
}
}  // namespace detail

/// Output offsets of ragged_pairwise_iou: entry k + 1 - entry k = |a_k| * |b_k|.
inline std::vector<std::size_t> ragged_output_offsets(std::span<const std::size_t> a_offsets,
                                                      std::span<const std::size_t> b_offsets) {
  if (a_offsets.size() != b_offsets.size())
    throw error(error_kind::invalid, "ragged offsets: a and b describe different image counts");
  std::vector<std::size_t> out(a_offsets.size(), 0);
  for (std::size_t k = 1; k < a_offsets.size(); ++k)
    out[k] = out[k - 1] + (a_offsets[k] - a_offsets[k - 1]) * (b_offsets[k] - b_offsets[k - 1]);
  return out;
}

/// Per image k, the |a_k| x |b_k| IoU matrix, row-major, stored back to back at
/// ragged_output_offsets(a_offsets, b_offsets)[k].
template <class T>
void ragged_pairwise_iou(std::span<const box_xyxy<T>> a, std::span<const std::size_t> a_offsets,
                         std::span<const box_xyxy<T>> b, std::span<const std::size_t> b_offsets,
                         std::span<T> out, const parallel_options& opt = {}) {
  detail::check_offsets(a_offsets, a.size(), "ragged_pairwise_iou (a)");
  detail::check_offsets(b_offsets, b.size(), "ragged_pairwise_iou (b)");
  const std::vector<std::size_t> o = ragged_output_offsets(a_offsets, b_offsets);
  detail::check_output(out.size(), o.back(), "ragged_pairwise_iou");
  const boxes_soa<T> s = to_soa(b);
  const std::size_t images = a_offsets.size() - 1;
  const std::size_t avg = images ? o.back() / images + 1 : 1;
  detail::parallel_for(images, avg, opt, [&](std::size_t k0, std::size_t k1) {
    for (std::size_t k = k0; k < k1; ++k) {
      const std::size_t bo = b_offsets[k], m = b_offsets[k + 1] - bo;
      T* dst = out.data() + o[k];
      for (std::size_t i = a_offsets[k]; i < a_offsets[k + 1]; ++i, dst += m)
        detail::iou_row(a[i], area(a[i]), s.x1.data() + bo, s.y1.data() + bo, s.x2.data() + bo,
                        s.y2.data() + bo, s.area.data() + bo, m, dst);
    }
  });
}

/// Per image k and each a[i] of it: max IoU against b_k and the argmax as an index *within*
/// image k's b segment (-1 when b_k is empty). max_out / argmax_out hold a.size() values.
template <class T>
void ragged_max_iou_per_row(std::span<const box_xyxy<T>> a, std::span<const std::size_t> a_offsets,
                            std::span<const box_xyxy<T>> b, std::span<const std::size_t> b_offsets,
                            std::span<T> max_out, std::span<std::int64_t> argmax_out,
                            const parallel_options& opt = {}) {
  detail::check_offsets(a_offsets, a.size(), "ragged_max_iou_per_row (a)");
  detail::check_offsets(b_offsets, b.size(), "ragged_max_iou_per_row (b)");
  if (a_offsets.size() != b_offsets.size())
    throw error(error_kind::invalid, "ragged offsets: a and b describe different image counts");
  detail::check_output(max_out.size(), a.size(), "ragged_max_iou_per_row (max)");
  detail::check_output(argmax_out.size(), a.size(), "ragged_max_iou_per_row (argmax)");
  const std::size_t images = a_offsets.size() - 1;
  parallel_options single = opt;
  single.threads = 1;
  detail::parallel_for(
      images, b.size() / (images ? images : 1) + 1, opt, [&](std::size_t k0, std::size_t k1) {
        for (std::size_t k = k0; k < k1; ++k) {
          const std::size_t ab = a_offsets[k], an = a_offsets[k + 1] - ab;
          const std::size_t bb = b_offsets[k], bn = b_offsets[k + 1] - bb;
          max_iou_per_row(a.subspan(ab, an), b.subspan(bb, bn), max_out.subspan(ab, an),
                          argmax_out.subspan(ab, an), single);
        }
      });
}

// ---- scalar references (used by the tests and as the benchmarks' naive baseline) -----------

/// The plain double loop over corner boxes, one iou() call per pair.
template <class T>
void pairwise_iou_reference(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b,
                            std::span<T> out) {
  detail::check_output(out.size(), a.size() * b.size(), "pairwise_iou_reference");
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) out[i * b.size() + j] = iou(a[i], b[j]);
}

/// The plain loop for max/argmax per row (first index wins ties).
template <class T>
void max_iou_per_row_reference(std::span<const box_xyxy<T>> a, std::span<const box_xyxy<T>> b,
                               std::span<T> max_out, std::span<std::int64_t> argmax_out) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    T best = T(0);
    std::int64_t arg = -1;
    for (std::size_t j = 0; j < b.size(); ++j) {
      const T v = iou(a[i], b[j]);
      if (arg < 0 || v > best) best = v, arg = static_cast<std::int64_t>(j);
    }
    max_out[i] = best;
    argmax_out[i] = arg;
  }
}

}  // namespace groundeval
