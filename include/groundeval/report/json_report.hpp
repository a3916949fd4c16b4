// SPDX-License-Identifier: Apache-2.0
// groundeval/report/json_report.hpp — the report as JSON (schema "groundeval-report" version 1,
// docs/report.md), with the same numbers as the HTML page. Target: groundeval::core.
#pragma once

#include <groundeval/detail/json_text.hpp>
#include <groundeval/report/common.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace groundeval::report {

/// The JSON report (calls validate); schema "groundeval-report" version 1, see docs/report.md.
inline std::string render_json(const report_input& in) {
  validate(in);
  groundeval::detail::json_writer w;
  auto numbers = [&](std::string_view key, const auto& v) {
    w.begin_array(key, true);
    for (const auto x : v) w.value({}, static_cast<double>(x));
    w.end_array();
  };
  auto recall = [&](std::string_view key, const recall_row& r) {
    w.begin_object(key, true);
    w.value("category", r.category);
    w.value("phrases", r.phrases);
    w.value("recall_at_1", r.r_at_1);
    w.value("recall_at_5", r.r_at_5);
    w.value("recall_at_10", r.r_at_10);
    w.value("upper_bound", r.upper_bound);
    w.value("pointing_game", r.pointing_game);
    w.end_object();
  };
  auto interval = [&](std::string_view key, const interval_row& x) {
    w.begin_object(key, true);
    w.value("estimate", x.estimate);
    w.value("lower", x.lower);
    w.value("upper", x.upper);
    w.end_object();
  };
  w.begin_object();
  w.value("format", std::string_view("groundeval-report"));
  w.value("version", std::uint64_t{1});
  w.value("groundeval", std::string_view(version_string));
  w.value("title", in.title);
  w.value("generated", in.generated);
  numbers("accuracy_thresholds", accuracy_thresholds);
  w.begin_array("runs");
  for (std::size_t i = 0; i < in.runs.size(); ++i) {
    const run_summary& r = in.runs[i];
    w.begin_object();
    w.value("name", r.name);
    w.value("grounder", r.grounder);
    w.value("dataset", r.dataset);
    w.value("hit_rule", r.hit_rule);
    w.value("color", to_hex(run_color(i)));
    w.value("images", r.images);
    w.value("sentences", r.sentences);
    w.value("phrases", r.phrases);
    recall("overall", r.overall);
    w.begin_array("by_type");
    for (const auto& t : r.by_type) recall({}, t);
    w.end_array();
    w.value("mean_iou", r.mean_iou);
    numbers("accuracy_at", r.accuracy_at);
    w.value("accuracy_50_95", r.accuracy_50_95);
    w.begin_array("by_size");
    for (const auto& b : r.by_size) {
      w.begin_object({}, true);
      w.value("bucket", b.bucket);
      w.value("phrases", b.phrases);
      w.value("recall_at_1", b.r_at_1);
      w.value("mean_iou", b.mean_iou);
      w.end_object();
    }
    w.end_array();
    w.value("format_failures", r.format_failures);
    w.value("empty_answers", r.empty_answers);
    w.value("errors", r.errors);
    w.value("point_answers", r.point_answers);
    if (detail::report_has_latency(r)) {
      w.begin_object("latency", true);
      w.value("count", r.latency->count);
      w.value("mean_s", r.latency->mean_s);
      w.value("p50_s", r.latency->p50_s);
      w.value("p95_s", r.latency->p95_s);
      w.value("queries_per_s", r.latency->queries_per_s);
      w.end_object();
    } else {
      w.null("latency");
    }
    w.boolean("in_process", r.in_process);
    w.value("top1_iou_count", static_cast<std::uint64_t>(r.top1_ious.size()));
    numbers("top1_iou_cdf", cdf_grid(r.top1_ious));
    w.end_object();
  }
  w.end_array();
  w.begin_array("pairs");
  for (const paired_summary& p : in.pairs) {
    w.begin_object();
    w.value("run_a", p.run_a);
    w.value("run_b", p.run_b);
    w.value("phrases", p.phrases);
    w.value("images", p.images);
    w.begin_object("mcnemar", true);
    w.value("both_right", p.both_right);
    w.value("a_only", p.a_only);
    w.value("b_only", p.b_only);
    w.value("neither", p.neither);
    w.value("p_value", p.mcnemar_p);
    w.end_object();
    w.value("confidence", p.confidence);
    w.value("bootstrap_samples", p.bootstrap_samples);
    w.begin_array("recall");
    for (const paired_recall& rc : p.recall) {
      w.begin_object({}, true);
      w.integer("k", rc.k);
      interval("a", rc.a);
      interval("b", rc.b);
      interval("difference", rc.difference);
      w.end_object();
    }
    w.end_array();
    w.begin_array("types");
    for (const type_delta_row& x : p.types) {
      w.begin_object({}, true);
      w.value("type", x.type);
      w.value("phrases", x.phrases);
      w.value("a", x.a);
      w.value("b", x.b);
      w.value("delta", x.delta);
      w.end_object();
    }
    w.end_array();
    w.begin_object("cases", true);
    for (const auto& c : p.cases) w.value(c.category, c.count);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.begin_array("cases");
  for (const gallery_case& c : in.cases) {
    w.begin_object();
    w.value("category", c.category);
    w.value("run_a", c.run_a);
    w.value("run_b", c.run_b);
    w.value("image_id", c.image_id);
    w.integer("sentence_index", c.sentence_index);
    w.value("phrase_index", static_cast<std::uint64_t>(c.phrase_index));
    w.value("sentence", c.sentence);
    w.value("phrase", c.phrase);
    w.begin_object("iou", true);
    for (const auto& [run, iou] : c.ious) w.value(run, iou);
    w.end_object();
    w.begin_object("raw_answers", true);
    for (const auto& [run, text] : c.raw_answers) w.value(run, text);
    w.end_object();
    w.value("png", c.png);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w.out) + "\n";
}

}  // namespace groundeval::report
