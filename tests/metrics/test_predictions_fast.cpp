// SPDX-License-Identifier: Apache-2.0
// The fast predictions readers (simdjson, batches, threads) against the reference parser
// (nlohmann/json): on hand-written edge cases and on thousands of generated and mutated records,
// lists and files, the fast path gives the same records and entries, or the same error message,
// whatever the batch size, read size and thread count. Everything here is synthetic.
#include "fixtures.hpp"

#include <groundeval/io/json/predictions.hpp>
#include <groundeval/metrics/paired.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;
namespace ref = groundeval::detail::reference_predictions;

namespace {

using ref::identical;

/// A record or the message of the error reading it.
struct outcome {
  std::optional<phrase_prediction_record> record;
  std::string error;
};

outcome reference_record(const std::string& text, std::size_t line, predictions_read_options o) {
  try {
    return {ref::parse_jsonl_record(text, "r.jsonl", line, o), {}};
  } catch (const groundeval::error& e) {
    return {std::nullopt, e.what()};
  }
}

/// Checks the decoder's contract on one line: when it decides, it decides like the reference;
/// the public parse_jsonl_record always gives the reference's record or message.
bool check_line(const std::string& text, predictions_read_options o) {
  const outcome want = reference_record(text, 3, o);
  std::string padded = text;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  detail::simdjson_predictions::record_decoder dec;
  phrase_prediction_record got;
  got.phrase = "stale";  // every field must be overwritten
  got.result.geometry = "stale";
  got.result.latency_s = 7;
  const bool decided = dec.decode(padded.data(), text.size(), 3, o, got);
  if (decided) {
    INFO(text);
    REQUIRE(want.record.has_value());
    REQUIRE(identical(got, *want.record));
  }
  try {
    const auto r = parse_jsonl_record(text, "r.jsonl", 3, o);
    INFO(text);
    REQUIRE(want.record.has_value());
    REQUIRE(identical(r, *want.record));
  } catch (const groundeval::error& e) {
    INFO(text);
    REQUIRE(!want.record.has_value());
    REQUIRE(std::string(e.what()) == want.error);
  }
  return decided;
}

/// Random bytes changed, inserted or removed, biased to JSON's structural characters.
std::string mutate(std::string s, pcg32& rng) {
  static const char pool[] = "{}[],:\"\\0123456789.-+eE nulltruefalse\t\r\n\x01\xC3\xA9";
  const int edits = 1 + static_cast<int>(rng.below(3));
  for (int k = 0; k < edits && !s.empty(); ++k) {
    const std::size_t at = rng.below(static_cast<std::uint32_t>(s.size()));
    const char c = pool[rng.below(sizeof pool - 1)];
    switch (rng.below(3)) {
      case 0:
        s[at] = c;
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        s.erase(at, 1 + rng.below(4));
    }
  }
  return s;
}

double random_coordinate(pcg32& rng) {
  switch (rng.below(8)) {
    case 0:
      return static_cast<double>(rng.below(1000));  // written as an integer
    case 1:
      return -0.0;
    case 2:
      return std::numeric_limits<double>::quiet_NaN();  // written as null
    case 3:
      return 1e300 * (rng.below(2) ? 1 : -1);
    case 4:
      return 5e-324;
    default:
      return rng.next() / 4294967296.0 * 1000.0 - 100.0;
  }
}

phrase_prediction_record random_record(pcg32& rng) {
  phrase_prediction_record r;
  r.image_id = rng.below(4) ? std::to_string(1000000 + rng.below(100)) : "id \"q\" \u00e9}, {";
  r.sentence_id = rng.below(6);
  r.phrase_index = rng.below(5);
  r.chain_id = rng.below(3) ? std::to_string(rng.below(400)) : "";
  r.phrase = rng.below(2) ? "a man\tin \"red\"" : "";
  const std::uint32_t n = rng.below(6);
  for (std::uint32_t i = 0; i < n; ++i)
    r.result.boxes.push_back({{random_coordinate(rng), random_coordinate(rng),
                               random_coordinate(rng), random_coordinate(rng)},
                              rng.below(5) ? rng.next() / 4294967296.0 : 1.0});
  r.result.status = static_cast<query_status>(rng.below(4));
  r.result.raw_text = rng.below(2) ? "<box>(1,2),(3,4)</box>\n\u2028" : "";
  r.result.latency_s = rng.below(3) ? rng.next() / 65536.0 : -1.0;
  switch (rng.below(4)) {
    case 0:
      r.result.geometry = R"({"frame":"padded","scale":[1.5,2,-0.0,1e-7],"ok":true,"n":null,)"
                          R"("s":"\u00e9\n","nested":{"a":[{"b":18446744073709551615}]}})";
      break;
    case 1:
      r.result.geometry = "not json: kept as a string";
      break;
    default:
      break;
  }
  r.config_hash = rng.below(2) ? "abc" : "";
  return r;
}

std::string record_line(const phrase_prediction_record& r) {
  std::ostringstream os;
  write_jsonl_record(os, r);
  std::string s = os.str();
  s.pop_back();  // the newline
  return s;
}

const std::vector<std::string>& edge_lines() {
  static const std::vector<std::string> lines = {
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok"})",
      R"({"image_id": -5, "sentence_id": 18446744073709551615, "phrase_index": 9223372036854775807, "boxes": [[1,2,3,4]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 9223372036854775808, "boxes": [], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": -0, "phrase_index": -0, "boxes": [[-0, -0.0, 0e5, 1E2]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1e400, 2, 3, 4]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1e-400, 2, 3, 4]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[123456789012345678901234567890, 2, 3, 4]], "status": "ok"})",
      R"({"image_id": 1.0, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 1.0, "phrase_index": 0, "boxes": [], "status": "ok"})",
      R"({"image_id": 1, "image_id": "2", "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "status": "empty"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "scores": [0.5], "scores": [1, null], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "scores": [true], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "status": "ok", "geometry": {"a": 1, "a": 2}})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "status": "ok", "geometry": [1.0, 1e2, "x\u0001", {"k\"": false}]})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "status": "ok", "geometry": 3.25})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4]], "status": "ok", "latency_s": "1"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,null]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [[1,2,3,4,5]], "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": {}, "status": "ok"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "extra": [tru]})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "extra": {"deep": [[[[]]]]}})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok"} {"x": 1})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok",})",
      R"({"image\u005fid": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "phrase": "\ud83d\ude00"})",
      R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "phrase": "\ud800"})",
      "{\"image_id\": 1, \"sentence_id\": 0, \"phrase_index\": 0, \"boxes\": [], \"status\": "
      "\"ok\", "
      "\"phrase\": \"tab\there\"}",
      "\xEF\xBB\xBF{\"image_id\": 1, \"sentence_id\": 0, \"phrase_index\": 0, \"boxes\": [], "
      "\"status\": \"ok\"}",
      "{\"image_id\": 1,\t\"sentence_id\": 0, \"phrase_index\": 0, \"boxes\": [], \"status\": "
      "\"ok\", \"raw_text\": \"\xC3\"}",
      R"([1, 2])",
      R"("just a string")",
      std::string("{\"image_id\": 1, \"sentence_id\": 0, \"phrase_index\": 0, \"boxes\": [], "
                  "\"status\": \"ok\", \"n\": \"a\0b\"}",
                  86),
  };
  return lines;
}

std::string nested(int depth) {
  return R"({"image_id": 1, "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "ok", "g": )" +
         std::string(static_cast<std::size_t>(depth - 1), '[') +
         std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
}

}  // namespace

TEST_CASE("fast JSON Lines decoder: same record or same error as the reference", "[io]") {
  for (const bool allow : {false, true}) {
    predictions_read_options o;
    o.allow_non_finite = allow;
    for (const auto& l : edge_lines()) check_line(l, o);
    for (int d : {63, 64, 65, 66}) check_line(nested(d), o);
    pcg32 rng(allow ? 7 : 8);
    int decided = 0, valid = 0;
    for (int i = 0; i < 1500; ++i) {
      const std::string line = record_line(random_record(rng));
      valid += reference_record(line, 3, o).record.has_value();
      decided += check_line(line, o);
      check_line(mutate(line, rng), o);
    }
    CHECK(decided == valid);  // every record groundeval writes is decoded by the fast path
    for (const auto& l : edge_lines())
      for (int k = 0; k < 20; ++k) check_line(mutate(l, rng), o);
  }
}

namespace {

/// The reference reading of a JSON Lines text: the records, and the error message (or empty).
std::pair<std::vector<phrase_prediction_record>, std::string> reference_jsonl(
    const std::string& text, predictions_read_options o) {
  std::vector<phrase_prediction_record> out;
  try {
    ref::parse_jsonl_text(text, "f.jsonl", o, out);
  } catch (const groundeval::error& x) {
    return {out, x.what()};
  }
  return {out, {}};
}

/// Reads `text` with the batch reader (small sizes, several threads) in both error modes.
void check_jsonl_stream(const std::string& text, predictions_read_options o,
                        const detail::predictions_stream_sizes& sizes, std::size_t batch) {
  const auto [want, want_error] = reference_jsonl(text, o);
  for (const bool prefix : {false, true}) {
    detail::memory_istream in(text);
    detail::jsonl_batch_reader rd(in, "f.jsonl", o, sizes);
    std::vector<phrase_prediction_record> got;
    std::string error;
    try {
      while (const std::size_t n = rd.next(batch, prefix))
        for (std::size_t i = 0; i < n; ++i) got.push_back(rd.records()[i]);
    } catch (const groundeval::error& x) {
      error = x.what();
    }
    INFO("batch " << batch << " prefix " << prefix << " text " << text.substr(0, 300));
    REQUIRE(error == want_error);
    if (prefix || want_error.empty()) {
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(identical(got[i], want[i]));
    }
  }
}

}  // namespace

TEST_CASE("JSON Lines batches: any batch, read size and thread count reads like the reference",
          "[io]") {
  pcg32 rng(11);
  predictions_read_options o;
  o.allow_non_finite = true;
  o.threads = 3;
  for (int f = 0; f < 60; ++f) {
    std::string text;
    const int lines = 1 + static_cast<int>(rng.below(40));
    for (int i = 0; i < lines; ++i) {
      if (rng.below(8) == 0) text += rng.below(2) ? "   \t" : "\r";
      std::string l = record_line(random_record(rng));
      if (f % 3 == 0 && rng.below(15) == 0) l = mutate(l, rng);
      text += l;
      text += rng.below(5) ? "\n" : "\r\n";
    }
    if (rng.below(2)) text.pop_back();  // no final newline
    detail::predictions_stream_sizes sizes;
    sizes.bytes_per_thread = 1 + rng.below(2000);
    sizes.first_read = 1 + rng.below(300);
    sizes.max_read = sizes.first_read + rng.below(700);
    sizes.jsonl_batch_bytes = 1 + rng.below(5000);
    // The run's config_hash: records carry "abc" or none, so "xyz" makes the first "abc" record
    // an error (in file order with the syntax errors), "abc" and none check and pass.
    predictions_read_options of = o;
    of.config_hash = f % 4 == 1 ? "abc" : f % 4 == 2 ? "xyz" : "";
    check_jsonl_stream(text, of, sizes, 1 + rng.below(9));
  }
  // A line above the limit is an error naming its line, after the good lines before it.
  detail::predictions_stream_sizes sizes;
  const std::string good = record_line(random_record(rng));
  std::string text = good + "\n\n" + std::string(max_jsonl_line_bytes + 1, ' ') + "x\n" + good;
  detail::memory_istream in(text);
  detail::jsonl_batch_reader rd(in, "f.jsonl", o, sizes);
  REQUIRE(rd.next(10, true) == 1);
  CHECK_THROWS_WITH(rd.next(10, true),
                    "f.jsonl:3: a line longer than the 64 MiB limit of a JSON Lines record");
}

namespace {

std::string random_mdetr(pcg32& rng, int entries) {
  std::string s = rng.below(4) ? "[" : "\xEF\xBB\xBF \n[";
  for (int i = 0; i < entries; ++i) {
    if (i) s += rng.below(3) ? ", " : (rng.below(2) ? ",\n" : " ,\t");
    std::string e = "{";
    const bool str_id = rng.below(5) == 0;
    e +=
        "\"image_id\": " + (str_id ? std::string("\"x}, {y\\\"\"") : std::to_string(rng.below(50)));
    e += ", \"sentence_id\": " + std::to_string(rng.below(5));
    if (rng.below(6) == 0) e += R"(, "meta": [{"a": 1}, {"b": [2, {"c": "}, {"}]}])";
    e += ", \"boxes\": [";
    const std::uint32_t lists = rng.below(4);
    for (std::uint32_t j = 0; j < lists; ++j) {
      if (j) e += ", ";
      e += "[";
      const std::uint32_t n = rng.below(4);
      for (std::uint32_t k = 0; k < n; ++k) {
        if (k) e += ", ";
        std::ostringstream b;
        b.precision(17);
        b << "[" << rng.below(500) << ", " << rng.next() / 4294967296.0 * 300 << ", "
          << rng.below(700) << ".5, " << (rng.below(9) ? "40" : "null") << "]";
        e += b.str();
      }
      e += "]";
    }
    e += "]}";
    s += e;
  }
  s += rng.below(2) ? "]\n" : "]";
  return s;
}

struct mdetr_outcome {
  std::vector<sentence_prediction> entries;
  std::string error;
  bool used_reference = false;
};

/// The list `text` streamed through consume(), end_batch() into `out` (its error or the
/// fallback to the reference).
template <class Consume, class EndBatch>
void stream_into(mdetr_outcome& out, const std::string& text, predictions_read_options o,
                 const detail::predictions_stream_sizes& sizes, Consume consume,
                 EndBatch end_batch) {
  try {
    detail::memory_istream in(text);
    detail::stream_mdetr_predictions(
        in, "p.json", o,
        [&text]() -> std::unique_ptr<std::istream> {
          return std::make_unique<detail::memory_istream>(text);
        },
        consume, end_batch, sizes);
  } catch (const groundeval::error& e) {
    out.error = e.what();
  } catch (const detail::use_reference_parser&) {
    out.used_reference = true;
  }
}

mdetr_outcome fast_mdetr(const std::string& text, predictions_read_options o,
                         const detail::predictions_stream_sizes& sizes) {
  mdetr_outcome out;
  stream_into(
      out, text, o, sizes, [&](sentence_prediction& sp) { out.entries.push_back(sp); }, [] {});
  return out;
}

// The same list through the block interface, the blocks read back only at the end of their
// batch (they must stay valid until then): each piece's block swapped for an empty one, as the
// decoding thread does, or left to the reader, as the evaluator's path for pipes does. (After
// an error or use_reference_parser the entries are not used.)
mdetr_outcome fast_mdetr_blocks(const std::string& text, predictions_read_options o,
                                const detail::predictions_stream_sizes& sizes, bool swap) {
  mdetr_outcome out;
  std::deque<sentence_prediction_block> taken;
  std::vector<const sentence_prediction_block*> batch;
  stream_into(
      out, text, o, sizes,
      [&](sentence_prediction_block& b) {
        if (swap) std::swap(taken.emplace_back(), b);
        batch.push_back(swap ? &taken.back() : &b);
      },
      [&] {
        for (const sentence_prediction_block* b : batch)
          for (std::size_t i = 0; i < b->size(); ++i)
            out.entries.push_back(b->to_sentence_prediction(i));
        batch.clear();
        taken.clear();
      });
  return out;
}

void check_mdetr(const std::string& text, predictions_read_options o,
                 const detail::predictions_stream_sizes& sizes) {
  mdetr_outcome want;
  try {
    want.entries = ref::parse_mdetr_predictions(text, "p.json", o).sentences;
  } catch (const groundeval::error& e) {
    want.error = e.what();
  }
  const mdetr_outcome got = fast_mdetr(text, o, sizes);
  INFO(text.substr(0, 400));
  for (const bool swap : {false, true}) {
    const mdetr_outcome blocks = fast_mdetr_blocks(text, o, sizes, swap);
    REQUIRE(blocks.used_reference == got.used_reference);
    REQUIRE(blocks.error == got.error);
    if (got.used_reference || !got.error.empty()) continue;
    REQUIRE(blocks.entries.size() == got.entries.size());
    for (std::size_t i = 0; i < got.entries.size(); ++i)
      REQUIRE(identical(blocks.entries[i], got.entries[i]));
  }
  if (got.used_reference) return;  // the reference then decides: equal by construction
  REQUIRE(got.error == want.error);
  REQUIRE(got.entries.size() == (want.error.empty() ? want.entries.size() : got.entries.size()));
  if (want.error.empty())
    for (std::size_t i = 0; i < got.entries.size(); ++i)
      REQUIRE(identical(got.entries[i], want.entries[i]));
}

}  // namespace

TEST_CASE("MDETR plain reader: numbers of 15-19 digits are the correctly rounded doubles", "[io]") {
  // The plain reader's paths for long numbers (w / 10^f through extended precision, std::
  // from_chars where the extended quotient lies on a midpoint of two doubles): every coordinate
  // must be std::from_chars's double of the same token.
  pcg32 rng(17);
  std::vector<std::string> tokens = {
      // midpoints of two doubles and their neighbours, written with a fraction
      "9007199254740993.0",    "9007199254740995.0",
      "9007199254740993.5",    "4503599627370497.5",
      "4503599627370496.5",    "18014398509481990.0",
      "18014398509481986.0",   "0.30000000000000004",
      "245.66413220224243",    "0.1000000000000000055511151231257827",
      "123456789012345678.9",  "999999999999999999.9",
      "0.9999999999999999999", "1.0000000000000000001",
      "999999999999999999",    "12345678901234567.89"};
  for (int i = 0; i < 60000; ++i) {
    const int digits = 15 + static_cast<int>(rng.below(5));  // 15..19
    const int int_digits = static_cast<int>(rng.below(static_cast<std::uint32_t>(digits)));  // 0..
    std::string t;
    for (int d = 0; d < digits; ++d) {
      if (d == int_digits) t += t.empty() ? "0." : ".";
      t += static_cast<char>('0' + (d == 0 && int_digits > 0 ? 1 + rng.below(9) : rng.below(10)));
    }
    if (rng.below(8) == 0) t = "-" + t;
    tokens.push_back(t);
  }
  for (std::size_t start = 0; start < tokens.size(); start += 4000) {
    std::string list = R"([{"image_id": 1, "sentence_id": 0, "boxes": [[)";
    std::vector<std::string> used;
    for (std::size_t i = start; i < std::min(tokens.size(), start + 4000); i += 4) {
      if (i > start) list += ", ";
      list += "[";
      for (std::size_t k = 0; k < 4; ++k) {
        const std::string& t = tokens[std::min(i + k, tokens.size() - 1)];
        list += (k ? ", " : "") + t;
        used.push_back(t);
      }
      list += "]";
    }
    list += "]]}]";
    const std::string padded = list + std::string(simdjson::SIMDJSON_PADDING, ' ');
    sentence_prediction_block block;
    REQUIRE(detail::simdjson_predictions::plain_mdetr_reader::read_piece(
        std::string_view(padded.data(), list.size()), true, block));
    REQUIRE(block.size() == 1);
    const auto boxes = block.list(block[0], 0);
    REQUIRE(boxes.size() * 4 == used.size());
    for (std::size_t i = 0; i < used.size(); ++i) {
      double want = 0;
      const auto r = std::from_chars(used[i].data(), used[i].data() + used[i].size(), want);
      REQUIRE(r.ec == std::errc());
      const auto& b = boxes[i / 4].box;
      const double got = i % 4 == 0 ? b.x1 : i % 4 == 1 ? b.y1 : i % 4 == 2 ? b.x2 : b.y2;
      INFO(used[i]);
      REQUIRE(std::bit_cast<std::uint64_t>(got) == std::bit_cast<std::uint64_t>(want));
    }
  }
}

TEST_CASE("MDETR list in batches: same entries or same error as the reference", "[io]") {
  pcg32 rng(5);
  int used_reference = 0, errors = 0;
  for (int f = 0; f < 400; ++f) {
    predictions_read_options o;
    o.allow_non_finite = rng.below(2) == 0;
    o.threads = 1 + rng.below(4);
    detail::predictions_stream_sizes sizes;
    sizes.bytes_per_thread = 1 + rng.below(400);
    sizes.piece_bytes = 1 + rng.below(300);
    sizes.first_read = 1 + rng.below(200);
    sizes.max_read = sizes.first_read + rng.below(500);
    sizes.mdetr_batch_bytes = 1 + rng.below(1500);
    std::string text = random_mdetr(rng, static_cast<int>(rng.below(30)));
    if (f % 2) text = mutate(text, rng);
    check_mdetr(text, o, sizes);
    used_reference += fast_mdetr(text, o, sizes).used_reference;
    try {
      (void)ref::parse_mdetr_predictions(text, "p.json", o);
    } catch (const groundeval::error&) {
      ++errors;
    }
  }
  CHECK(errors > 100);         // the mutations reach the error paths
  CHECK(used_reference < 40);  // and the fast path decides almost everything itself
  // Precedence: a syntax error anywhere wins over a malformed entry before it.
  const std::string bad_entry_then_syntax =
      R"([{"image_id": 1, "sentence_id": 0, "boxes": [[[1, 2, 3]]]}, {"image_id": 2, "sentence_id": 0, "boxes": []}, )"
      "\n{\"image_id\": 3,]";
  detail::predictions_stream_sizes tiny;
  tiny.mdetr_batch_bytes = 8;
  tiny.piece_bytes = 1;
  tiny.bytes_per_thread = 1;
  tiny.first_read = 5;
  check_mdetr(bad_entry_then_syntax, {}, tiny);
  CHECK(fast_mdetr(bad_entry_then_syntax, {}, tiny).error.rfind("p.json:2: ", 0) == 0);
  check_mdetr(R"([{"image_id": 1, "sentence_id": 0, "boxes": [[[1, 2, 3]]]}])", {}, tiny);
  check_mdetr("[]", {}, tiny);
  check_mdetr(" [ ] ", {}, tiny);
  check_mdetr("[", {}, tiny);
  check_mdetr("", {}, tiny);
  check_mdetr("{}", {}, tiny);
  check_mdetr("[] []", {}, tiny);
  check_mdetr(R"([{"image_id": 1, "sentence_id": 0, "boxes": []}]])", {}, tiny);
  check_mdetr(R"([{"image_id": 1, "sentence_id": 0, "boxes": [[[1e999, 2, 3, 4]]]}])", {}, tiny);
  // Numbers and ids at the borders of the plain reader (plain_mdetr_reader) and past them: the
  // same doubles, bit for bit, as the reference, whichever reader decides.
  for (const char* numbers :
       {"-0, -0.0, 0e5, 1E2", "0.1, 0.2, 0.30000000000000004, 1.7976931348623157e308",
        "123456789012345678, -123456789012345678, 1234567890123456789, 12345678901234567890",
        "9007199254740993, 9007199254740993.0, 9007199254740992.5, 0.1000000000000000055511151231",
        "2.2250738585072011e-308, 4.9e-324, 1e-400, -1.5e-3",
        "1e22, 1e23, 0.0000000000000000000001, 3.", "01, 2, 3, 4", "1, 2, 3, 4, 5", "1, 2, 3",
        "-, 1, 2, 3", "1.5e, 1, 2, 3", "1, 2, 3, Infinity",
        "245.66413220224243, 173.1686157948807, 292.5517972023455, 248.69587127806432"}) {
    for (const char* ids :
         {R"("image_id": 7, "sentence_id": -0)", R"("image_id": "7", "sentence_id": "a b")",
          R"("image_id": "\u0037", "sentence_id": 1)", R"("image_id": "\u00e9", "sentence_id": 1)",
          R"("image_id": 7.0, "sentence_id": 1)",
          R"("image_id": 7, "sentence_id": 1, "image_id": 8)",
          R"("sentence_id": 2, "extra": null, "image_id": 7)", R"("image_id": 7)"}) {
      const std::string list = std::string("[{") + ids + R"(, "boxes": [[[)" + numbers +
                               R"(]], [], [[1, 2, 3, 4], [5, 6, 7, 8]]]}, {"boxes": [], )" + ids +
                               "}]";
      check_mdetr(list, {}, {});
      check_mdetr(list, {}, tiny);
    }
  }
}

TEST_CASE("evaluate_predictions_file keeps the reference's error precedence", "[io]") {
  const in_memory_dataset data(
      "d", {make_sample("7", 0, {make_phrase("1", {"people"}, {{1, 1, 10, 10}})}),
            make_sample("7", 1, {make_phrase("1", {"people"}, {{1, 1, 10, 10}})})});
  auto error_of = [&](const std::string& text, bool reference) {
    const std::string path = write_tmp("fast_prec.json", text);
    std::string msg;
    try {
      if (reference)
        (void)evaluate(data, ref::parse_mdetr_predictions(text, path, {}));
      else
        (void)evaluate_predictions_file(data, path);
    } catch (const groundeval::error& e) {
      msg = e.what();
    }
    std::remove(path.c_str());
    return msg;
  };
  // The evaluator rejects entry #0 (two phrase lists for one phrase); entry #1 is malformed,
  // then a syntax error: each earlier reason loses to the later, more basic one.
  const std::string wrong_count = R"({"image_id": 7, "sentence_id": 0, "boxes": [[], []]})";
  const std::string malformed = R"({"image_id": 7, "sentence_id": 1, "boxes": [[[1, 2]]]})";
  for (const std::string& text :
       {"[" + wrong_count + "]", "[" + wrong_count + ", " + malformed + "]",
        "[" + wrong_count + ", " + malformed + ",\n\n 1 2]",
        "[" + wrong_count + R"(, {"image_id": 7, "sentence_id": 1, "boxes": [[[1, 2, 3, 4]]]}])"}) {
    INFO(text);
    const std::string want = error_of(text, true);
    CHECK_FALSE(want.empty());
    CHECK(error_of(text, false) == want);
  }
}

TEST_CASE("whole files: read in place like a stream, up to the last byte of a page", "[io]") {
  pcg32 rng(23);
  predictions_read_options o;
  o.allow_non_finite = true;
  o.threads = 2;
  detail::predictions_stream_sizes sizes;
  sizes.bytes_per_thread = 500;
  sizes.first_read = 37;
  sizes.max_read = 900;
  sizes.jsonl_batch_bytes = 3000;
  sizes.piece_bytes = 200;
  sizes.mdetr_batch_bytes = 1200;
  // JSON Lines whose last record ends on the last byte of a page (no final newline): simdjson
  // reads past it, into the padding page after the file.
  std::string text;
  while (text.size() < 3 * 4096 - 1500) text += record_line(random_record(rng)) + "\n";
  phrase_prediction_record last = random_record(rng);
  last.phrase.clear();
  last.result.geometry.clear();
  const std::size_t bare = record_line(last).size();
  REQUIRE(text.size() + bare < 3 * 4096);
  last.phrase.assign(3 * 4096 - text.size() - bare, 'p');
  text += record_line(last);
  REQUIRE(text.size() == 3 * 4096);
  const std::string path = write_tmp("mapped.jsonl", text);
  const auto [want, want_error] = reference_jsonl(text, o);
  REQUIRE(want_error.empty());
  for (const std::size_t batch : {std::size_t{1}, std::size_t{5}, std::size_t{1000}}) {
    detail::whole_file_istream in(path);
    REQUIRE(in.is_open());
    CHECK(in.size() == text.size());
    detail::jsonl_batch_reader rd(in, path, o, sizes);
    std::vector<phrase_prediction_record> got;
    std::vector<std::uint64_t> offsets;
    while (const std::size_t n = rd.next(batch))
      for (std::size_t i = 0; i < n; ++i) {
        got.push_back(rd.records()[i]);
        offsets.push_back(rd.offset(i));
      }
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(identical(got[i], want[i]));
    CHECK(offsets.front() == 0);
    CHECK(text[offsets.back() - 1] == '\n');
  }
  // The pages already read can be given back (they read as zeros); the rest is the file's.
  {
    detail::whole_file_istream in(path);
    in.release_before(2 * 4096 + 5, 0);
    CHECK(std::string_view(in.data() + 2 * 4096, in.size() - 2 * 4096) ==
          std::string_view(text).substr(2 * 4096));
    CHECK(std::string_view(in.data(), 2 * 4096) == std::string(2 * 4096, '\0'));
    bool zeros = true;  // the padding after the file reads as zeros
    for (std::size_t i = 0; i < simdjson::SIMDJSON_PADDING; ++i)
      zeros = zeros && !in.data()[text.size() + i];
    CHECK(zeros);
  }
  std::remove(path.c_str());
  // MDETR lists, with and without errors: the same entries or error as from memory.
  for (int f = 0; f < 40; ++f) {
    std::string list = random_mdetr(rng, static_cast<int>(rng.below(60)));
    if (f % 4 == 3) list = mutate(list, rng);
    const std::string p = write_tmp("mapped.json", list);
    const mdetr_outcome want_m = fast_mdetr(list, o, sizes);
    mdetr_outcome got_m;
    {
      detail::whole_file_istream in(p);
      REQUIRE(in.is_open() == !list.empty());
      std::ifstream plain(p, std::ios::binary);
      std::istream& is = in.is_open() ? static_cast<std::istream&>(in) : plain;
      try {
        detail::stream_mdetr_predictions(
            is, "p.json", o,
            [&list]() -> std::unique_ptr<std::istream> {
              return std::make_unique<detail::memory_istream>(list);
            },
            [&](sentence_prediction& sp) { got_m.entries.push_back(sp); }, [] {}, sizes);
      } catch (const groundeval::error& e) {
        got_m.error = e.what();
      } catch (const detail::use_reference_parser&) {
        got_m.used_reference = true;
      }
    }
    std::remove(p.c_str());
    INFO(list.substr(0, 300));
    REQUIRE(got_m.error == want_m.error);
    REQUIRE(got_m.used_reference == want_m.used_reference);
    REQUIRE(got_m.entries.size() == want_m.entries.size());
    for (std::size_t i = 0; i < got_m.entries.size(); ++i)
      REQUIRE(identical(got_m.entries[i], want_m.entries[i]));
  }
  // The file is a copy: cut short after it was read, it still reads as it was (mapped, it
  // would kill the reader with SIGBUS).
  {
    const std::string big = write_tmp("whole.jsonl", text + text + text);
    detail::whole_file_istream in(big);
    REQUIRE(in.is_open());
    REQUIRE(::truncate(big.c_str(), 10) == 0);
    CHECK(std::string_view(in.data(), in.size()) == text + text + text);
    std::remove(big.c_str());
  }
  // Not a regular file or above the limit: not read whole (the caller reads it as a stream).
  CHECK_FALSE(detail::whole_file_istream(P_tmpdir).is_open());
  {
    const std::string huge = write_tmp("huge.jsonl", "");  // sparse: takes no disk blocks
    REQUIRE(::truncate(huge.c_str(),
                       static_cast<off_t>(detail::whole_file_istream::max_whole_file_bytes + 1)) ==
            0);
    CHECK_FALSE(detail::whole_file_istream(huge).is_open());
    std::remove(huge.c_str());
  }
  CHECK_FALSE(
      detail::whole_file_istream(std::string(P_tmpdir) + "/groundeval-no-such-file").is_open());
}
