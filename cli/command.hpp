// SPDX-License-Identifier: Apache-2.0
// cli/command.hpp — subcommand registry of the groundeval CLI. Each cli/cmd_<name>.cpp defines
// its entry point and registers it with a namespace-scope `register_command` call.
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <ctime>
#include <exception>
#include <functional>
#include <map>
#include <optional>
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

/// The value of option args[i] (which must follow it); advances i. Throws a config error
/// "<command>: <option> needs a value" when it is missing.
inline std::string option_value(std::string_view command, const std::vector<std::string>& args,
                                std::size_t& i) {
  if (i + 1 >= args.size())
    throw error(error_kind::config, std::string(command) + ": " + args[i] + " needs a value");
  return args[++i];
}

/// `text` as a non-negative decimal integer; nullopt when it is not one (empty, signed, junk, or
/// out of range).
inline std::optional<unsigned long long> parse_non_negative(const std::string& text) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  std::size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  return v;
}

/// The current time in UTC, formatted by strftime(3) `format` (at most 63 characters).
inline std::string utc_time(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

/// `text` as a number in [0, 1] (an IoU threshold); a config error naming the option otherwise.
inline double parse_unit_interval(std::string_view command, std::string_view option,
                                  const std::string& text) {
  std::size_t pos = 0;
  double v = -1.0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos != text.size() || !(v >= 0.0 && v <= 1.0))
    throw error(error_kind::config, std::string(command) + ": " + std::string(option) + " " + text +
                                        " is not a number in [0, 1]");
  return v;
}

}  // namespace groundeval::cli
