// SPDX-License-Identifier: Apache-2.0
// groundeval/report/json/case_answers.hpp — the answers a report's overlays draw: for each run
// (its predictions file) only the records of the report's cases are read back (and kept), so
// memory does not grow with the runs' size. Target: groundeval::json (predictions reader).
#pragma once

#include <groundeval/io/json/predictions.hpp>
#include <groundeval/report/summary.hpp>

#include <cstddef>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace groundeval::report {

/// Each run's recorded answer of each case of a report (the first record of a phrase wins).
class case_answers {
 public:
  /// Reads, from predictions_files[i] (run i of the report), the records of in.cases.
  case_answers(const report_input& in, std::span<const std::string> predictions_files) {
    std::set<key> wanted;
    for (const auto& g : in.cases) wanted.insert({g.image_id, g.sentence_index, g.phrase_index});
    m_kept.reserve(predictions_files.size());
    m_answers.resize(predictions_files.size());
    for (std::size_t i = 0; i < predictions_files.size(); ++i) {
      m_kept.push_back(
          read_jsonl_predictions_if(predictions_files[i], [&](const phrase_prediction_record& p) {
            return wanted.count({p.image_id, p.sentence_id, p.phrase_index}) > 0;
          }));
      for (const auto& p : m_kept.back().phrases)
        m_answers[i].emplace(key{p.image_id, p.sentence_id, p.phrase_index}, &p.result);
    }
  }
  case_answers(const case_answers&) = delete;
  case_answers& operator=(const case_answers&) = delete;

  /// Run `run`'s answer of case `g`, or nullptr.
  const query_result* answer(std::size_t run, const gallery_case& g) const {
    if (run >= m_answers.size()) return nullptr;
    auto it = m_answers[run].find({g.image_id, g.sentence_index, g.phrase_index});
    return it == m_answers[run].end() ? nullptr : it->second;
  }
  /// Its top box, or nullptr (no answer, or no box): what report::draw_cases() asks for.
  const box_xyxy<double>* operator()(std::size_t run, const gallery_case& g) const {
    const query_result* a = answer(run, g);
    return a && !a->boxes.empty() ? &a->boxes.front().box : nullptr;
  }

  /// Fills each case's raw_answers with the recorded raw text of the runs whose answer is a
  /// format failure (runs are in.runs, in the order of the predictions files).
  void attach_raw_answers(report_input& in) const {
    for (auto& g : in.cases) {
      g.raw_answers.clear();
      for (std::size_t i = 0; i < in.runs.size(); ++i) {
        const query_result* a = answer(i, g);
        if (a && a->status == query_status::format_failure && !a->raw_text.empty() &&
            (in.runs[i].name == g.run_a || in.runs[i].name == g.run_b))
          g.raw_answers.emplace_back(in.runs[i].name, a->raw_text);
      }
    }
  }

 private:
  using key = std::tuple<std::string, long long, std::size_t>;
  std::vector<prediction_set> m_kept;
  std::vector<std::map<key, const query_result*>> m_answers;
};

}  // namespace groundeval::report
