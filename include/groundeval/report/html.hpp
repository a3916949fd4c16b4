// SPDX-License-Identifier: Apache-2.0
// groundeval/report/html.hpp — the report as one self-contained HTML page (inline CSS and SVG
// charts, no script, no network). Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/report/common.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval::report {

/// The HTML page (calls validate).
inline std::string render_html(const report_input& in);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline const char* report_css() {
  return R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
.meta{color:#666;font-size:.9em}nav a{margin-right:1em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.l,th.l{text-align:left}td.spec{min-width:10em;max-width:14em;overflow-wrap:anywhere}tr>td:first-child{white-space:nowrap}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.35em;vertical-align:baseline}
.scroll{overflow-x:auto}
svg.chart{font-size:11px;font-family:inherit;margin:.5em 1em .5em 0}
svg.chart .grid{stroke:#e4e4e4}svg.chart .axis{stroke:#888}svg.chart text{fill:#333}
.gallery{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;width:320px;border:1px solid #ddd;padding:.5em;background:#fafafa}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85em;margin-top:.4em;overflow-wrap:anywhere}
.cat{font-weight:600;text-transform:uppercase;font-size:.75em;color:#555}
)";
}

inline std::string report_run_cell(const report_input& in, std::string_view name) {
  for (std::size_t i = 0; i < in.runs.size(); ++i)
    if (in.runs[i].name == name)
      return "<span class=\"swatch\" style=\"background:" + to_hex(run_color(i)) + "\"></span>" +
             html_escape(name);
  return html_escape(name);
}
}  // namespace detail

inline std::string render_html(const report_input& in) {
  validate(in);
  using detail::report_run_cell;
  const auto types = detail::report_types(in);
  const auto buckets = detail::report_buckets(in);
  std::string h;
  h.reserve(1 << 16);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta name=\"generator\" content=\"groundeval ";
  h += version_string;
  h += "\">\n<title>" + html_escape(in.title) + "</title>\n<style>\n";
  h += detail::report_css();
  h += "</style>\n</head>\n<body>\n<h1>" + html_escape(in.title) + "</h1>\n";
  h += "<p class=\"meta\">groundeval " + std::string(version_string);
  if (!in.generated.empty()) h += " \xC2\xB7 " + html_escape(in.generated);
  h += "</p>\n<nav><a href=\"#runs\">Runs</a><a href=\"#types\">Phrase types</a>"
       "<a href=\"#iou\">IoU distribution</a><a href=\"#sizes\">Box sizes</a>"
       "<a href=\"#paired\">Paired statistics</a><a href=\"#cases\">Qualitative cases</a></nav>\n";

  // ---- comparison table: accuracy, then answers and latency (two tables, so that each fits a
  // 1280 px wide window); the data set once above them when all runs share it.
  bool one_dataset = true;
  for (const auto& r : in.runs) one_dataset = one_dataset && r.dataset == in.runs.front().dataset;
  h += "<h2 id=\"runs\">Runs</h2>\n";
  if (one_dataset && !in.runs.empty())
    h += "<p>Data set: " + html_escape(in.runs.front().dataset) + "</p>\n";
  h += "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Run</th><th class=\"l\">Grounder</th>";
  if (!one_dataset) h += "<th class=\"l\">Data set</th>";
  h += "<th>Images</th><th>Phrases</th><th>R@1</th><th>R@5</th><th>R@10</th><th>Upper bound</th>"
       "<th>Mean IoU</th>";
  for (double t : accuracy_thresholds)
    h += "<th>Acc@<wbr>" + detail::report_threshold_label(t) + "</th>";  // may wrap after '@'
  h += "<th>Acc@<wbr>0.5:0.95</th><th>Pointing game</th></tr>\n";
  for (const auto& r : in.runs) {
    h += "<tr><td class=\"l\">" + report_run_cell(in, r.name) + "</td><td class=\"l spec\">" +
         html_escape(r.grounder) + "</td>";
    if (!one_dataset) h += "<td class=\"l spec\">" + html_escape(r.dataset) + "</td>";
    h += "<td>" + std::to_string(r.images) + "</td><td>" + std::to_string(r.phrases) + "</td>";
    for (double v : {r.overall.r_at_1, r.overall.r_at_5, r.overall.r_at_10, r.overall.upper_bound})
      h += "<td>" + format_percent(v) + "</td>";
    h += "<td>" + format_fixed(r.mean_iou, 3) + "</td>";
    for (double v : r.accuracy_at) h += "<td>" + format_percent(v) + "</td>";
    h += "<td>" + format_percent(r.accuracy_50_95) + "</td><td>" +
         format_percent(r.overall.pointing_game) + "</td></tr>\n";
  }
  h += "</table></div>\n<p class=\"meta\">Recall and accuracy in percent. R@k: a ground-truth box "
       "of the phrase is among the top k boxes (hit when " +
       html_escape(report_hit_rules(in.runs)) +
       "); upper bound: among all proposals. Acc@t: top-1 IoU &ge; t. Pointing game: the top "
       "point (a point answer's first point, else the top-1 box centre) lies in a ground-truth "
       "box.</p>\n";
  h += "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Run</th><th>Format failures</th>"
       "<th>Empty</th><th>Errors</th><th>Point answers</th><th>Latency mean (s)</th><th>p50 "
       "(s)</th><th>p95 (s)</th>"
       "<th>Queries/s</th></tr>\n";
  for (const auto& r : in.runs) {
    h += "<tr><td class=\"l\">" + report_run_cell(in, r.name) + "</td><td>" +
         std::to_string(r.format_failures) + "</td><td>" + std::to_string(r.empty_answers) +
         "</td><td>" + std::to_string(r.errors) + "</td><td>" + std::to_string(r.point_answers) +
         "</td>";
    for (const auto& c : detail::report_latency_cells(r)) h += "<td>" + c + "</td>";
    h += "</tr>\n";
  }
  h += "</table></div>\n<p class=\"meta\">Answers per status (format failures: the answer could "
       "not be parsed into boxes; point answers: points and no box, misses for recall and IoU) and "
       "the grounder's time per query.";
  h += detail::report_in_process_note(in);
  h += "</p>\n\n";

  // The rows of a per-group table (phrase types, size buckets) and its end: the group, then the
  // cells `cells` gives for each run's row of it (nullptr when the run has none).
  auto group_rows = [&](const std::vector<std::string>& groups, auto find, auto cells) {
    for (const auto& g : groups) {
      h += "<tr><td class=\"l\">" + html_escape(g) + "</td>";
      for (const auto& r : in.runs) h += cells(find(r, g));
      h += "</tr>\n";
    }
    h += "</table></div>\n";
  };
  static constexpr std::string_view meta_open = " <span class=\"meta\">(", meta_close = ")</span>";

  // ---- per type
  h += "<h2 id=\"types\">Recall@1 per phrase type</h2>\n";
  {
    const auto series = detail::report_r1_series(in, types, detail::report_find_type);
    h += "<div class=\"scroll\">" + svg_bar_chart("Recall@1 per phrase type", types, series) +
         "</div>\n";
    h += "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Type</th>";
    for (const auto& r : in.runs) h += "<th>" + report_run_cell(in, r.name) + "</th>";
    h += "</tr>\n";
    group_rows(types, detail::report_find_type, [](const recall_row* row) {
      return row ? "<td>" + detail::report_r1_count(*row, meta_open, meta_close) + "</td>"
                 : std::string("<td>\xE2\x80\x94</td>");
    });
  }

  // ---- IoU CDF
  h += "<h2 id=\"iou\">Top-1 IoU distribution</h2>\n<p class=\"meta\">Fraction of phrases whose "
       "top-1 box has an IoU at most x with the best-matching ground-truth box (lower curves are "
       "better; a phrase without a box counts as IoU 0).</p>\n";
  {
    std::vector<chart_series> series;
    for (std::size_t i = 0; i < in.runs.size(); ++i)
      series.push_back({in.runs[i].name, run_color(i), in.runs[i].top1_ious});
    h += "<div class=\"scroll\">" +
         svg_cdf_chart("Cumulative distribution of top-1 IoU", "top-1 IoU", series) + "</div>\n";
  }

  // ---- size buckets
  h += "<h2 id=\"sizes\">Ground-truth box size</h2>\n";
  {
    const auto series = detail::report_r1_series(in, buckets, detail::report_find_bucket);
    h += "<div class=\"scroll\">" + svg_bar_chart("Recall@1 per box-size bucket", buckets, series) +
         "</div>\n<div class=\"scroll\"><table>\n<tr><th class=\"l\">Bucket</th>";
    for (const auto& r : in.runs)
      h += "<th>" + report_run_cell(in, r.name) + " R@1</th><th>Mean IoU</th>";
    h += "</tr>\n";
    group_rows(buckets, detail::report_find_bucket, [](const size_row* row) {
      return row ? "<td>" + detail::report_r1_count(*row, meta_open, meta_close) + "</td><td>" +
                       format_fixed(row->mean_iou, 3) + "</td>"
                 : std::string("<td>\xE2\x80\x94</td><td>\xE2\x80\x94</td>");
    });
  }

  // ---- paired statistics
  h += "<h2 id=\"paired\">Paired statistics</h2>\n";
  if (in.pairs.empty()) h += "<p class=\"meta\">No pair of runs to compare.</p>\n";
  for (const auto& p : in.pairs) {
    h += "<h3>" + report_run_cell(in, p.run_a) + " (A) vs " + report_run_cell(in, p.run_b) +
         " (B)</h3>\n<p>" + std::to_string(p.phrases) + " phrases on " + std::to_string(p.images) +
         " images. McNemar's exact test on Recall@1: both right " + std::to_string(p.both_right) +
         ", only A " + std::to_string(p.a_only) + ", only B " + std::to_string(p.b_only) +
         ", neither " + std::to_string(p.neither) + "; " +
         html_escape(format_p_clause(p.mcnemar_p)) + ".</p>\n";
    h += "<table>\n<tr><th class=\"l\">Recall</th><th>A</th><th>B</th><th>B &minus; A</th></tr>\n";
    for (const auto& rc : p.recall) {
      auto ci = [](const interval_row& x, bool diff) {
        auto f = diff ? format_points : format_percent;
        return f(x.estimate) + " <span class=\"meta\">[" + f(x.lower) + ", " + f(x.upper) +
               "]</span>";
      };
      h += "<tr><td class=\"l\">" + recall_label(rc.k) + "</td><td>" + ci(rc.a, false) +
           "</td><td>" + ci(rc.b, false) + "</td><td>" + ci(rc.difference, true) + "</td></tr>\n";
    }
    h += "</table>\n<p class=\"meta\">" + detail::report_bootstrap_note(p) +
         ", in percent and percentage points.</p>\n";
    if (!p.types.empty()) {
      h += "<table>\n<tr><th class=\"l\">Type</th><th>Phrases</th><th>A R@1</th><th>B R@1</th>"
           "<th>B &minus; A</th></tr>\n";
      for (const auto& t : p.types)
        h += "<tr><td class=\"l\">" + html_escape(t.type) + "</td><td>" +
             std::to_string(t.phrases) + "</td><td>" + format_percent(t.a) + "</td><td>" +
             format_percent(t.b) + "</td><td>" + format_points(t.delta) + "</td></tr>\n";
      h += "</table>\n";
    }
    if (!p.cases.empty()) {
      h += "<table>\n<tr><th class=\"l\">Case</th><th>Phrases</th></tr>\n";
      for (const auto& c : p.cases)
        h += "<tr><td class=\"l\">" + html_escape(c.category) + "</td><td>" +
             std::to_string(c.count) + "</td></tr>\n";
      h += "</table>\n";
    }
  }

  // ---- gallery
  h += "<h2 id=\"cases\">Qualitative cases</h2>\n";
  if (in.cases.empty()) {
    h += "<p class=\"meta\">No cases selected.</p>\n";
  } else {
    h +=
        "<p class=\"meta\">Ground truth in <span class=\"swatch\" style=\"background:" +
        to_hex(ground_truth_color) +
        "\"></span>green; each run's top-1 box in the run's colour.</p>\n<div class=\"gallery\">\n";
    for (const auto& c : in.cases) {
      h += "<figure>";
      if (!c.png.empty())
        h += "<img src=\"" + html_escape(detail::report_url_path(c.png)) + "\" alt=\"" +
             html_escape(c.phrase) + "\" loading=\"lazy\">";
      h += "<figcaption><span class=\"cat\">" + html_escape(c.category);
      if (!c.run_a.empty() || !c.run_b.empty())
        h += " \xC2\xB7 " + html_escape(c.run_a) + " vs " + html_escape(c.run_b);
      h += "</span><br><strong>" + html_escape(c.phrase) + "</strong><br>" +
           html_escape(c.sentence) + "<br><span class=\"meta\">" + html_escape(c.image_id) +
           ", sentence " + std::to_string(c.sentence_index) + ", phrase " +
           std::to_string(c.phrase_index) + "</span>";
      for (const auto& [run, iou] : c.ious)
        h += "<br>" + report_run_cell(in, run) + ": IoU " + format_fixed(iou, 2);
      for (const auto& [run, text] : c.raw_answers)
        h += "<br><span class=\"meta\">" + html_escape(run) + " answered:</span> <code>" +
             html_escape(detail::svg_shorten(text, raw_answer_shown_chars)) + "</code>";
      h += "</figcaption></figure>\n";
    }
    h += "</div>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}
}  // namespace groundeval::report
