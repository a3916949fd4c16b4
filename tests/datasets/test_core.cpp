// SPDX-License-Identifier: Apache-2.0
// Core data set helpers: the sentence-markup parser on strings, split-list parsing and the
// seeded sub-sampling (pinned against an independent Python computation of the same keys).
#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/datasets/subsample.hpp>

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace groundeval;

TEST_CASE("sentence parser: MDETR rules on strings", "[sentences]") {
  problem_sink sink;
  const auto v = parse_flickr30k_sentences(
      "[/EN#176052/people People] moving [/EN#176053/other some new equipment] into "
      "[/EN#176056/scene a house] .\n\n[/EN#6729/vehicles/scene the subway]\x0b\x1c ride\n",
      "mem.txt", sink);
  REQUIRE(v.size() == 2);
  CHECK(v[0].line == 1);
  CHECK(v[1].line == 3);
  CHECK(v[0].text == "People moving some new equipment into a house .");
  REQUIRE(v[0].phrases.size() == 3);
  CHECK(v[0].phrases[1].text == "some new equipment");
  CHECK(v[0].phrases[1].first_word_index == 2);
  CHECK(v[0].phrases[1].char_begin == 14);
  CHECK(v[0].phrases[2].chain_id == "176056");
  CHECK(v[1].text == "the subway ride");  // \v and \x1c are Python whitespace
  CHECK(v[1].phrases[0].types == std::vector<std::string>{"vehicles", "scene"});
}

TEST_CASE("python_split matches str.split() on Unicode spaces", "[sentences]") {
  std::vector<std::string_view> t;
  detail::python_split(
      "a\xc2\x85"
      "b\xe2\x80\x8a"
      "c\xe2\x80\x8b"
      "d\xe2\x81\x9f"
      "e\xc2\xa0",
      t);
  // U+0085 and U+200A split; U+200B (zero width space) is not whitespace in Python.
  REQUIRE(t.size() == 4);
  CHECK(t[0] == "a");
  CHECK(t[1] == "b");
  CHECK(t[2] ==
        "c\xe2\x80\x8b"
        "d");
  CHECK(t[3] == "e");
  detail::python_split("  ", t);
  CHECK(t.empty());
}

TEST_CASE("split lists: strip, universal newlines, comments", "[splits]") {
  problem_sink sink;
  const auto ids = parse_split_list(" 1 \r\n2\r# comment\n\n3", "s.txt", sink);
  CHECK(ids == std::vector<std::string>{"1", "2", "3"});
  ge_test::require_error_at(
      [] {
        problem_sink s;
        (void)parse_split_list("1\n2\r\n1\n", "s.txt", s);
      },
      "s.txt", 3, "duplicate image id '1' (first at line 1)");
  problem_sink lenient(false);
  CHECK(parse_split_list("1\na/b\n1\n2\n", "s.txt", lenient) == std::vector<std::string>{"1", "2"});
  CHECK(lenient.problems().size() == 2);
}

namespace {
in_memory_dataset toy_dataset() {
  std::vector<sample> v;
  for (int img = 0; img < 10; ++img)
    for (int k = 0; k < 3; ++k) {
      sample s;
      s.image_id = "img" + std::to_string(img);
      s.sentence_index = k;
      s.sentence = "x";
      for (int p = 0; p < 2; ++p) {
        phrase ph;
        ph.text = "x";
        ph.chain_id = std::to_string(p + 1);
        if (p == 0 || k != 1) ph.boxes.push_back({0, 0, 1, 1});
        s.phrases.push_back(ph);
      }
      v.push_back(s);
    }
  return in_memory_dataset("toy", std::move(v), "/imgs");
}
}  // namespace

TEST_CASE("sub-sampling is seeded, deterministic and pinned", "[subsample]") {
  // Independent check of the key function (values from a Python transcription of the formula
  // in subsample.hpp, run once; see docs/datasets.md).
  CHECK(detail::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(detail::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(detail::splitmix64_mix(0) == 0);
  CHECK(detail::selection_key(0, "img0") == 0x70ad7387f7a4bbb8ULL);
  CHECK(detail::selection_key(42, "img0#1#0") == 0xc184626555f08f71ULL);

  const auto ds = toy_dataset();
  const auto a = subsample_images(ds, 4, 7);
  CHECK(a.size() == 12);
  std::vector<std::string> images;
  for (const auto& s : a)
    if (images.empty() || images.back() != s.image_id) images.push_back(s.image_id);
  CHECK(images == std::vector<std::string>{"img3", "img4", "img7", "img8"});
  CHECK(a.image_path(a[0]) == "/imgs/" + a[0].image_id + ".jpg");
  CHECK(subsample_images(ds, 4, 8).size() == 12);
  CHECK(subsample_images(ds, 100, 8).size() == 30);

  const auto p = subsample_phrases(ds, 5, 3);
  std::size_t evaluable = 0;
  for (const auto& s : p)
    for (const auto& ph : s.phrases) evaluable += ph.boxes.empty() ? 0 : 1;
  CHECK(evaluable == 5);
  const auto p2 = subsample_phrases(ds, 5, 3);
  REQUIRE(p2.size() == p.size());
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(p2[i].image_id == p[i].image_id);
  CHECK(compute_statistics(subsample_phrases(ds, 1000, 3)).evaluable_phrases == 50);
}
