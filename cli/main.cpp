// SPDX-License-Identifier: Apache-2.0
// groundeval — command-line entry point: dispatches to the registered subcommands.
#include "command.hpp"

#include <groundeval/config.hpp>
#include <groundeval/error.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {
void print_usage() {
  std::printf(
      "groundeval %s — phrase-grounding evaluation\n\nusage: groundeval <command> "
      "[options]\n\ncommands:\n",
      groundeval::version_string);
  for (const auto& [name, c] : groundeval::cli::registry())
    std::printf("  %-12s %s\n", name.c_str(), c.summary.c_str());
  std::printf("\nRun 'groundeval <command> --help' for the options of a command.\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage();
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage();
    return 0;
  }
  if (name == "--version") {
    std::printf("groundeval %s\n", groundeval::version_string);
    return 0;
  }
  const auto& reg = groundeval::cli::registry();
  auto it = reg.find(name);
  if (it == reg.end()) {
    std::fprintf(stderr, "groundeval: unknown command '%s'\n\n", name.c_str());
    print_usage();
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    return it->second.run(args);
  } catch (const groundeval::error& e) {
    std::fprintf(stderr, "groundeval %s: error: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "groundeval %s: unexpected error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
