// SPDX-License-Identifier: Apache-2.0
// The loader's statistics on a generated (synthetic) data set against the generator's own,
// independent count (scripts/generate_flickr30k.py writes expected_stats.json from its model of
// what it wrote, without parsing the files), for every split and for "all"; plus the MDETR-format
// export of the generated test split through the JSON loader.
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#if __has_include(<nlohmann/json.hpp>)
#include <groundeval/datasets/json/mdetr.hpp>
#endif

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace groundeval;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(const std::string& cmd) {
  INFO(cmd);
  return std::system(cmd.c_str());
}

}  // namespace

TEST_CASE("generated data set: loader statistics equal the generator's independent count",
          "[generated][stats]") {
  const std::string python = GROUNDEVAL_TEST_PYTHON;
  if (python.empty()) {
    WARN("no Python interpreter found at configure time; test skipped");
    return;
  }
  ge_test::temp_dir d;
  const std::string src = GROUNDEVAL_TEST_SOURCE_DIR;
  REQUIRE(run(python + " " + src + "/scripts/generate_flickr30k.py " + d.str() +
              " --scale 0.02 --seed 7 2>/dev/null") == 0);
  const auto expected = nlohmann::json::parse(read_text(d.str() + "/expected_stats.json"));
  for (const char* split : {"train", "val", "test", "all"}) {
    INFO("split " << split);
    flickr30k_options o;
    o.root = d.str();
    o.split = split;
    o.threads = 2;
    const auto res = load_flickr30k_entities_detailed(o);
    const auto& st = res.statistics;
    const auto& ex = expected.at(split);
    for (const auto& [k, v] : statistics_fields(st)) {
      INFO("key " << k);
      CHECK(v == ex.at(std::string(k)).get<std::size_t>());
    }
    CHECK(nlohmann::json(st.phrases_by_type) == ex.at("phrases_by_type"));
    CHECK(nlohmann::json(st.evaluable_phrases_by_type) == ex.at("evaluable_phrases_by_type"));
    // The JSON rendering carries the same numbers.
    const auto js = nlohmann::json::parse(to_json(st));
    CHECK(js.at("evaluable_phrases") == ex.at("evaluable_phrases"));
    CHECK(js.at("phrases_by_type") == ex.at("phrases_by_type"));
    // TinyXML2 only (no fast scanner): the same statistics.
    o.fast_xml = false;
    const auto slow = load_flickr30k_entities_detailed(o);
    CHECK(to_json(slow.statistics) == to_json(st));
    // One worker and four (per-worker counts, samples moved in parallel): the same samples in
    // the same order and the same statistics, missing-chain examples included.
    o.fast_xml = true;
    o.threads = 1;
    const auto one = load_flickr30k_entities_detailed(o);
    o.threads = 4;
    const auto four = load_flickr30k_entities_detailed(o);
    CHECK(to_json(one.statistics) == to_json(st));
    CHECK(to_json(four.statistics) == to_json(st));
    REQUIRE(one.dataset.size() == four.dataset.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < one.dataset.size(); ++i) {
      const sample& a = one.dataset[i];
      const sample& b = four.dataset[i];
      bool same = a.image_id == b.image_id && a.sentence_index == b.sentence_index &&
                  a.sentence == b.sentence && a.phrases.size() == b.phrases.size();
      for (std::size_t k = 0; same && k < a.phrases.size(); ++k)
        same = a.phrases[k].text == b.phrases[k].text && a.phrases[k].types == b.phrases[k].types &&
               a.phrases[k].boxes == b.phrases[k].boxes &&
               a.phrases[k].char_begin == b.phrases[k].char_begin;
      differ += same ? 0 : 1;
    }
    CHECK(differ == 0);
    // Statistics only (what `groundeval stats` loads): the same statistics, no samples held;
    // the load's timeline accounts for every worker and image.
    o.keep_samples = false;
    const auto counted = load_flickr30k_entities_detailed(o);
    CHECK(to_json(counted.statistics) == to_json(st));
    CHECK(counted.dataset.size() == 0);
    std::size_t images = 0;
    for (const auto n : counted.timeline.worker_images) images += n;
    CHECK(images == counted.image_ids.size());
    CHECK(counted.timeline.worker_cpu.size() == counted.timeline.worker_images.size());
    CHECK(counted.timeline.serial_fraction() >= 0.0);
    CHECK(counted.timeline.serial_fraction() < 1.0);
  }
  // The generated set contains every edge case at least once.
  const auto& all = expected.at("all");
  for (const char* k :
       {"shared_boxes", "multi_box_chains", "scene_objects", "nobox_objects", "degenerate_boxes",
        "notvisual_phrases", "missing_chain_phrases", "scene_phrases", "nobox_phrases"})
    CHECK(all.at(k).get<std::size_t>() > 0);
  CHECK(all.at("sentences").get<std::size_t>() == 5 * all.at("images").get<std::size_t>());

  // Round trip through the MDETR format on the generated test split.
  REQUIRE(run(python + " " + src + "/tests/datasets/flickr30k_to_mdetr.py " + d.str() + " test " +
              d.str() + "/test.json") == 0);
  flickr30k_options o;
  o.root = d.str();
  const auto flickr = load_flickr30k_entities(o);
  const auto mdetr = load_mdetr_annotations(d.str() + "/test.json");
  REQUIRE(flickr.size() == mdetr.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < flickr.size(); ++i) {
    std::vector<const phrase*> ev;
    for (const auto& p : flickr[i].phrases)
      if (!p.boxes.empty()) ev.push_back(&p);
    if (ev.size() != mdetr[i].phrases.size() || flickr[i].sentence != mdetr[i].sentence) {
      ++mismatches;
      continue;
    }
    for (std::size_t k = 0; k < ev.size(); ++k)
      if (ev[k]->text != mdetr[i].phrases[k].text ||
          ev[k]->boxes.size() != mdetr[i].phrases[k].boxes.size())
        ++mismatches;
  }
  CHECK(mismatches == 0);
}
