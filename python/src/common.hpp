// SPDX-License-Identifier: Apache-2.0
// python/src/common.hpp — what the binding files of groundeval._core share: nanobind, array
// aliases, the loaded data set handle, answers given as Python data, and the one declaration per
// bound concept (bind_boxes, bind_data, bind_parse, bind_run, bind_cuda), each defined in its own
// file.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/error.hpp>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

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

/// A loaded data set plus what its loader reported (groundeval._core.Dataset).
struct dataset_handle {
  in_memory_dataset data;
  std::string statistics_json;        ///< to_json(dataset_statistics), as `groundeval stats`
  bool annotation_counts = true;      ///< false when a sample makes annotation-level counts moot
  std::vector<std::string> problems;  ///< lenient mode: "FILE:LINE: message"
};

/// A query_status from its name ("ok", "empty", "format_failure", "error"); `where` names the
/// answer in the error.
inline query_status status_of(const std::string& s, const std::string& where) {
  if (s == "ok") return query_status::ok;
  if (s == "empty") return query_status::empty;
  if (s == "format_failure") return query_status::format_failure;
  if (s == "error") return query_status::error;
  throw error(error_kind::invalid, where, 0,
              "status must be ok, empty, format_failure or error, not '" + s + "'");
}

/// Ranked boxes given as Python data, with their scores (none: rank i gets score -i, only the
/// order is used); `where` names the answer in the error.
inline std::vector<scored_box> scored(const std::vector<std::array<double, 4>>& boxes,
                                      const std::vector<double>& scores, const std::string& where) {
  if (!scores.empty() && scores.size() != boxes.size())
    throw error(
        error_kind::invalid, where, 0,
        std::to_string(boxes.size()) + " boxes but " + std::to_string(scores.size()) + " scores");
  std::vector<scored_box> out(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    out[i].box = {boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]};
    out[i].score = scores.empty() ? -static_cast<double>(i) : scores[i];
  }
  return out;
}

void bind_boxes(nb::module_& m);
void bind_data(nb::module_& m);
void bind_parse(nb::module_& m);
void bind_run(nb::module_& m);
#if defined(GROUNDEVAL_PYTHON_HAS_CUDA)
void bind_cuda(nb::module_& m);
#endif

}  // namespace groundeval::python
