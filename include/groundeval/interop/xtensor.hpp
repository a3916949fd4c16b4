// SPDX-License-Identifier: Apache-2.0
// groundeval/interop/xtensor.hpp — zero-copy bridges between xtensor 0.24 containers/adaptors
// and detector_outputs_view. Target: groundeval::interop.
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/postprocess/detector_outputs.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xlayout.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace groundeval {

namespace detail {
template <class E>
std::span<const typename E::value_type> xt_span(const E& e, const char* what,
                                                const std::string& item,
                                                std::vector<std::size_t>& shape) {
  if (e.layout() != xt::layout_type::row_major && e.dimension() > 1)
    throw error(error_kind::invalid, item, 0,
                std::string(what) +
                    " must be a row-major xtensor container to be viewed "
                    "without a copy");
  shape.assign(e.shape().begin(), e.shape().end());
  return {e.data(), e.size()};
}
}  // namespace detail

/// View over xtensor containers or adaptors (xt::xarray, xt::xtensor, xt::adapt of caller
/// memory), row-major: logits [B, Q, T] or [Q, T], boxes [B, Q, 4] or [Q, 4], and an optional
/// centerness [B, Q] or [Q] (pass nullptr when absent). Nothing is copied.
template <class EL, class EB, class EC = EL>
detector_outputs_view<typename EL::value_type> make_detector_outputs_view(
    const EL& logits, const EB& boxes, const EC* centerness = nullptr,
    const std::string& item = "detector outputs") {
  using T = typename EL::value_type;
  std::vector<std::size_t> ls, bs, cs;
  const std::span<const T> l = detail::xt_span(logits, "pred_logits", item, ls);
  const std::span<const T> b = detail::xt_span(boxes, "pred_boxes", item, bs);
  std::span<const T> c;
  if (centerness) c = detail::xt_span(*centerness, "centerness", item, cs);
  return make_detector_outputs_view<T>(l, ls, b, bs, c, cs, item);
}

/// Image b's logits as a zero-copy [Q, T] xtensor adaptor.
template <class T>
auto logits_tensor(const detector_outputs_view<T>& v, std::size_t b) {
  const std::span<const T> s = v.image_logits(b);
  return xt::adapt(s.data(), s.size(), xt::no_ownership(),
                   std::vector<std::size_t>{v.queries, v.tokens});
}

/// Image b's boxes as a zero-copy [Q, 4] xtensor adaptor.
template <class T>
auto boxes_tensor(const detector_outputs_view<T>& v, std::size_t b) {
  const std::span<const T> s = v.image_boxes(b);
  return xt::adapt(s.data(), s.size(), xt::no_ownership(),
                   std::vector<std::size_t>{v.queries, std::size_t{4}});
}

}  // namespace groundeval
