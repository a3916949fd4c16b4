// SPDX-License-Identifier: Apache-2.0
// Parser cases for the families added after the first fourteen (gemini, minicpm-v, deepseek-vl2,
// glm-4v, molmo), `pixel` given Gemini's box_2d, and the family table itself. Same rules as
// test_parsers.cpp: "real" cases quote a model's answer verbatim from the source in `source`
// (repository, path or issue, commit), expected values are computed by hand from the family's
// documented convention, image sizes are the source's when it states them.
#include "parser_cases.hpp"

#include <groundeval/grounders/families.hpp>
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/grounders/prompts.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

using namespace groundeval;

namespace {
constexpr auto ok = query_status::ok;
constexpr auto empty = query_status::empty;
constexpr auto fail = query_status::format_failure;
constexpr std::uint8_t clipped = box_flag_clipped;
constexpr std::uint8_t swapped = box_flag_swapped;

// Gemini: [ymin, xmin, ymax, xmax] in 0-1000 of the image -> (x1, y1, x2, y2) in pixels.
want_box gem(double ymin, double xmin, double ymax, double xmax, double w, double h,
             std::string label) {
  return {xmin / 1000 * w, ymin / 1000 * h, xmax / 1000 * w, ymax / 1000 * h, std::move(label)};
}
}  // namespace

TEST_CASE("real answers: Gemini box_2d", "[parsers][real]") {
  // google-gemini/cookbook quickstarts/Spatial_understanding.ipynb: the notebook sends the image
  // thumbnailed to at most 640 px and prints the answer (response.text) and then the image size,
  // "(640, 482)" for Socks.jpg. The cupcakes answer is decoded on a 1000x1000 image (the notebook
  // does not print that size; 0-1000 values make any size equivalent), so pixels = values.
  const std::string nb = "google-gemini/cookbook quickstarts/Spatial_understanding.ipynb @";
  const double W = 640, H = 482;
  const std::vector<parser_case> cases = {
      {"gemini",
       {640, 482},
       {},
       "```json\n[\n  {\"box_2d\": [46, 246, 385, 526], \"label\": \"light blue sock with cat face "
       "on left\"},\n  {\"box_2d\": [233, 661, 650, 862], \"label\": \"light blue and grey sock "
       "with cat face on right\"}\n]\n```\n",
       ok,
       {gem(46, 246, 385, 526, W, H, "light blue sock with cat face on left"),
        gem(233, 661, 650, 862, W, H, "light blue and grey sock with cat face on right")},
       nb + "de43f20bf165b1be8a71ed769c4cee08034e96c6, output of the 'socks with the face' cell "
            "(MODEL_ID in the notebook then: gemini-2.0-flash)"},
      {"gemini",
       {640, 482},
       {},
       "```json\n[\n  {\"box_2d\": [53, 248, 388, 527], \"label\": \"sock with face\"},\n  "
       "{\"box_2d\": [236, 662, 653, 862], \"label\": \"sock with face\"}\n]\n```\n",
       ok,
       {gem(53, 248, 388, 527, W, H, "sock with face"),
        gem(236, 662, 653, 862, W, H, "sock with face")},
       nb + "6e4afe652dc9256acc9a2c4cbdebb039b9f3df35 (2025-03), the same cell (model_name "
            "gemini-2.0-flash)"},
      {"gemini",
       {1000, 1000},
       {},
       "[\n  {\"box_2d\": [393, 67, 574, 206], \"label\": \"red sprinkle topping\"},\n  "
       "{\"box_2d\": [379, 248, 539, 370], \"label\": \"pink swirl topping with sprinkles\"},\n  "
       "{\"box_2d\": [365, 396, 502, 503], \"label\": \"light pink swirl topping\"},\n  "
       "{\"box_2d\": [444, 432, 597, 566], \"label\": \"bright pink topping with eye dots\"},\n  "
       "{\"box_2d\": [353, 529, 522, 652], \"label\": \"pink swirl topping with blue dots\"},\n  "
       "{\"box_2d\": [377, 737, 534, 866], \"label\": \"chocolate swirl topping\"},\n  "
       "{\"box_2d\": [554, 41, 727, 201], \"label\": \"white frosting with colorful "
       "sprinkles\"},\n  {\"box_2d\": [543, 296, 703, 444], \"label\": \"monster topping with "
       "sprinkles and eyes\"},\n  {\"box_2d\": [557, 513, 712, 665], \"label\": \"monster "
       "topping with pink sprinkles and eyes\"},\n  {\"box_2d\": [473, 629, 638, 772], "
       "\"label\": \"white frosting with pink and green sprinkles\"},\n  {\"box_2d\": [508, 798, "
       "691, 959], \"label\": \"white frosting with colorful candy dots\"},\n  {\"box_2d\": "
       "[655, 353, 819, 516], \"label\": \"monster topping with eyes (center)\"},\n  "
       "{\"box_2d\": [742, 134, 922, 308], \"label\": \"monster topping with eyes (bottom "
       "left)\"}\n]\n",
       ok,
       {{67, 393, 206, 574, "red sprinkle topping"},
        {248, 379, 370, 539, "pink swirl topping with sprinkles"},
        {396, 365, 503, 502, "light pink swirl topping"},
        {432, 444, 566, 597, "bright pink topping with eye dots"},
        {529, 353, 652, 522, "pink swirl topping with blue dots"},
        {737, 377, 866, 534, "chocolate swirl topping"},
        {41, 554, 201, 727, "white frosting with colorful sprinkles"},
        {296, 543, 444, 703, "monster topping with sprinkles and eyes"},
        {513, 557, 665, 712, "monster topping with pink sprinkles and eyes"},
        {629, 473, 772, 638, "white frosting with pink and green sprinkles"},
        {798, 508, 959, 691, "white frosting with colorful candy dots"},
        {353, 655, 516, 819, "monster topping with eyes (center)"},
        {134, 742, 308, 922, "monster topping with eyes (bottom left)"}},
       nb + "1cbaa8d2e7a275a38d499365bada282b35372f79, output of the cupcakes cell (MODEL_ID "
            "then: gemini-3.6-flash)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("pixel does not read Gemini's box_2d as pixels", "[parsers][adversarial]") {
  // The same real Gemini answer given to `pixel`: before, its lists came out as pixel boxes with
  // both axes and the scale wrong. Now they are reported, naming the right family.
  const std::string socks =
      "```json\n[\n  {\"box_2d\": [46, 246, 385, 526], \"label\": \"light blue sock with cat face "
      "on left\"},\n  {\"box_2d\": [233, 661, 650, 862], \"label\": \"light blue and grey sock "
      "with cat face on right\"}\n]\n```\n";
  const parse_result r = parse_answer("pixel", socks, family_geometry("pixel", {640, 482}));
  CHECK(r.status == fail);
  CHECK(r.boxes.empty());
  CHECK(r.reason.find("\"box_2d\" holds Gemini's [ymin, xmin, ymax, xmax]") != std::string::npos);
  CHECK(r.reason.find("use family gemini") != std::string::npos);
  // unquoted keys and single quotes too; a bare list next to it is still a pixel box
  const std::vector<parser_case> cases = {
      {"pixel", {640, 480}, {}, "box_2d: [10, 20, 30, 40]", fail, {}, "adversarial"},
      {"pixel", {640, 480}, {}, "{'box_2d': [10, 20, 30, 40]}", fail, {}, "adversarial"},
      {"pixel",
       {640, 480},
       {},
       "{\"box_2d\": [10, 20, 30, 40]} or [1, 2, 3, 4]",
       ok,
       {{1, 2, 3, 4, ""}},
       "adversarial: the box_2d list is skipped, the bare list kept",
       true},
      // Qwen's bbox_2d is not Gemini's box_2d: pixel reads it (pixels of the original image)
      {"pixel",
       {640, 480},
       {},
       "{\"bbox_2d\": [10, 20, 30, 40]}",
       ok,
       {{10, 20, 30, 40, ""}},
       "adversarial: bbox_2d"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("documented format and adversarial text: Gemini", "[parsers][adversarial]") {
  const std::vector<parser_case> cases = {
      // points are [y, x] in 0-1000 too
      {"gemini",
       {640, 480},
       {},
       "[{\"point\": [500, 250], \"label\": \"cup\"}]",
       ok,
       {},
       "documented format (Gemini point answers, cookbook Spatial_understanding)",
       false,
       {{160, 240, "cup"}}},
      {"gemini",
       {640, 480},
       {},
       "[{\"box_2d\": [500, 900, 100, 100], \"label\": \"x\"}]",
       ok,
       {{64, 48, 576, 240, "x", swapped}},
       "adversarial: corners in the wrong order"},
      {"gemini",
       {640, 480},
       {},
       "[{\"box_2d\": [0, 0, 1200, 500]}]",
       ok,
       {{0, 0, 320, 480, "", clipped}},
       "adversarial: beyond 1000"},
      {"gemini",
       {640, 480},
       {},
       "[{\"bbox_2d\": [1, 2, 3, 4]}]",
       fail,
       {},
       "adversarial: Qwen's key"},
      {"gemini", {640, 480}, {}, "[{\"box_2d\": [1, 2, 3]}]", fail, {}, "adversarial: 3 numbers"},
      {"gemini", {640, 480}, {}, "[{\"box_2d\": [[1, 2, 3, 4]]}]", fail, {}, "adversarial: nested"},
      {"gemini",
       {1000, 1000},
       {},
       "[{\"box_2d\": [1, 2, 3, 4], \"label\": \"a\"}, {\"box_2d\": [5, 6",
       ok,
       {{2, 1, 4, 3, "a"}},
       "adversarial: cut off",
       true},
      {"gemini",
       {640, 480},
       {},
       "There are no dogs in this image.",
       empty,
       {},
       "adversarial: refusal"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("documented format and adversarial text: MiniCPM-V", "[parsers][adversarial]") {
  // No MiniCPM-V answer with a box was found in the stored issues, code or pages (searches listed
  // in docs/generalist.md); the format is the maintainers': "<box>x1 y1 x2 y2</box> normalized to
  // 1000" (floe20 in OpenBMB/MiniCPM-V#982), "<ref>object_name</ref><box>xmin ymin xmax
  // ymax</box> ... multiply by the original width and height" (YuzaChongyi in
  // OpenSQZ/MiniCPM-V-CookBook#39), "<point>x1 y1</point>" for points (Cuiunbo in #185).
  const std::vector<parser_case> cases = {
      {"minicpm-v",
       {640, 480},
       {},
       "<ref>book</ref><box>100 200 300 400</box>",
       ok,
       {{64, 96, 192, 192, "book"}},
       "documented format (MiniCPM-V#982, CookBook#39)"},
      {"minicpm-v",
       {1000, 1000},
       {},
       "The books are <ref>book</ref><box>100 200 300 400</box><box>500 500 600 600</box>.",
       ok,
       {{100, 200, 300, 400, "book"}, {500, 500, 600, 600, ""}},
       "documented format: two boxes (only the first follows the ref)"},
      {"minicpm-v",
       {1000, 1000},
       {},
       "<point>250 750</point>",
       ok,
       {},
       "documented format: point (MiniCPM-V#185)",
       false,
       {{250, 750, ""}}},
      {"minicpm-v",
       {1000, 1000},
       {},
       "<box>100, 200, 300, 400</box>",
       ok,
       {{100, 200, 300, 400, ""}},
       "adversarial: commas tolerated"},
      {"minicpm-v", {1000, 1000}, {}, "<box>100 200 300</box>", fail, {}, "adversarial: 3 numbers"},
      {"minicpm-v",
       {1000, 1000},
       {},
       "<box>x1 y1 x2 y2</box>",
       fail,
       {},
       "adversarial: placeholder"},
      {"minicpm-v", {1000, 1000}, {}, "<box>100 200 300 400", fail, {}, "adversarial: cut off"},
      {"minicpm-v",
       {1000, 1000},
       {},
       "The box is 100 200 300 400 roughly.",
       empty,
       {},
       "adversarial: numbers in prose"},
      {"minicpm-v",
       {1000, 1000},
       {},
       "[100, 200, 300, 400]",
       empty,
       {},
       "adversarial: another family's format is not read"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: DeepSeek-VL2", "[parsers][real]") {
  // DeepSeek-VL2's official demo decodes int(v / 999 * W) (deepseek-ai/DeepSeek-VL2
  // deepseek_vl2/serve/app_modules/utils.py parse_ref_bbox @ef9f91e): values are 0-999 of the
  // original image (maintainer charlesCXK in DeepSeek-VL2#100). Reading them with InternVL's
  // 1000 divisor is the 0.1% scale error the family fixes. Image sizes are chosen by the test
  // (999 x 999: pixels = values; 1998 x 999: x doubles). The answers start at <|ref|>: what the
  // reporters printed before it is their prompt.
  const std::vector<parser_case> cases = {
      {"deepseek-vl2",
       {1998, 999},
       {},
       "<|ref|>The giraffe at the back.<|/ref|><|det|>[[580, 270, 999, 900]]<|/det|>"
       "<\xef\xbd\x9c"
       "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
       ok,
       {{1160, 270, 1998, 900, "The giraffe at the back."}},
       "format example: deepseek-ai/DeepSeek-VL2 README.md @ef9f91e ('the output is something "
       "like'; not counted as an answer)"},
      // a garbled first object: the first <|det|> never closes before the second one opens
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|ref|>mazdaughters<|/ref|><|det|>[[220, <|ref|>compact car<|/ref|><|det|>[[220, 416, "
       "417, 720]]<|/det|><\xef\xbd\x9c"
       "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
       ok,
       {{220, 416, 417, 720, "compact car"}},
       "deepseek-ai/DeepSeek-VL2 issue #100, adrianJW421's prediction for '<|grounding|>Find the "
       "cars in the scene.'",
       true},
      // cut off in a run of 9s (the issue shows hundreds; shortened here)
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|ref|>head without helmet<|/ref|><|det|>[[0, 50, 55, 9999], [0, 5, 533, 17, "
       "99999999999999999999999999999999999999999999999999",
       fail,
       {},
       "deepseek-ai/DeepSeek-VL2 issue #96, erdongchendou's result (run of 9s shortened)"},
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|ref|>The giraffe at back.<|/ref|><|det|>[[555549, 269, 9555549, 20, 222, 22222, 22222, "
       "2222222, 22222, 2222222, 22222, 2222222",
       fail,
       {},
       "deepseek-ai/DeepSeek-VL2 issue #64, SherlockHolmes221's answer (as far as the issue "
       "quotes it)"},
  };
  for (const auto& c : cases) run_case(c);
  const std::vector<parser_case> adversarial = {
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|ref|>cars<|/ref|><|det|>[[1, 2, 3, 4], [5, 6, 7, 8]]<|/det|>",
       ok,
       {{1, 2, 3, 4, "cars"}, {5, 6, 7, 8, "cars"}},
       "documented format: several boxes of one ref"},
      // a server that strips the special tokens leaves "label[[...]]"
      {"deepseek-vl2",
       {999, 999},
       {},
       "cars[[1, 2, 3, 4]]",
       ok,
       {{1, 2, 3, 4, ""}},
       "adversarial: special tokens stripped"},
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|ref|>x<|/ref|><|det|>[[533, 132, 457]]<|/det|>",
       fail,
       {},
       "adversarial: odd count (DeepSeek-VL2#96 reports [533, 132, 457])"},
      {"deepseek-vl2",
       {999, 999},
       {},
       "<|det|>nothing<|/det|>",
       fail,
       {},
       "adversarial: det without a list"},
  };
  for (const auto& c : adversarial) run_case(c);
}

TEST_CASE("real answers: GLM-4.xV", "[parsers][real]") {
  // GLM-4.5V / 4.6V: "[x1,y1,x2,y2] ... normalized by the image width (for x) or height (for y)
  // and scaled by 1000", between <|begin_of_box|> and <|end_of_box|>; "the bracket style may
  // vary ([], [[]], (), <>, etc.)" (zai-org/GLM-V README.md @8fc9756).
  const std::vector<parser_case> cases = {
      {"glm-4v",
       {1000, 1000},
       {},
       "\nThe coordinates of the second bottle of beer from the right on the table are "
       "<|begin_of_box|>[[94,598,177,991]]<|end_of_box|>.",
       ok,
       {{94, 598, 177, 991, ""}},
       "andyluo7/andyluo7.github.io _posts/2025-12-09-run-glm-4-6v-on-amd-mi300x-with-vllm.md "
       "@6c15a62, GLM-4.6V served by vLLM (message content; image size not stated)"},
      // the same question to glm-4.5v through an OpenAI-compatible API that returns the answer
      // without the box markers (and the reasoning in reasoning_content)
      {"glm-4v",
       {1000, 1000},
       {},
       "\nThe coordinates of the second bottle of beer from the right on the table are "
       "[[97,595,179,988]].",
       ok,
       {{97, 595, 179, 988, ""}},
       "example response of model glm-4.5v on the API documentation page "
       "https://toiotech.apifox.cn/glm-4-5v-398466223e0 (message content, markers stripped)"},
      // only the box list is quoted (glm-4.6v-flash through the Z.AI API, a 1920x1080 screen):
      // not counted as an answer; the issue's own conversion gives 543, 284 for the first corner
      {"glm-4v",
       {1920, 1080},
       {},
       "[283, 263, 463, 295]",
       ok,
       {{543.36, 284.04, 888.96, 318.6, ""}},
       "openclaw/Peekaboo issue #60 (box list quoted by the reporter; markers stripped)"},
  };
  for (const auto& c : cases) run_case(c);
  const std::vector<parser_case> adversarial = {
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|>(10,20,30,40)<|end_of_box|>",
       ok,
       {{10, 20, 30, 40, ""}},
       "documented format: round brackets"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|><10,20,30,40><|end_of_box|>",
       ok,
       {{10, 20, 30, 40, ""}},
       "documented format: angle brackets"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|>[10,20,30,40]<|end_of_box|>",
       ok,
       {{10, 20, 30, 40, ""}},
       "documented format: single brackets"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|>[[1,2,3,4],[5,6,7,8]]<|end_of_box|>",
       ok,
       {{1, 2, 3, 4, ""}, {5, 6, 7, 8, ""}},
       "documented format: several boxes"},
      // the final answer counts, not the draft boxes of the reasoning
      {"glm-4v",
       {1000, 1000},
       {},
       "<think>first guess [[110,147,193,823]], no, lower</think><answer><|begin_of_box|>"
       "[[120,150,200,830]]<|end_of_box|></answer>",
       ok,
       {{120, 150, 200, 830, ""}},
       "adversarial: boxes in <think>"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<think>maybe [[110,147,193,823]]</think>It is at [[120,150,200,830]].",
       ok,
       {{120, 150, 200, 830, ""}},
       "adversarial: markers stripped, thinking inline"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|>42<|end_of_box|>",
       empty,
       {},
       "adversarial: the markers wrap a non-box answer"},
      {"glm-4v",
       {1000, 1000},
       {},
       "<|begin_of_box|>[[1,2,3]]<|end_of_box|>",
       fail,
       {},
       "adversarial: 3 numbers"},
      {"glm-4v", {1000, 1000}, {}, "<|begin_of_box|>[[1,2,3,4]]", fail, {}, "adversarial: cut off"},
  };
  for (const auto& c : adversarial) run_case(c);
}

TEST_CASE("documented format and adversarial text: Molmo points", "[parsers][adversarial]") {
  // Molmo writes points as percentages of the image, one decimal (allenai/molmo
  // olmo/data/data_formatter.py points_to_text @793fa38; its extract_points multiplies by the
  // image size and drops values above 100). No Molmo answer with a point was found in the stored
  // sources with a citable repository (docs/generalist.md lists the searches).
  const std::vector<parser_case> cases = {
      {"molmo",
       {640, 480},
       {},
       "<point x=\"61.5\" y=\"40.6\" alt=\"the dog\">the dog</point>",
       ok,
       {},
       "documented format (data_formatter.py points_to_text, one point)",
       false,
       {{393.6, 194.88, "the dog"}}},
      {"molmo",
       {1000, 500},
       {},
       " <points x1=\"10.0\" y1=\"20.0\" x2=\"30.5\" y2=\"40.0\" alt=\"hands\">hands</points>",
       ok,
       {},
       "documented format: several points",
       false,
       {{100, 100, "hands"}, {305, 200, "hands"}}},
      {"molmo", {640, 480}, {}, "There are none.", empty, {}, "documented: no point"},
      {"molmo",
       {640, 480},
       {},
       "<point x=\"161.5\" y=\"40.6\" alt=\"a\">a</point>",
       fail,
       {},
       "adversarial: above 100"},
      {"molmo",
       {640, 480},
       {},
       "<point x=\"61.5\" alt=\"a\">a</point>",
       fail,
       {},
       "adversarial: no y"},
      {"molmo",
       {640, 480},
       {},
       "<point x=\"6e1\" y=\"40\">a</point>",
       fail,
       {},
       "adversarial: exponent"},
      {"molmo",
       {640, 480},
       {},
       "<point x=\"61.5\" y=\"40.6\" alt=\"a",
       fail,
       {},
       "adversarial: cut off"},
      {"molmo",
       {640, 480},
       {},
       "<pointer>x</pointer> [10, 20, 30, 40]",
       empty,
       {},
       "adversarial: other tags and boxes are not points"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("the family table", "[parsers][families]") {
  std::set<std::string_view> ids;
  for (const auto& f : families) {
    INFO(f.id);
    CHECK(ids.insert(f.id).second);  // unique
    CHECK(f.scan != nullptr);
    CHECK(!f.format.empty());
    CHECK(!f.prompt.text.empty());
    CHECK(!f.prompt.source.empty());
    CHECK_NOTHROW(validate_prompt_template(f.prompt.text));
    const geometry g = family_geometry(f.id, {640, 480});
    // every key a family lists is one the option table knows
    for (auto k : geometry_keys(f.id)) {
      bool known = false;
      for (const auto& o : detail::geometry_options) known = known || o.key == k;
      CHECK(known);
    }
    CHECK(parse_answer(f.id, "no box here, 12 34 56 78", g).status == query_status::empty);
  }
  // the first fourteen keep their order (fuzz seeds and docs index them)
  CHECK(family_ids[0] == "llava");
  CHECK(family_ids[13] == "pixel");
  CHECK(require_family("molmo").answers == answer_kind::points);
  try {
    (void)require_family("gpt-4o");
    FAIL("expected an error");
  } catch (const error& e) {
    CHECK(std::string(e.what()).find("valid: llava, shikra") != std::string::npos);
  }
}
