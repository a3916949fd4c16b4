// SPDX-License-Identifier: Apache-2.0
// evaluate(): sentence/phrase selection, matching of predictions, and the explicit handling of
// what the reference ignores (duplicates, unknown ids) or dies on (missing, wrong counts, empty).
#include "fixtures.hpp"

#include <groundeval/eval/evaluate.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;

namespace {
// Image "100": sentence 0 has two evaluable phrases and a notvisual one between them; sentence 1
// has nothing evaluable. Image "200": sentence 0 has one evaluable phrase with two GT boxes.
in_memory_dataset fixture() {
  std::vector<sample> s;
  s.push_back(make_sample(
      "100", 0,
      {make_phrase("1", {"people"}, {{10, 10, 50, 90}}), make_phrase("0", {"notvisual"}, {}),
       make_phrase("2", {"clothing", "other"}, {{20, 20, 40, 40}})}));
  s.push_back(make_sample("100", 1, {make_phrase("3", {"scene"}, {})}));
  s.push_back(
      make_sample("200", 0, {make_phrase("7", {"animals"}, {{0, 0, 8, 10}, {12, 0, 20, 10}})}));
  return in_memory_dataset("fixture", std::move(s));
}

prediction_set good_mdetr() {
  prediction_set p;
  p.source = "preds.json";
  p.sentences.push_back(
      sent("100", "0", {ranked({{10, 10, 50, 90}}), ranked({{0, 0, 5, 5}, {20, 20, 40, 40}})}));
  p.sentences.push_back(sent("200", "0", {ranked({{0, 0, 20, 10}})}));
  return p;
}
}  // namespace

TEST_CASE("evaluate: selection, counts and per-type recall", "[eval]") {
  const auto data = fixture();
  const auto r = evaluate(data, good_mdetr());
  CHECK(r.sentences == 2);
  CHECK(r.phrases == 3);
  CHECK(r.images == 2);
  CHECK(r.recall.recall(1) == 1.0 / 3.0);
  CHECK(r.recall.recall(5) == 2.0 / 3.0);
  CHECK(r.recall.recall(1, "people") == 1.0);
  CHECK(r.recall.recall(5, "clothing") == 1.0);
  CHECK(r.recall.recall(5, "other") == 1.0);
  CHECK(r.recall.recall(k_all, "animals") == 0.0);
  CHECK(r.recall.categories.count("notvisual") == 0);
  CHECK(r.recall.categories.count("scene") == 0);
  CHECK(r.warnings.total() == 0);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[1].phrase == 2);  // phrase index in the sentence, notvisual skipped

  evaluation_options merged;
  merged.protocol = gt_protocol::merged_box;
  const auto m = evaluate(data, good_mdetr(), merged);
  CHECK(m.recall.recall(1, "animals") == 1.0);
}

TEST_CASE("evaluate: first duplicate wins, unknown ids are counted warnings", "[eval]") {
  const auto data = fixture();
  auto p = good_mdetr();
  p.sentences.push_back(
      sent("100", "0", {ranked({{500, 500, 600, 600}}), ranked({{500, 500, 600, 600}})}));
  p.sentences.push_back(sent("999", "0", {ranked({{0, 0, 1, 1}})}));  // unknown image
  p.sentences.push_back(sent("100", "7", {ranked({{0, 0, 1, 1}})}));  // unknown sentence
  p.sentences.push_back(sent("100", "1", {ranked({{0, 0, 1, 1}})}));  // nothing to evaluate
  p.sentences.push_back(sent("100", "1", {}));                        // fine: empty
  p.sentences.push_back(sent("100", "0.0", {}));                      // float-like id: unknown
  const auto r = evaluate(data, p);
  CHECK(r.recall.recall(1) == 1.0 / 3.0);  // the first prediction of 100_0 was used
  CHECK(r.warnings.duplicate_sentences == 1);
  CHECK(r.warnings.unknown_images == 1);
  CHECK(r.warnings.unknown_sentences == 2);
  CHECK(r.warnings.unexpected_sentences == 1);
  CHECK(r.warnings.examples.size() == 5);
  CHECK(r.warnings.examples[0].find("preds.json: entry #2") == 0);
}

TEST_CASE("evaluate: entries added as blocks count as added one by one", "[eval]") {
  const auto data = fixture();
  auto p = good_mdetr();
  p.sentences.push_back(
      sent("100", "0", {ranked({{500, 500, 600, 600}}), ranked({{500, 500, 600, 600}})}));
  p.sentences.push_back(sent("999", "0", {ranked({{0, 0, 1, 1}})}));
  p.sentences.push_back(sent("100", "1", {ranked({{0, 0, 1, 1}})}));
  p.sentences[0].boxes[1].clear();  // an empty list among others
  const auto one_by_one = evaluate(data, p);
  // Two blocks (the first holds entries 0-2), as the streaming readers hand them over.
  sentence_prediction_block first, second;
  for (std::size_t i = 0; i < p.sentences.size(); ++i)
    (i < 3 ? first : second).append(p.sentences[i]);
  REQUIRE(first.size() == 3);
  CHECK(first.list(first[0], 0).size() == 1);
  CHECK(first.list(first[0], 1).empty());
  evaluator<in_memory_dataset> ev(data, {}, "preds.json");
  ev.add(first);
  ev.add(second);
  const auto blocks = ev.finish();
  CHECK(blocks.recall.recall(1) == one_by_one.recall.recall(1));
  CHECK(blocks.recall.recall(5) == one_by_one.recall.recall(5));
  CHECK(blocks.recall.empty_lists == 1);
  CHECK(blocks.warnings.duplicate_sentences == 1);
  CHECK(blocks.warnings.unknown_images == 1);
  CHECK(blocks.warnings.unexpected_sentences == 1);
  CHECK(blocks.warnings.examples == one_by_one.warnings.examples);  // same entry numbers
  REQUIRE(blocks.outcomes.size() == one_by_one.outcomes.size());
  for (std::size_t k = 0; k < blocks.outcomes.size(); ++k)
    CHECK(blocks.outcomes[k].hit_mask == one_by_one.outcomes[k].hit_mask);

  // A wrong number of lists in a block names the entry's position among all added.
  sentence_prediction_block bad;
  bad.append(p.sentences[1]);
  bad.append(sent("100", "0", {ranked({{0, 0, 1, 1}})}));
  evaluator<in_memory_dataset> ev2(data, {}, "preds.json");
  CHECK_THROWS_WITH(ev2.add(bad),
                    Catch::Contains("preds.json: entry #1: got 1 phrase lists, expected 2"));
}

TEST_CASE("evaluate: missing predictions are an error unless counted", "[eval]") {
  const auto data = fixture();
  auto p = good_mdetr();
  p.sentences.pop_back();
  try {
    (void)evaluate(data, p);
    FAIL("expected an error");
  } catch (const groundeval::error& e) {
    CHECK(e.kind() == error_kind::invalid);
    CHECK(std::string(e.what()).find("preds.json: missing predictions for 1 phrase(s) in 1 "
                                     "sentence(s): image 200 sentence 0 phrase 0") == 0);
  }
  evaluation_options o;
  o.count_missing_as_miss = true;
  const auto r = evaluate(data, p, o);
  CHECK(r.phrases == 3);
  CHECK(r.warnings.missing_phrases == 1);
  CHECK(r.warnings.missing_sentences == 1);
  CHECK(r.recall.recall(k_all, "animals") == 0.0);
  CHECK(r.outcomes[2].source == outcome_source::missing);
}

TEST_CASE("evaluate: wrong number of phrase lists names the entry", "[eval]") {
  const auto data = fixture();
  auto p = good_mdetr();
  p.sentences[1].boxes.push_back(ranked({{0, 0, 1, 1}}));
  CHECK_THROWS_WITH(evaluate(data, p),
                    Catch::Contains("preds.json: entry #1: got 2 phrase lists, expected 1"));
  evaluation_options o;
  o.count_invalid_as_miss = true;
  const auto r = evaluate(data, p, o);
  CHECK(r.warnings.invalid_sentences == 1);
  CHECK(r.recall.categories.at("animals").total == 1);
}

TEST_CASE("evaluate: an empty candidate list is a counted miss", "[eval]") {
  const auto data = fixture();
  auto p = good_mdetr();
  p.sentences[0].boxes[0].clear();
  const auto r = evaluate(data, p);
  CHECK(r.recall.empty_lists == 1);
  CHECK(r.answers.empty_lists == 1);
  CHECK(r.answers.count(query_status::empty) == 1);
  CHECK(r.recall.recall(k_all, "people") == 0.0);
}

TEST_CASE("evaluate: per-phrase records (JSON Lines layout)", "[eval]") {
  const auto data = fixture();
  prediction_set p;
  p.source = "run.jsonl";
  auto rec = [](std::string img, long long s, std::size_t pi, std::string chain,
                std::vector<scored_box> boxes, std::size_t line) {
    phrase_prediction_record r;
    r.image_id = std::move(img);
    r.sentence_id = s;
    r.phrase_index = pi;
    r.chain_id = std::move(chain);
    r.result.boxes = std::move(boxes);
    r.result.latency_s = 0.5;
    r.line = line;
    return r;
  };
  p.phrases.push_back(rec("100", 0, 2, "2", ranked({{20, 20, 40, 40}}), 1));
  p.phrases.push_back(rec("100", 0, 0, "", ranked({{10, 10, 50, 90}}), 2));
  p.phrases.push_back(rec("100", 0, 0, "1", ranked({{0, 0, 1, 1}}), 3));  // duplicate
  p.phrases.push_back(rec("100", 0, 1, "0", ranked({{0, 0, 1, 1}}), 4));  // not evaluable
  p.phrases.push_back(rec("100", 0, 9, "", ranked({{0, 0, 1, 1}}), 5));   // unknown phrase
  p.phrases.push_back(rec("300", 0, 0, "", ranked({{0, 0, 1, 1}}), 6));   // unknown image
  p.phrases.push_back(rec("200", 0, 0, "7", ranked({{0, 0, 8, 10}}), 7));
  const auto r = evaluate(data, p);
  CHECK(r.recall.recall(1) == 1.0);
  CHECK(r.warnings.duplicate_phrases == 1);
  CHECK(r.warnings.non_evaluable_phrases == 1);
  CHECK(r.warnings.unknown_phrases == 1);
  CHECK(r.warnings.unknown_images == 1);
  CHECK(r.latency.count == 3);

  p.phrases.push_back(rec("200", 0, 0, "7", ranked({{0, 0, 8, 10}}), 8));
  p.phrases[6].chain_id = "8";
  CHECK_THROWS_WITH(evaluate(data, p), Catch::Contains("run.jsonl:7: chain id 8 does not match"));
}

TEST_CASE("evaluate: results do not depend on the thread count", "[eval]") {
  // 21,000 phrases in 7,000 samples: enough for the parallel paths to split the work (the
  // evaluator's index is cut into runs of >= 2,048 samples, the measuring into halves / thirds).
  std::vector<sample> ss;
  prediction_set p;
  for (int i = 0; i < 7000; ++i) {
    const std::string id = std::to_string(7000 + i);
    const double o = i % 17;
    ss.push_back(
        make_sample(id, 0,
                    {make_phrase("1", {"people"}, {{o, o, o + 40, o + 30}}),
                     make_phrase("2", {"other", "scene"}, {{5, 5, 5, 9}, {50, 50, 90, 95}}),
                     make_phrase("3", {"clothing"}, {{o, 0, o + 10, 10}})}));
    p.sentences.push_back(sent(id, "0",
                               {ranked({{o + (i % 5), o, o + 40, o + 30}, {0, 0, 1, 1}}),
                                ranked({{1, 1, 1, 1}, {50, 50, 90, 95.0 - (i % 50)}}),
                                ranked({{o, 0, o + 10, 5 + (i % 7) * 0.5}, {o, 0, o + 10, 10}})}));
  }
  const in_memory_dataset data("threads", std::move(ss));
  evaluation_options one;
  one.threads = 1;
  const auto a = evaluate(data, p, one);
  REQUIRE(a.phrases == 21000);
  CHECK(a.recall.nan_phrases > 0);
  // Outcomes in data set order, each naming its sample, phrase and image (across the blocks of
  // 4,096 phrases that fill them in parallel).
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    const auto& o = a.outcomes[i];
    wrong += o.sample != i / 3 || o.phrase != i % 3 || o.image != i / 3 ||
             a.image_ids.at(o.image) != data[o.sample].image_id;
  }
  CHECK(wrong == 0);
  for (const unsigned threads : {2u, 3u}) {
    evaluation_options more;
    more.threads = threads;
    const auto b = evaluate(data, p, more);
    REQUIRE(b.phrases == a.phrases);
    for (const auto& [cat, c] : a.recall.categories) {
      CHECK(c.total == b.recall.categories.at(cat).total);
      CHECK(c.hits == b.recall.categories.at(cat).hits);
    }
    CHECK(a.localization.iou_sum == b.localization.iou_sum);  // bit-identical, not approximately
    CHECK(a.localization.at_coco == b.localization.at_coco);
    CHECK(a.recall.nan_phrases == b.recall.nan_phrases);
    REQUIRE(a.outcomes.size() == b.outcomes.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.outcomes.size(); ++i)
      differ += a.outcomes[i].sample != b.outcomes[i].sample ||
                a.outcomes[i].phrase != b.outcomes[i].phrase ||
                a.outcomes[i].hit_mask != b.outcomes[i].hit_mask ||
                !(a.outcomes[i].top1_iou == b.outcomes[i].top1_iou ||
                  (a.outcomes[i].top1_iou != a.outcomes[i].top1_iou &&
                   b.outcomes[i].top1_iou != b.outcomes[i].top1_iou));
    CHECK(differ == 0);
  }
}

TEST_CASE("evaluate: outcomes name their sample, phrase and image across blocks", "[eval]") {
  // Per image: sentence 0 with two evaluable phrases around a box-less one, sentence 1 with none,
  // sentence 2 with one; 2,500 images, 7,500 outcomes: two blocks of 4,096 phrases.
  std::vector<sample> ss;
  for (int i = 0; i < 2500; ++i) {
    const std::string id = std::to_string(90000 + i);
    ss.push_back(make_sample(
        id, 0,
        {make_phrase("1", {"people"}, {{1, 1, 9, 9}}), make_phrase("0", {"notvisual"}, {}),
         make_phrase("2", {"other"}, {{2, 2, 8, 8}})}));
    ss.push_back(make_sample(id, 1, {make_phrase("0", {"notvisual"}, {})}));
    ss.push_back(make_sample(id, 2, {make_phrase("3", {"scene"}, {{0, 0, 5, 5}})}));
  }
  const in_memory_dataset data("outcomes", std::move(ss));
  evaluation_options o;
  o.count_missing_as_miss = true;
  for (const unsigned threads : {1u, 2u}) {
    o.threads = threads;
    const auto r = evaluate(data, prediction_set{}, o);
    REQUIRE(r.outcomes.size() == 7500);
    CHECK(r.sentences == 5000);
    CHECK(r.images == 2500);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
      const auto& out = r.outcomes[i];
      const std::size_t image = i / 3, within = i % 3;
      const std::size_t sample = image * 3 + (within == 2 ? 2 : 0);
      const std::uint32_t phrase = within == 0 ? 0 : within == 1 ? 2 : 0;
      wrong += out.sample != sample || out.phrase != phrase || out.image != image ||
               out.source != outcome_source::missing || out.status != query_status::error;
    }
    CHECK(wrong == 0);
  }
}
