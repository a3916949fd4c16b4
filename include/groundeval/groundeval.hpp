// SPDX-License-Identifier: Apache-2.0
// groundeval/groundeval.hpp — umbrella header for the core (target groundeval::core).
// Pulls in the standard library only: optional parts (TinyXML2, JSON, stb, Eigen/xtensor, HTTP,
// CUDA) are included explicitly from their own folders and linked through their own targets.
// tests/headers/core_is_clean.cpp proves that no optional dependency is reachable from here.
#pragma once

#include <groundeval/config.hpp>
#include <groundeval/error.hpp>

#include <groundeval/boxes/batched.hpp>
#include <groundeval/boxes/box.hpp>
#include <groundeval/boxes/convert.hpp>
#include <groundeval/boxes/iou.hpp>

#include <groundeval/concepts/concepts.hpp>

#include <groundeval/datasets/in_memory.hpp>

#include <groundeval/cuda/api.hpp>
