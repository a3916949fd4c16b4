// SPDX-License-Identifier: Apache-2.0
// groundeval/report/summary.hpp — the plain aggregates a report is drawn from: one run_summary per
// run, one paired_summary per pair of runs, and the qualitative cases of the gallery.
// Target: groundeval::core (standard library only).
//
// These are inputs, not computations: the evaluation engine's results are mapped onto them.
// Fractions are in [0, 1]; NaN marks a number that is not available (shown as "—", JSON null).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace groundeval::report {

inline constexpr double not_available = std::numeric_limits<double>::quiet_NaN();

/// IoU thresholds of the accuracy columns (the lmms-eval REC convention).
inline constexpr std::array<double, 5> accuracy_thresholds{0.1, 0.3, 0.5, 0.7, 0.9};

/// Recall of one category (all phrases, or one phrase type).
struct recall_row {
  std::string category;  ///< "all" or a phrase type (data-set provided)
  std::uint64_t phrases = 0;
  double r_at_1 = not_available;
  double r_at_5 = not_available;
  double r_at_10 = not_available;
  double upper_bound = not_available;    ///< any proposal hits (MDETR's k = -1)
  double pointing_game = not_available;  ///< top point inside a GT box (metrics/pointing.hpp)
};

/// Recall@1 and mean top-1 IoU of one ground-truth size bucket.
struct size_row {
  std::string bucket;  ///< e.g. "small (< 32²)"
  std::uint64_t phrases = 0;
  double r_at_1 = not_available;
  double mean_iou = not_available;
};

struct latency_row {
  std::uint64_t count = 0;  ///< queries with a measured latency
  double mean_s = not_available, p50_s = not_available, p95_s = not_available;
  double queries_per_s = not_available;
};

/// Everything the report shows about one run.
struct run_summary {
  std::string name;      ///< short run name (the run directory's name), unique in a report
  std::string grounder;  ///< grounder description (its spec)
  std::string dataset;   ///< data set and split
  /// What made a hit, e.g. "IoU >= 0.5, ANY-box" or "GIoU >= 0.5, ANY-box" (evaluate --match).
  std::string hit_rule = "IoU >= 0.5, ANY-box";
  std::uint64_t images = 0, sentences = 0, phrases = 0;
  recall_row overall{"all"};
  std::vector<recall_row> by_type;
  double mean_iou = not_available;  ///< mean top-1 IoU
  std::array<double, accuracy_thresholds.size()> accuracy_at{
      not_available, not_available, not_available, not_available, not_available};
  double accuracy_50_95 = not_available;  ///< mean accuracy over IoU 0.50:0.05:0.95
  std::vector<size_row> by_size;
  std::uint64_t format_failures = 0, empty_answers = 0, errors = 0;
  /// Answers with points and no box (point-answer families): misses for recall and IoU, scored
  /// by the pointing game.
  std::uint64_t point_answers = 0;
  std::optional<latency_row> latency;
  /// The grounder answers in-process (a baseline, an oracle, a replay of stored answers): its
  /// times per query measure no model, so the report shows "— (in-process)" and no latency.
  bool in_process = false;
  std::vector<double> top1_ious;  ///< one per evaluated phrase (0 when no box), for the CDF
};

/// The runs' hit rules, distinct, in run order, joined by "; " (one rule in the usual case).
template <class Runs>
inline std::string report_hit_rules(const Runs& runs) {
  std::string out;
  std::vector<std::string> seen;
  for (const auto& r : runs) {
    bool dup = false;
    for (const auto& x : seen) dup = dup || x == r.hit_rule;
    if (dup) continue;
    seen.push_back(r.hit_rule);
    out += (out.empty() ? "" : "; ") + r.hit_rule;
  }
  return out;
}

/// A point estimate with its confidence interval.
struct interval_row {
  double estimate = not_available, lower = not_available, upper = not_available;
};

/// Bootstrap intervals of Recall@k of A, of B, and of B - A.
struct paired_recall {
  int k = 1;
  interval_row a, b, difference;
};

/// Recall@1 of both runs on one phrase type.
struct type_delta_row {
  std::string type;
  std::uint64_t phrases = 0;
  double a = not_available, b = not_available, delta = not_available;  ///< delta = b - a
};

/// Number of phrases in one qualitative category ("both_succeed", "a_wins", ...).
struct case_count {
  std::string category;
  std::uint64_t count = 0;
};

/// Paired statistics of run A against run B on the same phrases.
struct paired_summary {
  std::string run_a, run_b;  ///< run_summary names
  std::uint64_t phrases = 0, images = 0;
  /// McNemar's exact test on Recall@1 hits.
  std::uint64_t both_right = 0, a_only = 0, b_only = 0, neither = 0;
  double mcnemar_p = not_available;
  double confidence = 0.95;
  std::uint64_t bootstrap_samples = 0;
  std::vector<paired_recall> recall;
  std::vector<type_delta_row> types;
  std::vector<case_count> cases;
};

/// One qualitative case of the gallery, drawn as a PNG overlay.
struct gallery_case {
  std::string category;      ///< "both_succeed", "a_wins", "b_wins", "both_fail", "format_failure"
  std::string run_a, run_b;  ///< the pair it was selected for (may be empty)
  std::string image_id;
  long long sentence_index = 0;
  std::size_t phrase_index = 0;
  std::string sentence, phrase;
  /// Top-1 IoU of each run shown (NaN: no box, e.g. a format failure).
  std::vector<std::pair<std::string, double>> ious;
  /// The raw answer text of the runs whose answer is a format failure (run name, text as the run
  /// recorded it), so a reader sees what could not be parsed; empty when not recorded.
  std::vector<std::pair<std::string, std::string>> raw_answers;
  std::string png;  ///< path of the overlay relative to the report directory (case_png_path)
};

/// The whole report.
struct report_input {
  std::string title = "groundeval report";
  std::string generated;  ///< free text, e.g. the date and the command line
  std::vector<run_summary> runs;
  std::vector<paired_summary> pairs;
  std::vector<gallery_case> cases;
};

}  // namespace groundeval::report
