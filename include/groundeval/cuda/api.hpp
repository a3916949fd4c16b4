// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/api.hpp — host-only declarations of the compiled CUDA entry points, callable
// from code built with g++ alone. Includes no CUDA header (streams are passed as void*).
// Requires linking groundeval::cuda (built when nvcc is found; defines GROUNDEVAL_HAS_CUDA=1).
#pragma once

#include <groundeval/boxes/box.hpp>

#include <cstddef>
#include <string>

namespace groundeval::cuda {

/// Result of a launch: 0 is success, anything else a cudaError_t value.
struct status {
  int code = 0;
  bool ok() const noexcept { return code == 0; }
};

/// Number of usable CUDA devices; 0 when there is no device or no driver (never throws).
int device_count() noexcept;

/// Human-readable text of a status (cudaGetErrorString).
std::string message(status s);

/// out[i * m + j] = iou(a[i], b[j]) on the device; all pointers are device memory, `stream` is a
/// cudaStream_t (nullptr = default stream). Asynchronous: no host synchronization.
status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, float* out, void* stream) noexcept;

}  // namespace groundeval::cuda
