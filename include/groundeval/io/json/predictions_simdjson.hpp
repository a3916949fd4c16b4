// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions_simdjson.hpp — fast decoding of one JSON Lines record or one
// MDETR entry from a simdjson DOM (Debian libsimdjson-dev 3.0.1). Target: groundeval::json.
//
// Contract: a decoder returns true only when its result is exactly what the reference parser
// (io/json/predictions_reference.hpp, nlohmann/json) gives for the same text; for anything it
// does not decide itself (a simdjson error, a missing or mistyped field, a geometry object with
// a repeated key, ...) it returns false and the caller asks the reference parser, which then
// returns the record or throws the reference's error. Equalities relied on (tested in
// tests/metrics/test_predictions_fast.cpp, fuzzed in fuzz/fuzz_predictions.cpp):
//   * simdjson's DOM accepts a subset of what nlohmann/json accepts (it also rejects unescaped
//     control characters, lone surrogates, integers beyond 64 bits, nesting deeper than its
//     limit, a byte-order mark), and both parse numbers to the correctly rounded double;
//     "-0" is the integer 0 in both;
//   * a repeated key: nlohmann keeps the last value, so the decoders keep the last one too;
//   * JSON Lines nesting: the parser's depth limit is max_jsonl_nesting, the reference's
//     json_nesting_depth counts the same way (a record nested deeper goes to the reference,
//     which rejects it);
//   * a non-string "geometry" value is written as nlohmann's compact dump() would write it,
//     numbers and strings formatted by nlohmann itself.
#pragma once

#include <groundeval/eval/predictions.hpp>
#include <groundeval/io/json/predictions_format.hpp>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::detail::simdjson_predictions {

using element = simdjson::dom::element;
using element_type = simdjson::dom::element_type;

/// A JSON number as nlohmann's get<double>() reads it (an integer converted with a cast, as
/// simdjson's get_double does it too); false for anything else.
inline bool number(element v, double& out) noexcept {
  return v.get_double().get(out) == simdjson::SUCCESS;
}

/// Python's str() of a JSON id (integer or string) into `out`; false for anything else.
inline bool python_id(element v, std::string& out) {
  char buf[24];
  std::to_chars_result r{};
  switch (v.type()) {
    case element_type::STRING:
      out.assign(v.get_string().value_unsafe());
      return true;
    case element_type::INT64:
      r = std::to_chars(buf, buf + sizeof buf, v.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      r = std::to_chars(buf, buf + sizeof buf, v.get_uint64().value_unsafe());
      break;
    default:
      return false;
  }
  out.assign(buf, r.ptr);
  return true;
}

/// A ranked box list [[x1, y1, x2, y2], ...] into `out` (reusing its capacity).
inline bool box_list(element list, std::vector<scored_box>& out, bool allow_null) {
  simdjson::dom::array boxes;
  if (list.get_array().get(boxes) != simdjson::SUCCESS) return false;
  out.clear();
  out.reserve(boxes.size());
  for (element box : boxes) {
    simdjson::dom::array coords;
    if (box.get_array().get(coords) != simdjson::SUCCESS) return false;
    double c[4];
    std::size_t k = 0;
    for (element v : coords) {
      if (k == 4) return false;
      if (!number(v, c[k])) {
        if (!(allow_null && v.is_null())) return false;
        c[k] = std::numeric_limits<double>::quiet_NaN();
      }
      ++k;
    }
    if (k != 4) return false;
    scored_box sb;
    sb.box = {c[0], c[1], c[2], c[3]};
    out.push_back(sb);
  }
  return true;
}

/// A list of [x, y] points into `out`; false (ask the reference parser) when it is not one.
inline bool point_list(element list, std::vector<answer_point>& out, bool allow_null) {
  simdjson::dom::array pts;
  if (list.get_array().get(pts) != simdjson::SUCCESS) return false;
  out.clear();
  for (element pt : pts) {
    simdjson::dom::array xy;
    if (pt.get_array().get(xy) != simdjson::SUCCESS) return false;
    double c[2];
    std::size_t k = 0;
    for (element v : xy) {
      if (k == 2) return false;
      if (!number(v, c[k])) {
        if (!(allow_null && v.is_null())) return false;
        c[k] = std::numeric_limits<double>::quiet_NaN();
      }
      ++k;
    }
    if (k != 2) return false;
    out.push_back({c[0], c[1]});
  }
  return true;
}

/// Appends `v` as nlohmann's ordered_json::dump() writes the same value (compact); false when an
/// object repeats a key (nlohmann then keeps the first position with the last value).
inline bool dump_like_nlohmann(element v, std::string& out) {
  switch (v.type()) {
    case element_type::ARRAY: {
      const simdjson::dom::array arr = v.get_array().value_unsafe();
      out.push_back('[');
      bool first = true;
      for (element x : arr) {
        if (!first) out.push_back(',');
        first = false;
        if (!dump_like_nlohmann(x, out)) return false;
      }
      out.push_back(']');
      return true;
    }
    case element_type::OBJECT: {
      const simdjson::dom::object obj = v.get_object().value_unsafe();
      std::vector<std::string_view> keys;
      for (auto field : obj) {
        for (const auto k : keys)
          if (k == field.key) return false;
        keys.push_back(field.key);
      }
      out.push_back('{');
      bool first = true;
      for (auto field : obj) {
        if (!first) out.push_back(',');
        first = false;
        out += nlohmann::ordered_json(std::string(field.key)).dump();
        out.push_back(':');
        if (!dump_like_nlohmann(field.value, out)) return false;
      }
      out.push_back('}');
      return true;
    }
    case element_type::STRING:
      out += nlohmann::ordered_json(std::string(v.get_string().value_unsafe())).dump();
      return true;
    case element_type::INT64:
      out += std::to_string(v.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      out += std::to_string(v.get_uint64().value_unsafe());
      return true;
    case element_type::DOUBLE:
      out += nlohmann::ordered_json(v.get_double().value_unsafe()).dump();
      return true;
    case element_type::BOOL:
      out += v.get_bool().value_unsafe() ? "true" : "false";
      return true;
    case element_type::NULL_VALUE:
      out += "null";
      return true;
  }
  return false;
}

/// Decodes JSON Lines records; one per thread (it owns a simdjson parser).
class record_decoder {
 public:
  /// Decodes the record in [text, text + size) — at least SIMDJSON_PADDING readable bytes must
  /// follow it — into `r` (every field overwritten). False: ask the reference parser.
  bool decode(const char* text, std::size_t size, std::size_t line,
              const predictions_read_options& opt, phrase_prediction_record& r) {
    if (!m_ready) {
      if (m_parser.allocate(std::size_t{1} << 16, max_jsonl_nesting) != simdjson::SUCCESS)
        return false;
      m_ready = true;
    }
    element doc;
    if (m_parser.parse(text, size, false).get(doc) != simdjson::SUCCESS) return false;
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
    // Fields by position in `keys`; a later duplicate overwrites an earlier one, as in
    // nlohmann/json. The first five are required.
    static constexpr std::string_view keys[] = {
        "image_id", "sentence_id", "phrase_index", "boxes",  "status",   "chain_id",  "phrase",
        "raw_text", "message",     "config_hash",  "scores", "geometry", "latency_s", "points"};
    enum : unsigned {
      k_chain = 1u << 5,
      k_phrase = 1u << 6,
      k_raw = 1u << 7,
      k_message = 1u << 8,
      k_config = 1u << 9,
      k_scores = 1u << 10,
      k_geometry = 1u << 11,
      k_latency = 1u << 12,
      k_points = 1u << 13,
      k_required = 31u
    };
    element field_value[std::size(keys)];
    unsigned seen = 0;
    for (auto field : obj)
      for (std::size_t i = 0; i < std::size(keys); ++i)
        if (field.key == keys[i]) {
          field_value[i] = field.value;
          seen |= 1u << i;
          break;
        }
    const element &image = field_value[0], &sentence = field_value[1],
                  &phrase_index = field_value[2], &boxes = field_value[3], &status = field_value[4],
                  &chain = field_value[5], &phrase = field_value[6], &raw = field_value[7],
                  &message = field_value[8], &config = field_value[9], &scores = field_value[10],
                  &geometry = field_value[11], &latency = field_value[12],
                  &points = field_value[13];
    if ((seen & k_required) != k_required) return false;
    r.line = line;
    if (!python_id(image, r.image_id)) return false;
    // sentence_id: an integer (get<long long>() of an unsigned one wraps, as in nlohmann).
    if (sentence.type() == element_type::INT64)
      r.sentence_id = sentence.get_int64().value_unsafe();
    else if (sentence.type() == element_type::UINT64)
      r.sentence_id = static_cast<long long>(sentence.get_uint64().value_unsafe());
    else
      return false;
    // phrase_index: a non-negative integer that fits a long long.
    if (phrase_index.type() != element_type::INT64 || phrase_index.get_int64().value_unsafe() < 0)
      return false;
    r.phrase_index = static_cast<std::size_t>(phrase_index.get_int64().value_unsafe());
    auto opt_string = [&](unsigned bit, element v, std::string& dst) {
      dst.clear();
      if (!(seen & bit) || v.is_null()) return true;
      if (v.type() != element_type::STRING) return false;
      dst.assign(v.get_string().value_unsafe());
      return true;
    };
    r.chain_id.clear();
    if ((seen & k_chain) && !chain.is_null() && !python_id(chain, r.chain_id)) return false;
    if (!opt_string(k_phrase, phrase, r.phrase) || !opt_string(k_raw, raw, r.result.raw_text) ||
        !opt_string(k_message, message, r.result.message) ||
        !opt_string(k_config, config, r.config_hash))
      return false;
    if (status.type() != element_type::STRING) return false;
    if (!query_status_from(status.get_string().value_unsafe(), r.result.status)) return false;
    if (!box_list(boxes, r.result.boxes, opt.allow_non_finite)) return false;
    if ((seen & k_scores) && !scores.is_null()) {
      simdjson::dom::array list;
      if (scores.get_array().get(list) != simdjson::SUCCESS) return false;
      std::size_t i = 0;
      for (element v : list) {
        if (i == r.result.boxes.size()) return false;
        double s = 0;
        if (v.is_null())
          s = std::numeric_limits<double>::quiet_NaN();
        else if (!number(v, s))
          return false;
        r.result.boxes[i++].score = s;
      }
      if (i != r.result.boxes.size()) return false;
    }
    r.result.geometry.clear();
    if ((seen & k_geometry) && !geometry.is_null()) {
      if (geometry.type() == element_type::STRING)
        r.result.geometry.assign(geometry.get_string().value_unsafe());
      else if (!dump_like_nlohmann(geometry, r.result.geometry))
        return false;
    }
    r.result.latency_s = -1.0;
    if ((seen & k_latency) && !latency.is_null() && !number(latency, r.result.latency_s))
      return false;
    r.result.points.clear();
    if ((seen & k_points) && !points.is_null() &&
        !point_list(points, r.result.points, opt.allow_non_finite))
      return false;
    return true;
  }

 private:
  simdjson::dom::parser m_parser;
  bool m_ready = false;
};

/// One MDETR entry {image_id, sentence_id, boxes} into `sp` (its vectors reused); `sp.item` is
/// left to the caller. False: ask the reference parser.
inline bool mdetr_entry(element e, const predictions_read_options& opt, sentence_prediction& sp) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
  element image, sentence, boxes;
  unsigned seen = 0;
  for (auto field : obj) {
    const std::string_view k = field.key;
    if (k == "image_id") {
      image = field.value;
      seen |= 1;
    } else if (k == "sentence_id") {
      sentence = field.value;
      seen |= 2;
    } else if (k == "boxes") {
      boxes = field.value;
      seen |= 4;
    }
  }
  if (seen != 7 || !python_id(image, sp.image_id) || !python_id(sentence, sp.sentence_id))
    return false;
  simdjson::dom::array lists;
  if (boxes.get_array().get(lists) != simdjson::SUCCESS) return false;
  std::size_t j = 0;
  for (element list : lists) {
    if (j == sp.boxes.size()) sp.boxes.emplace_back();
    if (!box_list(list, sp.boxes[j], opt.allow_non_finite)) return false;
    ++j;
  }
  sp.boxes.resize(j);
  return true;
}

}  // namespace groundeval::detail::simdjson_predictions
