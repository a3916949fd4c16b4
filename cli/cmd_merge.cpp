// SPDX-License-Identifier: Apache-2.0
// groundeval merge — joins the shard run directories of one run (`groundeval run --shard i/n`)
// into one run directory with groundeval::merge_runs, checking manifests, coverage and, against
// the run's data set, that no query is missing or doubled. Part of the CLI library.
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/error.hpp>
#include <groundeval/run/merge.hpp>
#include <groundeval/run/queries.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace groundeval::cli {

namespace detail_merge {

inline constexpr const char* usage =
    "usage: groundeval merge RUN_DIR... --out DIR [--dataset SPEC --split S] [--no-check]\n"
    "\n"
    "Joins the shards of one run (made with `groundeval run --shard i/n`) into DIR (new or\n"
    "empty). Refused when the manifests differ (apart from times and machine), a shard is\n"
    "missing or given twice, a record sits in the wrong shard or appears twice, or, unless\n"
    "--no-check, when a query of the data set is missing or an unknown one is present (the data\n"
    "set is the one the manifests name, or --dataset/--split).\n";

inline int run(const std::vector<std::string>& args) {
  std::vector<std::filesystem::path> dirs;
  std::string out;
  dataset_option data_opt;  // the data set to check against: the manifests' unless given
  data_opt.split.clear();
  data_opt.takes_images = false;
  bool check = true;
  for (arg_reader a("merge", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (a.is("--out")) {
      out = a.value();
    } else if (data_opt.parse(a)) {
    } else if (a.flag("--no-check")) {
      check = false;
    } else if (a.is_option()) {
      a.unknown(usage);
    } else {
      dirs.emplace_back(a.current());
    }
  }
  if (dirs.empty() || out.empty())
    throw error(error_kind::config,
                std::string("merge: give the shard directories and --out DIR\n") + usage);
  merge_options opt;
  opt.lock_command = "groundeval merge";
  for (const auto& a : args) opt.lock_command += " " + a;
  // A shard may have used its own copy of a config file and another --concurrency.
  opt.volatile_keys = {"start_time", "end_time", "last_start_time", "hostname",       "status",
                       "limit",      "command",  "concurrency",     "grounder_config"};
  if (check) {  // exactly the queries an unsharded run on the first shard's data asks
    const loaded_runs first = load_runs({dirs[0]}, data_opt.dataset, data_opt.split);
    if (!first.warning.empty())
      std::fprintf(stderr, "groundeval merge: warning: %s\n", first.warning.c_str());
    opt.expected = list_queries(first.data.dataset);
  }
  const merge_summary r = merge_runs(dirs, out, opt);
  std::printf("merge: %zu shards, %zu records -> %s\n", r.shards, r.records,
              (std::filesystem::path(out) / "predictions.jsonl").c_str());
  return 0;
}

}  // namespace detail_merge

namespace {
const bool registered =
    register_command({"merge", "join the shard run directories of one run", detail_merge::run});
}  // namespace

}  // namespace groundeval::cli
