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

inline std::string report_threshold_label(double t) { return format_fixed(t, 1); }

inline std::string report_latency(const run_summary& r, double latency_row::*field, int digits) {
  if (!r.latency) return "\xE2\x80\x94";
  return format_fixed((*r.latency).*field, digits);
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
    h += "<td>" + detail::report_latency(r, &latency_row::mean_s, 3) + "</td><td>" +
         detail::report_latency(r, &latency_row::p50_s, 3) + "</td><td>" +
         detail::report_latency(r, &latency_row::p95_s, 3) + "</td><td>" +
         detail::report_latency(r, &latency_row::queries_per_s, 2) + "</td></tr>\n";
  }
  h += "</table></div>\n<p class=\"meta\">Answers per status (format failures: the answer could "
       "not be parsed into boxes) and the grounder's time per query.</p>\n\n";

  // ---- per type
  h += "<h2 id=\"types\">Recall@1 per phrase type</h2>\n";
  {
    std::vector<chart_series> series;
    for (std::size_t i = 0; i < in.runs.size(); ++i) {
      chart_series s{in.runs[i].name, run_color(i), {}};
      for (const auto& t : types) {
        const auto* row = detail::report_find_type(in.runs[i], t);
        s.values.push_back(row ? row->r_at_1 : not_available);
      }
      series.push_back(std::move(s));
    }
    h += "<div class=\"scroll\">" + svg_bar_chart("Recall@1 per phrase type", types, series) +
         "</div>\n";
    h += "<div class=\"scroll\"><table>\n<tr><th class=\"l\">Type</th>";
    for (const auto& r : in.runs) h += "<th>" + report_run_cell(in, r.name) + "</th>";
    h += "</tr>\n";
    for (const auto& t : types) {
      h += "<tr><td class=\"l\">" + html_escape(t) + "</td>";
      for (const auto& r : in.runs) {
        const auto* row = detail::report_find_type(r, t);
        h += row ? "<td>" + format_percent(row->r_at_1) + " <span class=\"meta\">(" +
                       std::to_string(row->phrases) + ")</span></td>"
                 : std::string("<td>\xE2\x80\x94</td>");
      }
      h += "</tr>\n";
    }
    h += "</table></div>\n";
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
    std::vector<chart_series> series;
    for (std::size_t i = 0; i < in.runs.size(); ++i) {
      chart_series s{in.runs[i].name, run_color(i), {}};
      for (const auto& b : buckets) {
        const auto* row = detail::report_find_bucket(in.runs[i], b);
        s.values.push_back(row ? row->r_at_1 : not_available);
      }
      series.push_back(std::move(s));
    }
    h += "<div class=\"scroll\">" + svg_bar_chart("Recall@1 per box-size bucket", buckets, series) +
         "</div>\n<div class=\"scroll\"><table>\n<tr><th class=\"l\">Bucket</th>";
    for (const auto& r : in.runs)
      h += "<th>" + report_run_cell(in, r.name) + " R@1</th><th>Mean IoU</th>";
    h += "</tr>\n";
    for (const auto& b : buckets) {
      h += "<tr><td class=\"l\">" + html_escape(b) + "</td>";
      for (const auto& r : in.runs) {
        const auto* row = detail::report_find_bucket(r, b);
        h += row ? "<td>" + format_percent(row->r_at_1) + " <span class=\"meta\">(" +
                       std::to_string(row->phrases) + ")</span></td><td>" +
                       format_fixed(row->mean_iou, 3) + "</td>"
                 : std::string("<td>\xE2\x80\x94</td><td>\xE2\x80\x94</td>");
      }
      h += "</tr>\n";
    }
    h += "</table></div>\n";
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
    m += " " + std::to_string(r.format_failures) + " | " + std::to_string(r.empty_answers) + " | " +
         std::to_string(r.errors) + " | " + detail::report_latency(r, &latency_row::mean_s, 3) +
         " | " + detail::report_latency(r, &latency_row::p50_s, 3) + " | " +
         detail::report_latency(r, &latency_row::p95_s, 3) + " | " +
         detail::report_latency(r, &latency_row::queries_per_s, 2) + " |\n";
  }
  m += "\nRecall and accuracy in percent.\n\n## Recall@1 per phrase type\n\n| Type |";
  for (const auto& r : in.runs) m += " " + e(r.name) + " |";
  m += "\n|---|";
  for (std::size_t i = 0; i < in.runs.size(); ++i) m += "---:|";
  m += "\n";
  for (const auto& t : types) {
    m += "| " + e(t) + " |";
    for (const auto& r : in.runs) {
      const auto* row = detail::report_find_type(r, t);
      cell(m, row ? format_percent(row->r_at_1) + " (" + std::to_string(row->phrases) + ")"
                  : std::string("—"));
    }
    m += "\n";
  }
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
  for (const auto& r : in.runs) m += " " + e(r.name) + " R@1 | Mean IoU |";
  m += "\n|---|";
  for (std::size_t i = 0; i < in.runs.size(); ++i) m += "---:|---:|";
  m += "\n";
  for (const auto& b : buckets) {
    m += "| " + e(b) + " |";
    for (const auto& r : in.runs) {
      const auto* row = detail::report_find_bucket(r, b);
      cell(m, row ? format_percent(row->r_at_1) + " (" + std::to_string(row->phrases) + ")"
                  : std::string("—"));
      cell(m, row ? format_fixed(row->mean_iou, 3) : std::string("—"));
    }
    m += "\n";
  }
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
  j += ",\n  \"title\": ";
  json_quote(j, in.title);
  j += ",\n  \"generated\": ";
  json_quote(j, in.generated);
  auto num = [&j](double v) { json_number(j, v); };
  auto cnt = [&j](std::uint64_t v) { json_number(j, v); };
  auto key = [&j](std::string_view k) {
    json_quote(j, k);
    j += ": ";
  };
  auto recall = [&](const recall_row& r) {
    j += "{";
    key("category");
    json_quote(j, r.category);
    j += ", ";
    key("phrases");
    cnt(r.phrases);
    j += ", ";
    key("recall_at_1");
    num(r.r_at_1);
    j += ", ";
    key("recall_at_5");
    num(r.r_at_5);
    j += ", ";
    key("recall_at_10");
    num(r.r_at_10);
    j += ", ";
    key("upper_bound");
    num(r.upper_bound);
    j += "}";
  };
  auto interval = [&](const interval_row& x) {
    j += "{\"estimate\": ";
    num(x.estimate);
    j += ", \"lower\": ";
    num(x.lower);
    j += ", \"upper\": ";
    num(x.upper);
    j += "}";
  };
  j += ",\n  \"accuracy_thresholds\": [";
  for (std::size_t i = 0; i < accuracy_thresholds.size(); ++i) {
    if (i) j += ", ";
    num(accuracy_thresholds[i]);
  }
  j += "],\n  \"runs\": [";
  for (std::size_t i = 0; i < in.runs.size(); ++i) {
    const auto& r = in.runs[i];
    j += i ? ",\n    {" : "\n    {";
    key("name");
    json_quote(j, r.name);
    j += ", ";
    key("grounder");
    json_quote(j, r.grounder);
    j += ", ";
    key("dataset");
    json_quote(j, r.dataset);
    j += ", ";
    key("color");
    json_quote(j, to_hex(run_color(i)));
    j += ",\n     ";
    key("images");
    cnt(r.images);
    j += ", ";
    key("sentences");
    cnt(r.sentences);
    j += ", ";
    key("phrases");
    cnt(r.phrases);
    j += ",\n     ";
    key("overall");
    recall(r.overall);
    j += ",\n     ";
    key("by_type");
    j += "[";
    for (std::size_t t = 0; t < r.by_type.size(); ++t) {
      j += t ? ",\n       " : "\n       ";
      recall(r.by_type[t]);
    }
    j += "],\n     ";
    key("mean_iou");
    num(r.mean_iou);
    j += ", ";
    key("accuracy_at");
    j += "[";
    for (std::size_t t = 0; t < r.accuracy_at.size(); ++t) {
      if (t) j += ", ";
      num(r.accuracy_at[t]);
    }
    j += "], ";
    key("accuracy_50_95");
    num(r.accuracy_50_95);
    j += ",\n     ";
    key("by_size");
    j += "[";
    for (std::size_t t = 0; t < r.by_size.size(); ++t) {
      j += t ? ", {" : "{";
      key("bucket");
      json_quote(j, r.by_size[t].bucket);
      j += ", ";
      key("phrases");
      cnt(r.by_size[t].phrases);
      j += ", ";
      key("recall_at_1");
      num(r.by_size[t].r_at_1);
      j += ", ";
      key("mean_iou");
      num(r.by_size[t].mean_iou);
      j += "}";
    }
    j += "],\n     ";
    key("format_failures");
    cnt(r.format_failures);
    j += ", ";
    key("empty_answers");
    cnt(r.empty_answers);
    j += ", ";
    key("errors");
    cnt(r.errors);
    j += ",\n     ";
    key("latency");
    if (r.latency) {
      j += "{\"count\": ";
      cnt(r.latency->count);
      j += ", \"mean_s\": ";
      num(r.latency->mean_s);
      j += ", \"p50_s\": ";
      num(r.latency->p50_s);
      j += ", \"p95_s\": ";
      num(r.latency->p95_s);
      j += ", \"queries_per_s\": ";
      num(r.latency->queries_per_s);
      j += "}";
    } else {
      j += "null";
    }
    j += ",\n     ";
    key("top1_iou_count");
    cnt(r.top1_ious.size());
    j += ", ";
    key("top1_iou_cdf");
    j += "[";
    const auto f = cdf_grid(r.top1_ious);
    for (std::size_t t = 0; t < f.size(); ++t) {
      if (t) j += ", ";
      num(f[t]);
    }
    j += "]}";
  }
  j += "],\n  \"pairs\": [";
  for (std::size_t i = 0; i < in.pairs.size(); ++i) {
    const auto& p = in.pairs[i];
    j += i ? ",\n    {" : "\n    {";
    key("run_a");
    json_quote(j, p.run_a);
    j += ", ";
    key("run_b");
    json_quote(j, p.run_b);
    j += ", ";
    key("phrases");
    cnt(p.phrases);
    j += ", ";
    key("images");
    cnt(p.images);
    j += ",\n     \"mcnemar\": {\"both_right\": ";
    cnt(p.both_right);
    j += ", \"a_only\": ";
    cnt(p.a_only);
    j += ", \"b_only\": ";
    cnt(p.b_only);
    j += ", \"neither\": ";
    cnt(p.neither);
    j += ", \"p_value\": ";
    num(p.mcnemar_p);
    j += "},\n     ";
    key("confidence");
    num(p.confidence);
    j += ", ";
    key("bootstrap_samples");
    cnt(p.bootstrap_samples);
    j += ",\n     \"recall\": [";
    for (std::size_t t = 0; t < p.recall.size(); ++t) {
      j += t ? ", {\"k\": " : "{\"k\": ";
      j += std::to_string(p.recall[t].k);
      j += ", \"a\": ";
      interval(p.recall[t].a);
      j += ", \"b\": ";
      interval(p.recall[t].b);
      j += ", \"difference\": ";
      interval(p.recall[t].difference);
      j += "}";
    }
    j += "],\n     \"types\": [";
    for (std::size_t t = 0; t < p.types.size(); ++t) {
      j += t ? ", {" : "{";
      key("type");
      json_quote(j, p.types[t].type);
      j += ", \"phrases\": ";
      cnt(p.types[t].phrases);
      j += ", \"a\": ";
      num(p.types[t].a);
      j += ", \"b\": ";
      num(p.types[t].b);
      j += ", \"delta\": ";
      num(p.types[t].delta);
      j += "}";
    }
    j += "],\n     \"cases\": {";
    for (std::size_t t = 0; t < p.cases.size(); ++t) {
      if (t) j += ", ";
      key(p.cases[t].category);
      cnt(p.cases[t].count);
    }
    j += "}}";
  }
  j += "],\n  \"cases\": [";
  for (std::size_t i = 0; i < in.cases.size(); ++i) {
    const auto& c = in.cases[i];
    j += i ? ",\n    {" : "\n    {";
    key("category");
    json_quote(j, c.category);
    j += ", ";
    key("run_a");
    json_quote(j, c.run_a);
    j += ", ";
    key("run_b");
    json_quote(j, c.run_b);
    j += ", ";
    key("image_id");
    json_quote(j, c.image_id);
    j += ", \"sentence_index\": " + std::to_string(c.sentence_index) +
         ", \"phrase_index\": " + std::to_string(c.phrase_index) + ",\n     ";
    key("sentence");
    json_quote(j, c.sentence);
    j += ", ";
    key("phrase");
    json_quote(j, c.phrase);
    j += ", \"iou\": {";
    for (std::size_t t = 0; t < c.ious.size(); ++t) {
      if (t) j += ", ";
      key(c.ious[t].first);
      num(c.ious[t].second);
    }
    j += "}, ";
    key("png");
    json_quote(j, c.png);
    j += "}";
  }
  j += "]\n}\n";
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
