// SPDX-License-Identifier: Apache-2.0
// groundeval report — evaluates run directories on their data set and writes the comparison
// report (index.html, report.md, report.json, PNG overlays of qualitative cases when the images
// are on disk). Part of the groundeval_cli target.
#include "command.hpp"
#include "eval_options.hpp"

#include "dataset_spec.hpp"

#include <groundeval/error.hpp>
#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/run_dir.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/report/summary.hpp>
#include <groundeval/report/writer.hpp>

#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
#include <groundeval/report/png/overlay.hpp>

#include <stb_image.h>
#define GROUNDEVAL_CLI_HAVE_PNG 1
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace groundeval::cli {

namespace detail_report {

inline constexpr const char* usage =
    "usage: groundeval report RUN_DIR... --out DIR [--dataset SPEC --split S]\n"
    "                         [--protocol any|merged] [--iou T] [--missing-as-miss]\n"
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
    "  --missing-as-miss  count phrases a run has no answer for as misses (partial runs)\n"
    "  --title TEXT       the report's title\n"
    "  --note TEXT        a note printed with the report (repeatable; e.g. where the data or\n"
    "                     the predictions come from)\n"
    "  --blank-canvas     draw cases whose image is missing on a blank canvas of the image's\n"
    "                     size labelled \"no image available\" (boxes and caption only)\n"
    "  --quiet            print only the report path\n";

inline std::string utc_now() { return utc_time("%Y-%m-%d %H:%M UTC"); }

/// Fills the report's view of one evaluated run.
inline report::run_summary summarize(const evaluation_result& r, std::string name,
                                     std::string grounder, std::string dataset) {
  report::run_summary s;
  s.name = std::move(name);
  s.grounder = std::move(grounder);
  s.dataset = std::move(dataset);
  s.images = r.images;
  s.sentences = r.sentences;
  s.phrases = r.phrases;
  auto row = [&](const std::string& cat, const recall_counts& c) {
    report::recall_row x;
    x.category = cat;
    x.phrases = c.total;
    x.r_at_1 = r.recall.recall(1, cat);
    x.r_at_5 = r.recall.recall(5, cat);
    x.r_at_10 = r.recall.recall(10, cat);
    x.upper_bound = r.recall.recall(k_all, cat);
    return x;
  };
  for (const auto& [cat, c] : r.recall.categories) {
    if (cat == "all")
      s.overall = row(cat, c);
    else
      s.by_type.push_back(row(cat, c));
  }
  s.mean_iou = r.localization.mean_iou();
  for (std::size_t i = 0; i < s.accuracy_at.size() && i < localization_thresholds.size(); ++i)
    s.accuracy_at[i] = r.localization.accuracy(i);
  s.accuracy_50_95 = r.localization.accuracy_coco();
  for (std::size_t b = 0; b < size_bucket_count; ++b) {
    const auto& c = r.localization.buckets[b];
    if (c.phrases == 0) continue;
    report::size_row x;
    x.bucket = std::string(to_string(static_cast<size_bucket>(b)));
    x.phrases = c.phrases;
    x.r_at_1 = static_cast<double>(c.top1_hits) / static_cast<double>(c.phrases);
    x.mean_iou = c.iou_sum / static_cast<double>(c.phrases);
    s.by_size.push_back(std::move(x));
  }
  s.format_failures = r.answers.count(query_status::format_failure);
  s.empty_answers = r.answers.count(query_status::empty);
  s.errors = r.answers.count(query_status::error);
  if (r.latency.count > 0) {
    report::latency_row l;
    l.count = r.latency.count;
    l.mean_s = r.latency.mean_s;
    l.p50_s = r.latency.p50_s;
    l.p95_s = r.latency.p95_s;
    l.queries_per_s = r.latency.queries_per_s;
    s.latency = l;
  }
  s.top1_ious.reserve(r.outcomes.size());
  for (const auto& o : r.outcomes) s.top1_ious.push_back(o.top1_iou);
  return s;
}

inline report::paired_summary summarize_pair(const comparison_result& c, const std::string& a,
                                             const std::string& b) {
  report::paired_summary p;
  p.run_a = a;
  p.run_b = b;
  p.phrases = c.phrases;
  p.images = c.images;
  p.both_right = c.mcnemar.both;
  p.a_only = c.mcnemar.a_only;
  p.b_only = c.mcnemar.b_only;
  p.neither = c.mcnemar.neither;
  p.mcnemar_p = c.mcnemar.p_value;
  p.confidence = c.options.confidence;
  p.bootstrap_samples = c.options.bootstrap_samples;
  for (const auto& rc : c.recall) {
    report::paired_recall x;
    x.k = rc.k;
    x.a = {rc.ci.a.estimate, rc.ci.a.lower, rc.ci.a.upper};
    x.b = {rc.ci.b.estimate, rc.ci.b.lower, rc.ci.b.upper};
    x.difference = {rc.ci.diff.estimate, rc.ci.diff.lower, rc.ci.diff.upper};
    p.recall.push_back(x);
  }
  for (const auto& t : c.types) p.types.push_back({t.type, t.phrases, t.a, t.b, t.delta});
  for (std::size_t k = 0; k < case_kind_count; ++k)
    p.cases.push_back({std::string(to_string(static_cast<case_kind>(k))), c.case_counts[k]});
  return p;
}

struct loaded_run {
  std::filesystem::path dir;
  std::string name;
  run_manifest manifest;
  prediction_set predictions;  ///< only the answers the overlays draw
  evaluation_result result;
};

inline int run(const std::vector<std::string>& args) {
  std::vector<std::filesystem::path> dirs;
  std::string out, title = "groundeval report";
  evaluation_cli_options eo;  // --split defaults to the manifest's
  bool quiet = false, blank_canvas = false;
  std::vector<std::string> user_notes;
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
      user_notes.push_back(a.value());
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
  const evaluation_options& eopt = eo.eval;
  const std::string &dataset = eo.dataset, &split = eo.split;

  std::vector<loaded_run> runs;
  std::set<std::string> names;
  for (const auto& d : dirs) {
    loaded_run r;
    r.dir = d;
    const auto mp = d / "manifest.json";
    if (!std::filesystem::exists(mp))
      throw error(error_kind::io, mp.string(), 0, "missing (not a run directory?)");
    r.manifest = read_manifest(mp);
    std::string base = std::filesystem::path(d).lexically_normal().filename().string();
    if (base.empty() || base == ".")
      base = std::filesystem::absolute(d).lexically_normal().parent_path().filename().string();
    if (base.empty()) base = "run";
    r.name = base;
    for (int n = 2; names.contains(r.name); ++n) r.name = base + "-" + std::to_string(n);
    names.insert(r.name);
    runs.push_back(std::move(r));
  }

  // One data set for all runs: the first run's (or --dataset); the others must agree.
  std::string warning;
  const loaded_dataset data = load_run_dataset(
      runs[0].manifest, (runs[0].dir / "manifest.json").string(), dataset, split, &warning);
  std::vector<std::string> notes = user_notes;
  if (!warning.empty()) notes.push_back(warning);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    for (const char* k : {"dataset", "split", "selection", "dataset_content_hash"}) {
      auto a = runs[0].manifest.find(k), b = runs[i].manifest.find(k);
      const std::string va = a == runs[0].manifest.end() ? "" : a->second;
      const std::string vb = b == runs[i].manifest.end() ? "" : b->second;
      if (va != vb && dataset.empty())
        throw error(error_kind::config, (runs[i].dir / "manifest.json").string(), 0,
                    std::string("\"") + k + "\" is '" + vb + "' but '" + va + "' in " +
                        (runs[0].dir / "manifest.json").string() +
                        "; a report compares runs on the same data (or pass --dataset to "
                        "evaluate all of them on one data set)");
    }
  }
  for (auto& r : runs) {
    const auto pp = r.dir / "predictions.jsonl";
    // Streamed: memory does not grow with the file (docs/metrics.md); the few answers the
    // overlays need are read again below.
    r.result = evaluate_predictions_file(data.dataset, pp.string(), eopt);
    if (r.result.warnings.missing_phrases > 0)
      notes.push_back(r.name + ": " + std::to_string(r.result.warnings.missing_phrases) +
                      " phrases have no answer and count as misses (a partial run)");
  }

  report::report_input in;
  in.title = title;
  for (const auto& r : runs) {
    auto g = r.manifest.find("grounder_spec");
    in.runs.push_back(summarize(r.result, r.name,
                                g == r.manifest.end() ? std::string("?") : g->second,
                                data.description + " (" + data.split + ")"));
    auto l = r.manifest.find("latency");  // absent in runs made before the key existed
    in.runs.back().in_process = l != r.manifest.end() && l->second == "in-process";
  }

  // Pairs and qualitative cases.
  std::map<std::tuple<std::string, long long, std::size_t>, const sample*> by_key;
  for (const sample& s : data.dataset)
    for (std::size_t k = 0; k < s.phrases.size(); ++k)
      by_key[{s.image_id, s.sentence_index, k}] = &s;
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      const comparison_result c = compare_runs(data.dataset, runs[i].result, runs[j].result);
      in.pairs.push_back(summarize_pair(c, runs[i].name, runs[j].name));
      for (const auto& q : c.cases) {
        report::gallery_case g;
        const std::string kind(to_string(q.kind));
        g.category =
            (q.kind == case_kind::a_format_failure || q.kind == case_kind::b_format_failure)
                ? std::string("format_failure")
                : kind;
        g.run_a = runs[i].name;
        g.run_b = runs[j].name;
        g.image_id = q.image_id;
        g.sentence_index = q.sentence_index;
        g.phrase_index = q.phrase_index;
        g.phrase = q.phrase;
        auto it = by_key.find({q.image_id, q.sentence_index, q.phrase_index});
        if (it != by_key.end()) g.sentence = it->second->sentence;
        const bool a_fail = q.kind == case_kind::a_format_failure;
        const bool b_fail = q.kind == case_kind::b_format_failure;
        g.ious = {{runs[i].name, a_fail ? report::not_available : q.iou_a},
                  {runs[j].name, b_fail ? report::not_available : q.iou_b}};
        in.cases.push_back(std::move(g));
      }
    }

  // Overlays, when the images exist.
  std::size_t drawn = 0, no_image = 0, on_canvas = 0;
#ifdef GROUNDEVAL_CLI_HAVE_PNG
  std::optional<report::font> font;
  std::vector<std::string> run_names;
  for (const auto& r : runs) run_names.push_back(r.name);
  std::map<std::string, std::size_t> run_index;
  for (std::size_t i = 0; i < runs.size(); ++i) run_index[runs[i].name] = i;
  std::vector<std::map<std::tuple<std::string, long long, std::size_t>, const query_result*>>
      answers(runs.size());
  std::set<std::tuple<std::string, long long, std::size_t>> wanted;
  for (const auto& g : in.cases) wanted.insert({g.image_id, g.sentence_index, g.phrase_index});
  for (std::size_t i = 0; i < runs.size(); ++i) {
    runs[i].predictions = read_jsonl_predictions_if(
        (runs[i].dir / "predictions.jsonl").string(), [&](const phrase_prediction_record& p) {
          return wanted.count({p.image_id, p.sentence_id, p.phrase_index}) > 0;
        });
    for (const auto& p : runs[i].predictions.phrases)  // the first record of a phrase wins
      answers[i].emplace(std::tuple{p.image_id, p.sentence_id, p.phrase_index}, &p.result);
  }
  for (auto& g : in.cases) {
    auto it = by_key.find({g.image_id, g.sentence_index, g.phrase_index});
    if (it == by_key.end()) continue;
    const sample& s = *it->second;
    const std::string path = data.dataset.image_path(s);
    std::error_code ec;
    report::rgb_image photo;
    if (path.empty() || !std::filesystem::exists(path, ec)) {
      const int w = s.size.width, h = s.size.height;
      if (!blank_canvas || w <= 0 || h <= 0 || w > 8192 || h > 8192) {
        ++no_image;
        continue;
      }
      // A blank canvas of the image's size, clearly labelled, instead of the missing photo.
      if (!font) font = report::font::load_default();
      photo = report::rgb_image::filled(w, h, report::rgb{0xE8, 0xE8, 0xE8});
      const float px = std::max(14.0f, static_cast<float>(w) / 22.0f);
      font->draw(photo, 6, 6, "no image available", px, report::rgb{0x60, 0x60, 0x60});
      font->draw(photo, 6, 6 + font->line_height(px), "(blank canvas of the image size)", px,
                 report::rgb{0x60, 0x60, 0x60});
      ++on_canvas;
    } else {
      int w = 0, h = 0, ch = 0;
      unsigned char* px = stbi_load(path.c_str(), &w, &h, &ch, 3);
      if (!px) {
        notes.push_back(path + ": cannot decode the image; case listed without an overlay");
        ++no_image;
        continue;
      }
      try {
        photo = report::make_rgb_image(px, w, h, 3);
      } catch (...) {
        stbi_image_free(px);
        throw;
      }
      stbi_image_free(px);
    }
    if (!font) font = report::font::load_default();
    std::vector<report::overlay_box> boxes;
    for (const auto& b : s.phrases[g.phrase_index].boxes)
      boxes.push_back({b, report::ground_truth_color});
    for (const auto& [name, iou] : g.ious) {
      const std::size_t ri = run_index[name];
      auto at = answers[ri].find({g.image_id, g.sentence_index, g.phrase_index});
      if (at != answers[ri].end() && !at->second->boxes.empty())
        boxes.push_back({at->second->boxes.front().box, report::run_color(ri)});
    }
    g.png = report::case_png_path(g);
    const auto im = report::render_overlay(photo, boxes, report::case_caption(g, run_names), *font);
    const auto target = std::filesystem::path(out) / g.png;
    std::filesystem::create_directories(target.parent_path());
    report::write_png(im, target);
    ++drawn;
  }
#else
  (void)blank_canvas;
  no_image = in.cases.size();
  if (!in.cases.empty())
    notes.push_back("this groundeval was built without PNG support (libstb): no case overlays");
#endif
  if (on_canvas > 0)
    notes.push_back(std::to_string(on_canvas) +
                    " qualitative cases are drawn on a blank canvas labelled \"no image "
                    "available\": their images are not on disk");
  if (no_image > 0)
    notes.push_back(std::to_string(no_image) +
                    " qualitative cases are listed without an overlay: their images are not on "
                    "disk (e.g. a synthetic data set, or the images were not downloaded)");

  in.generated = "generated " + utc_now() + " by groundeval report; data set " + data.description +
                 " (" + data.split + ")";
  for (const auto& n : notes) in.generated += ". Note: " + n;
  if (data.description.rfind("flickr30k:", 0) == 0 &&
      std::filesystem::exists(std::filesystem::path(data.description.substr(10)) /
                              "SYNTHETIC.txt")) {
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
