// SPDX-License-Identifier: Apache-2.0
// groundeval compare — paired comparison of two runs on the same data set: McNemar's exact test,
// image-level bootstrap intervals, per-type deltas and qualitative cases.
#include "command.hpp"
#include "dataset_spec.hpp"
#include "eval_options.hpp"

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace groundeval::cli {

namespace detail_compare {

inline constexpr const char* usage =
    "usage: groundeval compare RUN_A RUN_B --dataset flickr30k:DIR|mdetr:FILE.json [--split test]\n"
    "                          [--protocol any|merged] [--iou T] [--json OUT] [--seed N]\n"
    "                          [--bootstrap N] [--cases N] [--missing-as-miss] "
    "[--invalid-as-miss]\n"
    "\n"
    "RUN_A and RUN_B are predictions files (MDETR JSON or JSON Lines) for the same data set. Both\n"
    "are evaluated as by `groundeval evaluate`, then compared phrase by phrase:\n"
    "  McNemar's exact test on R@1 hits; bootstrap intervals (resampling images, seeded PCG32)\n"
    "  of each R@k of A, of B and of B - A; R@1 per type; deterministic qualitative cases\n"
    "  (both succeed: top-1 IoU > 0.7 for both; A wins: A > 0.7, B < 0.2; B wins; both fail:\n"
    "  both < 0.2; format failures of each run).\n"
    "  --seed N       bootstrap and case-selection seed (default 20240601)\n"
    "  --bootstrap N  bootstrap samples (default 1000)\n"
    "  --cases N      cases listed per kind (default 5)\n";

inline std::uint64_t parse_count(const std::string& opt, const std::string& v) {
  const auto x = parse_non_negative(v);
  if (!x)
    throw error(error_kind::config, "compare: " + opt + " " + v + " is not a non-negative integer");
  return *x;
}

inline int run(const std::vector<std::string>& args) {
  std::vector<std::string> runs;
  std::string json_out;
  evaluation_cli_options eo;
  eo.split = "test";
  eo.eval.count_missing_as_miss = false;
  compare_options copt;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&] { return option_value("compare", args, i); };
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (eo.parse("compare", args, i)) {
      continue;
    } else if (a == "--json") {
      json_out = value();
    } else if (a == "--seed") {
      copt.seed = parse_count(a, value());
    } else if (a == "--bootstrap") {
      copt.bootstrap_samples = parse_count(a, value());
    } else if (a == "--cases") {
      copt.cases_per_kind = parse_count(a, value());
    } else if (a == "--invalid-as-miss") {
      eo.eval.count_invalid_as_miss = true;
    } else if (!a.empty() && a[0] == '-') {
      throw error(error_kind::config, "compare: unknown option '" + a + "'\n" + usage);
    } else {
      runs.push_back(a);
    }
  }
  if (runs.size() != 2 || eo.dataset.empty())
    throw error(error_kind::config,
                std::string("compare: two runs and --dataset are required\n") + usage);
  eo.finish("compare");
  const evaluation_options& opt = eo.eval;

  const loaded_dataset data = load_dataset_spec(eo.dataset, eo.split);
  const evaluation_result ra = evaluate_predictions_file(data.dataset, runs[0], opt);
  const evaluation_result rb = evaluate_predictions_file(data.dataset, runs[1], opt);
  const comparison_result c = compare_runs(data.dataset, ra, rb, copt);
  std::fputs(format_comparison_table(c, runs[0], runs[1]).c_str(), stdout);
  if (!json_out.empty()) {
    std::ofstream f(json_out, std::ios::binary);
    if (!f) throw error(error_kind::io, json_out, 0, "cannot write the JSON report");
    f << comparison_json(c, runs[0], runs[1],
                         {{"dataset", data.description},
                          {"split", data.split},
                          {"protocol", std::string(to_string(opt.protocol))}});
    if (!f) throw error(error_kind::io, json_out, 0, "write error");
    std::printf("JSON report: %s\n", json_out.c_str());
  }
  return 0;
}

}  // namespace detail_compare

namespace {
const bool registered =
    register_command({"compare", "paired comparison of two runs (McNemar, bootstrap CIs, cases)",
                      detail_compare::run});
}  // namespace

}  // namespace groundeval::cli
