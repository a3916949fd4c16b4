// SPDX-License-Identifier: Apache-2.0
// groundeval/report/from_results.hpp — the report's aggregates from the evaluation engine's
// results: a run_summary per evaluated run, a paired_summary and gallery cases per pair
// (compare_runs), and build_report(), which does all of it for a list of runs.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/report/summary.hpp>

#include <cstddef>
#include <iterator>
#include <ranges>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace groundeval::report {

/// One run as the report shows it: its name, grounder (spec), whether it answers in-process, and
/// its evaluation.
struct evaluated_run {
  std::string name;
  std::string grounder;
  bool in_process = false;
  evaluation_result result;
};

/// The report's view of one evaluated run.
inline run_summary summarize_run(const evaluation_result& r, std::string name, std::string grounder,
                                 std::string dataset, bool in_process = false) {
  run_summary s;
  s.name = std::move(name);
  s.grounder = std::move(grounder);
  s.dataset = std::move(dataset);
  s.hit_rule = hit_condition(r) + ", " + std::string(protocol_label(r.protocol));
  s.in_process = in_process;
  s.images = r.images;
  s.sentences = r.sentences;
  s.phrases = r.phrases;
  auto row = [&](const std::string& cat, const recall_counts& c) {
    recall_row x;
    x.category = cat;
    x.phrases = c.total;
    x.r_at_1 = r.recall.recall(1, cat);
    x.r_at_5 = r.recall.recall(5, cat);
    x.r_at_10 = r.recall.recall(10, cat);
    x.upper_bound = r.recall.recall(k_all, cat);
    x.pointing_game = r.pointing.accuracy(cat);
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
    size_row x;
    x.bucket = std::string(to_string(static_cast<size_bucket>(b)));
    x.phrases = c.phrases;
    x.r_at_1 = static_cast<double>(c.top1_hits) / static_cast<double>(c.phrases);
    x.mean_iou = c.iou_sum / static_cast<double>(c.phrases);
    s.by_size.push_back(std::move(x));
  }
  s.format_failures = r.answers.count(query_status::format_failure);
  s.empty_answers = r.answers.count(query_status::empty);
  s.errors = r.answers.count(query_status::error);
  s.point_answers = r.answers.point_answers;
  if (r.latency.count > 0) {
    latency_row l;
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

/// The report's view of a paired comparison of runs `a` and `b`.
inline paired_summary summarize_pair(const comparison_result& c, const std::string& a,
                                     const std::string& b) {
  paired_summary p;
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
    paired_recall x;
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

/// The qualitative cases of comparison `c` (of runs `a` and `b`, evaluated on `data` into
/// `ra`), each with its sentence; a format failure's IoU is shown as not available.
template <Dataset D>
std::vector<gallery_case> gallery_cases(const comparison_result& c, const evaluation_result& ra,
                                        const D& data, const std::string& a, const std::string& b) {
  std::vector<gallery_case> out;
  for (const auto& q : c.cases) {
    gallery_case g;
    const bool a_fail = q.kind == case_kind::a_format_failure;
    const bool b_fail = q.kind == case_kind::b_format_failure;
    g.category = a_fail || b_fail ? std::string("format_failure") : std::string(to_string(q.kind));
    g.run_a = a;
    g.run_b = b;
    g.image_id = q.image_id;
    g.sentence_index = q.sentence_index;
    g.phrase_index = q.phrase_index;
    g.phrase = q.phrase;
    if (q.outcome < ra.outcomes.size()) {
      const auto& s = *std::next(std::ranges::begin(data),
                                 static_cast<std::ptrdiff_t>(ra.outcomes[q.outcome].sample));
      g.sentence = std::string(std::string_view(s.sentence));
    }
    g.ious = {{a, a_fail ? not_available : q.iou_a}, {b, b_fail ? not_available : q.iou_b}};
    out.push_back(std::move(g));
  }
  return out;
}

/// The report of `runs` (evaluated on `data` with the same options): a summary per run (its
/// dataset column `dataset_label`), and for every pair the paired statistics and its cases.
template <Dataset D>
report_input build_report(const D& data, std::span<const evaluated_run> runs,
                          const std::string& dataset_label, const compare_options& opt = {}) {
  report_input in;
  for (const auto& r : runs)
    in.runs.push_back(summarize_run(r.result, r.name, r.grounder, dataset_label, r.in_process));
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      const comparison_result c = compare_runs(data, runs[i].result, runs[j].result, opt);
      in.pairs.push_back(summarize_pair(c, runs[i].name, runs[j].name));
      for (auto& g : gallery_cases(c, runs[i].result, data, runs[i].name, runs[j].name))
        in.cases.push_back(std::move(g));
    }
  return in;
}

}  // namespace groundeval::report
