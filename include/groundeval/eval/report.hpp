// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/report.hpp — the evaluation report: a readable table (types as columns, k as
// rows) and a JSON document (docs/metrics.md describes both). Target: groundeval::core.
//
// The JSON writer is std-only: numbers are written with std::to_chars (shortest form that reads
// back to the same double), so fractions survive a round trip bit for bit; NaN becomes null.
#pragma once

#include <groundeval/config.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/eval/evaluate.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// Extra key/value strings for the report header (data set name, split, file names, ...).
using report_meta = std::vector<std::pair<std::string, std::string>>;

/// The readable table: one column per category ("all" first), rows R@k in percent and counts,
/// followed by the other metrics and the warnings.
inline std::string format_report_table(const evaluation_result& r, const report_meta& meta = {});
/// The JSON report (see docs/metrics.md for the schema); the options' extra metrics are under
/// "metrics", each by its name.
inline std::string report_json(const evaluation_result& r, const report_meta& meta = {});

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline std::vector<std::string> report_categories(const recall_table& t) {
  std::vector<std::string> cats;
  if (t.categories.count("all")) cats.push_back("all");
  for (const auto& [name, c] : t.categories)
    if (name != "all") cats.push_back(name);
  return cats;
}

inline std::string fmt_double(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace detail

/// "ANY-box" or "MERGED-box", the protocol as reports print it.
constexpr std::string_view protocol_label(gt_protocol p) noexcept {
  return p == gt_protocol::any_box ? "ANY-box" : "MERGED-box";
}

/// When a box is a hit: "IoU >= 0.5" or "GIoU >= 0.5" (evaluate --match, --iou-threshold).
inline std::string hit_condition(const evaluation_result& r) {
  return std::string(r.match == match_criterion::giou ? "GIoU >= " : "IoU >= ") +
         detail::fmt_double("%g", r.iou_threshold);
}

inline std::string report_json(const evaluation_result& r, const report_meta& meta) {
  detail::json_writer w;
  w.begin_object();
  w.value("groundeval_version", std::string_view(version_string));
  for (const auto& [k, v] : meta) w.value(k, v);
  w.value("predictions", r.predictions_source);
  w.value("protocol", to_string(r.protocol));
  w.value("iou_threshold", r.iou_threshold);
  w.value("match", to_string(r.match));
  w.value("images", r.images);
  w.value("sentences", r.sentences);
  w.value("phrases", r.phrases);
  const auto cats = detail::report_categories(r.recall);
  w.begin_object("recall_at");
  for (std::size_t i = 0; i < r.recall.ks.size(); ++i) {
    w.begin_object(k_label(r.recall.ks[i]));
    for (const auto& c : cats) w.value(c, r.recall.recall(r.recall.ks[i], c));
    w.end_object();
  }
  w.end_object();
  w.begin_object("counts");
  for (const auto& c : cats) {
    const auto& rc = r.recall.categories.at(c);
    w.begin_object(c);
    w.value("phrases", rc.total);
    w.begin_object("hits");
    for (std::size_t i = 0; i < r.recall.ks.size(); ++i)
      w.value(k_label(r.recall.ks[i]), rc.hits[i]);
    w.end_object();
    w.end_object();
  }
  w.end_object();
  const auto& L = r.localization;
  w.begin_object("localization");
  w.value("mean_iou", L.mean_iou());
  w.begin_object("accuracy_at_iou");
  for (std::size_t i = 0; i < localization_thresholds.size(); ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "%.1f", localization_thresholds[i]);
    w.value(key, L.accuracy(i));
  }
  w.end_object();
  w.value("accuracy_0.5:0.95", L.accuracy_coco());
  w.value("pointing_game", L.pointing_accuracy());
  w.begin_object("size_buckets");
  for (std::size_t b = 0; b < size_bucket_count; ++b) {
    const auto& sb = L.buckets[b];
    w.begin_object(to_string(static_cast<size_bucket>(b)));
    w.value("phrases", sb.phrases);
    w.value("accuracy_at_0.5", localization_result::ratio(double(sb.top1_hits), sb.phrases));
    w.value("mean_iou", localization_result::ratio(sb.iou_sum, sb.phrases));
    w.end_object();
  }
  w.end_object();
  w.end_object();
  const auto& A = r.answers;
  w.begin_object("answers");
  w.value("queries", A.queries);
  for (auto s :
       {query_status::ok, query_status::empty, query_status::format_failure, query_status::error})
    w.value(to_string(s), A.count(s));
  w.value("empty_lists", A.empty_lists);
  w.value("non_finite_boxes", A.non_finite_boxes);
  w.value("nan_iou_phrases", r.recall.nan_phrases);
  w.value("point_answers", A.point_answers);
  w.end_object();
  // The pointing game per category ("all" first, then the types, as recall_at).
  w.begin_object("pointing_game");
  for (const auto& c : cats) {
    const pointing_counts* pc = r.pointing.find(c);
    if (!pc) continue;
    w.begin_object(c, true);
    w.value("accuracy", pc->accuracy());
    w.value("phrases", pc->phrases);
    w.value("hits", pc->hits);
    w.value("point_answers", pc->point_answers);
    w.value("point_hits", pc->point_hits);
    w.value("box_answers", pc->box_answers);
    w.end_object();
  }
  w.end_object();
  if (r.latency.count) {
    w.begin_object("latency");
    w.value("queries", r.latency.count);
    w.value("mean_s", r.latency.mean_s);
    w.value("p50_s", r.latency.p50_s);
    w.value("p95_s", r.latency.p95_s);
    w.value("max_s", r.latency.max_s);
    w.value("total_s", r.latency.total_s);
    w.value("queries_per_s", r.latency.queries_per_s);
    w.end_object();
  } else {
    w.null("latency");
  }
  const auto& W = r.warnings;
  w.begin_object("warnings");
  w.value("duplicate_sentences", W.duplicate_sentences);
  w.value("duplicate_phrases", W.duplicate_phrases);
  w.value("unknown_images", W.unknown_images);
  w.value("unknown_sentences", W.unknown_sentences);
  w.value("unknown_phrases", W.unknown_phrases);
  w.value("unexpected_sentences", W.unexpected_sentences);
  w.value("non_evaluable_phrases", W.non_evaluable_phrases);
  w.value("invalid_sentences", W.invalid_sentences);
  w.value("invalid_phrases", W.invalid_phrases);
  w.value("missing_sentences", W.missing_sentences);
  w.value("missing_phrases", W.missing_phrases);
  w.begin_array("examples");
  for (const auto& e : W.examples) w.value({}, e);
  w.end_array();
  w.end_object();
  if (!r.metrics.empty()) {  // the extra metrics, by name
    w.begin_object("metrics");
    for (const auto& m : r.metrics) m.write_json(w, m.name());
    w.end_object();
  }
  w.end_object();
  w.out += '\n';
  return std::move(w.out);
}

inline std::string format_report_table(const evaluation_result& r, const report_meta& meta) {
  std::string o;
  for (const auto& [k, v] : meta) o += k + ": " + v + "\n";
  o += "protocol: " + std::string(protocol_label(r.protocol)) + ", hit when " + hit_condition(r) +
       "\n";
  o += "evaluated: " + std::to_string(r.images) + " images, " + std::to_string(r.sentences) +
       " sentences, " + std::to_string(r.phrases) + " phrases\n\n";
  const auto cats = detail::report_categories(r.recall);
  std::size_t width = 9;
  for (const auto& c : cats) width = std::max(width, c.size() + 2);
  auto cell = [&](const std::string& s) {
    std::string c(width > s.size() ? width - s.size() : 1, ' ');
    return c + s;
  };
  o += "Recall@k (%)";
  for (const auto& c : cats) o += cell(c);
  o += '\n';
  for (int k : r.recall.ks) {
    // Built by appending: GCC 12 -O3 reports a false -Wrestrict for `"R@" + std::to_string(k)`.
    std::string label;
    if (k == k_all) {
      label = "Upper bound";
    } else {
      label = "R@";
      label += std::to_string(k);
    }
    label.resize(12, ' ');
    o += label;
    for (const auto& c : cats) o += cell(detail::fmt_double("%.2f", 100.0 * r.recall.recall(k, c)));
    o += '\n';
  }
  o += "phrases     ";
  for (const auto& c : cats) o += cell(std::to_string(r.recall.categories.at(c).total));
  o += "\n\n";
  const auto& L = r.localization;
  o += "top-1 box: mean IoU " + detail::fmt_double("%.4f", L.mean_iou()) + ", acc@IoU";
  for (std::size_t i = 0; i < localization_thresholds.size(); ++i)
    o += " " + detail::fmt_double("%.1f", localization_thresholds[i]) + ":" +
         detail::fmt_double("%.2f", 100 * L.accuracy(i));
  o += ", acc@0.5:0.95 " + detail::fmt_double("%.2f", 100 * L.accuracy_coco()) +
       ", pointing game " + detail::fmt_double("%.2f", 100 * L.pointing_accuracy()) + "\n";
  o += "by GT size (relative area; small < 0.05 <= medium < 0.25 <= large):";
  for (std::size_t b = 0; b < size_bucket_count; ++b) {
    const auto& sb = L.buckets[b];
    if (!sb.phrases) continue;
    o += std::string(" ") + std::string(to_string(static_cast<size_bucket>(b))) + " " +
         std::to_string(sb.phrases) + " phrases acc@0.5 " +
         detail::fmt_double("%.2f",
                            100 * localization_result::ratio(double(sb.top1_hits), sb.phrases)) +
         ";";
  }
  o += "\n";
  const auto& A = r.answers;
  o += "answers: " + std::to_string(A.queries) + " queries, ok " +
       std::to_string(A.count(query_status::ok)) + ", empty " +
       std::to_string(A.count(query_status::empty)) + ", format failures " +
       std::to_string(A.count(query_status::format_failure)) + ", errors " +
       std::to_string(A.count(query_status::error)) + "; empty candidate lists " +
       std::to_string(A.empty_lists) + ", non-finite boxes " + std::to_string(A.non_finite_boxes) +
       ", phrases with a NaN IoU " + std::to_string(r.recall.nan_phrases) + "\n";
  if (A.point_answers) {
    const pointing_counts* pc = r.pointing.find("all");
    o += "point answers: " + std::to_string(A.point_answers) +
         " (misses for Recall@k and IoU); pointing game with points " +
         std::to_string(pc ? pc->point_hits : 0) + " hits of " +
         std::to_string(pc ? pc->point_answers : 0) + "\n";
  }
  if (r.latency.count)
    o += "latency: " + std::to_string(r.latency.count) + " queries, mean " +
         detail::fmt_double("%.4f", r.latency.mean_s) + " s, p50 " +
         detail::fmt_double("%.4f", r.latency.p50_s) + " s, p95 " +
         detail::fmt_double("%.4f", r.latency.p95_s) + " s, " +
         detail::fmt_double("%.2f", r.latency.queries_per_s) + " queries/s\n";
  for (const auto& m : r.metrics) o += std::string(m.name()) + ": " + m.result() + "\n";
  const auto& W = r.warnings;
  if (W.total()) {
    o += "warnings: " + std::to_string(W.total()) + " (duplicates " +
         std::to_string(W.duplicate_sentences + W.duplicate_phrases) + ", unknown ids " +
         std::to_string(W.unknown_images + W.unknown_sentences + W.unknown_phrases) +
         ", unexpected " + std::to_string(W.unexpected_sentences + W.non_evaluable_phrases) +
         ", invalid " + std::to_string(W.invalid_sentences + W.invalid_phrases) + ", missing " +
         std::to_string(W.missing_phrases) + ")\n";
    for (const auto& e : W.examples) o += "  " + e + "\n";
  }
  return o;
}

}  // namespace groundeval
