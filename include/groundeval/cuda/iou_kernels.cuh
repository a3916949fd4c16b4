// SPDX-License-Identifier: Apache-2.0
// groundeval/cuda/iou_kernels.cuh — templated IoU kernels driving the shared per-element math of
// boxes/iou.hpp. Include from .cu files only (target groundeval::cuda).
#pragma once
#if !defined(__CUDACC__)
#error "groundeval/cuda/iou_kernels.cuh must be included from a .cu file compiled by nvcc"
#endif

#include <groundeval/boxes/iou.hpp>

#include <cstddef>

namespace groundeval::cuda::kernels {

/// Pairwise IoU, one thread per output element. Launch: 2-D grid, block (32, 8); x runs over
/// the columns (b), y over the rows (a), so a warp writes 32 consecutive outputs.
template <class T>
__global__ void pairwise_iou_kernel(const box_xyxy<T>* __restrict__ a, std::size_t n,
                                    const box_xyxy<T>* __restrict__ b, std::size_t m,
                                    T* __restrict__ out) {
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t i = blockIdx.y * static_cast<std::size_t>(blockDim.y) + threadIdx.y;
  if (i < n && j < m) out[i * m + j] = iou(a[i], b[j]);
}

}  // namespace groundeval::cuda::kernels
