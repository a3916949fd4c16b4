// SPDX-License-Identifier: Apache-2.0
// python/src/common.hpp — what the binding files of groundeval._core share: nanobind, array
// aliases, and the one declaration per bound concept (bind_boxes, bind_data, bind_parse,
// bind_cuda), each defined in its own file.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>

namespace groundeval::python {

namespace nb = nanobind;

/// [N, 4] corner boxes in host memory (numpy, or any CPU DLPack array), C-contiguous.
template <class T>
using host_boxes = nb::ndarray<const T, nb::shape<-1, 4>, nb::c_contig, nb::device::cpu>;
/// A 1-D host vector.
template <class T>
using host_vector = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
/// A writable host output of any rank (its shape is checked by the caller).
template <class T>
using host_out = nb::ndarray<T, nb::c_contig, nb::device::cpu>;

void bind_boxes(nb::module_& m);
void bind_data(nb::module_& m);
void bind_parse(nb::module_& m);
#if defined(GROUNDEVAL_PYTHON_HAS_CUDA)
void bind_cuda(nb::module_& m);
#endif

}  // namespace groundeval::python
