// SPDX-License-Identifier: Apache-2.0
// Compiled entry points of groundeval::cuda declared in groundeval/cuda/api.hpp.
#include <groundeval/cuda/api.hpp>
#include <groundeval/cuda/iou_kernels.cuh>

#include <cuda_runtime.h>

namespace groundeval::cuda {

int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string message(status s) { return cudaGetErrorString(static_cast<cudaError_t>(s.code)); }

status pairwise_iou(const box_xyxy<float>* a, std::size_t n, const box_xyxy<float>* b,
                    std::size_t m, float* out, void* stream) noexcept {
  if (n == 0 || m == 0) return {};
  const dim3 block(32, 8);
  const dim3 grid(static_cast<unsigned>((m + block.x - 1) / block.x),
                  static_cast<unsigned>((n + block.y - 1) / block.y));
  if (grid.y > 65535u) return {static_cast<int>(cudaErrorInvalidConfiguration)};
  kernels::pairwise_iou_kernel<float>
      <<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(a, n, b, m, out);
  return {static_cast<int>(cudaGetLastError())};
}

}  // namespace groundeval::cuda
