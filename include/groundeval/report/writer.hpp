// SPDX-License-Identifier: Apache-2.0
// groundeval/report/writer.hpp — the report files: one self-contained HTML page (inline CSS and
// SVG, no script, no network), report.md and report.json with the same numbers.
// Target: groundeval::core (standard library only). docs/report.md describes the formats.
#pragma once

#include <groundeval/config.hpp>
#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>
#include <groundeval/report/charts.hpp>
#include <groundeval/report/palette.hpp>
#include <groundeval/report/summary.hpp>
#include <groundeval/report/text.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::report {

/// Checks names and references: run names non-empty and unique, pairs name existing runs,
/// gallery PNG paths relative and inside the report directory. Throws error_kind::invalid.
inline void validate(const report_input& in);

/// The HTML page (calls validate).
inline std::string render_html(const report_input& in);
/// The Markdown report (calls validate).
inline std::string render_markdown(const report_input& in);
/// The JSON report (calls validate); schema "groundeval-report" version 1, see docs/report.md.
inline std::string render_json(const report_input& in);

/// Writes DIR/index.html, DIR/report.md and DIR/report.json (creating DIR). The gallery PNGs are
/// written separately (report/png/overlay.hpp) under DIR at each case's `png` path.
inline void write_report(const report_input& in, const std::filesystem::path& dir);

/// A safe relative file name for a case overlay: "cases/<category>-<image>-<sentence>-<phrase>-
/// <hash>.png" where characters of the category and image id other than [A-Za-z0-9_-] become '_'
/// (so no dot, slash or colon) and <hash> (8 hex
/// digits of FNV-1a) keeps distinct ids distinct.
inline std::string case_png_path(const gallery_case& c);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline std::string report_safe_name(std::string_view s, std::size_t max_len = 40) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max_len) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty()) out = "_";
  return out;
}

/// Percent-encodes a relative path for a URL attribute (slashes kept).
inline std::string report_url_path(std::string_view p) {
  std::string out;
  for (char c : p) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '/' || c == '~';
    if (ok) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned>(u));
      out += buf;
    }
  }
  return out;
}

/// Union of the category names of all runs, in order of first appearance.
template <class Get>
std::vector<std::string> report_union(const report_input& in, Get get) {
  std::vector<std::string> out;
  for (const auto& r : in.runs)
    for (const auto& name : get(r))
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

inline std::vector<std::string> report_types(const report_input& in) {
  return report_union(in, [](const run_summary& r) {
    std::vector<std::string> v;
    for (const auto& t : r.by_type) v.push_back(t.category);
    return v;
  });
}

inline std::vector<std::string> report_buckets(const report_input& in) {
  return report_union(in, [](const run_summary& r) {
    std::vector<std::string> v;
    for (const auto& t : r.by_size) v.push_back(t.bucket);
    return v;
  });
}

inline const recall_row* report_find_type(const run_summary& r, std::string_view t) {
  for (const auto& x : r.by_type)
    if (x.category == t) return &x;
  return nullptr;
}

inline const size_row* report_find_bucket(const run_summary& r, std::string_view b) {
  for (const auto& x : r.by_size)
    if (x.bucket == b) return &x;
  return nullptr;
}

/// One bar-chart series per run: the Recall@1 of each group (phrase type or size bucket) in the
/// row find(run, group) gives, NaN where the run has none.
template <class Find>
std::vector<chart_series> report_r1_series(const report_input& in,
                                           const std::vector<std::string>& groups, Find find) {
  std::vector<chart_series> series;
  for (std::size_t i = 0; i < in.runs.size(); ++i) {
    chart_series s{in.runs[i].name, run_color(i), {}};
    for (const auto& g : groups) {
      const auto* row = find(in.runs[i], g);
      s.values.push_back(row ? row->r_at_1 : not_available);
    }
    series.push_back(std::move(s));
  }
  return series;
}

/// Recall@1 of a row in percent, then its number of phrases between `open` and `close`.
template <class Row>
std::string report_r1_count(const Row& row, std::string_view open, std::string_view close) {
  std::string s = format_percent(row.r_at_1);
  s += open;
  s += std::to_string(row.phrases);
  s += close;
  return s;
}

inline std::string report_threshold_label(double t) { return format_fixed(t, 1); }

/// Whether the report shows the run's latency: measured, and by a grounder that is not
/// in-process.
inline bool report_has_latency(const run_summary& r) { return r.latency && !r.in_process; }

/// The latency columns: mean, p50 and p95 in seconds and queries per second; "—" when not
/// measured, "— (in-process)" first for an in-process grounder.
inline std::array<std::string, 4> report_latency_cells(const run_summary& r) {
  const std::string none = "\xE2\x80\x94";
  if (!report_has_latency(r))
    return {r.in_process ? none + " (in-process)" : none, none, none, none};
  const latency_row& l = *r.latency;
  return {format_fixed(l.mean_s, 3), format_fixed(l.p50_s, 3), format_fixed(l.p95_s, 3),
          format_fixed(l.queries_per_s, 2)};
}

/// A sentence on the runs whose grounder answers in-process, when there are any.
inline std::string report_in_process_note(const report_input& in) {
  for (const auto& r : in.runs)
    if (r.in_process)
      return " In-process grounders (baselines, oracles, replays of stored answers) take "
             "microseconds per query, which measures no model: their latency is not shown.";
  return {};
}

inline std::string report_bootstrap_note(const paired_summary& p) {
  if (p.bootstrap_samples == 0) return "Point estimates only (no bootstrap intervals computed)";
  return format_fixed(100 * p.confidence, 0) + "% image-level percentile bootstrap intervals (" +
         std::to_string(p.bootstrap_samples) + " samples)";
}

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

inline std::string case_png_path(const gallery_case& c) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](std::string_view s) {
    h = ::groundeval::detail::fnv1a64("\xff", ::groundeval::detail::fnv1a64(s, h));
  };
  mix(c.category);
  mix(c.run_a);
  mix(c.run_b);
  mix(c.image_id);
  mix(std::to_string(c.sentence_index));
  mix(std::to_string(c.phrase_index));
  char hex[12];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(h & 0xffffffffu));
  return "cases/" + detail::report_safe_name(c.category, 20) + "-" +
         detail::report_safe_name(c.image_id) + "-" + std::to_string(c.sentence_index) + "-" +
         std::to_string(c.phrase_index) + "-" + hex + ".png";
}

inline void validate(const report_input& in) {
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < in.runs.size(); ++i) {
    const auto& n = in.runs[i].name;
    if (n.empty())
      throw error(error_kind::invalid, "report: run " + std::to_string(i + 1) + " has no name");
    if (!names.insert(n).second)
      throw error(error_kind::invalid, "report: two runs are named '" + n + "'");
  }
  for (const auto& p : in.pairs)
    for (const auto* n : {&p.run_a, &p.run_b})
      if (!names.contains(*n))
        throw error(error_kind::invalid,
                    "report: a paired comparison refers to an unknown run '" + *n + "'");
  for (const auto& c : in.cases) {
    const std::string item = "report case " + c.image_id + "/" + std::to_string(c.sentence_index) +
                             "/" + std::to_string(c.phrase_index);
    if (c.png.empty()) continue;
    const std::filesystem::path p(c.png);
    bool bad = p.is_absolute() || c.png.find(':') != std::string::npos ||
               c.png.find('\\') != std::string::npos;
    for (const auto& part : p)
      if (part == "..") bad = true;
    if (bad)
      throw error(error_kind::invalid, item, 0,
                  "the overlay path '" + c.png + "' must be relative to the report directory");
  }
}

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
  h += "<th>Acc@<wbr>0.5:0.95</th></tr>\n";
  for (const auto& r : in.runs) {
    h += "<tr><td class=\"l\">" + report_run_cell(in, r.name) + "</td><td class=\"l spec\">" +
         html_escape(r.grounder) + "</td>";
    if (!one_dataset) h += "<td class=\"l spec\">" + html_escape(r.dataset) + "</td>";
    h += "<td>" + std::to_string(r.images) + "</td><td>" + std::to_string(r.phrases) + "</td>";
    for (double v : {r.overall.r_at_1, r.overall.r_at_5, r.overall.r_at_10, r.overall.upper_bound})
      h += "<td>" + format_percent(v) + "</td>";
    h += "<td>" + format_fixed(r.mean_iou, 3) + "</td>";
    for (double v : r.accuracy_at) h += "<td>" + format_percent(v) + "</td>";
    h += "<td>" + format_percent(r.accuracy_50_95) + "</td></tr>\n";
  }
  h += "</table></div>\n<p class=\"meta\">Recall and accuracy in percent. R@k: a ground-truth box "
       "of the phrase is among the top k boxes at IoU &ge; 0.5; upper bound: among all proposals. "
       "Acc@t: top-1 IoU &ge; t.</p>\n";
  h += "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Run</th><th>Format failures</th>"
       "<th>Empty</th><th>Errors</th><th>Latency mean (s)</th><th>p50 (s)</th><th>p95 (s)</th>"
       "<th>Queries/s</th></tr>\n";
  for (const auto& r : in.runs) {
    h += "<tr><td class=\"l\">" + report_run_cell(in, r.name) + "</td><td>" +
         std::to_string(r.format_failures) + "</td><td>" + std::to_string(r.empty_answers) +
         "</td><td>" + std::to_string(r.errors) + "</td>";
    for (const auto& c : detail::report_latency_cells(r)) h += "<td>" + c + "</td>";
    h += "</tr>\n";
  }
  h += "</table></div>\n<p class=\"meta\">Answers per status (format failures: the answer could "
       "not be parsed into boxes) and the grounder's time per query.";
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
         ", neither " + std::to_string(p.neither) + "; p = " + format_p_value(p.mcnemar_p) +
         ".</p>\n";
    h += "<table>\n<tr><th class=\"l\">Recall</th><th>A</th><th>B</th><th>B &minus; A</th></tr>\n";
    for (const auto& rc : p.recall) {
      auto ci = [](const interval_row& x, bool diff) {
        auto f = diff ? format_points : format_percent;
        return f(x.estimate) + " <span class=\"meta\">[" + f(x.lower) + ", " + f(x.upper) +
               "]</span>";
      };
      h += "<tr><td class=\"l\">R@" + std::to_string(rc.k) + "</td><td>" + ci(rc.a, false) +
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
      h += "</figcaption></figure>\n";
    }
    h += "</div>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

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
  m += " Acc@0.5:0.95 | Format failures | Empty | Errors | Latency mean (s) | p50 (s) | p95 (s) | "
       "Queries/s |\n|---|---|---|";
  for (int i = 0; i < 20; ++i) m += "---:|";
  m += "\n";
  for (const auto& r : in.runs) {
    m += "| " + e(r.name) + " | " + e(r.grounder) + " | " + e(r.dataset) + " | " +
         std::to_string(r.images) + " | " + std::to_string(r.phrases) + " |";
    for (double v : {r.overall.r_at_1, r.overall.r_at_5, r.overall.r_at_10, r.overall.upper_bound})
      cell(m, format_percent(v));
    cell(m, format_fixed(r.mean_iou, 3));
    for (double v : r.accuracy_at) cell(m, format_percent(v));
    cell(m, format_percent(r.accuracy_50_95));
    for (std::uint64_t v : {r.format_failures, r.empty_answers, r.errors})
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
  m += "\nRecall and accuracy in percent.";
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
         ", neither " + std::to_string(p.neither) + "; p = " + format_p_value(p.mcnemar_p) +
         ".\n\n| Recall | A | B | B − A |\n|---|---:|---:|---:|\n";
    for (const auto& rc : p.recall) {
      auto ci = [](const interval_row& x, bool diff) {
        auto f = diff ? format_points : format_percent;
        return f(x.estimate) + " [" + f(x.lower) + ", " + f(x.upper) + "]";
      };
      m += "| R@" + std::to_string(rc.k) + " | " + ci(rc.a, false) + " | " + ci(rc.b, false) +
           " | " + ci(rc.difference, true) + " |\n";
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
    if (!c.png.empty()) m += "\n![" + e(c.phrase) + "](" + detail::report_url_path(c.png) + ")\n";
  }
  return m;
}

inline std::string render_json(const report_input& in) {
  validate(in);
  std::string j = "{\n  \"format\": \"groundeval-report\",\n  \"version\": 1,\n  \"groundeval\": ";
  json_quote(j, version_string);
  // Every member is written as `sep` (what comes before it) followed by "key": value.
  auto key = [&j](std::string_view sep, std::string_view k) {
    j += sep;
    json_quote(j, k);
    j += ": ";
  };
  auto str = [&](std::string_view sep, std::string_view k, std::string_view v) {
    key(sep, k);
    json_quote(j, v);
  };
  auto num = [&](std::string_view sep, std::string_view k, double v) {
    key(sep, k);
    json_number(j, v);
  };
  auto cnt = [&](std::string_view sep, std::string_view k, std::uint64_t v) {
    key(sep, k);
    json_number(j, v);
  };
  // A JSON array of n items: `first` before item 0, `sep` before the others, each(t) writes t.
  auto list = [&j](std::size_t n, std::string_view first, std::string_view sep, auto each) {
    j += "[";
    for (std::size_t t = 0; t < n; ++t) {
      j += t ? sep : first;
      each(t);
    }
    j += "]";
  };
  // Member `k`: an array of one object per element of `v`, each(x, i) writing the members of
  // element i. A top-level array puts each object on a line of its own; a nested one (in a run
  // or a pair) keeps them on the member's line.
  enum class layout { top, nested };
  auto objects = [&](layout l, std::string_view k, const auto& v, auto each) {
    const bool top = l == layout::top;
    key(top ? ",\n  " : ",\n     ", k);
    list(v.size(), top ? "\n    {" : "{", top ? ",\n    {" : ", {", [&](std::size_t i) {
      each(v[i], i);
      j += "}";
    });
  };
  auto numbers = [&](const auto& v) {
    list(v.size(), "", ", ", [&](std::size_t t) { json_number(j, static_cast<double>(v[t])); });
  };
  auto recall = [&](const recall_row& r) {
    str("{", "category", r.category);
    cnt(", ", "phrases", r.phrases);
    num(", ", "recall_at_1", r.r_at_1);
    num(", ", "recall_at_5", r.r_at_5);
    num(", ", "recall_at_10", r.r_at_10);
    num(", ", "upper_bound", r.upper_bound);
    j += "}";
  };
  auto interval = [&](std::string_view sep, std::string_view k, const interval_row& x) {
    key(sep, k);
    num("{", "estimate", x.estimate);
    num(", ", "lower", x.lower);
    num(", ", "upper", x.upper);
    j += "}";
  };
  str(",\n  ", "title", in.title);
  str(",\n  ", "generated", in.generated);
  key(",\n  ", "accuracy_thresholds");
  numbers(accuracy_thresholds);
  objects(layout::top, "runs", in.runs, [&](const run_summary& r, std::size_t i) {
    str("", "name", r.name);
    str(", ", "grounder", r.grounder);
    str(", ", "dataset", r.dataset);
    str(", ", "color", to_hex(run_color(i)));
    cnt(",\n     ", "images", r.images);
    cnt(", ", "sentences", r.sentences);
    cnt(", ", "phrases", r.phrases);
    key(",\n     ", "overall");
    recall(r.overall);
    key(",\n     ", "by_type");
    list(r.by_type.size(), "\n       ", ",\n       ", [&](std::size_t t) { recall(r.by_type[t]); });
    num(",\n     ", "mean_iou", r.mean_iou);
    key(", ", "accuracy_at");
    numbers(r.accuracy_at);
    num(", ", "accuracy_50_95", r.accuracy_50_95);
    objects(layout::nested, "by_size", r.by_size, [&](const size_row& b, std::size_t) {
      str("", "bucket", b.bucket);
      cnt(", ", "phrases", b.phrases);
      num(", ", "recall_at_1", b.r_at_1);
      num(", ", "mean_iou", b.mean_iou);
    });
    cnt(",\n     ", "format_failures", r.format_failures);
    cnt(", ", "empty_answers", r.empty_answers);
    cnt(", ", "errors", r.errors);
    key(",\n     ", "latency");
    if (detail::report_has_latency(r)) {
      cnt("{", "count", r.latency->count);
      num(", ", "mean_s", r.latency->mean_s);
      num(", ", "p50_s", r.latency->p50_s);
      num(", ", "p95_s", r.latency->p95_s);
      num(", ", "queries_per_s", r.latency->queries_per_s);
      j += "}";
    } else {
      j += "null";
    }
    key(", ", "in_process");
    j += r.in_process ? "true" : "false";
    cnt(",\n     ", "top1_iou_count", r.top1_ious.size());
    key(", ", "top1_iou_cdf");
    numbers(cdf_grid(r.top1_ious));
  });
  objects(layout::top, "pairs", in.pairs, [&](const paired_summary& p, std::size_t) {
    str("", "run_a", p.run_a);
    str(", ", "run_b", p.run_b);
    cnt(", ", "phrases", p.phrases);
    cnt(", ", "images", p.images);
    key(",\n     ", "mcnemar");
    cnt("{", "both_right", p.both_right);
    cnt(", ", "a_only", p.a_only);
    cnt(", ", "b_only", p.b_only);
    cnt(", ", "neither", p.neither);
    num(", ", "p_value", p.mcnemar_p);
    num("},\n     ", "confidence", p.confidence);
    cnt(", ", "bootstrap_samples", p.bootstrap_samples);
    objects(layout::nested, "recall", p.recall, [&](const paired_recall& rc, std::size_t) {
      key("", "k");
      j += std::to_string(rc.k);
      interval(", ", "a", rc.a);
      interval(", ", "b", rc.b);
      interval(", ", "difference", rc.difference);
    });
    objects(layout::nested, "types", p.types, [&](const type_delta_row& x, std::size_t) {
      str("", "type", x.type);
      cnt(", ", "phrases", x.phrases);
      num(", ", "a", x.a);
      num(", ", "b", x.b);
      num(", ", "delta", x.delta);
    });
    key(",\n     ", "cases");
    j += "{";
    for (std::size_t t = 0; t < p.cases.size(); ++t)
      cnt(t ? ", " : "", p.cases[t].category, p.cases[t].count);
    j += "}";
  });
  objects(layout::top, "cases", in.cases, [&](const gallery_case& c, std::size_t) {
    str("", "category", c.category);
    str(", ", "run_a", c.run_a);
    str(", ", "run_b", c.run_b);
    str(", ", "image_id", c.image_id);
    key(", ", "sentence_index");
    j += std::to_string(c.sentence_index);
    key(", ", "phrase_index");
    j += std::to_string(c.phrase_index);
    str(",\n     ", "sentence", c.sentence);
    str(", ", "phrase", c.phrase);
    key(", ", "iou");
    j += "{";
    for (std::size_t t = 0; t < c.ious.size(); ++t)
      num(t ? ", " : "", c.ious[t].first, c.ious[t].second);
    j += "}";
    str(", ", "png", c.png);
  });
  j += "\n}\n";
  return j;
}

inline void write_report(const report_input& in, const std::filesystem::path& dir) {
  const std::string html = render_html(in), md = render_markdown(in), json = render_json(in);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::io, dir.string(), 0,
                "cannot create the report directory: " + ec.message());
  for (const auto& [name, text] : {std::pair<const char*, const std::string*>{"index.html", &html},
                                   {"report.md", &md},
                                   {"report.json", &json}}) {
    const auto p = dir / name;
    std::ofstream os(p, std::ios::binary | std::ios::trunc);
    os << *text;
    os.close();
    if (!os) throw error(error_kind::io, p.string(), 0, "cannot write");
  }
}

}  // namespace groundeval::report
