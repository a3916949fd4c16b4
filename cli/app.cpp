// SPDX-License-Identifier: Apache-2.0
// cli/app.cpp — groundeval::cli::main: dispatches to the registered subcommands with the
// program's grounder kinds. Part of the CLI library.
#include "command.hpp"

#include <groundeval/cli/app.hpp>
#include <groundeval/config.hpp>
#include <groundeval/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

namespace {

/// The kinds given to main() while it runs (the built-in ones otherwise).
const grounder_registry* g_grounders = nullptr;

void print_usage() {
  std::printf(
      "groundeval %s — phrase-grounding evaluation\n\nusage: groundeval <command> "
      "[options]\n\ncommands:\n",
      version_string);
  for (const auto& [name, c] : registry())
    std::printf("  %-12s %s\n", name.c_str(), c.summary.c_str());
  std::printf("\nRun 'groundeval <command> --help' for the options of a command.\n");
}

}  // namespace

const grounder_registry& grounders() {
  static const grounder_registry builtin = builtin_grounders();
  return g_grounders ? *g_grounders : builtin;
}

int call_command(const std::string& name, const std::vector<std::string>& args) {
  auto it = registry().find(name);
  if (it == registry().end())
    throw error(error_kind::invalid, "the '" + name + "' command is not built in");
  return it->second.run(args);
}

int main(int argc, char** argv, const grounder_registry& kinds) {
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
    std::printf("groundeval %s\n", version_string);
    return 0;
  }
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::fprintf(stderr, "groundeval: unknown command '%s'\n\n", name.c_str());
    print_usage();
    return 2;
  }
  struct scope {
    const grounder_registry* old;
    ~scope() { g_grounders = old; }
  } restore{g_grounders};
  g_grounders = &kinds;
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    const int rc = it->second.run(args);
    // Output that never reached its file (a full disk, /dev/full, a closed pipe with SIGPIPE
    // ignored) is a failure, not a success with a short file.
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.flush())
      throw error(error_kind::io, "<stdout>", 0,
                  std::string("write error") +
                      (errno ? std::string(": ") + std::strerror(errno) : std::string()));
    return rc;
  } catch (const error& e) {
    // "groundeval CMD: error: what" (a message that starts with "CMD: " already says the command)
    std::string_view what = e.what();
    if (what.starts_with(name) && what.substr(name.size()).starts_with(": "))
      what.remove_prefix(name.size() + 2);
    std::fprintf(stderr, "groundeval %s: error: %.*s\n", name.c_str(),
                 static_cast<int>(what.size()), what.data());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "groundeval %s: unexpected error: %s\n", name.c_str(), e.what());
    return 1;
  }
}

}  // namespace groundeval::cli
