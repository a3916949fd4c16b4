// SPDX-License-Identifier: Apache-2.0
// Point answers (Molmo-style <point>): a query result's points are recorded in predictions.jsonl,
// are misses for Recall@k and IoU (counted as point answers), and are scored by the pointing game
// overall and per phrase type; a predictions file without points reads as before.
#include "fixtures.hpp"

#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/report/from_results.hpp>
#include <groundeval/report/html.hpp>
#include <groundeval/report/json_report.hpp>
#include <groundeval/report/markdown.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;

namespace {
// Image "100", sentence 0: a "people" phrase (GT 10..50 x 10..90) and a "clothing" phrase (GT
// 20..40 x 20..40); image "200": an "animals" phrase with two GT boxes.
in_memory_dataset fixture() {
  std::vector<sample> s;
  s.push_back(make_sample("100", 0,
                          {make_phrase("1", {"people"}, {{10, 10, 50, 90}}),
                           make_phrase("2", {"clothing"}, {{20, 20, 40, 40}})}));
  s.push_back(
      make_sample("200", 0, {make_phrase("7", {"animals"}, {{0, 0, 8, 10}, {12, 0, 20, 10}})}));
  return in_memory_dataset("fixture", std::move(s));
}

phrase_prediction_record rec(std::string img, std::size_t pi, std::vector<scored_box> boxes,
                             std::vector<answer_point> points, std::size_t line) {
  phrase_prediction_record r;
  r.image_id = std::move(img);
  r.sentence_id = 0;
  r.phrase_index = pi;
  r.result.boxes = std::move(boxes);
  r.result.points = std::move(points);
  r.result.status = query_status::ok;
  r.line = line;
  return r;
}

// Phrase 100/0/0 answered with a point inside its box (hit), 100/0/1 with a point outside (miss;
// its second point would hit, but only the first counts), 200/0/0 with a box whose centre
// (10, 5) is between the two GT boxes (pointing miss, R@1 hit? no: IoU with either box < 0.5).
prediction_set point_run() {
  prediction_set p;
  p.source = "points.jsonl";
  p.phrases.push_back(rec("100", 0, {}, {{30, 50}}, 1));
  p.phrases.push_back(rec("100", 1, {}, {{45, 45}, {30, 30}}, 2));
  p.phrases.push_back(rec("200", 0, ranked({{4, 0, 16, 10}}), {}, 3));
  return p;
}
}  // namespace

TEST_CASE("pointing game: the top point, point answers first when there is no box", "[eval]") {
  const auto data = fixture();
  const auto r = evaluate(data, point_run());
  // Box metrics: point-only answers are misses, counted apart.
  CHECK(r.recall.recall(1) == 0.0);
  CHECK(r.recall.recall(k_all) == 0.0);
  CHECK(r.answers.point_answers == 2);
  CHECK(r.answers.count(query_status::ok) == 3);
  CHECK(r.localization.mean_iou() == Approx(r.localization.iou_sum / 3.0));
  CHECK(r.outcomes[0].top1_iou == 0.0);
  // The pointing game: 100/0/0 hits with its point; 100/0/1's first point misses; the box centre
  // (10, 5) of 200/0/0 lies in neither GT box.
  const pointing_counts* all = r.pointing.find("all");
  REQUIRE(all);
  CHECK(all->phrases == 3);
  CHECK(all->hits == 1);
  CHECK(all->point_answers == 2);
  CHECK(all->point_hits == 1);
  CHECK(all->box_answers == 1);
  CHECK(r.pointing.accuracy() == 1.0 / 3.0);
  CHECK(r.pointing.accuracy("people") == 1.0);
  CHECK(r.pointing.accuracy("clothing") == 0.0);
  CHECK(r.pointing.accuracy("animals") == 0.0);
  CHECK(std::isnan(r.pointing.accuracy("scene")));
  // The localization summary's pointing game is the same rule.
  CHECK(r.localization.pointing_hits == 1);

  // Moving the box so that its centre (14, 5) is inside the second GT box makes it a hit.
  auto p = point_run();
  p.phrases[2].result.boxes = ranked({{8, 0, 20, 10}});
  const auto r2 = evaluate(data, p);
  CHECK(r2.pointing.find("all")->hits == 2);
  CHECK(r2.pointing.accuracy("animals") == 1.0);
  // A non-finite point is a miss, never a crash.
  p.phrases[0].result.points = {{std::nan(""), 50}};
  CHECK(evaluate(data, p).pointing.accuracy("people") == 0.0);
}

TEST_CASE("pointing game: missing answers are misses; merge is the sum of the parts", "[eval]") {
  const auto data = fixture();
  auto p = point_run();
  p.phrases.pop_back();
  evaluation_options opt;
  opt.count_missing_as_miss = true;
  const auto r = evaluate(data, p, opt);
  CHECK(r.pointing.find("all")->phrases == 3);
  CHECK(r.pointing.find("all")->hits == 1);
  CHECK(r.pointing.find("animals")->hits == 0);

  pointing_game a, b, whole;
  const std::vector<std::string> types{"people"};
  const std::vector<box_xyxy<double>> gt{{0, 0, 10, 10}};
  const std::vector<answer_point> in{{5, 5}}, out{{50, 5}};
  const phrase_truth t{gt, types, {100, 100}};
  phrase_prediction hit, miss;
  hit.points = in;
  miss.points = out;
  a.add(hit, t);
  b.add(miss, t);
  whole.add(hit, t);
  whole.add(miss, t);
  a.merge(b);
  CHECK(a.result().find("people")->hits == whole.result().find("people")->hits);
  CHECK(a.result().accuracy() == 0.5);
  CHECK_THROWS(a.merge(pointing_game(gt_protocol::merged_box)));
}

TEST_CASE("points are recorded in JSON Lines and read back; files without points unchanged",
          "[io]") {
  const auto p = point_run();
  const std::string line = format_jsonl_record(p.phrases[1]);
  CHECK(line.find(R"("scores":[],"points":[[45,45],[30,30]],"status":"ok")") != std::string::npos);
  std::ostringstream os;
  write_jsonl_record(os, p.phrases[1]);
  CHECK(nlohmann::json::parse(os.str())["points"] == nlohmann::json::parse("[[45,45],[30,30]]"));
  for (const std::string& text : {line, os.str()}) {
    const auto back = parse_jsonl_record(text, "x", 1);
    CHECK(back.result.points == p.phrases[1].result.points);
  }
  // A box answer writes no "points" member: records of box runs are what they were.
  const std::string box_line = format_jsonl_record(p.phrases[2]);
  CHECK(box_line.find("points") == std::string::npos);
  CHECK(parse_jsonl_record(box_line, "x", 1).result.points.empty());
  const std::string old_line =
      R"({"image_id":"100","sentence_id":0,"phrase_index":0,"boxes":[[10,10,50,90]],"status":"ok"})";
  const auto old = parse_jsonl_record(old_line, "old.jsonl", 4);
  CHECK(old.result.points.empty());
  CHECK(old.result.boxes.size() == 1);
  // Malformed points name the line.
  CHECK_THROWS_WITH(
      parse_jsonl_record(
          R"({"image_id":"1","sentence_id":0,"phrase_index":0,"boxes":[],"points":[[1]],"status":"ok"})",
          "bad.jsonl", 9),
      Catch::Contains("bad.jsonl:9") && Catch::Contains("point 0"));
}

TEST_CASE("point answers and the pointing game reach evaluate's JSON and the reports", "[eval]") {
  const auto data = fixture();
  const auto r = evaluate(data, point_run());
  const auto j = nlohmann::json::parse(report_json(r));
  CHECK(j["answers"]["point_answers"] == 2);
  CHECK(j["pointing_game"]["all"]["hits"] == 1);
  CHECK(j["pointing_game"]["all"]["point_answers"] == 2);
  CHECK(j["pointing_game"]["people"]["accuracy"].get<double>() == 1.0);
  CHECK(j["recall_at"]["1"]["all"].get<double>() == 0.0);
  const std::string table = format_report_table(r);
  CHECK(table.find("point answers: 2 (misses for Recall@k and IoU)") != std::string::npos);

  const auto s = report::summarize_run(r, "molmo", "openai:...", "fixture");
  CHECK(s.point_answers == 2);
  CHECK(s.overall.pointing_game == 1.0 / 3.0);
  report::report_input in;
  in.runs.push_back(s);
  const std::string h = report::render_html(in), m = report::render_markdown(in);
  CHECK(h.find("<th>Pointing game</th>") != std::string::npos);
  CHECK(h.find("<td>33.3</td></tr>") != std::string::npos);
  CHECK(h.find("<th>Point answers</th>") != std::string::npos);
  CHECK(m.find("| 33.3 | 0 | 0 | 0 | 2 |") != std::string::npos);
  const auto rj = nlohmann::json::parse(report::render_json(in));
  CHECK(rj["runs"][0]["point_answers"] == 2);
  CHECK(rj["runs"][0]["overall"]["pointing_game"].get<double>() == 1.0 / 3.0);
}
