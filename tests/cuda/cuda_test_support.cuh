// SPDX-License-Identifier: Apache-2.0
// Helpers for [cuda] tests: device detection with a visible warning, and RAII device buffers.
#pragma once

#include <groundeval/cuda/api.hpp>

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

namespace groundeval::test {

/// True when a CUDA device is usable; otherwise prints a visible warning (Catch2 v2 has no SKIP).
inline bool have_cuda_device() {
  if (groundeval::cuda::device_count() > 0) return true;
  WARN("no CUDA device: GPU test body skipped (it passes without running)");
  std::fprintf(stderr, "WARNING: no CUDA device, [cuda] test skipped\n");
  return false;
}

template <class T>
struct device_buffer {
  T* ptr = nullptr;
  std::size_t n = 0;
  explicit device_buffer(std::size_t count) : n(count) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&ptr), (n ? n : 1) * sizeof(T)) == cudaSuccess);
  }
  explicit device_buffer(const std::vector<T>& host) : device_buffer(host.size()) {
    REQUIRE(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~device_buffer() { cudaFree(ptr); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  std::vector<T> to_host() const {
    std::vector<T> h(n);
    REQUIRE(cudaMemcpy(h.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return h;
  }
};

}  // namespace groundeval::test
