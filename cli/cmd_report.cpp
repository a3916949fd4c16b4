// SPDX-License-Identifier: Apache-2.0
// groundeval report — evaluates run directories on their data set and writes the comparison
// report (index.html, report.md, report.json, PNG overlays of qualitative cases when the images
// are on disk): option parsing around evaluate_predictions_file, report::build_report,
// report::draw_cases and report::write_report. Part of the CLI library.
#include "command.hpp"
#include "dataset_spec.hpp"
#include "eval_options.hpp"

#include <groundeval/error.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/report/from_results.hpp>
#include <groundeval/report/json/case_answers.hpp>
#include <groundeval/report/writer.hpp>
#include <groundeval/run/manifest.hpp>
#include <groundeval/run/queries.hpp>

#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
#include <groundeval/report/png/cases.hpp>
#endif

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace groundeval::cli {

namespace detail_report {

inline constexpr const char* usage =
    "usage: groundeval report RUN_DIR... --out DIR [--dataset SPEC --split S]\n"
    "                         [--protocol any|merged] [--iou T] [--match iou|giou]\n"
    "                         [--missing-as-miss]\n"
    "                         [--title TEXT] [--note TEXT]... [--blank-canvas] [--quiet]\n"
    "\n"
    "Evaluates each run directory (its predictions.jsonl) on the data set its manifest names\n"
    "(or --dataset/--split), compares every pair of runs (McNemar, image-level bootstrap,\n"
    "qualitative cases) and writes DIR/index.html (self-contained), DIR/report.md and\n"
    "DIR/report.json. The qualitative cases are drawn as PNG overlays under DIR/cases/ when the\n"
    "data set's images are on disk (flickr30k:DIR with DIR/flickr30k-images/<id>.jpg);\n"
    "otherwise the cases are listed without pictures. Options:\n"
    "  --protocol P       any (ANY-box, default) or merged (MERGED-box)\n"
    "  --iou T            hit threshold, IoU >= T (default 0.5)\n"
    "  --match giou       a hit is GIoU >= T (MDETR's and GLIP's RefExp rule; default iou)\n"
    "  --missing-as-miss  count phrases a run has no answer for as misses (partial runs)\n"
    "  --title TEXT       the report's title\n"
    "  --note TEXT        a note printed with the report (repeatable; e.g. where the data or\n"
    "                     the predictions come from)\n"
    "  --blank-canvas     draw cases whose image is missing on a blank canvas of the image's\n"
    "                     size labelled \"no image available\" (boxes and caption only)\n"
    "  --quiet            print only the report path\n";

inline int run(const std::vector<std::string>& args) {
  std::vector<std::filesystem::path> dirs;
  std::string out, title = "groundeval report";
  evaluation_cli_options eo;  // --split defaults to the manifest's
  bool quiet = false;
  bool blank_canvas = false;
  std::vector<std::string> notes;
  for (arg_reader a("report", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (a.is("--out")) {
      out = a.value();
    } else if (eo.parse(a)) {
    } else if (a.is("--title")) {
      title = a.value();
    } else if (a.is("--note")) {
      notes.push_back(a.value());
    } else if (a.flag("--quiet")) {
      quiet = true;
    } else if (a.flag("--blank-canvas")) {
      blank_canvas = true;
    } else if (a.is_option()) {
      a.unknown(usage);
    } else {
      dirs.emplace_back(a.current());
    }
  }
  if (dirs.empty() || out.empty())
    throw error(error_kind::config,
                std::string("report: give one or more run directories and --out DIR\n") + usage);
  eo.finish("report");

  const loaded_runs loaded = load_runs(dirs, eo.dataset, eo.split);
  const loaded_dataset& data = loaded.data;
  require_evaluable_phrases(data.dataset, data.description);
  if (!loaded.warning.empty()) notes.push_back(loaded.warning);
  std::vector<report::evaluated_run> runs;
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    report::evaluated_run r;
    r.name = loaded.names[i];
    const std::string spec = manifest_value(loaded.manifests[i], "grounder_spec");
    r.grounder = spec.empty() ? "?" : spec;
    r.in_process = manifest_value(loaded.manifests[i], "latency") == "in-process";
    // Streamed: memory does not grow with the file (docs/metrics.md).
    predictions_read_options ropt;
    ropt.config_hash = manifest_value(loaded.manifests[i], "config_hash");
    r.result = evaluate_predictions_file(data.dataset, (dirs[i] / "predictions.jsonl").string(),
                                         eo.eval, ropt);
    if (r.result.warnings.missing_phrases > 0)
      notes.push_back(r.name + ": " + std::to_string(r.result.warnings.missing_phrases) +
                      " phrases have no answer and count as misses (a partial run)");
    runs.push_back(std::move(r));
  }
  const std::string label = data.description + " (" + data.split + ")";
  report::report_input in = report::build_report(data.dataset, std::span(runs), label);
  in.title = title;

  std::size_t drawn = 0;
  std::vector<std::string> files;
  for (const auto& d : dirs) files.push_back((d / "predictions.jsonl").string());
  const report::case_answers answers(in, files);  // only the cases' records are kept
  answers.attach_raw_answers(in);                 // format failures show what the model said
#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
  const auto d = report::draw_cases(in, data.dataset, answers, out, {.blank_canvas = blank_canvas});
  notes.insert(notes.end(), d.notes.begin(), d.notes.end());
  drawn = d.drawn;
#else
  (void)blank_canvas;
  if (!in.cases.empty())
    notes.push_back("this groundeval was built without PNG support (libstb): no case overlays");
#endif
  in.generated =
      "generated " + utc_time("%Y-%m-%d %H:%M UTC") + " by groundeval report; data set " + label;
  for (const auto& n : notes) in.generated += ". Note: " + n;
  if (data.synthetic) {
    in.generated +=
        ". The data set is SYNTHETIC (its SYNTHETIC.txt says so): no number here is a "
        "real model's result";
    notes.push_back("the data set is SYNTHETIC: no number here is a real model's result");
  }
  report::write_report(in, out);
  if (!quiet) {
    std::printf("%-24s %8s %8s %8s %8s %9s\n", "run", "R@1", "R@5", "R@10", "upper", "mean IoU");
    for (const auto& r : in.runs)
      std::printf("%-24s %8.2f %8.2f %8.2f %8.2f %9.3f\n", r.name.c_str(), 100 * r.overall.r_at_1,
                  100 * r.overall.r_at_5, 100 * r.overall.r_at_10, 100 * r.overall.upper_bound,
                  r.mean_iou);
    for (const auto& n : notes) std::printf("note: %s\n", n.c_str());
    std::printf("overlays drawn: %zu\n", drawn);
  }
  std::printf("report: %s\n", (std::filesystem::path(out) / "index.html").c_str());
  return 0;
}

}  // namespace detail_report

namespace {
const bool registered = register_command(
    {"report", "evaluate run directories and write the HTML / Markdown / JSON report",
     detail_report::run});
}  // namespace

}  // namespace groundeval::cli
