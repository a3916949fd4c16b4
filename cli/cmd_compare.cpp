// SPDX-License-Identifier: Apache-2.0
// groundeval compare — paired comparison of two runs on the same data set: McNemar's exact test,
// image-level bootstrap intervals, per-type deltas and qualitative cases.
#include "command.hpp"
#include "dataset_spec.hpp"
#include "eval_options.hpp"

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/detail/durable_file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <cstdio>
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

inline int run(const std::vector<std::string>& args) {
  std::vector<std::string> runs;
  std::string json_out;
  evaluation_cli_options eo;
  eo.split = "test";
  eo.eval.count_missing_as_miss = false;
  compare_options copt;
  for (arg_reader a("compare", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (eo.parse(a)) {
    } else if (a.is("--json")) {
      json_out = a.value();
    } else if (a.is("--seed")) {
      copt.seed = a.count();
    } else if (a.is("--bootstrap")) {
      copt.bootstrap_samples = a.count();
    } else if (a.is("--cases")) {
      copt.cases_per_kind = a.count();
    } else if (a.flag("--invalid-as-miss")) {
      eo.eval.count_invalid_as_miss = true;
    } else if (a.is_option()) {
      a.unknown(usage);
    } else {
      runs.push_back(a.current());
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
    detail::write_file_atomically(
        json_out, comparison_json(c, runs[0], runs[1],
                                  {{"dataset", data.description},
                                   {"split", data.split},
                                   {"protocol", std::string(to_string(opt.protocol))}}));
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
