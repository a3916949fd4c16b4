// SPDX-License-Identifier: Apache-2.0
// python/src/bind_boxes.cpp — the CPU box operations on host arrays: pairwise IoU and GIoU,
// fused max IoU + argmax, NMS and per-class (batched) NMS, in float32 and float64. The Python
// layer (groundeval/boxes.py) allocates the outputs, converts frameworks and documents the
// semantics; here only shapes are checked and the library is called with the GIL released.
#include "common.hpp"

#include <groundeval/boxes/batched.hpp>
#include <groundeval/boxes/iou.hpp>
#include <groundeval/boxes/nms.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>

#include <nanobind/stl/string.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace groundeval::python {

namespace {

template <class T>
std::span<const box_xyxy<T>> as_boxes(const host_boxes<T>& a) {
  static_assert(sizeof(box_xyxy<T>) == 4 * sizeof(T));
  return {reinterpret_cast<const box_xyxy<T>*>(a.data()), a.shape(0)};
}

template <class T, class Out>
void check_matrix(const Out& out, std::size_t n, std::size_t m, const char* what) {
  if (out.ndim() != 2 || out.shape(0) != n || out.shape(1) != m)
    throw error(error_kind::invalid, std::string(what) + ": output must have shape (" +
                                         std::to_string(n) + ", " + std::to_string(m) + ")");
}

template <class T>
void box_iou(host_boxes<T> a, host_boxes<T> b, host_out<T> out) {
  check_matrix<T>(out, a.shape(0), b.shape(0), "box_iou");
  nb::gil_scoped_release nogil;
  pairwise_iou<T>(as_boxes(a), as_boxes(b), {out.data(), a.shape(0) * b.shape(0)});
}

template <class T>
void generalized_box_iou(host_boxes<T> a, host_boxes<T> b, host_out<T> out) {
  check_matrix<T>(out, a.shape(0), b.shape(0), "generalized_box_iou");
  nb::gil_scoped_release nogil;
  const auto pa = as_boxes(a), pb = as_boxes(b);
  const std::size_t m = pb.size();
  T* o = out.data();
  detail::parallel_for(pa.size(), m, parallel_options{}, [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t j = 0; j < m; ++j) o[i * m + j] = giou(pa[i], pb[j]);
  });
}

template <class T>
void max_iou(host_boxes<T> a, host_boxes<T> b, host_out<T> max_out,
             host_out<std::int64_t> argmax_out) {
  const std::size_t n = a.shape(0);
  if (max_out.ndim() != 1 || max_out.shape(0) != n || argmax_out.ndim() != 1 ||
      argmax_out.shape(0) != n)
    throw error(error_kind::invalid,
                "max_iou: outputs must have shape (" + std::to_string(n) + ",)");
  nb::gil_scoped_release nogil;
  max_iou_per_row<T>(as_boxes(a), as_boxes(b), {max_out.data(), n}, {argmax_out.data(), n});
}

nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>> to_numpy(std::vector<std::size_t> keep) {
  auto* v = new std::vector<std::int64_t>(keep.begin(), keep.end());
  nb::capsule owner(v, [](void* p) noexcept { delete static_cast<std::vector<std::int64_t>*>(p); });
  return {v->data(), {v->size()}, owner};
}

template <class T>
nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>> nms_cpu(host_boxes<T> boxes,
                                                          host_vector<T> scores,
                                                          double iou_threshold) {
  nms_options opt;
  opt.iou_threshold = iou_threshold;
  std::vector<std::size_t> keep;
  {
    nb::gil_scoped_release nogil;
    keep = nms<T>(as_boxes(boxes), {scores.data(), scores.shape(0)}, opt);
  }
  return to_numpy(std::move(keep));
}

template <class T>
nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>> batched_nms_cpu(host_boxes<T> boxes,
                                                                  host_vector<T> scores,
                                                                  host_vector<std::int64_t> idxs,
                                                                  double iou_threshold) {
  nms_options opt;
  opt.iou_threshold = iou_threshold;
  std::vector<std::size_t> keep;
  {
    nb::gil_scoped_release nogil;
    keep = per_class_nms<T>(as_boxes(boxes), {scores.data(), scores.shape(0)},
                            {idxs.data(), idxs.shape(0)}, opt);
  }
  return to_numpy(std::move(keep));
}

template <class T>
void bind_typed(nb::module_& m) {
  m.def("box_iou", &box_iou<T>, nb::arg("a"), nb::arg("b"), nb::arg("out"));
  m.def("generalized_box_iou", &generalized_box_iou<T>, nb::arg("a"), nb::arg("b"), nb::arg("out"));
  m.def("max_iou", &max_iou<T>, nb::arg("a"), nb::arg("b"), nb::arg("max_out"),
        nb::arg("argmax_out"));
  m.def("nms", &nms_cpu<T>, nb::arg("boxes"), nb::arg("scores"), nb::arg("iou_threshold"));
  m.def("batched_nms", &batched_nms_cpu<T>, nb::arg("boxes"), nb::arg("scores"), nb::arg("idxs"),
        nb::arg("iou_threshold"));
}

}  // namespace

void bind_boxes(nb::module_& m) {
  bind_typed<float>(m);
  bind_typed<double>(m);
}

}  // namespace groundeval::python
