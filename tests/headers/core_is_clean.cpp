// SPDX-License-Identifier: Apache-2.0
// The core umbrella header must not reach any optional dependency. Each check below is the
// include guard of that dependency's main header as shipped by Debian 12; this file is compiled
// against groundeval::core only, and any guard being defined fails the build.
#include <groundeval/groundeval.hpp>

#if defined(TINYXML2_INCLUDED)
#error "groundeval.hpp pulls in TinyXML2"
#endif
#if defined(INCLUDE_NLOHMANN_JSON_HPP_) || defined(INCLUDE_NLOHMANN_JSON_FWD_HPP_)
#error "groundeval.hpp pulls in nlohmann/json"
#endif
#if defined(STBI_INCLUDE_STB_IMAGE_H) || defined(INCLUDE_STB_IMAGE_WRITE_H)
#error "groundeval.hpp pulls in stb"
#endif
#if defined(EIGEN_CORE_H) || defined(EIGEN_CORE_MODULE_H)
#error "groundeval.hpp pulls in Eigen"
#endif
#if defined(XTENSOR_CONFIG_HPP) || defined(XTL_CONFIG_HPP)
#error "groundeval.hpp pulls in xtensor"
#endif
#if defined(CPPHTTPLIB_HTTPLIB_H) || defined(__CURL_CURL_H)
#error "groundeval.hpp pulls in an HTTP client"
#endif
#if defined(__CUDA_RUNTIME_H__) || defined(__CUDA_RUNTIME_API_H__) || defined(CUBLAS_API_H_)
#error "groundeval.hpp pulls in the CUDA runtime"
#endif

#include <cstdio>

int main() {
  // Also a positive control: the guard names are real (checked by guards_positive.cpp).
  std::puts("core umbrella header pulls in no optional dependency");
  return groundeval::version_string[0] == '\0';
}
