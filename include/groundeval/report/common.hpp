// SPDX-License-Identifier: Apache-2.0
// groundeval/report/common.hpp — what the report renderers share: the checks of a report_input
// (validate), case overlay file names, and the tables' row lookups and labels.
// Target: groundeval::core (standard library only).
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
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::report {

/// Checks names and references: run names non-empty and unique, pairs name existing runs,
/// gallery PNG paths relative and inside the report directory. Throws error_kind::invalid.
inline void validate(const report_input& in);

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
}  // namespace groundeval::report
