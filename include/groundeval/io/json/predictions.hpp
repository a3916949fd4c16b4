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

#include <groundeval/detail/config_hash.hpp>
#include <groundeval/detail/text_encoding.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/io/limits.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// The two predictions file formats.
enum class predictions_format {
  mdetr_json,  ///< a JSON list of {image_id, sentence_id, boxes}
  jsonl        ///< JSON Lines, one phrase query per line
};

// max_jsonl_line_bytes (io/limits.hpp), shared with the writers: the longest JSON Lines record
// read (a longer line is an error naming the file and line, so a corrupt file cannot exhaust
// memory).
/// Deepest JSON nesting of a JSON Lines record (a deeper one is an error naming file and line).
inline constexpr std::size_t max_jsonl_nesting = 64;

struct predictions_read_options {
  /// Read a JSON null coordinate as NaN (and let the evaluator count it) instead of failing.
  bool allow_non_finite = false;
  /// When not empty, a JSON Lines record whose "config_hash" is another one is an error naming
  /// the file and line (detail::check_config_hash): the run's manifest's hash, so that results
  /// of another configuration are never credited to the run.
  std::string config_hash;
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
  /// Byte offset of the last record's line, counted from where the stream was when the reader
  /// was made (seek there and read again to get the record back: the replay grounder does).
  std::uint64_t offset() const noexcept { return m_record_offset; }

 private:
  std::istream& m_is;
  std::string m_source;
  predictions_read_options m_opt;
  std::size_t m_line = 0;
  std::string m_buf;
  std::uint64_t m_consumed = 0, m_record_offset = 0;
};
/// Reads a whole JSON Lines file.
inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt = {});
/// Reads the JSON Lines records for which `keep(record)` is true; the others are parsed (and
/// checked) and dropped, so memory holds only what is kept (e.g. the few cases a report draws).
template <class Keep>
prediction_set read_jsonl_predictions_if(const std::string& path, Keep keep,
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

/// Evaluates a predictions file (either format) against `data` without holding the file in
/// memory: JSON Lines are streamed through evaluator<D> `batch` records at a time, so memory is
/// the data set plus one small record per phrase whatever the file size. An MDETR JSON list is
/// one JSON document and is read whole. Same result as evaluate(data, read_predictions(path)).
template <Dataset D>
evaluation_result evaluate_predictions_file(const D& data, const std::string& path,
                                            const evaluation_options& eopt = {},
                                            const predictions_read_options& ropt = {},
                                            std::size_t batch = 4096);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline std::ifstream open_input_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_kind::io, path, 0, "cannot open the file");
  return f;
}

/// The rest of the stream `f` of the file `path`.
inline std::string read_stream(std::istream& f, const std::string& path) {
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw error(error_kind::io, path, 0, "read error");
  return std::move(ss).str();
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream f = open_input_file(path);
  return read_stream(f, path);
}

/// The format of the file `path` open in `f`, from its first non-blank character (the stream is
/// left after it).
inline predictions_format sniff_predictions_format(std::istream& f, const std::string& path);

/// A predictions file opened once: its format, and the stream back at the start of the file.
struct opened_predictions {
  std::ifstream in;
  predictions_format format;
};
inline opened_predictions open_predictions(const std::string& path);

template <class Keep>
prediction_set read_jsonl_stream_if(std::istream& f, const std::string& path, Keep keep,
                                    const predictions_read_options& opt) {
  prediction_set out;
  out.source = path;
  jsonl_prediction_reader reader(f, path, opt);
  phrase_prediction_record r;
  while (reader.next(r))
    if (keep(std::as_const(r))) out.phrases.push_back(std::move(r));
  return out;
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

/// Deepest nesting of '[' and '{' in JSON text (outside strings); one pass, no allocation.
inline std::size_t json_nesting_depth(std::string_view t) noexcept {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
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
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range.406: number overflow
    throw error(error_kind::parse, out.source, 0, e.what());
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
  // ordered_json copies members recursively when an object grows (its pairs have a const key,
  // so the vector cannot move them): a deeply nested value would overflow the stack. A record
  // needs 4 levels; a geometry contract a few more.
  if (detail::json_nesting_depth(text) > max_jsonl_nesting)
    throw error(error_kind::parse, source, line,
                "JSON nested deeper than " + std::to_string(max_jsonl_nesting) + " levels");
  nlohmann::ordered_json e;  // keeps member order, so "geometry" reads back as written
  try {
    e = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::ordered_json::exception& ex) {  // parse_error, out_of_range.406
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
  if (auto it = e.find("points"); it != e.end() && !it->is_null()) {
    if (!it->is_array())
      throw error(error_kind::parse, source, line, "points must be a list of [x, y] pairs");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& pt = (*it)[i];
      const std::string pctx = "points: point " + std::to_string(i);
      if (!pt.is_array() || pt.size() != 2)
        throw error(error_kind::parse, source, line, pctx + " is not a list of 2 numbers");
      r.result.points.push_back(
          {detail::read_coord(pt[0], opt.allow_non_finite, source, line, pctx),
           detail::read_coord(pt[1], opt.allow_non_finite, source, line, pctx)});
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
  // std::getline with a bound: a line past max_jsonl_line_bytes is an error, not an allocation.
  // Reads in chunks with istream::get, which stops before the '\n'.
  const auto getline_bounded = [this] {
    m_buf.clear();
    if (!m_is.good()) return false;
    char chunk[1 << 16];
    bool any = false;
    for (;;) {
      m_is.get(chunk, sizeof chunk, '\n');
      const auto got = static_cast<std::size_t>(m_is.gcount());
      m_consumed += got;
      any = any || got > 0;
      m_buf.append(chunk, got);
      if (m_buf.size() > max_jsonl_line_bytes)
        throw error(error_kind::parse, m_source, m_line + 1,
                    "a line longer than the " + std::to_string(max_jsonl_line_bytes >> 20) +
                        " MiB limit of a JSON Lines record");
      if (m_is.bad()) return false;
      if (m_is.eof()) return any;  // a last line without '\n' still counts
      if (m_is.fail()) m_is.clear(m_is.rdstate() & ~std::ios::failbit);  // empty: at the '\n'
      const int c = m_is.peek();
      if (c == '\n') {
        m_is.ignore();
        ++m_consumed;
        return true;
      }
      if (c == std::char_traits<char>::eof()) return any;
    }
  };
  for (std::uint64_t start = m_consumed; getline_bounded(); start = m_consumed) {
    ++m_line;
    if (!m_buf.empty() && m_buf.back() == '\r') m_buf.pop_back();
    if (m_buf.find_first_not_of(" \t") == std::string::npos) continue;
    out = parse_jsonl_record(m_buf, m_source, m_line, m_opt);
    detail::check_config_hash(out.config_hash, m_opt.config_hash, m_source, m_line);
    m_record_offset = start;
    return true;
  }
  if (m_is.bad()) throw error(error_kind::io, m_source, m_line, "read error");
  return false;
}

template <class Keep>
prediction_set read_jsonl_predictions_if(const std::string& path, Keep keep,
                                         const predictions_read_options& opt) {
  std::ifstream f = detail::open_input_file(path);
  return detail::read_jsonl_stream_if(f, path, keep, opt);
}

inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt) {
  return read_jsonl_predictions_if(
      path, [](const phrase_prediction_record&) { return true; }, opt);
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
  if (!r.result.points.empty()) {
    auto points = nlohmann::ordered_json::array();
    for (const auto& pt : r.result.points) points.push_back({pt.x, pt.y});
    e["points"] = std::move(points);
  }
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
  const std::string line = e.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // never write what the readers refuse (grounders cut raw_text and message: io/limits.hpp)
  if (line.size() > max_jsonl_line_bytes)
    throw error(error_kind::invalid, "predictions record", 0,
                "image " + r.image_id + " sentence " + std::to_string(r.sentence_id) + " phrase " +
                    std::to_string(r.phrase_index) + ": the record is " +
                    std::to_string(line.size()) + " bytes, above the " +
                    std::to_string(max_jsonl_line_bytes >> 20) +
                    " MiB limit of a JSON Lines record");
  os << line << '\n';
}

inline void write_jsonl_predictions(std::ostream& os, const prediction_set& p) {
  for (const auto& r : p.phrases) write_jsonl_record(os, r);
}

inline detail::opened_predictions detail::open_predictions(const std::string& path) {
  std::ifstream f = open_input_file(path);
  const predictions_format format = sniff_predictions_format(f, path);
  f.clear();
  f.seekg(0);
  if (!f) throw error(error_kind::io, path, 0, "cannot read the file again from its start");
  return {std::move(f), format};
}

inline predictions_format detect_predictions_format(const std::string& path) {
  return detail::open_predictions(path).format;
}

inline predictions_format detail::sniff_predictions_format(std::istream& f,
                                                           const std::string& path) {
  char c = 0;
  std::size_t line = 1;
  char head[3] = {0, 0, 0};
  f.read(head, 3);
  const std::string_view h(head, static_cast<std::size_t>(f.gcount()));
  if (auto why = detail::utf16_problem(h); !why.empty())
    throw error(error_kind::parse, path, 1, why);
  f.clear();
  f.seekg(h == "\xEF\xBB\xBF" ? 3 : 0);  // a UTF-8 byte-order mark is skipped
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
  auto [f, format] = detail::open_predictions(path);
  if (format == predictions_format::mdetr_json)
    return parse_mdetr_predictions(detail::read_stream(f, path), path, opt);
  return detail::read_jsonl_stream_if(
      f, path, [](const phrase_prediction_record&) { return true; }, opt);
}

template <Dataset D>
evaluation_result evaluate_predictions_file(const D& data, const std::string& path,
                                            const evaluation_options& eopt,
                                            const predictions_read_options& ropt,
                                            std::size_t batch) {
  auto [f, format] = detail::open_predictions(path);  // opened once
  if (format == predictions_format::mdetr_json)
    return evaluate(data, parse_mdetr_predictions(detail::read_stream(f, path), path, ropt), eopt);
  evaluator<D> ev(data, eopt, path);
  jsonl_prediction_reader reader(f, path, ropt);
  std::vector<phrase_prediction_record> buf(std::max<std::size_t>(batch, 1));
  for (;;) {
    std::size_t n = 0;
    while (n < buf.size() && reader.next(buf[n])) ++n;
    for (std::size_t i = 0; i < n; ++i) ev.add(buf[i]);
    ev.measure_pending();  // the records in buf may be overwritten from here on
    if (n < buf.size()) break;
  }
  return ev.finish();
}

}  // namespace groundeval
