// SPDX-License-Identifier: Apache-2.0
// The one Catch2 runner translation unit, compiled once and linked into every test binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
