// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions_reference.hpp — the reference predictions parser, on
// nlohmann/json: it defines what a predictions file means and produces every error message.
// Target: groundeval::json. The fast readers (io/json/predictions_simdjson.hpp and
// predictions_stream.hpp) hand a record or entry here whenever they cannot decide it
// themselves, so their results and errors are this parser's by construction; the differential
// tests and fuzz/fuzz_predictions.cpp compare the two.
//
// Coordinates are read as double, never rounded to float. Errors name the file and the line
// (JSON Lines) or the entry (MDETR JSON, plus the line of a syntax error). A non-numeric
// coordinate (JSON null, which is how NaN and infinities are written) is an error unless
// allow_non_finite is set; then it reads as NaN and the evaluator counts the box.
#pragma once

#include <groundeval/detail/config_hash.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/io/json/predictions_format.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::detail::reference_predictions {

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

/// Calls fn(i) for each byte t[i] of JSON text that is outside strings and one of '[', ']', '{',
/// '}' and ','; stops early when fn returns false. No validation: malformed text is walked too.
template <class Fn>
void for_each_json_structural(std::string_view t, Fn fn) {
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
    } else if (c == '[' || c == '{' || c == ']' || c == '}' || c == ',') {
      if (!fn(i)) return;
    }
  }
}

/// Deepest nesting of '[' and '{' in JSON text (outside strings); one pass, no allocation.
inline std::size_t json_nesting_depth(std::string_view t) noexcept {
  std::size_t depth = 0, deepest = 0;
  for_each_json_structural(t, [&](std::size_t i) {
    if (t[i] == '[' || t[i] == '{')
      deepest = std::max(deepest, ++depth);
    else if (t[i] != ',' && depth > 0)
      --depth;
    return true;
  });
  return deepest;
}

inline std::size_t line_of_byte(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

/// Appends the MDETR entries of the JSON list `doc` (a parsed document or part of one) to `out`;
/// `first_item` is the 0-based position of doc[0] in the whole file (for messages).
inline void parse_mdetr_entries(const nlohmann::json& doc, const std::string& source,
                                std::size_t first_item, const predictions_read_options& opt,
                                std::vector<sentence_prediction>& out) {
  std::size_t item = first_item;
  for (const auto& e : doc) {
    const std::string where = source + ": entry #" + std::to_string(item);
    if (!e.is_object()) throw error(error_kind::parse, where, 0, "not an object");
    for (const char* key : {"image_id", "sentence_id", "boxes"})
      if (!e.contains(key))
        throw error(error_kind::parse, where, 0, std::string("no \"") + key + "\"");
    sentence_prediction sp;
    sp.item = item;
    sp.image_id = python_id(e["image_id"], "image_id", where, 0);
    sp.sentence_id = python_id(e["sentence_id"], "sentence_id", where, 0);
    const auto& lists = e["boxes"];
    if (!lists.is_array())
      throw error(error_kind::parse, where, 0, "\"boxes\" must be a list of box lists");
    sp.boxes.resize(lists.size());
    for (std::size_t j = 0; j < lists.size(); ++j)
      read_box_list(lists[j], sp.boxes[j], opt.allow_non_finite, where, 0,
                    "phrase list " + std::to_string(j));
    out.push_back(std::move(sp));
    ++item;
  }
}

/// Parses JSON text with nlohmann/json, turning its errors into groundeval::error naming
/// `source` and the line of the syntax error.
inline nlohmann::json parse_json_document(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, source, line_of_byte(text, e.byte), e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range.406: number overflow
    throw error(error_kind::parse, source, 0, e.what());
  }
}

/// The whole MDETR predictions list in `text`.
inline prediction_set parse_mdetr_predictions(std::string_view text, std::string source,
                                              const predictions_read_options& opt) {
  prediction_set out;
  out.source = std::move(source);
  const nlohmann::json doc = parse_json_document(text, out.source);
  if (!doc.is_array())
    throw error(error_kind::parse, out.source, 0,
                "MDETR predictions must be a JSON list of {image_id, sentence_id, boxes}");
  out.sentences.reserve(doc.size());
  parse_mdetr_entries(doc, out.source, 0, opt, out.sentences);
  return out;
}

/// A SAX handler that accepts every value: nlohmann's syntax check without building anything.
struct json_syntax_check {
  using json = nlohmann::json;
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(std::string&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    throw ex;  // the concrete type, as nlohmann::json::parse throws it
  }
};

/// Checks the JSON syntax of `text` without building a document: throws exactly the error
/// parse_json_document would throw for it, or returns.
inline void check_json_syntax(std::string_view text, const std::string& source) {
  json_syntax_check sax;
  try {
    nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, source, line_of_byte(text, e.byte), e.what());
  } catch (const nlohmann::json::exception& e) {
    throw error(error_kind::parse, source, 0, e.what());
  }
}

/// The same check for the document read from `in` (the whole stream, in bounded memory);
/// `reopen()` gives the same bytes again from their start, to count the line of an error.
template <class Reopen>
void check_json_syntax(std::istream& in, const std::string& source, Reopen reopen) {
  json_syntax_check sax;
  try {
    nlohmann::json::sax_parse(in, &sax);
  } catch (const nlohmann::json::parse_error& e) {
    std::size_t line = 1, seen = 0;
    auto again = reopen();
    char buf[1 << 16];
    while (seen < e.byte) {
      again->read(buf, sizeof buf);
      const auto got = static_cast<std::size_t>(again->gcount());
      if (got == 0) break;
      const std::size_t use = std::min(got, e.byte - seen);
      line += static_cast<std::size_t>(std::count(buf, buf + use, '\n'));
      seen += use;
    }
    throw error(error_kind::parse, source, line, e.what());
  } catch (const nlohmann::json::exception& e) {
    throw error(error_kind::parse, source, 0, e.what());
  }
}

/// One JSON Lines record (`line` is its 1-based line, for messages).
inline phrase_prediction_record parse_jsonl_record(std::string_view text, const std::string& source,
                                                   std::size_t line,
                                                   const predictions_read_options& opt) {
  // ordered_json copies members recursively when an object grows (its pairs have a const key,
  // so the vector cannot move them): a deeply nested value would overflow the stack. A record
  // needs 4 levels; a geometry contract a few more.
  if (json_nesting_depth(text) > max_jsonl_nesting)
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
  r.image_id = python_id(e["image_id"], "image_id", source, line);
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
    r.chain_id = python_id(*it, "chain_id", source, line);
  opt_string("phrase", r.phrase);
  opt_string("raw_text", r.result.raw_text);
  opt_string("message", r.result.message);
  opt_string("config_hash", r.config_hash);
  const auto& st = e["status"];
  if (!st.is_string() || !query_status_from(st.get<std::string>(), r.result.status))
    throw error(error_kind::parse, source, line,
                "status must be one of ok, empty, format_failure, error; got " + st.dump());
  read_box_list(e["boxes"], r.result.boxes, opt.allow_non_finite, source, line, "boxes");
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
      r.result.points.push_back({read_coord(pt[0], opt.allow_non_finite, source, line, pctx),
                                 read_coord(pt[1], opt.allow_non_finite, source, line, pctx)});
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

/// A whole JSON Lines text, the reference way: lines end at '\n' (one '\r' before it is dropped),
/// blank lines (spaces and tabs) are skipped, every other line is one record. Appends the records
/// to `out`; throws the first bad line's error (`out` then holds the records before it). No line
/// length limit: for tests and small texts.
inline void parse_jsonl_text(std::string_view text, const std::string& source,
                             const predictions_read_options& opt,
                             std::vector<phrase_prediction_record>& out) {
  std::size_t line = 0, b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    ++line;
    std::string_view l = text.substr(b, e - b);
    b = e + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto r = parse_jsonl_record(l, source, line, opt);
    check_config_hash(r.config_hash, opt.config_hash, source, line);
    out.push_back(std::move(r));
  }
}

/// Bit-for-bit equality (doubles compared as bytes: NaN equals NaN, -0 differs from 0), what the
/// differential tests and the fuzzer require of the fast readers.
inline bool identical(const std::vector<scored_box>& a, const std::vector<scored_box>& b) {
  auto same = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i].box.x1, b[i].box.x1) || !same(a[i].box.y1, b[i].box.y1) ||
        !same(a[i].box.x2, b[i].box.x2) || !same(a[i].box.y2, b[i].box.y2) ||
        !same(a[i].score, b[i].score))
      return false;
  return true;
}

inline bool identical(const std::vector<answer_point>& a, const std::vector<answer_point>& b) {
  auto same = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i].x, b[i].x) || !same(a[i].y, b[i].y)) return false;
  return true;
}

inline bool identical(const phrase_prediction_record& a, const phrase_prediction_record& b) {
  return a.image_id == b.image_id && a.sentence_id == b.sentence_id &&
         a.phrase_index == b.phrase_index && a.chain_id == b.chain_id && a.phrase == b.phrase &&
         a.config_hash == b.config_hash && a.line == b.line && a.result.status == b.result.status &&
         a.result.raw_text == b.result.raw_text && a.result.message == b.result.message &&
         std::memcmp(&a.result.latency_s, &b.result.latency_s, sizeof(double)) == 0 &&
         a.result.geometry == b.result.geometry && identical(a.result.boxes, b.result.boxes) &&
         identical(a.result.points, b.result.points);
}

inline bool identical(const sentence_prediction& a, const sentence_prediction& b) {
  if (a.image_id != b.image_id || a.sentence_id != b.sentence_id || a.item != b.item ||
      a.boxes.size() != b.boxes.size())
    return false;
  for (std::size_t i = 0; i < a.boxes.size(); ++i)
    if (!identical(a.boxes[i], b.boxes[i])) return false;
  return true;
}

}  // namespace groundeval::detail::reference_predictions
