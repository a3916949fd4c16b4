// SPDX-License-Identifier: Apache-2.0
// cli/command.hpp — subcommand registry of the groundeval CLI. Each cli/cmd_<name>.cpp defines
// its entry point and registers it with a namespace-scope `register_command` call.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

/// A subcommand: receives its arguments (without the program and subcommand names), returns
/// the process exit code. Errors are thrown as groundeval::error and printed by main.
struct command {
  std::string name;
  std::string summary;  ///< one line for `groundeval --help`
  std::function<int(const std::vector<std::string>& args)> run;
};

inline std::map<std::string, command, std::less<>>& registry() {
  static std::map<std::string, command, std::less<>> r;
  return r;
}

/// Adds a command to the registry; returns true so it can initialise a namespace-scope bool.
inline bool register_command(command c) {
  auto name = c.name;
  registry().emplace(std::move(name), std::move(c));
  return true;
}

}  // namespace groundeval::cli
