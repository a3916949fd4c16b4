// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/predictions.hpp — predictions held in memory, in either of the two layouts the
// evaluator accepts: MDETR's per-sentence lists and the project's per-phrase records.
// Target: groundeval::core (standard library only). Reading and writing files:
// io/json/predictions.hpp.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/detail/json_scan.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/detail/text_encoding.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// One sentence in MDETR's predictions format: {image_id, sentence_id, boxes}, where boxes[i] is
/// the ranked candidate list of the i-th *evaluable* phrase of the sentence (sentence order).
struct sentence_prediction {
  std::string image_id;     ///< as Python's str() renders the JSON value (integer or string)
  std::string sentence_id;  ///< likewise ("3" for 3 and for "3"); matched as "{image}_{sentence}"
  std::vector<std::vector<scored_box>> boxes;  ///< one ranked list per evaluable phrase
  std::size_t item = 0;                        ///< 0-based position in its file (for messages)
};

/// Entries of MDETR's layout decoded into shared storage: all the boxes of the block in one
/// vector, each entry's phrase lists ranges of it. The streaming readers decode each piece of a
/// file into a block (a few allocations, reused from batch to batch, where sentence_prediction
/// takes one per phrase list) and evaluator::add(block) matches its entries in order.
class sentence_prediction_block {
 public:
  struct entry {
    std::string image_id;                   ///< as in sentence_prediction
    std::string sentence_id;                ///< as in sentence_prediction
    std::size_t first_list = 0, lists = 0;  ///< its phrase lists: [first_list, + lists)
    std::size_t item = 0;                   ///< 0-based position in its file (for messages)
  };

  std::size_t size() const noexcept { return m_used; }
  bool empty() const noexcept { return m_used == 0; }
  entry& operator[](std::size_t i) noexcept { return m_entries[i]; }
  const entry& operator[](std::size_t i) const noexcept { return m_entries[i]; }
  /// The j-th phrase list of `e` (an entry of this block).
  std::span<const scored_box> list(const entry& e, std::size_t j) const noexcept {
    const std::size_t k = e.first_list + j;
    return {m_boxes.data() + m_list_begin[k], m_list_begin[k + 1] - m_list_begin[k]};
  }
  /// Empties the block, keeping its memory.
  void clear() noexcept {
    m_used = 0;
    m_list_begin.resize(1);
    m_boxes.clear();
  }
  void reserve_boxes(std::size_t n) { m_boxes.reserve(n); }

  // Building, an entry at a time: begin_entry(), then per phrase list add_box()... end_list().
  entry& begin_entry() {
    if (m_used == m_entries.size()) m_entries.emplace_back();
    entry& e = m_entries[m_used++];
    e.first_list = m_list_begin.size() - 1;
    e.lists = 0;
    e.item = 0;
    return e;
  }
  void add_box(const scored_box& b) { m_boxes.push_back(b); }
  void end_list(entry& e) {
    m_list_begin.push_back(m_boxes.size());
    ++e.lists;
  }
  /// Appends a copy of `sp`.
  void append(const sentence_prediction& sp) {
    entry& e = begin_entry();
    e.image_id = sp.image_id;
    e.sentence_id = sp.sentence_id;
    e.item = sp.item;
    for (const auto& l : sp.boxes) {
      m_boxes.insert(m_boxes.end(), l.begin(), l.end());
      end_list(e);
    }
  }
  /// Entry i as a sentence_prediction of its own.
  sentence_prediction to_sentence_prediction(std::size_t i) const {
    const entry& e = m_entries[i];
    sentence_prediction sp{e.image_id, e.sentence_id, {}, e.item};
    sp.boxes.reserve(e.lists);
    for (std::size_t j = 0; j < e.lists; ++j) {
      const auto l = list(e, j);
      sp.boxes.emplace_back(l.begin(), l.end());
    }
    return sp;
  }

 private:
  std::vector<entry> m_entries;  // [0, m_used) hold the block; the rest is kept for reuse
  std::size_t m_used = 0;
  std::vector<std::size_t> m_list_begin{0};  // list k: [m_list_begin[k], m_list_begin[k + 1])
  std::vector<scored_box> m_boxes;
};

/// One phrase query in the project's JSON Lines format (docs/metrics.md has the schema).
struct phrase_prediction_record {
  std::string image_id;
  long long sentence_id = 0;     ///< 0-based non-empty-line index, as in MDETR
  std::size_t phrase_index = 0;  ///< index among *all* annotated phrases of the sentence
  std::string chain_id;          ///< checked against the data set when not empty
  std::string phrase;            ///< the phrase text (informational)
  query_result result;           ///< ranked boxes in original pixels, status, raw text, latency
  std::string config_hash;       ///< the grounder's configuration hash
  std::size_t line = 0;          ///< 1-based line in its file (for messages), 0 = not from a file
};

/// A run's predictions: one of the two layouts is filled (both may be empty).
struct prediction_set {
  std::string source;                             ///< file name, for messages
  std::vector<sentence_prediction> sentences;     ///< MDETR layout
  std::vector<phrase_prediction_record> phrases;  ///< JSON Lines layout
};

/// One record as a line of the JSON Lines format (without the newline), members in the order of
/// docs/metrics.md: image_id, sentence_id, phrase_index, chain_id, phrase, boxes, scores, points
/// (only when the answer has points: [[x, y], ...]), status, message, raw_text, latency_s (null
/// when not measured), config_hash, and geometry when there is one (embedded as JSON when it is a
/// JSON value, else as a string). Invalid UTF-8 in the texts becomes U+FFFD; non-finite numbers
/// become null.
inline std::string format_jsonl_record(const phrase_prediction_record& r) {
  std::string o;
  o.reserve(256 + 48 * r.result.boxes.size() + r.result.raw_text.size());
  auto key = [&](std::string_view k) {
    o += o.empty() ? "{" : ",";
    detail::json_quote(o, k);
    o += ':';
  };
  auto text = [&](std::string_view k, std::string_view v) {
    key(k);
    if (detail::first_invalid_utf8(v) == std::string_view::npos)
      detail::json_quote(o, v);
    else
      detail::json_quote(o, detail::replace_invalid_utf8(v));
  };
  text("image_id", r.image_id);
  key("sentence_id");
  detail::json_integer(o, r.sentence_id);
  key("phrase_index");
  detail::json_number(o, static_cast<std::uint64_t>(r.phrase_index));
  text("chain_id", r.chain_id);
  text("phrase", r.phrase);
  key("boxes");
  o += '[';
  for (std::size_t i = 0; i < r.result.boxes.size(); ++i) {
    const auto& b = r.result.boxes[i].box;
    o += i ? ",[" : "[";
    for (const double v : {b.x1, b.y1, b.x2, b.y2}) {
      if (o.back() != '[') o += ',';
      detail::json_number(o, v);
    }
    o += ']';
  }
  o += ']';
  key("scores");
  o += '[';
  for (std::size_t i = 0; i < r.result.boxes.size(); ++i) {
    if (i) o += ',';
    detail::json_number(o, r.result.boxes[i].score);
  }
  o += ']';
  if (!r.result.points.empty()) {  // only point answers have the member: box runs read as before
    key("points");
    o += '[';
    for (std::size_t i = 0; i < r.result.points.size(); ++i) {
      o += i ? ",[" : "[";
      detail::json_number(o, r.result.points[i].x);
      o += ',';
      detail::json_number(o, r.result.points[i].y);
      o += ']';
    }
    o += ']';
  }
  text("status", to_string(r.result.status));
  text("message", r.result.message);
  text("raw_text", r.result.raw_text);
  key("latency_s");
  if (r.result.latency_s >= 0)
    detail::json_number(o, r.result.latency_s);
  else
    o += "null";
  text("config_hash", r.config_hash);
  if (!r.result.geometry.empty()) {
    if (detail::first_invalid_utf8(r.result.geometry) == std::string_view::npos &&
        detail::is_json_value(r.result.geometry)) {
      key("geometry");
      bool in_string = false, escaped = false;  // copied without white space between tokens
      for (const char c : r.result.geometry) {
        if (in_string) {
          in_string = escaped || c != '"';
          escaped = !escaped && c == '\\';
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          continue;
        } else {
          in_string = c == '"';
        }
        o += c;
      }
    } else {
      text("geometry", r.result.geometry);
    }
  }
  o += '}';
  return o;
}

}  // namespace groundeval
