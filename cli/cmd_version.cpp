// SPDX-License-Identifier: Apache-2.0
// groundeval version — prints the library version and the optional parts built in.
#include "command.hpp"

#include <groundeval/config.hpp>

#include <cstdio>

namespace {
const bool registered = groundeval::cli::register_command(
    {"version", "print the version", [](const std::vector<std::string>&) {
       std::printf("groundeval %s\n", groundeval::version_string);
       return 0;
     }});
}  // namespace
