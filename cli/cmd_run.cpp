// SPDX-License-Identifier: Apache-2.0
// groundeval run — option parsing around groundeval::run_grounder (run/runner.hpp): a grounder
// built from --grounder SPEC over the data set of --dataset, into a resumable run directory,
// with progress on stderr and a clean stop on SIGINT. Part of the CLI library.
#include "command.hpp"
#include "dataset_spec.hpp"
#include "interrupt.hpp"

#include <groundeval/error.hpp>
#include <groundeval/run/outcome.hpp>
#include <groundeval/run/progress.hpp>
#include <groundeval/run/runner.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace groundeval::cli {

namespace detail_run {

inline const std::string usage =
    std::string(
        "usage: groundeval run --dataset SPEC --grounder SPEC --out RUN_DIR [--split S] [--images "
        "DIR]\n"
        "                      [--limit N | --sample N [--sample-by image|phrase] [--seed S]]\n"
        "                      [--shard i/n] [--start-over | --retry-errors] [--concurrency C]\n"
        "                      [--quiet]\n"
        "\n"
        "Runs a grounder over every evaluable phrase of a data set (one request per sentence, all\n"
        "its evaluable phrases as queries) and appends the answers to RUN_DIR/predictions.jsonl "
        "as\n"
        "they arrive (fsync after each batch). RUN_DIR/manifest.json records what was run. "
        "Running\n"
        "the same command again resumes: finished queries are skipped. Ctrl-C finishes the batch "
        "in\n"
        "flight, records it and stops (the openai grounder stops asking at once and finishes only\n"
        "the requests in flight). A grounder that can check its server does so before the first\n"
        "batch; one that halts (openai: max_unreachable queries in a row without a response) ends\n"
        "the run with exit status 1, the queries it did not ask unrecorded. Options (also as\n"
        "--option=value):\n") +
    dataset_option_usage("") +
    "  --grounder SPEC  see below; @FILE reads the spec from a config file\n"
    "  --out RUN_DIR    the run directory (created if needed)\n"
    "  --limit N        only the first N sentences (of this shard), in data set order; running\n"
    "                   again with a larger or no limit continues the same run\n"
    "  --sample N       only the sentences of N images chosen by --seed (default seed 0); part\n"
    "                   of the run's identity (evaluate then needs --missing-as-miss)\n"
    "  --sample-by K    image (default) or phrase: N evaluable phrases instead of N images\n"
    "                   (only they are queried; the other phrases of their sentences are not)\n"
    "  --seed S         the sampling seed (a non-negative integer; needs --sample)\n"
    "  --shard i/n      only the images of shard i of n (by FNV-1a of the image id); join the\n"
    "                   shards with `groundeval merge`\n"
    "  --concurrency C  requests in flight (the openai grounder's own setting, or threads for a\n"
    "                   grounder that allows them; not part of the run's identity)\n"
    "  --start-over     discard an existing run in RUN_DIR instead of refusing a different one\n"
    "  --retry-errors   ask again the queries recorded with status error (their records move\n"
    "                   to RUN_DIR/retried-errors.jsonl; the other answers stay)\n"
    "  --quiet          no progress output\n"
    "\n";

inline int run(const std::vector<std::string>& args) {
  std::string grounder;
  dataset_option data_opt;
  run_options opt;
  sample_option sampling;
  std::optional<std::size_t> concurrency;
  bool quiet = false;
  for (arg_reader a("run", args); a.next();) {
    if (a.help()) {
      std::fputs((usage + grounders().help()).c_str(), stdout);
      return 0;
    } else if (sampling.parse(a) || data_opt.parse(a)) {
    } else if (a.is("--grounder")) {
      grounder = a.value();
    } else if (a.is("--out")) {
      opt.out = a.value();
    } else if (a.is("--limit")) {
      opt.selection.limit = static_cast<std::size_t>(a.count());
    } else if (a.is("--shard")) {
      opt.selection.shard = parse_shard(a.value());
    } else if (a.flag("--start-over")) {
      opt.start_over = true;
    } else if (a.flag("--retry-errors")) {
      opt.retry_errors = true;
    } else if (a.is("--concurrency")) {
      concurrency = static_cast<std::size_t>(a.count());
      if (*concurrency < 1 || *concurrency > 4096) a.fail("--concurrency must be in 1..4096");
    } else if (a.flag("--quiet")) {
      quiet = true;
    } else {
      a.unknown(usage);
    }
  }
  if (!data_opt || grounder.empty() || opt.out.empty())
    throw error(error_kind::config, "run: --dataset, --grounder and --out are required\n" + usage);
  if (opt.start_over && opt.retry_errors)
    throw error(error_kind::config, "run: --start-over and --retry-errors cannot be combined");
  sampling.validate("run", opt.selection.limit.has_value());

  const grounder_spec gspec = grounders().parse(grounder);  // spec errors before loading data
  const loaded_dataset data = data_opt.load(sampling);
  run_grounder_setup g = grounders().make_for_run(gspec, data.dataset, concurrency);
  opt.concurrency = g.runner_concurrency;
  opt.identity = {{"dataset", data.description},
                  {"split", data.split},
                  {"selection", sampling.describe()},
                  {"grounder_spec", g.spec},
                  {"groundeval_git", GROUNDEVAL_GIT_HASH}};  // source revision at configure time
  std::string cmd = "groundeval run";
  for (const auto& a : args) cmd += " " + a;
  opt.session = {{"command", cmd}, {"grounder_config", gspec.file}};
  if (!g.concurrency.empty()) opt.session["concurrency"] = g.concurrency;
  opt.volatile_keys = {"command", "concurrency", "grounder_config"};

  const run_progress_display progress(
      std::cerr, is_terminal(STDERR_FILENO),
      {.mode = quiet ? progress_mode::quiet : progress_mode::automatic},
      "run: resuming " + opt.out.string());
  opt.on_progress = progress;
  interrupt_guard interrupt;
  // polled between batches and, for openai:, during them
  opt.stop_requested = interrupt_guard::stop_predicate(
      "\nrun: stopping (Ctrl-C): finishing the requests in flight...\n");
  run_result r;
  try {
    r = run_grounder(g.grounder, data.dataset, opt);
  } catch (const error& e) {
    if (e.kind() != error_kind::config || (e.where() != (opt.out / "manifest.json").string() &&
                                           e.where() != (opt.out / "predictions.jsonl").string()))
      throw;
    throw error(error_kind::config, std::string(e.what()) +
                                        "\n(pass --start-over to discard the stored run, or "
                                        "choose another --out directory)");
  }
  progress.finish();
  const run_outcome o = describe_run_outcome(r, quiet);
  std::fputs(o.text.c_str(), o.to_stderr ? stderr : stdout);
  return o.exit_status;
}

}  // namespace detail_run

namespace {
const bool registered = register_command(
    {"run", "run a grounder over a data set into a resumable run directory", detail_run::run});
}  // namespace

}  // namespace groundeval::cli
