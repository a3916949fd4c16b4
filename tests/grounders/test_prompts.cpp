// SPDX-License-Identifier: Apache-2.0
// Tests of groundeval/grounders/prompts.hpp: documented prompts and the template renderer.
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/grounders/prompts.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace groundeval;

TEST_CASE("every family has a documented, valid prompt", "[prompts]") {
  for (auto id : family_ids) {
    INFO(id);
    const prompt_template p = default_prompt(id);
    CHECK(!p.text.empty());
    CHECK(!p.source.empty());
    CHECK_NOTHROW(validate_prompt_template(p.text));
  }
  CHECK_THROWS_AS(default_prompt("gpt-4o"), error);
}

TEST_CASE("LLaVA is asked for its trained REC form, not pixels", "[prompts]") {
  const std::string t(default_prompt("llava").text);
  CHECK(t.find("pixel") == std::string::npos);
  CHECK(t.find("bounding box coordinate of the region") != std::string::npos);
}

TEST_CASE("render_prompt fills phrase, sentence and prefix", "[prompts]") {
  const std::string sentence = "A man in a red jacket holds a dog.";
  phrase_query q;
  q.sentence = sentence;
  q.phrase = std::string_view(sentence).substr(2, 19);  // "man in a red jacket"
  q.char_begin = 2;
  q.char_end = 21;
  CHECK(render_prompt(default_prompt("qwen2.5-vl").text, q) ==
        "Locate man in a red jacket in this image and output the bbox coordinates in JSON "
        "format.");
  // Kosmos-2 Flickr protocol: the prefix keeps its trailing space, hence the double space
  CHECK(render_prompt(default_prompt("kosmos-2").text, q) ==
        "<grounding>A  <phrase>man in a red jacket</phrase>");
  CHECK(render_prompt("{sentence} | {phrase} | {{literal}}", q) ==
        "A man in a red jacket holds a dog. | man in a red jacket | {literal}");
  q.char_begin = 999;  // out of range: empty prefix, no crash
  CHECK(render_prompt("[{prefix}]{phrase}", q) == "[]man in a red jacket");
}

TEST_CASE("user templates are validated", "[prompts]") {
  CHECK_NOTHROW(validate_prompt_template("Find {phrase}."));
  CHECK_NOTHROW(validate_prompt_template("Caption: {sentence}"));
  CHECK_THROWS_AS(validate_prompt_template("Find {object}."), error);
  CHECK_THROWS_AS(validate_prompt_template("Find {phrase"), error);
  CHECK_THROWS_AS(validate_prompt_template("Find } {phrase}"), error);
  CHECK_THROWS_AS(validate_prompt_template("{prefix} only"), error);
  CHECK_THROWS_AS(validate_prompt_template("no placeholder"), error);
  try {
    validate_prompt_template("Find {thing}");
    FAIL("expected an error");
  } catch (const error& e) {
    CHECK(std::string(e.what()).find("valid: {phrase}, {sentence}, {prefix}") != std::string::npos);
  }
}
