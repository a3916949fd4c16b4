// SPDX-License-Identifier: Apache-2.0
// Predictions I/O: MDETR JSON and JSON Lines, exact round trips of doubles, and errors that name
// the file and the line or entry.
#include "fixtures.hpp"

#include <groundeval/io/json/predictions.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace groundeval;
using namespace groundeval::test;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string path =
      std::string(P_tmpdir) + "/groundeval_test_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}
}  // namespace

TEST_CASE("MDETR predictions: ids as Python's str(), boxes as double", "[io]") {
  const auto p = parse_mdetr_predictions(
      R"([{"image_id": 1000092795, "sentence_id": 0, "boxes": [[[1, 2, 3, 4], [0.1, 0.2, 49.999999, 1e300]]]},
          {"image_id": "abc", "sentence_id": "3", "boxes": []}])",
      "p.json");
  REQUIRE(p.sentences.size() == 2);
  CHECK(p.sentences[0].image_id == "1000092795");
  CHECK(p.sentences[0].sentence_id == "0");
  CHECK(p.sentences[1].image_id == "abc");
  CHECK(p.sentences[1].sentence_id == "3");
  REQUIRE(p.sentences[0].boxes.size() == 1);
  CHECK(p.sentences[0].boxes[0][1].box == bx{0.1, 0.2, 49.999999, 1e300});
}

TEST_CASE("MDETR predictions: errors name the file and the entry or line", "[io]") {
  CHECK_THROWS_WITH(parse_mdetr_predictions("[\n{\"image_id\": 1,\n ]", "p.json"),
                    Catch::StartsWith("p.json:3: "));
  CHECK_THROWS_WITH(parse_mdetr_predictions(R"({"a": 1})", "p.json"), Catch::Contains("JSON list"));
  CHECK_THROWS_WITH(parse_mdetr_predictions(R"([{"image_id": 1, "boxes": []}])", "p.json"),
                    Catch::Contains("p.json: entry #0: no \"sentence_id\""));
  CHECK_THROWS_WITH(
      parse_mdetr_predictions(R"([{"image_id": 1, "sentence_id": 1.5, "boxes": []}])", "p.json"),
      Catch::Contains("sentence_id must be an integer or a string"));
  CHECK_THROWS_WITH(parse_mdetr_predictions(
                        R"([{"image_id": 1, "sentence_id": 0, "boxes": [[[1, 2, 3]]]}])", "p.json"),
                    Catch::Contains("entry #0: phrase list 0: box 0 is not a list of 4 numbers"));
  const std::string nulls = R"([{"image_id": 1, "sentence_id": 0, "boxes": [[[1, null, 3, 4]]]}])";
  CHECK_THROWS_WITH(parse_mdetr_predictions(nulls, "p.json"), Catch::Contains("is not finite"));
  predictions_read_options lenient;
  lenient.allow_non_finite = true;
  const auto p = parse_mdetr_predictions(nulls, "p.json", lenient);
  CHECK(std::isnan(p.sentences[0].boxes[0][0].box.y1));
}

TEST_CASE("MDETR predictions: write and read back bit for bit", "[io]") {
  prediction_set p;
  p.sentences.push_back(sent("77", "2", {ranked({{0.1 + 0.2, 1e-300, 49.999999, 1.0 / 3.0}}), {}}));
  p.sentences.push_back(sent("img_x", "0", {}));
  std::ostringstream os;
  write_mdetr_predictions(os, p);
  const std::string path = write_tmp("mdetr.json", os.str());
  CHECK(detect_predictions_format(path) == predictions_format::mdetr_json);
  const auto q = read_predictions(path);
  REQUIRE(q.sentences.size() == 2);
  CHECK(q.sentences[0].image_id == "77");
  CHECK(q.sentences[0].sentence_id == "2");
  CHECK(q.sentences[0].boxes[0][0].box == p.sentences[0].boxes[0][0].box);
  CHECK(q.sentences[0].boxes[1].empty());
  CHECK(q.sentences[1].image_id == "img_x");
  std::remove(path.c_str());
}

TEST_CASE("JSON Lines: every field, round trip, streaming, errors with line numbers", "[io]") {
  phrase_prediction_record r;
  r.image_id = "1000092795";
  r.sentence_id = 4;
  r.phrase_index = 2;
  r.chain_id = "123";
  r.phrase = "a man";
  r.result.boxes = {{{0.1 + 0.2, 2, 3, 4}, 0.9}, {{5, 6, 7, 8.5}, 0.25}};
  r.result.status = query_status::ok;
  r.result.raw_text = "<box>(1,2),(3,4)</box> \"quoted\"\n";
  r.result.latency_s = 0.125;
  r.config_hash = "abc123";
  r.result.geometry = R"({"space":"pixels","scale":[1.5,2]})";
  phrase_prediction_record f;
  f.image_id = "1000092795";
  f.sentence_id = 4;
  f.phrase_index = 3;
  f.result.status = query_status::format_failure;
  f.result.message = "no box in the answer";
  std::ostringstream os;
  write_jsonl_record(os, r);
  os << "\n   \n";  // blank lines are skipped
  write_jsonl_record(os, f);
  const std::string path = write_tmp("run.jsonl", os.str());
  CHECK(detect_predictions_format(path) == predictions_format::jsonl);
  std::ifstream in(path);
  jsonl_prediction_reader reader(in, path);
  phrase_prediction_record a, b, c;
  REQUIRE(reader.next(a));
  CHECK(reader.line() == 1);
  REQUIRE(reader.next(b));
  CHECK(reader.line() == 4);
  CHECK_FALSE(reader.next(c));
  CHECK(a.image_id == r.image_id);
  CHECK(a.sentence_id == 4);
  CHECK(a.phrase_index == 2);
  CHECK(a.chain_id == "123");
  CHECK(a.phrase == "a man");
  CHECK(a.result.boxes == r.result.boxes);
  CHECK(a.result.raw_text == r.result.raw_text);
  CHECK(a.result.latency_s == 0.125);
  CHECK(a.config_hash == "abc123");
  CHECK(a.result.geometry == r.result.geometry);
  CHECK(b.result.geometry.empty());
  CHECK(b.result.status == query_status::format_failure);
  CHECK(b.result.message == "no box in the answer");
  CHECK(b.result.latency_s < 0);
  CHECK(b.result.boxes.empty());
  const auto all = read_predictions(path);
  CHECK(all.phrases.size() == 2);
  CHECK(all.phrases[1].line == 4);
  std::remove(path.c_str());

  const std::string base = R"({"image_id": "1", "sentence_id": 0, "phrase_index": 0, )";
  CHECK_THROWS_WITH(parse_jsonl_record(base + R"("boxes": [], "status": "maybe"})", "r.jsonl", 7),
                    Catch::StartsWith("r.jsonl:7: status must be one of"));
  CHECK_THROWS_WITH(
      parse_jsonl_record(base + R"("boxes": [[1,2,3,4]], "scores": [], "status": "ok"})", "r.jsonl",
                         8),
      Catch::StartsWith("r.jsonl:8: scores must be a list with one number per box"));
  CHECK_THROWS_WITH(
      parse_jsonl_record(base + R"("boxes": [[1,2,3,"x"]], "status": "ok"})", "r.jsonl", 9),
      Catch::StartsWith("r.jsonl:9: boxes: box 0: coordinate \"x\" is not a number"));
  CHECK_THROWS_WITH(
      parse_jsonl_record(R"({"image_id": "1", "sentence_id": 0, "boxes": [], "status": "ok"})",
                         "r.jsonl", 2),
      Catch::StartsWith("r.jsonl:2: no \"phrase_index\""));
  CHECK_THROWS_WITH(parse_jsonl_record("{not json", "r.jsonl", 3),
                    Catch::StartsWith("r.jsonl:3: "));
  CHECK_THROWS_WITH(
      parse_jsonl_record(base + R"("boxes": [], "status": "ok", "sentence_id": -1.5})", "r.jsonl",
                         4),
      Catch::Contains("r.jsonl:4: "));
  const std::string bad =
      write_tmp("bad.jsonl", "\n" + base + R"("boxes": [], "status": "ok"})" + "\n{]\n");
  CHECK_THROWS_WITH(read_predictions(bad), Catch::StartsWith(bad + ":3: "));
  std::remove(bad.c_str());
  CHECK_THROWS_WITH(read_predictions("/nonexistent/x.json"), Catch::Contains("cannot open"));
  const std::string junk = write_tmp("junk.txt", "\n\n  hello");
  CHECK_THROWS_WITH(read_predictions(junk), Catch::StartsWith(junk + ":3: not a predictions file"));
  std::remove(junk.c_str());
}
