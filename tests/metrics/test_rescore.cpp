// SPDX-License-Identifier: Apache-2.0
// Rescoring (eval/rescore.hpp, io/json/rescore.hpp): records' raw_text decoded again with a
// family's parser and geometry for each image's size; the rules for records without text, with
// an error status or of unknown images; and a whole JSON Lines file evaluated after rescoring.
#include "fixtures.hpp"

#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/rescore.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/io/json/rescore.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;

namespace {
// Image "wide" (1000x500): the phrase's truth is its left half, [0, 0, 500, 500].
in_memory_dataset fixture(image_size size = {1000, 500}) {
  std::vector<sample> s;
  s.push_back(make_sample("wide", 0, {make_phrase("1", {"other"}, {{0, 0, 500, 500}})}, size));
  return in_memory_dataset("fixture", std::move(s));
}

phrase_prediction_record rec(std::string text, std::vector<scored_box> boxes = {},
                             query_status st = query_status::ok, std::string image = "wide") {
  phrase_prediction_record r;
  r.image_id = std::move(image);
  r.phrase_index = 0;
  r.line = 7;
  r.result.raw_text = std::move(text);
  r.result.boxes = std::move(boxes);
  r.result.status = st;
  r.result.latency_s = 0.25;
  return r;
}

std::string temp_file(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("groundeval_rescore_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}
}  // namespace

TEST_CASE("decoded_answer: the parser's boxes in text order, ranked, with the contract") {
  const geometry g = family_geometry("qwen2-vl", {1000, 500});
  const query_result q = decoded_answer("qwen2-vl", "(0,0),(500,1000) and (100,100),(200,200)", g);
  REQUIRE(q.status == query_status::ok);
  REQUIRE(q.boxes.size() == 2);
  CHECK(q.boxes[0].box == box_xyxy<double>{0, 0, 500, 500});
  CHECK(q.boxes[1].box.x1 == Approx(100));  // 100 / 1000 * 1000, rounded
  CHECK(q.boxes[1].box.y1 == Approx(50));
  CHECK(q.boxes[1].box.x2 == Approx(200));
  CHECK(q.boxes[1].box.y2 == Approx(100));
  CHECK(q.boxes[0].score == 1.0);
  CHECK(q.boxes[1].score == 0.5);
  CHECK(q.geometry == to_json(g));
  CHECK(q.raw_text == "(0,0),(500,1000) and (100,100),(200,200)");
  CHECK(q.latency_s < 0);
  const query_result e = decoded_answer("qwen2-vl", "I cannot see it", g);
  CHECK(e.status == query_status::empty);
  CHECK(e.boxes.empty());
  CHECK_FALSE(e.message.empty());
}

TEST_CASE("raw_text_rescorer: the same text read in two frames gives two boxes") {
  const in_memory_dataset d = fixture();
  raw_text_rescorer grid(d, "qwen2-vl");  // 0-1000 of the image
  raw_text_rescorer pixels(d, "pixel");   // absolute pixels
  auto a = rec("(0,0),(500,1000)", {{{1, 2, 3, 4}, 1.0}});
  auto b = a;
  grid(a, "p.jsonl");
  CHECK(a.result.boxes.size() == 1);
  CHECK(a.result.boxes[0].box == box_xyxy<double>{0, 0, 500, 500});
  CHECK(a.result.latency_s == 0.25);  // kept
  CHECK(a.result.raw_text == "(0,0),(500,1000)");
  CHECK(grid.rescored() == 1);
  b.result.raw_text = "[0, 0, 500, 1000]";
  pixels(b, "p.jsonl");
  REQUIRE(b.result.boxes.size() == 1);
  CHECK(b.result.boxes[0].box == box_xyxy<double>{0, 0, 500, 500});  // clipped to the image
  // llava: the padded square (side 1000, pasted 250 px down) vs the original frame
  raw_text_rescorer padded(d, "llava", {{"frame", "padded"}});
  raw_text_rescorer original(d, "llava", {{"frame", "original"}});
  auto p = rec("[0.0, 0.25, 0.5, 0.75]"), o = p;
  padded(p);
  original(o);
  CHECK(p.result.boxes[0].box == box_xyxy<double>{0, 0, 500, 500});
  CHECK(o.result.boxes[0].box == box_xyxy<double>{0, 125, 500, 375});
  CHECK(p.result.geometry.find("\"send\"") == std::string::npos);  // groundeval sent nothing
}

TEST_CASE("raw_text_rescorer: records it leaves alone and records it refuses") {
  const in_memory_dataset d = fixture();
  raw_text_rescorer r(d, "qwen2-vl");
  auto err = rec("", {}, query_status::error);
  err.result.message = "timeout";
  r(err);
  CHECK(err.result.status == query_status::error);
  CHECK(err.result.message == "timeout");
  auto unknown = rec("(0,0),(1,1)", {{{1, 2, 3, 4}, 1.0}}, query_status::ok, "nope");
  r(unknown);
  CHECK(unknown.result.boxes[0].box == box_xyxy<double>{1, 2, 3, 4});
  auto blank = rec("", {}, query_status::empty);
  r(blank);
  CHECK(blank.result.status == query_status::empty);
  CHECK(r.rescored() == 1);
  auto boxes_only = rec("", {{{1, 2, 3, 4}, 1.0}});
  try {
    r(boxes_only, "run.jsonl");
    FAIL("a record with boxes and no raw_text must be refused");
  } catch (const error& e) {
    CHECK(e.kind() == error_kind::invalid);
    CHECK(std::string(e.what()).find("run.jsonl:7") != std::string::npos);
    CHECK(std::string(e.what()).find("no raw_text") != std::string::npos);
  }
  CHECK_THROWS_AS(raw_text_rescorer(d, "no-such-family"), error);
  CHECK_THROWS_AS(raw_text_rescorer(d, "qwen2.5-vl", {{"bogus", "1"}}), error);
  const in_memory_dataset sizeless = fixture({0, 0});
  raw_text_rescorer s(sizeless, "qwen2-vl");
  auto x = rec("(0,0),(1,1)");
  CHECK_THROWS_WITH(s(x, "run.jsonl"), Catch::Contains("gives no size for image wide"));
}

TEST_CASE("evaluate_rescored_predictions_file: a JSON Lines file scored in the family's frame") {
  const in_memory_dataset d = fixture();
  const std::string path =
      temp_file("p.jsonl", R"J({"image_id": "wide", "sentence_id": 0, "phrase_index": 0, )J"
                           R"J("boxes": [], "status": "empty", )J"
                           R"J("raw_text": "(0,0),(500,1000)"})J"
                           "\n");
  CHECK(evaluate_predictions_file(d, path).recall.recall(1) == 0.0);  // as written: no box
  raw_text_rescorer grid(d, "qwen2-vl"), pixels(d, "pixel");
  std::ostringstream out;
  CHECK(evaluate_rescored_predictions_file(d, path, grid, {}, {}, &out).recall.recall(1) == 1.0);
  // [0, 0, 500, 1000] in pixels clips to [0, 0, 500, 500] too, but "(0,0),(500,1000)" is no
  // bracket list for `pixel`: nothing is decoded
  CHECK(evaluate_rescored_predictions_file(d, path, pixels).recall.recall(1) == 0.0);
  const std::string written = temp_file("r.jsonl", out.str());
  const prediction_set back = read_predictions(written);
  REQUIRE(back.phrases.size() == 1);
  CHECK(back.phrases[0].result.boxes[0].box == box_xyxy<double>{0, 0, 500, 500});
  CHECK(evaluate_predictions_file(d, written).recall.recall(1) == 1.0);
  const std::string mdetr =
      temp_file("m.json", R"([{"image_id": "wide", "sentence_id": 0, "boxes": [[]]}])");
  CHECK_THROWS_WITH(evaluate_rescored_predictions_file(d, mdetr, grid),
                    Catch::Contains("carries no raw text"));
  std::remove(path.c_str());
  std::remove(written.c_str());
  std::remove(mdetr.c_str());
}
