// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions.hpp — reading and writing predictions: MDETR's JSON list
// ({image_id, sentence_id, boxes}) and the project's JSON Lines format (one line per phrase
// query; schema in docs/metrics.md). Target: groundeval::json (nlohmann/json).
//
// Coordinates are read as double, never rounded to float. Errors name the file and the line
// (JSON Lines) or the entry (MDETR JSON, plus the line of a syntax error). A non-numeric
// coordinate (JSON null, which is how NaN and infinities are written) is an error unless
// allow_non_finite is set; then it reads as NaN and the evaluator counts the box.
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

namespace groundeval {

/// The two predictions file formats.
enum class predictions_format {
  mdetr_json,  ///< a JSON list of {image_id, sentence_id, boxes}
  jsonl        ///< JSON Lines, one phrase query per line
};

struct predictions_read_options {
  /// Read a JSON null coordinate as NaN (and let the evaluator count it) instead of failing.
  bool allow_non_finite = false;
};

/// Parses MDETR-format predictions from `text`; `source` names the file in messages.
inline prediction_set parse_mdetr_predictions(std::string_view text, std::string source,
                                              const predictions_read_options& opt = {});
/// Reads MDETR-format predictions from a file.
inline prediction_set read_mdetr_predictions(const std::string& path,
                                             const predictions_read_options& opt = {});
/// Writes the per-sentence entries of `p` as an MDETR JSON list.
inline void write_mdetr_predictions(std::ostream& os, const prediction_set& p);

/// Parses one JSON Lines record (`line` is its 1-based line, for messages).
inline phrase_prediction_record parse_jsonl_record(std::string_view text, const std::string& source,
                                                   std::size_t line,
                                                   const predictions_read_options& opt = {});
/// Streams JSON Lines records one at a time; blank lines are skipped.
class jsonl_prediction_reader {
 public:
  jsonl_prediction_reader(std::istream& is, std::string source, predictions_read_options opt = {})
      : m_is(is), m_source(std::move(source)), m_opt(opt) {}
  /// Reads the next record into `out`; false at the end of the input.
  bool next(phrase_prediction_record& out);
  /// 1-based number of the last line read.
  std::size_t line() const noexcept { return m_line; }

 private:
  std::istream& m_is;
  std::string m_source;
  predictions_read_options m_opt;
  std::size_t m_line = 0;
  std::string m_buf;
};
/// Reads a whole JSON Lines file.
inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt = {});
/// Writes one record as one line (with the trailing newline).
inline void write_jsonl_record(std::ostream& os, const phrase_prediction_record& r);
/// Writes the per-phrase records of `p`.
inline void write_jsonl_predictions(std::ostream& os, const prediction_set& p);

/// Format of a predictions file, from its first non-blank character ('[' or '{').
inline predictions_format detect_predictions_format(const std::string& path);
/// Reads either format (detected from the content).
inline prediction_set read_predictions(const std::string& path,
                                       const predictions_read_options& opt = {});

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_kind::io, path, 0, "cannot open the file");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw error(error_kind::io, path, 0, "read error");
  return std::move(ss).str();
}

/// Python's str() of a JSON id (integer or string); anything else is an error.
template <class J>
std::string python_id(const J& v, const char* what, const std::string& where, std::size_t line) {
  if (v.is_string()) return v.template get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.template get<unsigned long long>());
  if (v.is_number_integer()) return std::to_string(v.template get<long long>());
  throw error(error_kind::parse, where, line,
              std::string(what) + " must be an integer or a string, got " + v.dump());
}

template <class J>
double read_coord(const J& v, bool allow_null, const std::string& where, std::size_t line,
                  const std::string& ctx) {
  if (v.is_number()) return v.template get<double>();
  if (v.is_null() && allow_null) return std::numeric_limits<double>::quiet_NaN();
  throw error(error_kind::parse, where, line,
              ctx + ": coordinate " + v.dump() +
                  (v.is_null() ? " is not finite (allow non-finite boxes to count it)"
                               : " is not a number"));
}

template <class J>
void read_box_list(const J& list, std::vector<scored_box>& out, bool allow_null,
                   const std::string& where, std::size_t line, const std::string& ctx) {
  if (!list.is_array())
    throw error(error_kind::parse, where, line, ctx + " is not a list of boxes");
  out.clear();
  out.reserve(list.size());
  std::size_t b = 0;
  for (const auto& box : list) {
    if (!box.is_array() || box.size() != 4)
      throw error(error_kind::parse, where, line,
                  ctx + ": box " + std::to_string(b) + " is not a list of 4 numbers");
    const std::string bctx = ctx + ": box " + std::to_string(b);
    scored_box sb;
    sb.box = {read_coord(box[0], allow_null, where, line, bctx),
              read_coord(box[1], allow_null, where, line, bctx),
              read_coord(box[2], allow_null, where, line, bctx),
              read_coord(box[3], allow_null, where, line, bctx)};
    out.push_back(sb);
    ++b;
  }
}

inline std::size_t line_of_byte(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

inline nlohmann::json box_json(const box_xyxy<double>& b) {
  return nlohmann::json::array({b.x1, b.y1, b.x2, b.y2});
}

inline bool is_canonical_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || (s[i] == '0' && s.size() > i + 1)) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return s != "-0";
}

}  // namespace detail

inline prediction_set parse_mdetr_predictions(std::string_view text, std::string source,
                                              const predictions_read_options& opt) {
  prediction_set out;
  out.source = std::move(source);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, out.source, detail::line_of_byte(text, e.byte), e.what());
  }
  if (!doc.is_array())
    throw error(error_kind::parse, out.source, 0,
                "MDETR predictions must be a JSON list of {image_id, sentence_id, boxes}");
  out.sentences.reserve(doc.size());
  std::size_t item = 0;
  for (const auto& e : doc) {
    const std::string where = out.source + ": entry #" + std::to_string(item);
    if (!e.is_object()) throw error(error_kind::parse, where, 0, "not an object");
    for (const char* key : {"image_id", "sentence_id", "boxes"})
      if (!e.contains(key))
        throw error(error_kind::parse, where, 0, std::string("no \"") + key + "\"");
    sentence_prediction sp;
    sp.item = item;
    sp.image_id = detail::python_id(e["image_id"], "image_id", where, 0);
    sp.sentence_id = detail::python_id(e["sentence_id"], "sentence_id", where, 0);
    const auto& lists = e["boxes"];
    if (!lists.is_array())
      throw error(error_kind::parse, where, 0, "\"boxes\" must be a list of box lists");
    sp.boxes.resize(lists.size());
    for (std::size_t j = 0; j < lists.size(); ++j)
      detail::read_box_list(lists[j], sp.boxes[j], opt.allow_non_finite, where, 0,
                            "phrase list " + std::to_string(j));
    out.sentences.push_back(std::move(sp));
    ++item;
  }
  return out;
}

inline prediction_set read_mdetr_predictions(const std::string& path,
                                             const predictions_read_options& opt) {
  const std::string text = detail::read_text_file(path);
  return parse_mdetr_predictions(text, path, opt);
}

inline void write_mdetr_predictions(std::ostream& os, const prediction_set& p) {
  os << "[";
  bool first = true;
  for (const auto& s : p.sentences) {
    nlohmann::json e;
    e["image_id"] = s.image_id;
    if (detail::is_canonical_int(s.sentence_id))
      e["sentence_id"] = std::stoll(s.sentence_id);
    else
      e["sentence_id"] = s.sentence_id;
    auto lists = nlohmann::json::array();
    for (const auto& l : s.boxes) {
      auto arr = nlohmann::json::array();
      for (const auto& b : l) arr.push_back(detail::box_json(b.box));
      lists.push_back(std::move(arr));
    }
    e["boxes"] = std::move(lists);
    os << (first ? "\n" : ",\n") << e.dump();
    first = false;
  }
  os << "\n]\n";
}

inline phrase_prediction_record parse_jsonl_record(std::string_view text, const std::string& source,
                                                   std::size_t line,
                                                   const predictions_read_options& opt) {
  nlohmann::ordered_json e;  // keeps member order, so "geometry" reads back as written
  try {
    e = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::ordered_json::parse_error& ex) {
    throw error(error_kind::parse, source, line, ex.what());
  }
  if (!e.is_object())
    throw error(error_kind::parse, source, line, "a record must be a JSON object");
  for (const char* key : {"image_id", "sentence_id", "phrase_index", "boxes", "status"})
    if (!e.contains(key))
      throw error(error_kind::parse, source, line, std::string("no \"") + key + "\"");
  phrase_prediction_record r;
  r.line = line;
  r.image_id = detail::python_id(e["image_id"], "image_id", source, line);
  if (!e["sentence_id"].is_number_integer())
    throw error(error_kind::parse, source, line, "sentence_id must be an integer");
  r.sentence_id = e["sentence_id"].get<long long>();
  if (!e["phrase_index"].is_number_integer() || e["phrase_index"].get<long long>() < 0)
    throw error(error_kind::parse, source, line, "phrase_index must be a non-negative integer");
  r.phrase_index = e["phrase_index"].get<std::size_t>();
  auto opt_string = [&](const char* key, std::string& dst) {
    auto it = e.find(key);
    if (it == e.end() || it->is_null()) return;
    if (!it->is_string())
      throw error(error_kind::parse, source, line, std::string(key) + " must be a string");
    dst = it->get<std::string>();
  };
  if (auto it = e.find("chain_id"); it != e.end() && !it->is_null())
    r.chain_id = detail::python_id(*it, "chain_id", source, line);
  opt_string("phrase", r.phrase);
  opt_string("raw_text", r.result.raw_text);
  opt_string("message", r.result.message);
  opt_string("config_hash", r.config_hash);
  const auto& st = e["status"];
  const std::string s = st.is_string() ? st.get<std::string>() : std::string();
  if (s == "ok")
    r.result.status = query_status::ok;
  else if (s == "empty")
    r.result.status = query_status::empty;
  else if (s == "format_failure")
    r.result.status = query_status::format_failure;
  else if (s == "error")
    r.result.status = query_status::error;
  else
    throw error(error_kind::parse, source, line,
                "status must be one of ok, empty, format_failure, error; got " + st.dump());
  detail::read_box_list(e["boxes"], r.result.boxes, opt.allow_non_finite, source, line, "boxes");
  if (auto it = e.find("scores"); it != e.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != r.result.boxes.size())
      throw error(error_kind::parse, source, line,
                  "scores must be a list with one number per box (" +
                      std::to_string(r.result.boxes.size()) + ")");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& v = (*it)[i];
      if (!v.is_number() && !v.is_null())
        throw error(error_kind::parse, source, line,
                    "score " + std::to_string(i) + " is not a number");
      r.result.boxes[i].score =
          v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    }
  }
  if (auto it = e.find("geometry"); it != e.end() && !it->is_null())
    r.result.geometry = it->is_string() ? it->get<std::string>() : it->dump();
  if (auto it = e.find("latency_s"); it != e.end() && !it->is_null()) {
    if (!it->is_number())
      throw error(error_kind::parse, source, line, "latency_s must be a number");
    r.result.latency_s = it->get<double>();
  }
  return r;
}

inline bool jsonl_prediction_reader::next(phrase_prediction_record& out) {
  while (std::getline(m_is, m_buf)) {
    ++m_line;
    if (!m_buf.empty() && m_buf.back() == '\r') m_buf.pop_back();
    if (m_buf.find_first_not_of(" \t") == std::string::npos) continue;
    out = parse_jsonl_record(m_buf, m_source, m_line, m_opt);
    return true;
  }
  if (m_is.bad()) throw error(error_kind::io, m_source, m_line, "read error");
  return false;
}

inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_kind::io, path, 0, "cannot open the file");
  prediction_set out;
  out.source = path;
  jsonl_prediction_reader reader(f, path, opt);
  phrase_prediction_record r;
  while (reader.next(r)) out.phrases.push_back(std::move(r));
  return out;
}

inline void write_jsonl_record(std::ostream& os, const phrase_prediction_record& r) {
  nlohmann::ordered_json e;
  e["image_id"] = r.image_id;
  e["sentence_id"] = r.sentence_id;
  e["phrase_index"] = r.phrase_index;
  e["chain_id"] = r.chain_id;
  e["phrase"] = r.phrase;
  auto boxes = nlohmann::ordered_json::array();
  auto scores = nlohmann::ordered_json::array();
  for (const auto& b : r.result.boxes) {
    boxes.push_back({b.box.x1, b.box.y1, b.box.x2, b.box.y2});
    scores.push_back(b.score);
  }
  e["boxes"] = std::move(boxes);
  e["scores"] = std::move(scores);
  e["status"] = std::string(to_string(r.result.status));
  e["message"] = r.result.message;
  e["raw_text"] = r.result.raw_text;
  if (r.result.latency_s >= 0)
    e["latency_s"] = r.result.latency_s;
  else
    e["latency_s"] = nullptr;
  e["config_hash"] = r.config_hash;
  if (!r.result.geometry.empty()) {
    // The geometry contract is JSON text: embedded as a JSON value when it parses, else a string.
    auto g = nlohmann::ordered_json::parse(r.result.geometry, nullptr, false);
    if (g.is_discarded())
      e["geometry"] = r.result.geometry;
    else
      e["geometry"] = std::move(g);
  }
  // Invalid UTF-8 in model text is replaced rather than aborting the whole file.
  os << e.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

inline void write_jsonl_predictions(std::ostream& os, const prediction_set& p) {
  for (const auto& r : p.phrases) write_jsonl_record(os, r);
}

inline predictions_format detect_predictions_format(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_kind::io, path, 0, "cannot open the file");
  char c = 0;
  std::size_t line = 1;
  while (f.get(c)) {
    if (c == '\n') ++line;
    if (c == '[') return predictions_format::mdetr_json;
    if (c == '{') return predictions_format::jsonl;
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      throw error(error_kind::parse, path, line,
                  "not a predictions file (expected '[' for MDETR JSON or '{' for JSON Lines)");
  }
  throw error(error_kind::parse, path, line, "the predictions file is empty");
}

inline prediction_set read_predictions(const std::string& path,
                                       const predictions_read_options& opt) {
  return detect_predictions_format(path) == predictions_format::mdetr_json
             ? read_mdetr_predictions(path, opt)
             : read_jsonl_predictions(path, opt);
}

}  // namespace groundeval
