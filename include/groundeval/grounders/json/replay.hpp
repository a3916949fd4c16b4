// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/json/replay.hpp — replay_grounder: answers each query with the answer a
// predictions file recorded for it (JSON Lines or MDETR JSON), so stored runs can be re-run,
// re-sharded or re-reported. Target: groundeval::json (the predictions readers).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace groundeval {

/// Replays a predictions file: each query gets the recorded answer of its (image, sentence index,
/// phrase index); a query without one gets status error. JSON Lines are indexed by byte offset
/// and each record is read again when its query comes, so memory does not grow with the number
/// of boxes in the file; an MDETR JSON list (one JSON document) is held, its i-th list answering
/// the sentence's i-th evaluable phrase of `data`. The first record of a query wins, as in the
/// evaluator. Needs requests that name their sentence (grounding_request::sentence_index, set by
/// the runner). Answers in-process (measures_latency() is false). Not thread-safe.
class replay_grounder {
 public:
  template <Dataset D>
  replay_grounder(std::string file, const D& data) : m_file(std::move(file)) {
    (void)detail::open_input_file(m_file);  // read twice: a pipe or a directory is refused
    if (detect_predictions_format(m_file) == predictions_format::jsonl) {
      std::ifstream f(m_file, std::ios::binary);
      if (!f) throw error(error_kind::io, m_file, 0, "cannot open the file");
      jsonl_prediction_reader reader(f, m_file);
      phrase_prediction_record r;
      while (reader.next(r)) {
        ++m_records;
        auto [it, fresh] =
            m_offsets.emplace(key_type{r.image_id, r.sentence_id, r.phrase_index}, reader.offset());
        if (!fresh) ++m_duplicates;
      }
      m_in.open(m_file, std::ios::binary);
      return;
    }
    const prediction_set p = read_mdetr_predictions(m_file);
    std::map<std::pair<std::string, std::string>, const sentence_prediction*> by_sentence;
    for (const auto& s : p.sentences) by_sentence.emplace(std::pair{s.image_id, s.sentence_id}, &s);
    m_records = p.sentences.size();
    for (const auto& s : data) {
      const std::string image(std::string_view(s.image_id));
      const auto sentence = static_cast<long long>(s.sentence_index);
      auto it = by_sentence.find({image, std::to_string(sentence)});
      if (it == by_sentence.end()) continue;
      std::size_t k = 0, j = 0;  // boxes[j] answers the j-th evaluable phrase
      for (const auto& ph : s.phrases) {
        if (is_evaluable(ph) && j < it->second->boxes.size())
          m_boxes.emplace(key_type{image, sentence, k}, it->second->boxes[j++]);
        ++k;
      }
    }
  }

  std::string_view name() const noexcept { return "predictions"; }
  std::string describe() const {
    return "predictions file=" + m_file + " records=" + std::to_string(m_records) +
           (m_duplicates ? " duplicates_ignored=" + std::to_string(m_duplicates) : "");
  }
  bool measures_latency() const noexcept { return false; }

  std::vector<query_result> ground(const grounding_request& r) {
    std::vector<query_result> res(r.queries.size());
    for (std::size_t i = 0; i < res.size(); ++i) {
      const key_type key{std::string(r.image.id), r.sentence_index, r.queries[i].phrase_index};
      if (auto it = m_offsets.find(key); it != m_offsets.end()) {
        res[i] = read_record_at(it->second);
      } else if (auto mt = m_boxes.find(key); mt != m_boxes.end()) {
        res[i].boxes = mt->second;
        res[i].status = res[i].boxes.empty() ? query_status::empty : query_status::ok;
      } else {
        res[i].status = query_status::error;
        res[i].message = "no prediction for " + std::get<0>(key) + "/" +
                         std::to_string(std::get<1>(key)) + "/" + std::to_string(std::get<2>(key)) +
                         " in " + m_file;
      }
    }
    return res;
  }

 private:
  using key_type = std::tuple<std::string, long long, std::size_t>;

  /// The answer of the record whose line starts at byte `offset` (read and checked once already).
  query_result read_record_at(std::uint64_t offset) {
    m_in.clear();
    m_in.seekg(static_cast<std::streamoff>(offset));
    jsonl_prediction_reader reader(m_in, m_file);
    phrase_prediction_record r;
    if (!m_in || !reader.next(r))
      throw error(error_kind::io, m_file, 0,
                  "cannot read the record at byte " + std::to_string(offset) +
                      " again (was the file changed during the run?)");
    return std::move(r.result);
  }

  std::string m_file;
  std::ifstream m_in;
  std::map<key_type, std::uint64_t> m_offsets;          // JSON Lines: key -> byte offset
  std::map<key_type, std::vector<scored_box>> m_boxes;  // MDETR JSON: key -> boxes
  std::size_t m_records = 0, m_duplicates = 0;
};

static_assert(DescribedGrounder<replay_grounder> && LatencyGrounder<replay_grounder>);

}  // namespace groundeval
