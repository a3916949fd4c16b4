// SPDX-License-Identifier: Apache-2.0
// groundeval/report/markdown.hpp — the report in Markdown, with the same numbers as the HTML page.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/report/common.hpp>

#include <cstddef>
#include <string>

namespace groundeval::report {

/// The Markdown report (calls validate).
inline std::string render_markdown(const report_input& in) {
  validate(in);
  const auto types = detail::report_types(in);
  const auto buckets = detail::report_buckets(in);
  auto e = [](std::string_view s) { return markdown_escape(s); };
  // Appends " text |" (separate appends: GCC 12 warns falsely on `" " + std::string` chains).
  auto cell = [](std::string& out, const std::string& text) {
    out += ' ';
    out += text;
    out += " |";
  };
  std::string m = "# " + e(in.title) + "\n\n";
  m += "groundeval " + std::string(version_string);
  if (!in.generated.empty()) m += " · " + e(in.generated);
  m += "\n\n## Runs\n\n| Run | Grounder | Data set | Images | Phrases | R@1 | R@5 | R@10 | Upper "
       "bound | Mean IoU |";
  for (double t : accuracy_thresholds) m += " Acc@" + detail::report_threshold_label(t) + " |";
  m += " Acc@0.5:0.95 | Pointing game | Format failures | Empty | Errors | Point answers | Latency "
       "mean (s) | p50 (s) | p95 (s) | Queries/s |\n|---|---|---|";
  for (int i = 0; i < 22; ++i) m += "---:|";
  m += "\n";
  for (const auto& r : in.runs) {
    m += "| " + e(r.name) + " | " + e(r.grounder) + " | " + e(r.dataset) + " | " +
         std::to_string(r.images) + " | " + std::to_string(r.phrases) + " |";
    for (double v : {r.overall.r_at_1, r.overall.r_at_5, r.overall.r_at_10, r.overall.upper_bound})
      cell(m, format_percent(v));
    cell(m, format_fixed(r.mean_iou, 3));
    for (double v : r.accuracy_at) cell(m, format_percent(v));
    cell(m, format_percent(r.accuracy_50_95));
    cell(m, format_percent(r.overall.pointing_game));
    for (std::uint64_t v : {r.format_failures, r.empty_answers, r.errors, r.point_answers})
      cell(m, std::to_string(v));
    for (const auto& c : detail::report_latency_cells(r)) cell(m, c);
    m += "\n";
  }
  // A table with a column group per run: its header (` NAME<suffix> |` and `align` per run), then
  // a row per group (phrase type, size bucket) with the cells `cells` writes for each run's row
  // of it (nullptr when the run has none).
  auto group_table = [&](const std::vector<std::string>& groups, std::string_view suffix,
                         std::string_view align, auto find, auto cells) {
    for (const auto& r : in.runs) {
      m += ' ';  // separate appends: see `cell`
      m += e(r.name);
      m += suffix;
      m += " |";
    }
    m += "\n|---|";
    for (std::size_t i = 0; i < in.runs.size(); ++i) m += align;
    m += "\n";
    for (const auto& g : groups) {
      m += "| " + e(g) + " |";
      for (const auto& r : in.runs) cells(find(r, g));
      m += "\n";
    }
  };
  m += "\nRecall, accuracy and pointing game in percent; hit when " + e(report_hit_rules(in.runs)) +
       ". Pointing game: the top point (a point answer's first point, else the top-1 box centre) "
       "lies in a ground-truth box; point answers: points and no box, misses for recall and "
       "IoU.";
  m += detail::report_in_process_note(in);
  m += "\n\n## Recall@1 per phrase type\n\n| Type |";
  group_table(types, "", "---:|", detail::report_find_type, [&](const recall_row* row) {
    cell(m, row ? detail::report_r1_count(*row, " (", ")") : std::string("—"));
  });
  m += "\n## Top-1 IoU distribution\n\nFraction of phrases with top-1 IoU at most x, in "
       "percent.\n\n| "
       "Run |";
  for (int t = 0; t <= 10; ++t) m += " ≤ " + format_fixed(t / 10.0, 1) + " |";
  m += "\n|---|";
  for (int t = 0; t <= 10; ++t) m += "---:|";
  m += "\n";
  for (const auto& r : in.runs) {
    const auto f = cdf_grid(r.top1_ious, 11);
    m += "| " + e(r.name) + " |";
    for (double v : f) cell(m, format_percent(v));
    m += "\n";
  }
  m += "\n## Ground-truth box size\n\n| Bucket |";
  group_table(buckets, " R@1 | Mean IoU", "---:|---:|", detail::report_find_bucket,
              [&](const size_row* row) {
                cell(m, row ? detail::report_r1_count(*row, " (", ")") : std::string("—"));
                cell(m, row ? format_fixed(row->mean_iou, 3) : std::string("—"));
              });
  m += "\n## Paired statistics\n";
  if (in.pairs.empty()) m += "\nNo pair of runs to compare.\n";
  for (const auto& p : in.pairs) {
    m += "\n### " + e(p.run_a) + " (A) vs " + e(p.run_b) + " (B)\n\n" + std::to_string(p.phrases) +
         " phrases on " + std::to_string(p.images) +
         " images. McNemar's exact test on Recall@1: both right " + std::to_string(p.both_right) +
         ", only A " + std::to_string(p.a_only) + ", only B " + std::to_string(p.b_only) +
         ", neither " + std::to_string(p.neither) + "; " + format_p_clause(p.mcnemar_p) +
         ".\n\n| Recall | A | B | B − A |\n|---|---:|---:|---:|\n";
    for (const auto& rc : p.recall) {
      auto ci = [](const interval_row& x, bool diff) {
        auto f = diff ? format_points : format_percent;
        return f(x.estimate) + " [" + f(x.lower) + ", " + f(x.upper) + "]";
      };
      m += "| " + recall_label(rc.k) + " | " + ci(rc.a, false) + " | " + ci(rc.b, false) + " | " +
           ci(rc.difference, true) + " |\n";
    }
    m += "\n" + detail::report_bootstrap_note(p) + ".\n";
    if (!p.types.empty()) {
      m += "\n| Type | Phrases | A R@1 | B R@1 | B − A |\n|---|---:|---:|---:|---:|\n";
      for (const auto& t : p.types)
        m += "| " + e(t.type) + " | " + std::to_string(t.phrases) + " | " + format_percent(t.a) +
             " | " + format_percent(t.b) + " | " + format_points(t.delta) + " |\n";
    }
    if (!p.cases.empty()) {
      m += "\n| Case | Phrases |\n|---|---:|\n";
      for (const auto& c : p.cases)
        m += "| " + e(c.category) + " | " + std::to_string(c.count) + " |\n";
    }
  }
  m += "\n## Qualitative cases\n";
  if (in.cases.empty()) m += "\nNo cases selected.\n";
  for (const auto& c : in.cases) {
    m += "\n**" + e(c.category) + "**";
    if (!c.run_a.empty() || !c.run_b.empty()) m += " (" + e(c.run_a) + " vs " + e(c.run_b) + ")";
    m += ": **" + e(c.phrase) + "** — " + e(c.sentence) + " — " + e(c.image_id) + ", sentence " +
         std::to_string(c.sentence_index) + ", phrase " + std::to_string(c.phrase_index);
    for (const auto& [run, iou] : c.ious) m += "; " + e(run) + " IoU " + format_fixed(iou, 2);
    m += "\n";
    for (const auto& [run, text] : c.raw_answers) {  // separate appends: see `cell`
      m += '\n';
      m += e(run);
      m += " answered: ";
      m += e(detail::svg_shorten(text, raw_answer_shown_chars));
      m += '\n';
    }
    if (!c.png.empty()) m += "\n![" + e(c.phrase) + "](" + detail::report_url_path(c.png) + ")\n";
  }
  return m;
}
}  // namespace groundeval::report
