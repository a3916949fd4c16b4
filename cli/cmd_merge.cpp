// SPDX-License-Identifier: Apache-2.0
// groundeval merge — joins the shard run directories of one run (`groundeval run --shard i/n`)
// into one run directory, checking manifests, coverage and that nothing is missing or doubled.
// Part of the groundeval_cli target.
#include "command.hpp"

#include "dataset_spec.hpp"
#include "grounder_spec.hpp"

#include <groundeval/error.hpp>
#include <groundeval/eval/run_dir.hpp>

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
  std::string out, dataset, split;
  bool check = true;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (a == "--out") {
      out = option_value("merge", args, i);
    } else if (a == "--dataset") {
      dataset = option_value("merge", args, i);
    } else if (a == "--split") {
      split = option_value("merge", args, i);
    } else if (a == "--no-check") {
      check = false;
    } else if (!a.empty() && a[0] == '-') {
      throw error(error_kind::config, "merge: unknown option '" + a + "'\n" + usage);
    } else {
      dirs.emplace_back(a);
    }
  }
  if (dirs.empty() || out.empty())
    throw error(error_kind::config,
                std::string("merge: give the shard directories and --out DIR\n") + usage);
  merge_options opt;
  // A shard may have used its own copy of a config file and another --concurrency.
  opt.volatile_keys = {"start_time", "end_time", "last_start_time", "hostname",       "status",
                       "limit",      "command",  "concurrency",     "grounder_config"};
  std::string warning;
  if (check) {
    const std::filesystem::path mp = dirs[0] / "manifest.json";
    if (!std::filesystem::exists(mp))
      throw error(error_kind::io, mp.string(), 0, "missing (not a run directory?)");
    const run_manifest m = read_manifest(mp);
    const loaded_dataset d = load_run_dataset(m, mp.string(), dataset, split, &warning);
    std::vector<run_key> expected;
    for (const sample& s : d.dataset)
      for (std::size_t k = 0; k < s.phrases.size(); ++k)
        if (!s.phrases[k].boxes.empty()) expected.push_back({s.image_id, s.sentence_index, k});
    opt.expected = std::move(expected);
  }
  if (!warning.empty()) std::fprintf(stderr, "groundeval merge: warning: %s\n", warning.c_str());
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
