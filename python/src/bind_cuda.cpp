// SPDX-License-Identifier: Apache-2.0
// python/src/bind_cuda.cpp — the CUDA box kernels (groundeval::cuda) on DLPack device arrays,
// without copies: inputs and outputs are the caller's device memory (the Python layer allocates
// the outputs in the caller's framework), kernels run on the array's device and on the stream the
// caller names (its current stream), asynchronously. Built only with groundeval::cuda.
#include "common.hpp"

#include <groundeval/cuda/api.hpp>
#include <groundeval/error.hpp>

#include <cuda_runtime_api.h>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <string>
#include <vector>

namespace groundeval::python {

namespace {

using dev_boxes = nb::ndarray<const float, nb::shape<-1, 4>, nb::c_contig, nb::device::cuda>;
using dev_f32_in = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cuda>;
template <class T>
using dev_out = nb::ndarray<T, nb::c_contig, nb::device::cuda>;
using dev_i64_in = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cuda>;

/// Makes `device` current for the calls in scope (the kernels use the current device) and
/// restores the previous one; the extension may hold its own CUDA runtime state.
class device_scope {
 public:
  explicit device_scope(int device) {
    if (cudaGetDevice(&m_prev) != cudaSuccess) m_prev = -1;
    if (m_prev != device && cudaSetDevice(device) != cudaSuccess)
      throw error(error_kind::backend, "cannot make CUDA device " + std::to_string(device) +
                                           " current: " + cudaGetErrorString(cudaGetLastError()));
  }
  ~device_scope() {
    if (m_prev >= 0) cudaSetDevice(m_prev);
  }
  device_scope(const device_scope&) = delete;
  device_scope& operator=(const device_scope&) = delete;

 private:
  int m_prev = -1;
};

void check(cuda::status s, const char* what) {
  if (!s.ok()) throw error(error_kind::backend, std::string(what) + ": " + cuda::message(s));
}

template <class A, class... R>
int same_device(const char* what, const A& a, const R&... rest) {
  const int d = a.device_id();
  if (((rest.device_id() != d) || ...))
    throw error(error_kind::invalid, std::string(what) + ": all arrays must be on one device");
  return d;
}

const box_xyxy<float>* boxes_of(const dev_boxes& a) {
  return reinterpret_cast<const box_xyxy<float>*>(a.data());
}

void* stream_of(std::uintptr_t s) { return reinterpret_cast<void*>(s); }

template <class Out>
void check_shape(const Out& out, std::size_t n, std::size_t m, const char* what) {
  if (out.ndim() != 2 || out.shape(0) != n || out.shape(1) != m)
    throw error(error_kind::invalid, std::string(what) + ": output must have shape (" +
                                         std::to_string(n) + ", " + std::to_string(m) + ")");
}

using pairwise_fn = cuda::status (*)(const box_xyxy<float>*, std::size_t, const box_xyxy<float>*,
                                     std::size_t, float*, void*) noexcept;

/// out[i, j] = fn(a[i], b[j]) by the kernel `fn` (IoU or GIoU).
void pairwise(pairwise_fn fn, const char* what, const dev_boxes& a, const dev_boxes& b,
              const dev_out<float>& out, std::uintptr_t stream) {
  check_shape(out, a.shape(0), b.shape(0), what);
  device_scope ds(same_device(what, a, b, out));
  check(fn(boxes_of(a), a.shape(0), boxes_of(b), b.shape(0), out.data(), stream_of(stream)), what);
}

void box_iou(dev_boxes a, dev_boxes b, dev_out<float> out, std::uintptr_t stream) {
  pairwise(static_cast<pairwise_fn>(&cuda::pairwise_iou), "box_iou", a, b, out, stream);
}

void generalized_box_iou(dev_boxes a, dev_boxes b, dev_out<float> out, std::uintptr_t stream) {
  pairwise(&cuda::pairwise_giou, "generalized_box_iou", a, b, out, stream);
}

void max_iou(dev_boxes a, dev_boxes b, dev_out<float> max_out, dev_out<std::int64_t> argmax_out,
             std::uintptr_t stream) {
  const std::size_t n = a.shape(0);
  if (max_out.size() != n || argmax_out.size() != n)
    throw error(error_kind::invalid, "max_iou: outputs must hold " + std::to_string(n) + " values");
  device_scope ds(same_device("max_iou", a, b, max_out, argmax_out));
  check(cuda::max_iou_per_row(boxes_of(a), n, boxes_of(b), b.shape(0), max_out.data(),
                              argmax_out.data(), stream_of(stream)),
        "max_iou");
}

cuda::nms_params params(double iou_threshold) {
  cuda::nms_params p;
  p.iou_threshold = static_cast<float>(iou_threshold);
  return p;
}

/// Greedy NMS in every segment (one segment = one class; segments are contiguous). `offsets`
/// are the segment offsets on the host (they size the workspace) and `dev_offsets` the same on
/// the device; keep_out holds n indices, keep_count one count per segment.
void segmented_nms(dev_boxes boxes, dev_f32_in scores, const std::vector<std::int64_t>& offsets,
                   dev_i64_in dev_offsets, double iou_threshold, dev_out<std::uint8_t> workspace,
                   dev_out<std::int64_t> keep_out, dev_out<std::int64_t> keep_count,
                   std::uintptr_t stream) {
  const std::size_t n = boxes.shape(0);
  if (offsets.empty() || dev_offsets.shape(0) != offsets.size() || scores.shape(0) != n ||
      keep_out.size() < n || keep_count.size() < offsets.size() - 1 ||
      offsets.back() != static_cast<std::int64_t>(n))
    throw error(error_kind::invalid,
                "nms: inconsistent sizes of boxes, scores, offsets and outputs");
  const std::vector<std::size_t> host(offsets.begin(), offsets.end());
  const std::size_t segments = host.size() - 1;
  const std::size_t ws = cuda::nms_workspace_bytes(host.data(), segments);
  if (workspace.size() < ws)
    throw error(error_kind::invalid, "nms: the workspace needs " + std::to_string(ws) + " bytes");
  device_scope ds(same_device("nms", boxes, scores, dev_offsets, workspace, keep_out, keep_count));
  check(cuda::segmented_nms(boxes_of(boxes), scores.data(),
                            reinterpret_cast<const std::size_t*>(dev_offsets.data()), segments, n,
                            params(iou_threshold), workspace.data(), workspace.size(),
                            keep_out.data(), reinterpret_cast<std::size_t*>(keep_count.data()),
                            stream_of(stream)),
        "nms");
}

}  // namespace

void bind_cuda(nb::module_& m) {
  m.def("cuda_device_count", [] { return cuda::device_count(); });
  m.def("cuda_box_iou", &box_iou, nb::arg("a"), nb::arg("b"), nb::arg("out"), nb::arg("stream"));
  m.def("cuda_generalized_box_iou", &generalized_box_iou, nb::arg("a"), nb::arg("b"),
        nb::arg("out"), nb::arg("stream"));
  m.def("cuda_max_iou", &max_iou, nb::arg("a"), nb::arg("b"), nb::arg("max_out"),
        nb::arg("argmax_out"), nb::arg("stream"));
  m.def("cuda_nms_workspace_bytes", [](const std::vector<std::int64_t>& offsets) {
    const std::vector<std::size_t> host(offsets.begin(), offsets.end());
    return host.empty() ? std::size_t{0} : cuda::nms_workspace_bytes(host.data(), host.size() - 1);
  });
  m.def("cuda_segmented_nms", &segmented_nms, nb::arg("boxes"), nb::arg("scores"),
        nb::arg("offsets"), nb::arg("dev_offsets"), nb::arg("iou_threshold"), nb::arg("workspace"),
        nb::arg("keep_out"), nb::arg("keep_count"), nb::arg("stream"));
}

}  // namespace groundeval::python
