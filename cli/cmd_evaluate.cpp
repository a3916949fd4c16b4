// SPDX-License-Identifier: Apache-2.0
// groundeval evaluate — Recall@k (reference-exact) and the other metrics of a predictions file
// against a data set; prints the table and optionally writes the JSON report.
#include "command.hpp"

#include "dataset_spec.hpp"
#include "eval_options.hpp"

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/eval/rescore.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/io/json/rescore.hpp>
#include <groundeval/run/manifest.hpp>
#include <groundeval/run/queries.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace groundeval::cli {

namespace detail_evaluate {

inline constexpr const char* usage =
    "usage: groundeval evaluate --dataset flickr30k:DIR|mdetr:FILE.json [--split test]\n"
    "                           --predictions FILE [--protocol any|merged] [--iou T]\n"
    "                           [--match iou|giou] [--json OUT] [--missing-as-miss]\n"
    "                           [--invalid-as-miss]\n"
    "                           [--allow-non-finite] [--quiet]\n"
    "                           [--family F [--geometry KEY=VALUE ...] [--write-rescored OUT]]\n"
    "\n"
    "Evaluates a predictions file (MDETR JSON list or groundeval JSON Lines, detected from the\n"
    "content) exactly as MDETR's datasets/flickr_eval.py does, plus top-1 IoU metrics, answer\n"
    "status counts and latency. Options:\n"
    "  --dataset SPEC        flickr30k:DIR (Annotations/, Sentences/) or mdetr:FILE.json\n"
    "  --split NAME          train, val or test (default test; flickr30k only)\n"
    "  --protocol P          any (ANY-box, default) or merged (MERGED-box)\n"
    "  --iou T               hit threshold, IoU >= T (default 0.5)\n"
    "  --match giou          a hit is GIoU >= T (MDETR's and GLIP's RefExp rule; default iou)\n"
    "  --json OUT            write the JSON report (docs/metrics.md)\n"
    "  --missing-as-miss     count phrases without a prediction as misses instead of failing\n"
    "  --invalid-as-miss     count malformed entries (wrong number of lists, chain id mismatch)\n"
    "                        as misses instead of failing\n"
    "  --allow-non-finite    read null coordinates as NaN instead of failing\n"
    "  --quiet               print nothing but errors\n"
    "  --family F            rescore: decode each record's raw_text again with family F's parser\n"
    "                        and geometry (for the image sizes of the data set), replacing its\n"
    "                        boxes (groundeval parse-box --help lists the families)\n"
    "  --geometry KEY=VALUE  a geometry option of F (repeatable), as in parse-box\n"
    "  --write-rescored OUT  also write the rescored records as a JSON Lines predictions file\n";

inline int run(const std::vector<std::string>& args) {
  std::string predictions, json_out, family, rescored_path;
  raw_text_rescorer::geometry_options geometry;
  evaluation_cli_options eo;
  eo.split = "test";
  predictions_read_options ropt;
  bool quiet = false;
  for (arg_reader a("evaluate", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (eo.parse(a)) {
    } else if (a.is("--predictions")) {
      predictions = a.value();
    } else if (a.is("--json")) {
      json_out = a.value();
    } else if (a.flag("--invalid-as-miss")) {
      eo.eval.count_invalid_as_miss = true;
    } else if (a.flag("--allow-non-finite")) {
      ropt.allow_non_finite = true;
    } else if (a.is("--family")) {
      family = a.value();
    } else if (a.is("--geometry")) {
      geometry.push_back(a.key_value());
    } else if (a.is("--write-rescored")) {
      rescored_path = a.value();
    } else if (a.flag("--quiet")) {
      quiet = true;
    } else {
      a.unknown(usage);
    }
  }
  if (eo.dataset.empty() || predictions.empty())
    throw error(error_kind::config,
                std::string("evaluate: --dataset and --predictions are required\n") + usage);
  if (family.empty() && (!geometry.empty() || !rescored_path.empty()))
    throw error(error_kind::config, "evaluate: --geometry and --write-rescored need --family");
  eo.finish("evaluate");
  const evaluation_options& opt = eo.eval;

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  // The predictions file is opened, read and decoded on other threads while the data set loads:
  // the two are independent until the first match. A data set error still comes first (the
  // future's destructor waits for the thread and drops what it threw; predictions_input's stops
  // the decoding).
  ropt.threads = opt.threads;
  std::future<predictions_input> input;
  if (family.empty())
    input = std::async(std::launch::async, [&predictions, ropt]() mutable {
      ropt.config_hash = run_config_hash_of(predictions);  // a run directory's records must match
      predictions_input in(predictions);
      in.start_decoding(ropt);
      return in;
    });
  loaded_dataset data = load_dataset_spec(eo.dataset, eo.split);
  require_evaluable_phrases(data.dataset, data.description);
  const auto t1 = clock::now();
  if (!family.empty()) ropt.config_hash = run_config_hash_of(predictions);
  // Streamed: JSON Lines files of any size are evaluated in bounded memory.
  std::optional<raw_text_rescorer> rescore;
  if (!family.empty()) rescore.emplace(data.dataset, family, geometry);
  std::ofstream rescored;
  if (!rescored_path.empty() && !(rescored = std::ofstream(rescored_path, std::ios::binary)))
    throw error(error_kind::io, rescored_path, 0, "cannot create the file");
  std::optional<predictions_input> in;
  evaluation_result res =
      rescore ? evaluate_rescored_predictions_file(data.dataset, predictions, *rescore, opt, ropt,
                                                   rescored_path.empty() ? nullptr : &rescored)
              : [&] {
                  in.emplace(input.get());
                  return evaluate_predictions(data.dataset, *in, opt, ropt);
                }();
  const auto t2 = clock::now();

  report_meta meta{{"dataset", data.description}, {"split", data.split}};
  if (rescore) {  // what the numbers are of: the raw answers read with this family's contract
    std::string how = "family " + family;
    for (const auto& [k, v] : geometry) how += " " + k + "=" + v;
    meta.emplace_back("rescored", how + ", " + std::to_string(rescore->rescored()) +
                                      " records decoded from raw_text");
  }
  if (!json_out.empty()) {
    // A report is computed again in milliseconds from the predictions: atomic, not fsync'ed.
    detail::write_file_atomically(json_out, report_json(res, meta),
                                  detail::durability::atomic_only);
  }
  if (!quiet) {
    std::fputs(format_report_table(res, meta).c_str(), stdout);
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    std::printf("time: load data %.1f ms, read and evaluate predictions %.1f ms\n", ms(t0, t1),
                ms(t1, t2));
    if (!json_out.empty()) std::printf("JSON report: %s\n", json_out.c_str());
  }
  keep_until_exit(std::move(data));
  keep_until_exit(std::move(res));
  if (in) keep_until_exit(std::move(*in));  // its decoding thread has ended
  return 0;
}

}  // namespace detail_evaluate

namespace {
const bool registered =
    register_command({"evaluate", "Recall@k (MDETR-exact) and other metrics of a predictions file",
                      detail_evaluate::run});
}  // namespace

}  // namespace groundeval::cli
