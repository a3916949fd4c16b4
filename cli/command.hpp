// SPDX-License-Identifier: Apache-2.0
// cli/command.hpp — the subcommand table of the groundeval CLI and the option reader every
// command uses. Each cli/cmd_<name>.cpp defines its entry point and registers it with a
// namespace-scope `register_command` call (the CLI library is an OBJECT library, so no
// registration is dropped by the linker).
#pragma once

#include <groundeval/cli/app.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/detail/system.hpp>
#include <groundeval/error.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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

/// Hands `value` over to the process until it exits: a command's large results (a loaded data
/// set, decoded predictions) are then not freed block by block just before the kernel takes the
/// whole address space back at once (freeing a test split's data set and predictions took
/// ~2 ms of a 30 ms `evaluate`). Compilers do the same with their trees. What is kept stays
/// reachable, so leak checkers do not report it; nothing that needs its destructor to run (a
/// file to flush, a thread to join) may be kept.
template <class T>
void keep_until_exit(T&& value) {
  static std::mutex m;
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never destroyed, on purpose
  auto p = std::make_shared<std::decay_t<T>>(std::forward<T>(value));
  const std::lock_guard lock(m);
  kept->push_back(std::move(p));
}

/// The grounder kinds of the running program (the registry given to cli::main).
const grounder_registry& grounders();

/// Runs another subcommand of this program (the demo runs `run` and `report`).
int call_command(const std::string& name, const std::vector<std::string>& args);

/// Reads a command's arguments: options `--name VALUE` or `--name=VALUE`, flags `--name`, and
/// positional arguments. Messages name the command: "<command>: --out needs a value".
///
///     for (arg_reader a("merge", args); a.next();)
///       if (a.is("--out")) out = a.value(); else if (a.flag("--no-check")) check = false; ...
class arg_reader {
 public:
  arg_reader(std::string_view command, const std::vector<std::string>& args)
      : m_command(command), m_args(args) {}

  /// Moves to the next argument; false after the last.
  bool next() {
    if (++m_i >= m_args.size()) return false;
    const std::string& a = m_args[m_i];
    m_inline.reset();
    m_name = a;
    if (a.size() > 2 && a.compare(0, 2, "--") == 0)
      if (const auto eq = a.find('='); eq != std::string::npos) {
        m_name = a.substr(0, eq);
        m_inline = a.substr(eq + 1);
      }
    return true;
  }
  /// The current argument (an option without its "=VALUE").
  const std::string& current() const noexcept { return m_name; }
  /// Whether the current argument is option `name` (then value() must be read).
  bool is(std::string_view name) const noexcept { return m_name == name; }
  /// Whether the current argument is flag `name`; "--name=VALUE" is an error.
  bool flag(std::string_view name) const {
    if (m_name != name) return false;
    if (m_inline) fail(std::string(name) + " takes no value");
    return true;
  }
  /// Whether the current argument is --help or -h.
  bool help() const { return flag("--help") || flag("-h"); }
  /// Whether the current argument looks like an option (starts with '-', and is not "-").
  bool is_option() const noexcept { return m_name.size() > 1 && m_name[0] == '-'; }
  /// The value of the current option: after '=' or the next argument.
  std::string value() {
    if (m_inline) return *std::exchange(m_inline, std::nullopt);
    if (m_i + 1 >= m_args.size()) fail(m_name + " needs a value");
    return m_args[++m_i];
  }
  /// The value as a non-negative integer; a config error naming the option otherwise.
  unsigned long long count() {
    const std::string v = value();
    const auto x = detail::parse_integer<unsigned long long>(v);
    if (!x) fail(m_name + " '" + v + "' is not a non-negative integer");
    return *x;
  }
  /// The value as a number in [0, 1]; a config error naming the option otherwise.
  double unit_interval() {
    const std::string v = value();
    const auto x = detail::parse_finite_double(v);
    if (!x || !(*x >= 0.0 && *x <= 1.0)) fail(m_name + " " + v + " is not a number in [0, 1]");
    return *x;
  }
  /// The value as KEY=VALUE (a non-empty key, e.g. --geometry max_pixels=1003520); a config
  /// error naming the option otherwise.
  std::pair<std::string, std::string> key_value() {
    const std::string kv = value();
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) fail(m_name + " expects KEY=VALUE, got '" + kv + "'");
    return {kv.substr(0, eq), kv.substr(eq + 1)};
  }
  /// "unknown option" for the current argument, with the usage text.
  [[noreturn]] void unknown(std::string_view usage) const {
    fail("unknown option '" + m_name + "'\n" + std::string(usage));
  }
  /// A config error "<command>: what".
  [[noreturn]] void fail(const std::string& what) const {
    throw error(error_kind::config, std::string(m_command) + ": " + what);
  }
  std::string_view command() const noexcept { return m_command; }

 private:
  std::string_view m_command;
  const std::vector<std::string>& m_args;
  std::size_t m_i = static_cast<std::size_t>(-1);
  std::string m_name;
  std::optional<std::string> m_inline;
};

/// The value of option args[i] (which must follow it); advances i. Throws a config error
/// "<command>: <option> needs a value" when it is missing. (For commands that read their
/// arguments by index; arg_reader also accepts --option=value.)
inline std::string option_value(std::string_view command, const std::vector<std::string>& args,
                                std::size_t& i) {
  if (i + 1 >= args.size())
    throw error(error_kind::config, std::string(command) + ": " + args[i] + " needs a value");
  return args[++i];
}

/// `text` as a non-negative decimal integer; nullopt when it is not one.
inline std::optional<unsigned long long> parse_non_negative(const std::string& text) {
  return detail::parse_integer<unsigned long long>(text);
}

/// The current time in UTC, formatted by strftime(3) `format`.
inline std::string utc_time(const char* format) { return detail::utc_time(format); }

}  // namespace groundeval::cli
