// SPDX-License-Identifier: Apache-2.0
// groundeval/config.hpp — version, the host/device qualifier and the assertion macro.
// Target: groundeval::core (standard library only). Nothing else lives here.
#pragma once

#define GROUNDEVAL_VERSION_MAJOR 0
#define GROUNDEVAL_VERSION_MINOR 1
#define GROUNDEVAL_VERSION_PATCH 0
#define GROUNDEVAL_VERSION_STRING "0.1.0"

/// One qualifier for every per-element function that must run unchanged on the CPU and in
/// CUDA kernels: `__host__ __device__ inline` under nvcc, plain `inline` under a host compiler.
#if defined(__CUDACC__)
#define GROUNDEVAL_HD __host__ __device__ inline
#else
#define GROUNDEVAL_HD inline
#endif

/// Internal invariant check; active unless NDEBUG is defined. Users may predefine it.
#ifndef GROUNDEVAL_ASSERT
#if defined(NDEBUG) || defined(__CUDA_ARCH__)
#define GROUNDEVAL_ASSERT(cond, msg) ((void)0)
#else
#include <cstdio>
#include <cstdlib>
#define GROUNDEVAL_ASSERT(cond, msg)                                                         \
  ((cond) ? (void)0                                                                          \
          : (std::fprintf(stderr, "%s:%d: groundeval assertion failed: %s (%s)\n", __FILE__, \
                          __LINE__, #cond, msg),                                             \
             std::abort()))
#endif
#endif

namespace groundeval {
/// The library version, as "major.minor.patch".
inline constexpr const char* version_string = GROUNDEVAL_VERSION_STRING;
}  // namespace groundeval
