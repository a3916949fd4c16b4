// SPDX-License-Identifier: Apache-2.0
// Positive control for core_is_clean.cpp: the include guards it tests really are the ones the
// Debian 12 headers define, so that test can fail. Built only when all these packages are found.
#include <stb/stb_image.h>
#include <tinyxml2.h>
#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <xtensor/xtensor_config.hpp>

#if !defined(TINYXML2_INCLUDED)
#error "TinyXML2 guard changed"
#endif
#if !defined(INCLUDE_NLOHMANN_JSON_HPP_)
#error "nlohmann/json guard changed"
#endif
#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#error "stb_image guard changed"
#endif
#if !defined(EIGEN_CORE_H) && !defined(EIGEN_CORE_MODULE_H)
#error "Eigen guard changed"
#endif
#if !defined(XTENSOR_CONFIG_HPP)
#error "xtensor guard changed"
#endif

int main() { return 0; }
