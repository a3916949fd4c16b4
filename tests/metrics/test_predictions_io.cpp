// SPDX-License-Identifier: Apache-2.0
// Predictions I/O: MDETR JSON and JSON Lines, exact round trips of doubles, and errors that name
// the file and the line or entry.
#include "fixtures.hpp"

#include <groundeval/io/json/predictions.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <future>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;

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

TEST_CASE("batch_channel: in order, bounded, errors after the batches, cancellable", "[io]") {
  using channel = detail::batch_channel<int>;
  // Ordered hand-over with recycling: the producer is never more than `capacity` batches ahead.
  {
    channel ch(2);
    std::atomic<int> pushed{0};
    std::atomic<bool> dirty{false};  // Catch2 assertions stay on the test's thread
    std::thread producer([&] {
      for (int b = 0; b < 50; ++b) {
        auto batch = ch.take_free();
        if (batch.used != 0) dirty = true;
        if (batch.records.size() < 3) batch.records.resize(3);
        for (int i = 0; i < 3; ++i) batch.records[i] = 3 * b + i;
        batch.used = 3;
        ch.push(std::move(batch));
        ++pushed;
      }
      ch.close(std::make_exception_ptr(std::runtime_error("stopped after 50")));
    });
    int expect = 0, popped = 0;
    while (auto b = ch.pop()) {
      ++popped;
      CHECK(pushed.load() <= popped + 2);  // at most two waiting beyond the one taken
      for (std::size_t i = 0; i < b->used; ++i) CHECK(b->records[i] == expect++);
      ch.recycle(std::move(*b));
    }
    producer.join();
    CHECK_FALSE(dirty);
    CHECK(expect == 150);
    CHECK_THROWS_WITH(std::rethrow_exception(ch.error()), "stopped after 50");
  }
  // The consumer gives up: a producer waiting for room is woken and its push() throws.
  {
    channel ch(1);
    std::atomic<bool> cancelled{false};
    std::thread producer([&] {
      try {
        for (;;) ch.push(ch.take_free());
      } catch (const detail::batch_channel_cancelled&) {
        cancelled = true;
      }
      ch.close(nullptr);
    });
    REQUIRE(ch.pop());
    ch.cancel();
    producer.join();
    CHECK(cancelled);
    CHECK_FALSE(ch.pop());
    CHECK_FALSE(ch.error());
  }
}

TEST_CASE("JSON Lines: streamed evaluation equals the in-memory one for any batch size", "[io]") {
  // 600 sentences x 2 evaluable phrases; the file holds duplicates that straddle batch borders,
  // an unknown image, a non-finite box and a missing phrase, so every bookkeeping path is used.
  std::vector<sample> ss;
  for (int i = 0; i < 600; ++i) {
    const double o = i % 13;
    ss.push_back(make_sample(std::to_string(500 + i), 0,
                             {make_phrase("1", {"people"}, {{o, o, o + 40, o + 30}}),
                              make_phrase("0", {"notvisual"}, {}),
                              make_phrase("2", {"other"}, {{5, 5, 50, 60}, {60, 60, 90, 95}})}));
  }
  const in_memory_dataset data("stream", std::move(ss));
  std::ostringstream os;
  for (int i = 0; i < 600; ++i) {
    for (std::size_t pi : {std::size_t{0}, std::size_t{2}}) {
      if (i == 599 && pi == 2) continue;  // missing
      phrase_prediction_record r;
      r.image_id = std::to_string(500 + i);
      r.phrase_index = pi;
      const double o = (i % 13) + (i % 3);
      r.result.boxes = ranked({{o, o, o + 40, o + 30}, {60, 60, 90, 95.0 - (i % 40)}});
      if (i == 17) r.result.boxes[0].box.x2 = std::numeric_limits<double>::quiet_NaN();
      r.result.latency_s = 0.001 * i;
      write_jsonl_record(os, r);
      if (i % 97 == 0) {  // a later duplicate that must lose
        r.result.boxes = ranked({{0, 0, 1, 1}});
        write_jsonl_record(os, r);
      }
    }
  }
  os << R"({"image_id": "nope", "sentence_id": 0, "phrase_index": 0, "boxes": [], "status": "empty"})"
     << "\n";
  const std::string path = write_tmp("stream.jsonl", os.str());
  evaluation_options opt;
  opt.count_missing_as_miss = true;
  predictions_read_options ropt;
  ropt.allow_non_finite = true;
  const auto whole = evaluate(data, read_predictions(path, ropt), opt);
  REQUIRE(whole.phrases == 1200);
  CHECK(whole.warnings.duplicate_phrases == 2 * 7);
  CHECK(whole.warnings.unknown_images == 1);
  CHECK(whole.warnings.missing_phrases == 1);
  CHECK(whole.recall.nan_phrases > 0);
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{97}, std::size_t{4096}}) {
    INFO("batch " << batch);
    const auto s = evaluate_predictions_file(data, path, opt, ropt, batch);
    REQUIRE(s.phrases == whole.phrases);
    CHECK(s.predictions_source == path);
    CHECK(s.warnings.total() == whole.warnings.total());
    CHECK(s.warnings.examples == whole.warnings.examples);
    for (const auto& [cat, c] : whole.recall.categories) {
      CHECK(c.total == s.recall.categories.at(cat).total);
      CHECK(c.hits == s.recall.categories.at(cat).hits);
    }
    CHECK(s.localization.iou_sum == whole.localization.iou_sum);  // bit for bit
    CHECK(s.latency.count == whole.latency.count);
    bool same = true;
    for (std::size_t i = 0; i < s.outcomes.size(); ++i)
      same = same && s.outcomes[i].hit_mask == whole.outcomes[i].hit_mask &&
             s.outcomes[i].top1_iou == whole.outcomes[i].top1_iou &&
             s.outcomes[i].source == whole.outcomes[i].source;
    CHECK(same);
  }
  // Opened on another thread beforehand (as `groundeval evaluate` does while the data set
  // loads): the same evaluation.
  {
    auto opening = std::async(std::launch::async, [&path] { return predictions_input(path); });
    predictions_input in = opening.get();
    CHECK(in.format() == predictions_format::jsonl);
    const auto s = evaluate_predictions(data, in, opt, ropt);
    CHECK(s.phrases == whole.phrases);
    CHECK(s.predictions_source == path);
    CHECK(s.warnings.total() == whole.warnings.total());
    CHECK(s.localization.iou_sum == whole.localization.iou_sum);
    CHECK(s.recall.recall(1) == whole.recall.recall(1));
  }
  // Decoded on its own thread from the start, as `groundeval evaluate` does while the data set
  // loads, in batches of 7 records (the decoder waits while two batches are ready): the same.
  {
    auto opening = std::async(std::launch::async, [&path, ropt] {
      predictions_input in(path);
      in.start_decoding(ropt, 7);
      return in;
    });
    predictions_input in = opening.get();
    REQUIRE(in.jsonl_batches() != nullptr);
    const auto s = evaluate_predictions(data, in, opt, ropt);
    REQUIRE(s.phrases == whole.phrases);
    CHECK(s.warnings.examples == whole.warnings.examples);
    CHECK(s.localization.iou_sum == whole.localization.iou_sum);
    bool same = true;
    for (std::size_t i = 0; i < s.outcomes.size(); ++i)
      same = same && s.outcomes[i].hit_mask == whole.outcomes[i].hit_mask &&
             s.outcomes[i].top1_iou == whole.outcomes[i].top1_iou;
    CHECK(same);
  }
  // Abandoned while its decoder waits for room (nobody takes the batches): destroying the input
  // stops the decoder and returns; so does moving another input over it.
  {
    predictions_input in(path);
    in.start_decoding(ropt, 1);
    predictions_input other(path);
    other.start_decoding(ropt, 1);
    in = std::move(other);
    REQUIRE(in.jsonl_batches() != nullptr);
    auto first = in.jsonl_batches()->pop();
    REQUIRE(first);
    CHECK(first->used == 1);
    CHECK(first->records[0].image_id == "500");
  }
  CHECK_THROWS_WITH(predictions_input(path + ".missing"),
                    Catch::Matchers::StartsWith(path + ".missing"));
  // offset(): seeking there and reading again gives the same record back.
  {
    std::ifstream in(path, std::ios::binary);
    jsonl_prediction_reader reader(in, path, ropt);
    std::vector<std::pair<std::uint64_t, phrase_prediction_record>> seen;
    phrase_prediction_record r;
    while (reader.next(r))
      if (seen.size() < 40 || reader.line() % 101 == 0) seen.emplace_back(reader.offset(), r);
    REQUIRE(seen.size() > 40);
    CHECK(seen[0].first == 0);
    std::ifstream again(path, std::ios::binary);
    for (const auto& [off, want] : seen) {
      again.clear();
      again.seekg(static_cast<std::streamoff>(off));
      jsonl_prediction_reader one(again, path, ropt);
      phrase_prediction_record got;
      REQUIRE(one.next(got));
      CHECK(got.image_id == want.image_id);
      CHECK(got.phrase_index == want.phrase_index);
      CHECK(got.result.boxes.size() == want.result.boxes.size());
    }
  }
  // Filtered reading keeps only the chosen records (what a report needs for its overlays).
  const auto some = read_jsonl_predictions_if(
      path, [](const phrase_prediction_record& r) { return r.image_id == "598"; }, ropt);
  REQUIRE(some.phrases.size() == 2);
  CHECK(some.phrases[1].phrase_index == 2);
  CHECK(some.phrases[1].line > some.phrases[0].line);
  std::remove(path.c_str());
}
