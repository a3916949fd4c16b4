// SPDX-License-Identifier: Apache-2.0
// groundeval/interop/eigen.hpp — Eigen 3.4 entry points of the post-processing: the GEMM that
// turns token probabilities into phrase scores, and zero-copy Eigen::Map views of detector
// outputs. Target: groundeval::interop. Eigen is heavy to compile: include this header only in
// the translation units that need it (the pipeline itself takes the GEMM as a parameter).
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/postprocess/detector_outputs.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <string>

namespace groundeval {

/// A dynamic row-major Eigen matrix (the layout of PyTorch / NumPy dumps).
template <class T>
using row_major_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// C[M x N] = A[M x K] * B[N x K]^T on row-major buffers, through Eigen's GEMM; a drop-in for
/// reference_gemm in phrase_scores() / postprocess_image(). Results may differ from the plain
/// loop in the last bits (blocked summation order).
struct eigen_gemm {
  template <class T>
  void operator()(const T* a, const T* b, T* c, std::size_t m, std::size_t n, std::size_t k) const {
    const auto em = static_cast<Eigen::Index>(m), en = static_cast<Eigen::Index>(n),
               ek = static_cast<Eigen::Index>(k);
    Eigen::Map<const row_major_matrix<T>> ma(a, em, ek), mb(b, en, ek);
    Eigen::Map<row_major_matrix<T>> mc(c, em, en);
    mc.noalias() = ma * mb.transpose();
  }
};

/// Image b's logits as a zero-copy [Q x T] Eigen map.
template <class T>
Eigen::Map<const row_major_matrix<T>> logits_matrix(const detector_outputs_view<T>& v,
                                                    std::size_t b) {
  return {v.image_logits(b).data(), static_cast<Eigen::Index>(v.queries),
          static_cast<Eigen::Index>(v.tokens)};
}

/// Image b's boxes as a zero-copy [Q x 4] Eigen map.
template <class T>
Eigen::Map<const row_major_matrix<T>> boxes_matrix(const detector_outputs_view<T>& v,
                                                   std::size_t b) {
  return {v.image_boxes(b).data(), static_cast<Eigen::Index>(v.queries), 4};
}

namespace detail {
template <class D>
void check_dense_row_major(const Eigen::DenseBase<D>& m, const char* what,
                           const std::string& item) {
  const bool row_major = (D::Flags & Eigen::RowMajorBit) != 0 || m.cols() == 1;
  const bool packed = m.innerStride() == 1 && (m.rows() <= 1 || m.outerStride() == m.cols());
  if (!row_major || !packed)
    throw error(
        error_kind::invalid, item, 0,
        std::string(what) + " must be a dense row-major matrix to be viewed without a copy");
}
}  // namespace detail

/// A batch-of-one view over Eigen matrices (plain matrices or Maps of caller memory, row-major
/// and packed): logits [Q x T], boxes [Q x 4], centerness an optional [Q] vector (pass an empty
/// one when absent). Nothing is copied; the matrices must outlive the view.
template <class DL, class DB, class DC>
detector_outputs_view<typename DL::Scalar> make_detector_outputs_view(
    const Eigen::MatrixBase<DL>& logits, const Eigen::MatrixBase<DB>& boxes,
    const Eigen::MatrixBase<DC>& centerness, const std::string& item = "detector outputs") {
  using T = typename DL::Scalar;
  detail::check_dense_row_major(logits, "pred_logits", item);
  detail::check_dense_row_major(boxes, "pred_boxes", item);
  if (boxes.rows() != logits.rows() || boxes.cols() != 4)
    throw error(error_kind::invalid, item, 0,
                "pred_boxes is " + std::to_string(boxes.rows()) + " x " +
                    std::to_string(boxes.cols()) + ", expected " + std::to_string(logits.rows()) +
                    " x 4");
  if (centerness.size() != 0 && centerness.size() != logits.rows())
    throw error(error_kind::invalid, item, 0,
                "centerness has " + std::to_string(centerness.size()) + " values, expected " +
                    std::to_string(logits.rows()));
  if (centerness.size() != 0 && centerness.innerStride() != 1)
    throw error(error_kind::invalid, item, 0, "centerness must be contiguous");
  detector_outputs_view<T> v;
  v.logits = logits.derived().data();
  v.boxes = boxes.derived().data();
  v.centerness = centerness.size() ? centerness.derived().data() : nullptr;
  v.batch = 1;
  v.queries = static_cast<std::size_t>(logits.rows());
  v.tokens = static_cast<std::size_t>(logits.cols());
  return v;
}

}  // namespace groundeval
