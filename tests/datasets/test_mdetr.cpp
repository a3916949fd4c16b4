// SPDX-License-Identifier: Apache-2.0
// MDETR-format JSON loader: round trip against the Flickr30k Entities loader on the same fixture
// (the JSON was written by tests/datasets/flickr30k_to_mdetr.py), a RefCOCO-layout fixture, and
// bad input naming the file and line / item.
#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace groundeval;
using B = box_xyxy<double>;

namespace {
const std::string fixtures = GROUNDEVAL_TEST_FIXTURES;

std::vector<B> sorted_boxes(std::vector<B> v) {
  std::sort(v.begin(), v.end(), [](const B& a, const B& b) {
    return std::tie(a.x1, a.y1, a.x2, a.y2) < std::tie(b.x1, b.y1, b.x2, b.y2);
  });
  return v;
}
}  // namespace

TEST_CASE("MDETR JSON and Flickr30k folder give the same evaluable phrases and boxes",
          "[mdetr][roundtrip]") {
  flickr30k_options o;
  o.root = fixtures + "/flickr30k_small";
  const auto flickr = load_flickr30k_entities(o);
  const auto res =
      load_mdetr_annotations_detailed(fixtures + "/flickr30k_small/mdetr_separateGT_test.json");
  const auto& mdetr = res.dataset;
  REQUIRE(mdetr.size() == flickr.size());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < flickr.size(); ++i) {
    const sample& f = flickr[i];
    const sample& m = mdetr[i];
    INFO("sample " << i);
    CHECK(m.image_id == f.image_id);
    CHECK(m.sentence_index == f.sentence_index);
    CHECK(m.sentence == f.sentence);
    CHECK(m.size == f.size);
    std::vector<const phrase*> ev;
    for (const auto& p : f.phrases)
      if (!p.boxes.empty()) ev.push_back(&p);
    REQUIRE(m.phrases.size() == ev.size());
    for (std::size_t k = 0; k < ev.size(); ++k) {
      CHECK(m.phrases[k].text == ev[k]->text);
      CHECK(m.phrases[k].char_begin == ev[k]->char_begin);  // code points -> bytes ("café")
      CHECK(m.phrases[k].char_end == ev[k]->char_end);
      CHECK(m.phrases[k].first_word_index == ev[k]->first_word_index);
      CHECK(sorted_boxes(m.phrases[k].boxes) == sorted_boxes(ev[k]->boxes));
      ++compared;
    }
    CHECK(has_evaluable_phrase(m) == has_evaluable_phrase(f));
  }
  CHECK(compared == 11);
  const auto fs = compute_statistics(flickr);
  CHECK(res.statistics.evaluable_phrases == fs.evaluable_phrases);
  CHECK(res.statistics.evaluable_sentences == fs.evaluable_sentences);
  CHECK(res.statistics.gt_boxes == fs.gt_boxes);
}

TEST_CASE("MDETR RefCOCO layout: one phrase per expression", "[mdetr]") {
  const auto ds = load_mdetr_annotations(fixtures + "/mdetr_refcoco_small.json");
  REQUIRE(ds.size() == 3);
  CHECK(ds[0].image_id == "COCO_train2014_000000000042");
  CHECK(ds[0].sentence_index == 0);
  CHECK(ds[1].image_id == "COCO_train2014_000000000042");
  CHECK(ds[1].sentence_index == 1);
  CHECK(ds[2].sentence_index == 0);
  CHECK(ds[0].size == image_size{640, 480});
  REQUIRE(ds[0].phrases.size() == 1);
  CHECK(ds[0].phrases[0].text == "man in red on the left");
  CHECK(ds[0].phrases[0].char_end == ds[0].sentence.size());
  CHECK(ds[0].phrases[0].boxes == std::vector<B>{{10.5, 20.25, 110.5, 70.25}});
  CHECK(ds[1].phrases[0].boxes == std::vector<B>{{300, 40, 320, 60}});
}

TEST_CASE("MDETR JSON errors name the file and line or item", "[mdetr][errors]") {
  ge_test::temp_dir d;
  using ge_test::require_error_at;
  const std::string img =
      R"({"id": 1, "caption": "a dog", "width": 10, "height": "20", "original_img_id": 5,)"
      R"( "sentence_id": 0, "tokens_positive_eval": [[[0, 5]]]})";
  const std::string ann = R"({"image_id": 1, "bbox": [1, 2, 3, 4], "tokens_positive": [[0, 5]]})";
  SECTION("valid baseline") {
    const auto p =
        d.write("ok.json", "{\"images\": [" + img + "], \"annotations\": [" + ann + "]}");
    CHECK(load_mdetr_annotations(p)[0].phrases[0].boxes == std::vector<B>{{1, 2, 4, 6}});
  }
  SECTION("missing file") {
    require_error_at([&] { (void)load_mdetr_annotations(d.str() + "/nope.json"); },
                     d.str() + "/nope.json", 0, "cannot read annotation file");
  }
  SECTION("syntax error") {
    const auto p = d.write("bad.json", "{\"images\": [\n" + img + ",\n  {\"id\": 2,, }\n]}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 3, "malformed JSON");
  }
  SECTION("syntax error on the last line, and an empty file") {
    const auto p = d.write("bad.json", "{\"images\": [],\n\"annotations\": []\n\n}}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 4, "malformed JSON");
    const auto e = d.write("empty.json", "");
    require_error_at([&] { (void)load_mdetr_annotations(e); }, e, 1, "malformed JSON");
  }
  SECTION("valid JSON that simdjson rejects (nesting deeper than 1024)") {
    const std::string deep = std::string(1100, '[') + std::string(1100, ']');
    const auto p =
        d.write("deep.json", "{\"images\": [], \"annotations\": [], \"x\": " + deep + "}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0, "malformed JSON (simdjson)");
  }
  SECTION("not an object, images not an array") {
    const auto p = d.write("arr.json", "[1, 2]");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "top level: expected an object");
    const auto q = d.write("img.json", R"({"images": {}, "annotations": []})");
    require_error_at([&] { (void)load_mdetr_annotations(q); }, q, 0, "images: must be an array");
  }
  SECTION("bbox with a string and a span that is not a pair") {
    std::string bad = ann;
    bad.replace(bad.find("[1, 2, 3, 4]"), 12, "[1, \"2\", 3, 4]");
    const auto p =
        d.write("bad.json", "{\"images\": [" + img + "], \"annotations\": [" + bad + "]}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "annotations[0]: 'bbox' must be a number, got \"2\"");
    std::string bad2 = img;
    bad2.replace(bad2.find("[[0, 5]]"), 8, "[[0, 5, 6]]");
    const auto q = d.write("bad2.json", "{\"images\": [" + bad2 + "], \"annotations\": []}");
    require_error_at([&] { (void)load_mdetr_annotations(q); }, q, 0,
                     "images[0]: a span must be [begin, end] integers, got [0,5,6]");
  }
  SECTION("missing caption") {
    const auto p = d.write(
        "bad.json", R"({"images": [{"id": 1, "width": 1, "height": 1}], "annotations": []})");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "images[0]: missing 'caption'");
  }
  SECTION("span outside the caption") {
    std::string bad = img;
    bad.replace(bad.find("[[0, 5]]"), 8, "[[0, 50]]");
    const auto p = d.write("bad.json", "{\"images\": [" + bad + "], \"annotations\": []}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "images[0]: span [0,50] is outside");
  }
  SECTION("annotation of an unknown image") {
    std::string bad = ann;
    bad.replace(bad.find("\"image_id\": 1"), 13, "\"image_id\": 9");
    const auto p =
        d.write("bad.json", "{\"images\": [" + img + "], \"annotations\": [" + bad + "]}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "annotations[0]: image_id 9 is not in 'images'");
  }
  SECTION("evaluable phrase without a box") {
    const auto p = d.write("bad.json", "{\"images\": [" + img + "], \"annotations\": []}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "images[0]: phrase 0 ('a dog') of tokens_positive_eval has no annotation");
  }
  SECTION("negative bbox size") {
    std::string bad = ann;
    bad.replace(bad.find("[1, 2, 3, 4]"), 12, "[1, 2, -3, 4]");
    const auto p =
        d.write("bad.json", "{\"images\": [" + img + "], \"annotations\": [" + bad + "]}");
    require_error_at([&] { (void)load_mdetr_annotations(p); }, p, 0,
                     "annotations[0]: 'bbox' has a negative");
  }
}
