// SPDX-License-Identifier: Apache-2.0
// groundeval/cli/app.hpp — the groundeval command-line program as a library: a registry of
// grounder kinds and main(). A program that adds its own kind gets every command for it (run,
// merge, report, evaluate, compare, stats, demo...), resume, shards and config files, exactly as
// the built-in kinds have them:
//
//     int main(int argc, char** argv) {
//       auto kinds = groundeval::cli::builtin_grounders();
//       kinds.add({.name = "mine", .usage = "mine   my model",
//                  .make = [](const auto&, const auto&) { return
//                  groundeval::any_grounder(my_grounder{}); }});
//       return groundeval::cli::main(argc, argv, kinds);
//     }
//
// Target: groundeval::cli (the compiled CLI library; needs the xml and json components).
// examples/06_plugin_cli is such a program; docs/extending.md explains it.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/run/any_grounder.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::cli {

/// A parsed grounder spec: KIND[:ARG][?KEY=VALUE&KEY=VALUE...] on the command line, or the same
/// read from a config file (`--grounder @FILE`: one `KEY = VALUE` per line, `grounder = KIND`, the
/// kind's argument under its arg_key). The typed readers throw config errors that name the spec
/// ("--grounder: 'SPEC': what") or the file and line of the key ("FILE:LINE: what").
struct grounder_spec {
  std::string text;  ///< as given ("@FILE" for a config file)
  std::string kind;
  std::string arg;  ///< after the first ':' up to the first '?' (may be empty)
  std::vector<std::pair<std::string, std::string>> params;
  std::string file;  ///< the config file it was read from (empty: the command line)
  std::vector<std::pair<std::string, std::size_t>> lines;  ///< key -> line in `file`

  /// The value of `key`, or nullptr.
  const std::string* param(std::string_view key) const;
  /// `text` (the value of `what`) as a finite number.
  double number(const std::string& what, const std::string& text) const;
  /// `text` (the value of `what`) as a non-negative integer.
  unsigned long long count(const std::string& what, const std::string& text) const;
  /// `text` as true/1/yes or false/0/no.
  bool boolean(const std::string& what, const std::string& text) const;
  /// A config error about this spec; in a config file it names the line of `key`.
  [[noreturn]] void fail(const std::string& what, std::string_view key = {}) const;
  /// "KIND needs WHAT": the command-line form `example`, or in a config file the arg_key line.
  [[noreturn]] void need_arg(const std::string& what, const std::string& example,
                             const std::string& arg_key) const;
  /// The spec as one command-line string, KIND[:ARG][?K=V&...] with the keys sorted, leaving out
  /// `skip_key`; what run manifests record.
  std::string to_string(std::string_view skip_key = {}) const;
};

/// One kind of grounder the CLI can build from a spec.
struct grounder_kind {
  std::string name{};   ///< the KIND of a spec
  std::string usage{};  ///< help lines for `groundeval run --help` ("  NAME[:ARG]   what it is")
  /// The config-file key that holds the argument (after "KIND:"); empty when it takes none.
  std::string arg_key{};
  /// The valid ?KEY=VALUE keys.
  std::vector<std::string> keys{};
  /// Keys that depend on the spec's other values (optional; e.g. a model family's own keys).
  std::function<std::vector<std::string>(const grounder_spec&)> more_keys{};
  /// The spec key that `run --concurrency C` sets, for kinds that manage their own concurrency;
  /// empty: --concurrency is the runner's (threads calling a ConcurrentGrounder).
  std::string concurrency_key{};
  /// Builds the grounder; `data` is the data set being run (an oracle reads its ground truth).
  /// The keys are checked before it is called.
  std::function<any_grounder(const grounder_spec&, const in_memory_dataset& data)> make{};
};

/// A grounder built for `groundeval run`, with what the run's manifest records about it.
struct run_grounder_setup {
  any_grounder grounder;
  /// The spec as the run's identity: KIND[:ARG][?K=V...] with the keys sorted and the kind's
  /// concurrency key left out (concurrency changes how fast answers come, not which).
  std::string spec;
  std::string concurrency;             ///< the concurrency to record; empty when none was given
  std::size_t runner_concurrency = 1;  ///< threads for the runner (kinds without their own key)
};

/// The grounder kinds a program offers, in the order they were added.
class grounder_registry {
 public:
  /// Adds a kind; a config error when the name is empty, taken, or `make` is missing.
  grounder_registry& add(grounder_kind kind);
  /// The kind called `name`, or nullptr.
  const grounder_kind* find(std::string_view name) const;
  /// The kinds' names, in order.
  std::vector<std::string> names() const;
  /// Parses a spec (or reads `@FILE`); a config error for an unknown kind or malformed text.
  grounder_spec parse(const std::string& text) const;
  /// A config error when the spec's kind is unknown, a key is not one of its kind's, or an
  /// argument is given to a kind that takes none.
  void check(const grounder_spec& spec) const;
  /// Checks the spec (check()) and builds the grounder.
  any_grounder make(const grounder_spec& spec, const in_memory_dataset& data) const;
  /// make() for a run: `concurrency` (run --concurrency) sets the kind's concurrency_key, or,
  /// for a kind without one, the runner's threads (a config error when the grounder cannot take
  /// them: it is not a ConcurrentGrounder).
  run_grounder_setup make_for_run(grounder_spec spec, const in_memory_dataset& data,
                                  std::optional<std::size_t> concurrency) const;
  /// The help text describing every kind and the config-file form.
  std::string help() const;

 private:
  std::vector<grounder_kind> m_kinds;
};

/// The built-in kinds: whole-image, center, random, oracle, predictions, and openai and
/// npy-detector when this build has the http and interop components.
grounder_registry builtin_grounders();

/// The groundeval program: dispatches argv[1] to its command with `grounders` as the grounder
/// kinds `run` (and the commands that run it) can build. Returns the exit code; errors are
/// printed to stderr as "groundeval CMD: error: ...".
int main(int argc, char** argv, const grounder_registry& grounders = builtin_grounders());

}  // namespace groundeval::cli
