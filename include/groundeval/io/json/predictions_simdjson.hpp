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

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
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

/// A strict one-pass reader of the plain form every MDETR predictions file seen is written in,
/// which skips simdjson's tape (on 2 cores the tape and get_double were most of the reading
/// time): a list of objects with exactly the members image_id (an integer or a plain string),
/// sentence_id (likewise) and boxes (lists of [x1, y1, x2, y2] number lists), in any order.
/// Anything else — an escape or a non-ASCII byte in a string, null, another or a repeated
/// member, an integer of more than 18 digits, a number from_chars does not read exactly — makes
/// it return false before any result is used, and the caller decodes the text with simdjson.
/// When it returns true the entries are exactly what simdjson + mdetr_entry give: an integer
/// token is the int64 converted to double (so "-0" is +0.0), any other number the correctly
/// rounded double of its text (Clinger's exact fast path, else the extended-precision quotient
/// of up to 19 digits, else std::from_chars).
class plain_mdetr_reader {
 public:
  /// Reads a piece of a list in place into `out` (emptied first, its memory reused): `t` is
  /// '[' (the list's start) or ',' (a separator) followed by entries and, where `last`, the
  /// list's ']'; it is followed by SIMDJSON_PADDING readable bytes, and where not `last` by the
  /// next separator. The entries are those of the list "[" + t[1:] + (last ? "" : "]"). False
  /// (and `out` unspecified) when that list is not in the plain form.
  static bool read_piece(std::string_view t, bool last, sentence_prediction_block& out) {
    out.clear();
    if (t.empty() || (last && t.back() != ']')) return false;
    // A box takes ~40 bytes of text and 40 of memory: one allocation for a typical piece.
    out.reserve_boxes(t.size() / sizeof(scored_box) + 16);
    plain_mdetr_reader r(t.substr(1), out);
    const auto closed = [&] { return last ? r.eat(']') : r.m_p == r.m_end; };
    r.ws();
    if (!closed()) {
      for (;;) {
        if (!r.entry(out.begin_entry())) return false;
        r.ws();
        if (closed()) break;
        if (!r.eat(',')) return false;
        r.ws();
      }
    }
    r.ws();
    return r.m_p == r.m_end;
  }

 private:
  plain_mdetr_reader(std::string_view t, sentence_prediction_block& out)
      : m_p(t.data()), m_end(t.data() + t.size()), m_out(out) {}

  void ws() noexcept {
    while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
  }
  bool eat(char c) noexcept {
    if (m_p < m_end && *m_p == c) {
      ++m_p;
      return true;
    }
    return false;
  }
  /// A string of printable ASCII without escapes (the opening quote already eaten).
  bool plain_string(std::string_view& out) noexcept {
    const char* b = m_p;
    while (m_p < m_end && *m_p != '"') {
      const auto c = static_cast<unsigned char>(*m_p);
      if (c < 0x20 || c > 0x7E || c == '\\') return false;
      ++m_p;
    }
    if (m_p == m_end) return false;
    out = std::string_view(b, static_cast<std::size_t>(m_p - b));
    ++m_p;
    return true;
  }
  /// Appends the eight digits at `q` to `w` (w * 10^8 + their value), or returns false where
  /// they are not eight digits; little-endian only (fast_float's SWAR conversion). The digit
  /// loops' multiply-add chain was most of the reading time. Always inlined: called out of line
  /// (GCC did, for the two loops), `w` went through memory on every call.
  [[gnu::always_inline]] static bool eight_digits(const char* q, std::uint64_t& w) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
      (void)q;
      (void)w;
      return false;
    } else {
      std::uint64_t v;
      std::memcpy(&v, q, 8);
      if ((((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) !=
           0x3333333333333333))
        return false;
      v -= 0x3030303030303030;
      v = (v * 10) + (v >> 8);
      v = (((v & 0x000000FF000000FF) * 0x000F424000000064) +
           (((v >> 16) & 0x000000FF000000FF) * 0x0000271000000001)) >>
          32;
      w = w * 100000000 + static_cast<std::uint32_t>(v);
      return true;
    }
  }
  /// A JSON number token: `integer` when it has neither fraction nor exponent, then `ival` holds
  /// its value (at most 18 digits); else `dval`. False: not read here. The digit loops need no
  /// bound: the text ends with ']' (read() checks) and is followed by SIMDJSON_PADDING readable
  /// bytes (eight are read at a time).
  /// Always inlined: called out of line, its three results went through memory and reading
  /// them back stalled (a third of the reading time in the CLI's build).
  [[gnu::always_inline]] bool number(bool& integer, std::int64_t& ival, double& dval) noexcept {
    static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* const start = m_p;
    const char* p = m_p;
    const bool negative = *p == '-';
    p += negative;
    auto is_digit = [](char c) { return static_cast<unsigned char>(c - '0') < 10; };
    const char* const int_begin = p;
    std::uint64_t w = 0;
    if (*p == '0') {
      ++p;
    } else {
      while (eight_digits(p, w)) p += 8;
      while (is_digit(*p)) w = w * 10 + static_cast<std::uint64_t>(*p++ - '0');
    }
    const std::ptrdiff_t int_digits = p - int_begin;
    if (int_digits == 0 || int_digits > 18) return false;
    if (*p != '.' && *p != 'e' && *p != 'E') {
      integer = true;
      ival = negative ? -static_cast<std::int64_t>(w) : static_cast<std::int64_t>(w);
      m_p = p;
      return true;
    }
    integer = false;
    std::ptrdiff_t fraction = 0;
    if (*p == '.') {
      const char* const frac_begin = p + 1;
      p = frac_begin;
      while (eight_digits(p, w)) p += 8;
      while (is_digit(*p)) w = w * 10 + static_cast<std::uint64_t>(*p++ - '0');
      fraction = p - frac_begin;
      if (fraction == 0) return false;
    }
    bool exact = int_digits + fraction <= 19;  // else w overflowed: from_chars reads the text
    if (*p == 'e' || *p == 'E') {
      ++p;
      if (*p == '+' || *p == '-') ++p;
      if (!is_digit(*p)) return false;
      while (is_digit(*p)) ++p;
      exact = false;
    }
    m_p = p;
    if (exact && w <= (std::uint64_t{1} << 53) && fraction <= 22) {
      dval = static_cast<double>(w) / pow10[fraction];  // both exact: one correct rounding
      if (negative) dval = -dval;
      return true;
    }
    if (double v = 0; exact && extended_quotient(w, fraction, v)) {  // 17-19 digits
      dval = negative ? -v : v;
      return true;
    }
    // Into a local: from_chars takes its result's address, and where that was `dval` (the
    // caller's coordinate) every coordinate lived on the stack, and building the box from
    // them stalled on store forwarding (7% of the reading time).
    double v = 0;
    const auto r = std::from_chars(start, p, v);
    dval = v;
    return r.ec == std::errc() && r.ptr == p;
  }
  /// w / 10^f (w < 10^19, f <= 19) correctly rounded to double, through x87 extended precision
  /// where long double has a 64-bit significand: w and 10^f are exact there, so the quotient is
  /// rounded once to 64 bits and then to 53. That second rounding can only go astray when the
  /// first one landed exactly on the midpoint of two doubles (the 11 bits below a double's last
  /// are then 100 0000 0000); false then, and where there is no such type: std::from_chars
  /// decides. The 17-digit numbers Python writes (28% of a typical file's) took a second scan of
  /// their digits in std::from_chars.
  [[gnu::always_inline]] static bool extended_quotient(std::uint64_t w, std::ptrdiff_t f,
                                                       double& out) noexcept {
    if constexpr (std::numeric_limits<long double>::digits != 64 ||
                  std::endian::native != std::endian::little) {
      (void)w;
      (void)f;
      (void)out;
      return false;
    } else {
      static constexpr long double pow10_ext[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
                                                  1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
                                                  1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L};
      if (f < 0 || f > 19) return false;
      const long double q = static_cast<long double>(w) / pow10_ext[f];
      std::uint64_t significand;  // the x87 format's first 8 bytes, integer bit included
      std::memcpy(&significand, &q, sizeof significand);
      if ((significand & 0x7FF) == 0x400) return false;
      out = static_cast<double>(q);
      return true;
    }
  }
  /// image_id or sentence_id as Python's str() renders it.
  bool id(std::string& out) {
    if (eat('"')) {
      std::string_view v;
      if (!plain_string(v)) return false;
      out.assign(v);
      return true;
    }
    bool integer = false;
    std::int64_t i = 0;
    double d = 0;
    if (!number(integer, i, d) || !integer) return false;
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, i);
    out.assign(buf, r.ptr);
    return true;
  }
  /// The entry's phrase lists, appended to the block.
  bool box_lists(sentence_prediction_block::entry& e) {
    if (!eat('[')) return false;
    ws();
    if (!eat(']')) {
      for (;;) {
        if (!box_list()) return false;
        m_out.end_list(e);
        ws();
        if (eat(']')) break;
        if (!eat(',')) return false;
        ws();
      }
    }
    return true;
  }
  /// One coordinate of a box and the separator after it.
  [[gnu::always_inline]] bool coordinate(double& v, char separator) noexcept {
    ws();
    bool integer = false;
    std::int64_t i = 0;
    if (!number(integer, i, v)) return false;
    if (integer) v = static_cast<double>(i);
    ws();
    return eat(separator);
  }
  /// One phrase list's boxes, appended to the block's (one vector for all the lists of a piece:
  /// a vector per list took an allocation each, and its growth a system call every few pages).
  bool box_list() {
    if (!eat('[')) return false;
    ws();
    if (eat(']')) return true;
    for (;;) {
      if (!eat('[')) return false;
      // Four named coordinates rather than an array: the array went through memory, and reading
      // it back as pairs stalled on store forwarding.
      double x1, y1, x2, y2;
      if (!coordinate(x1, ',') || !coordinate(y1, ',') || !coordinate(x2, ',') ||
          !coordinate(y2, ']'))
        return false;
      m_out.add_box({{x1, y1, x2, y2}, 0.0});
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      ws();
    }
  }
  bool entry(sentence_prediction_block::entry& sp) {
    if (!eat('{')) return false;
    unsigned seen = 0;
    for (;;) {
      ws();
      std::string_view key;
      if (!eat('"') || !plain_string(key)) return false;
      ws();
      if (!eat(':')) return false;
      ws();
      unsigned bit = 0;
      bool ok = false;
      if (key == "image_id") {
        bit = 1;
        ok = id(sp.image_id);
      } else if (key == "sentence_id") {
        bit = 2;
        ok = id(sp.sentence_id);
      } else if (key == "boxes") {
        bit = 4;
        ok = box_lists(sp);
      }
      if (!ok || (seen & bit)) return false;
      seen |= bit;
      ws();
      if (eat('}')) return seen == 7;
      if (!eat(',')) return false;
    }
  }

  const char* m_p;
  const char* m_end;
  sentence_prediction_block& m_out;
};

}  // namespace groundeval::detail::simdjson_predictions
