// SPDX-License-Identifier: Apache-2.0
// Parser table for groundeval/grounders/parsers.hpp. Every "real" case quotes a model answer (or a
// format example) from the source named in its `source` field; expected boxes are computed by
// hand from the family's documented convention (or copied from the reference implementation's
// own expected output where the source gives one, e.g. HF transformers integration tests).
// Image sizes are chosen by the test unless the source states them. Adversarial cases follow.
#include "parser_cases.hpp"

#include <groundeval/grounders/parsers.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace groundeval;

namespace {

constexpr auto ok = query_status::ok;
constexpr auto empty = query_status::empty;
constexpr auto fail = query_status::format_failure;
constexpr std::uint8_t clipped = box_flag_clipped;
constexpr std::uint8_t swapped = box_flag_swapped;

// Kosmos-2 expected boxes: normalized values from HF transformers' EXPECTED_ENTITIES, scaled.
want_box kn(double x1, double y1, double x2, double y2, std::string label, double w, double h) {
  return {x1 * w, y1 * h, x2 * w, y2 * h, std::move(label)};
}

}  // namespace

TEST_CASE("real answers: Kosmos-2", "[parsers][real]") {
  const double W = 640, H = 480;
  const std::vector<parser_case> cases = {
      {"kosmos-2",
       {640, 480},
       {},
       "<grounding> An image of<phrase> a snowman</phrase><object><patch_index_0044>"
       "<patch_index_0863></object> warming himself by<phrase> a fire</phrase><object>"
       "<patch_index_0005><patch_index_0911></object>.",
       ok,
       {kn(0.390625, 0.046875, 0.984375, 0.828125, "a snowman", W, H),
        kn(0.171875, 0.015625, 0.484375, 0.890625, "a fire", W, H)},
       "huggingface/transformers tests/models/kosmos2/test_modeling_kosmos2.py "
       "test_snowman_image_captioning (EXPECTED_PROCESSED_TEXT / EXPECTED_ENTITIES); same text "
       "in the microsoft/kosmos-2-patch14-224 model card"},
      {"kosmos-2",
       {640, 480},
       {},
       "<grounding> Describe this image in detail: The image features a snowman sitting by<phrase>"
       " a campfire</phrase><object><patch_index_0005><patch_index_1007></object> in the snow. "
       "He is wearing<phrase> a hat</phrase><object><patch_index_0048><patch_index_0250>"
       "</object>,<phrase> scarf</phrase><object><patch_index_0240><patch_index_0604></object>, "
       "and<phrase> gloves</phrase><object><patch_index_0400><patch_index_0532></object>, with"
       "<phrase> a pot</phrase><object><patch_index_0610><patch_index_0872></object> nearby and"
       "<phrase> a cup</phrase><object><patch_index_0796><patch_index_1023></object> placed "
       "nearby. The snowman appears to be enjoying the warmth of the fire, and it appears to have "
       "a warm and cozy atmosphere.",
       ok,
       {kn(0.171875, 0.015625, 0.484375, 0.984375, "a campfire", W, H),
        kn(0.515625, 0.046875, 0.828125, 0.234375, "a hat", W, H),
        kn(0.515625, 0.234375, 0.890625, 0.578125, "scarf", W, H),
        kn(0.515625, 0.390625, 0.640625, 0.515625, "gloves", W, H),
        kn(0.078125, 0.609375, 0.265625, 0.859375, "a pot", W, H),
        kn(0.890625, 0.765625, 0.984375, 0.984375, "a cup", W, H)},
       "huggingface/transformers tests/models/kosmos2/test_modeling_kosmos2.py "
       "EXPECTED_PROCESSED_TEXT_LONG / EXPECTED_ENTITIES_LONG"},
      {"kosmos-2",
       {640, 480},
       {},
       "a wet suit is at <object><patch_index_0003><patch_index_0004>"
       "</delimiter_of_multi_objects/><patch_index_0005><patch_index_0006></object> in the "
       "picture",
       ok,
       // both pairs share a row: the official rule decodes them to outer cell edges
       {kn(3.0 / 32, 0, 5.0 / 32, 1.0 / 32, "", W, H),
        kn(5.0 / 32, 0, 7.0 / 32, 1.0 / 32, "", W, H)},
       "microsoft/unilm kosmos-2/demo/decode_string.py __main__ example caption"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: Florence-2", "[parsers][real]") {
  // Car image of the HF tests is 640x480; HF's native port truncates to int (truncate=true),
  // and its EXPECTED_PARSED_ANSWER values are the expected boxes below.
  const std::vector<std::pair<std::string, std::string>> trunc = {{"truncate", "true"}};
  const std::vector<parser_case> cases = {
      {"florence-2",
       {640, 480},
       trunc,
       "</s><s>car<loc_53><loc_333><loc_933><loc_774>door handle<loc_425><loc_503><loc_474>"
       "<loc_515>wheel<loc_709><loc_576><loc_865><loc_772><loc_150><loc_584><loc_309><loc_773>"
       "</s><pad><pad><pad><pad>",
       ok,
       {{34, 160, 597, 371, "car"},
        {272, 241, 303, 247, "door handle"},
        {454, 276, 553, 370, "wheel"},
        {96, 280, 198, 371, "wheel"}},
       "huggingface/transformers tests/models/florence2/test_modeling_florence2.py "
       "test_base_model_batching_inference_sdpa (<OD>, EXPECTED_GENERATED_TEXTS[1] and "
       "EXPECTED_PARSED_ANSWER)"},
      {"florence-2",
       {640, 480},
       trunc,
       "</s><s>wheels<loc_144><loc_570><loc_870><loc_778>wheels<loc_711><loc_573><loc_866>"
       "<loc_774>wheels<loc_148><loc_579><loc_304><loc_774></s><pad><pad><pad>",
       ok,
       {{92, 273, 557, 373, "wheels"},
        {455, 275, 554, 371, "wheels"},
        {95, 278, 194, 371, "wheels"}},
       "huggingface/transformers tests/models/florence2/test_modeling_florence2.py "
       "<OPEN_VOCABULARY_DETECTION> (EXPECTED_GENERATED_TEXTS[1], EXPECTED_PARSED_ANSWER_1)"},
      {"florence-2",
       {640, 480},
       trunc,
       "</s><s>car<loc_52><loc_334><loc_932><loc_774></s><pad><pad><pad><pad><pad>",
       ok,
       {{33, 160, 596, 371, "car"}},
       "huggingface/transformers tests/models/florence2/test_modeling_florence2.py "
       "test_large_model_batching_inference_eager (EXPECTED_PARSED_ANSWER_1)"},
      // the original remote code keeps floats: bin centres (v + 0.5) * W / 1000
      {"florence-2",
       {640, 480},
       {},
       "</s><s>car<loc_52><loc_334><loc_932><loc_774></s>",
       ok,
       {{52.5 * 0.64, 334.5 * 0.48, 932.5 * 0.64, 774.5 * 0.48, "car"}},
       "same answer, default (float) decoding"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: Qwen-VL", "[parsers][real]") {
  // 1998x999: with the official divisor 999, x = 2v and y = v.
  const std::vector<parser_case> cases = {
      {"qwen-vl",
       {1998, 999},
       {},
       "<ref>击掌</ref><box>(536,509),(588,602)</box>",
       ok,
       {{1072, 509, 1176, 602, "击掌"}},
       "QwenLM/Qwen-VL README.md @aa00ed0 line 706 (Qwen-VL-Chat answer)"},
      {"qwen-vl",
       {1998, 999},
       {},
       "<img>https://qianwen-res.oss-cn-beijing.aliyuncs.com/Qwen-VL/assets/demo.jpeg</img>"
       "Generate the caption in English with grounding:<ref> Woman</ref><box>(451,379),(731,806)"
       "</box> and<ref> her dog</ref><box>(219,424),(576,896)</box> playing on the beach"
       "<|endoftext|>",
       ok,
       {{902, 379, 1462, 806, "Woman"}, {438, 424, 1152, 896, "her dog"}},
       "QwenLM/Qwen-VL README.md @aa00ed0 line 752 (Qwen-VL base model completion)"},
      {"qwen-vl",
       {1998, 999},
       {},
       "<ref> Two apples</ref><box>(302,257),(582,671)</box><box>(603,252),(878,642)</box> "
       "and<ref> a bowl</ref><box>(2,269),(304,674)</box>",
       ok,
       {{604, 257, 1164, 671, "Two apples"},
        {1206, 252, 1756, 642, "Two apples"},
        {4, 269, 608, 674, "a bowl"}},
       "QwenLM/Qwen-VL TUTORIAL.md @aa00ed0 line 248 (response quoted in the tutorial)"},
      {"qwen-vl",
       {1998, 999},
       {},
       "<ref>上海环球金融中心</ref><box>(667,437),(760,874)</box>和<ref>东方明珠</ref><box>"
       "(506,75),(582,946)</box>",
       ok,
       {{1334, 437, 1520, 874, "上海环球金融中心"}, {1012, 75, 1164, 946, "东方明珠"}},
       "QwenLM/Qwen-VL TUTORIAL.md @aa00ed0 line 175"},
      {"qwen-vl",
       {1000, 1000},
       {{"divisor", "1000"}},
       "<ref>\"击掌\"</ref><box>(211,412),(577,891)</box>",
       ok,
       {{211, 412, 577, 891, "\"击掌\""}},
       "QwenLM/Qwen-VL README.md @aa00ed0 line 828 (divisor=1000, the tokenizer's drawing code)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: Qwen2-VL", "[parsers][real]") {
  const std::vector<parser_case> cases = {
      {"qwen2-vl",
       {2000, 1000},
       {},
       "<|object_ref_start|>击掌<|object_ref_end|><|box_start|>(531,516),(581,596)<|box_end|>"
       "<|im_end|>",
       ok,
       {{1062, 516, 1162, 596, "击掌"}},
       "QwenLM/Qwen3-VL issue #9 (Qwen2-VL demo answer, 2024-09-26)"},
      {"qwen2-vl",
       {1000, 500},
       {},
       "<|object_ref_start|>一只狗<|object_ref_end|><|box_start|>(221,423),(569,886)<|box_end|>和"
       "<|object_ref_start|>一个女人<|object_ref_end|><|box_start|>(451,381),(733,793)"
       "<|box_end|>正在沙滩上玩耍",
       ok,
       {{221, 211.5, 569, 443, "一只狗"}, {451, 190.5, 733, 396.5, "一个女人"}},
       "modelscope/ms-swift docs Customization/自定义数据集.md (Qwen2-VL grounding format), quoted "
       "in modelscope/ms-swift issue #3511"},
      {"qwen2-vl",
       {506, 505},
       {},
       "<think>To identify the differences between the two images, I will carefully compare each "
       "element in both images. ... I will note the position of the apple in the first image."
       "</think>\n<answer>(500,270),(710,480)</answer>",
       ok,
       {{253, 136.35, 359.26, 242.4, ""}},
       "AMAP-ML/UniVG-R1 issue #15 (Qwen2-VL-based model, special tokens stripped; the "
       "maintainer confirms the 0-1000 Qwen2-VL convention)"},
      {"qwen2-vl",
       {1000, 1000},
       {},
       "<|box_start|>(101,201),(150,266)<|box_end|><|box_start|>(401,601),(550,666)<|box_end|>",
       ok,
       {{101, 201, 150, 266, ""}, {401, 601, 550, 666, ""}},
       "modelscope/ms-swift docs/source_en/Customization/Custom-dataset.md @3602360 (sheep "
       "example)"},
      {"qwen2-vl",
       {1000, 1000},
       {},
       "<|object_ref_start|>Popup close button<|object_ref_end|><|box_start|>(1769, 1013), "
       "(1778, 1027)<|box_end|>\n<|object_ref_start|>Popup close button<|object_ref_end|>"
       "<|box_start|>(483, 954), (519, 987)<|box_end|>",
       ok,
       {{1000, 1000, 1000, 1000, "Popup close button", clipped},
        {483, 954, 519, 987, "Popup close button"}},
       "QwenLM/Qwen3-VL issue #762 (user's data in Qwen2-VL format with absolute pixels: read "
       "as 0-1000 it leaves the image and is clipped, flagged)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: Qwen2.5-VL and Qwen3-VL", "[parsers][real]") {
  // 1920x1080 smart-resizes to 1932x1092, so pixel values are scaled by 1920/1932, 1080/1092.
  const double sx = 1920.0 / 1932, sy = 1080.0 / 1092;
  const double cs = 1024.0 / 1036;  // cookbook cakes.png, 1024 -> 1036
  const auto dt = [](double x1, double y1, double x2, double y2, const char* label) {
    return want_box{x1 * 640 / 1000, y1 * 479 / 1000, x2 * 640 / 1000, y2 * 479 / 1000, label};
  };
  const std::vector<parser_case> cases = {
      {"qwen2.5-vl",
       {1920, 1080},
       {},
       "{\n\"bbox_2d\": [135, 114, 1016, 672]\n}",
       ok,
       {{135 * sx, 114 * sy, 1016 * sx, 672 * sy, ""}},
       "QwenLM/Qwen3-VL issue #1137 (Qwen2.5-VL answer format, one object: a training-data "
       "'gpt' turn, not a model answer)"},
      {"qwen2.5-vl",
       {640, 436},
       {},
       "```json\n[\n\t{\"bbox_2d\": [139, 768, 315, 954], \"label\": \"truck\"},\n\t{\"bbox_2d\": "
       "[366, 679, 536, 849], \"label\": \"car\"}\n]\n```",
       ok,
       // 640x436 -> smart_resize 644x448; values beyond the frame are clipped
       {{139 * 640.0 / 644, 436, 315 * 640.0 / 644, 436, "truck", clipped},
        {366 * 640.0 / 644, 436, 536 * 640.0 / 644, 436, "car", clipped}},
       "OpenGVLab/InternVL issue #1140 (the Qwen2.5-VL-style JSON format example in the "
       "user's prompt, not a model answer)"},
      // 1280x960 smart-resizes to 1288x952 (960/28 = 34.3 -> 952, 1280/28 = 45.7 -> 1288)
      {"qwen2.5-vl",
       {1280, 960},
       {},
       "[\n  {\"bbox_2d\": [105, 301, 232, 480], \"label\": \"person\"}, \n  {\"bbox_2d\": "
       "[210, 263, 290, 476], \"label\": \"person\"}, \n  {\"bbox_2d\": [153, 265, 204, 338], "
       "\"label\": \"person\"}, \n  {\"bbox_2d\": [83, 274, 165, 452], \"label\": \"person\"}\n]",
       ok,
       {{105 * 1280.0 / 1288, 301 * 960.0 / 952, 232 * 1280.0 / 1288, 480 * 960.0 / 952, "person"},
        {210 * 1280.0 / 1288, 263 * 960.0 / 952, 290 * 1280.0 / 1288, 476 * 960.0 / 952, "person"},
        {153 * 1280.0 / 1288, 265 * 960.0 / 952, 204 * 1280.0 / 1288, 338 * 960.0 / 952, "person"},
        {83 * 1280.0 / 1288, 274 * 960.0 / 952, 165 * 1280.0 / 1288, 452 * 960.0 / 952, "person"}},
       "om-ai-lab/VLM-R1 issue #288 (model output quoted by the reporter in a ```json block: "
       "Qwen2.5-VL pixel boxes; image size not stated)"},
      // 640x480 smart-resizes to 644x476. Quoted without the markdown list indentation.
      {"qwen2.5-vl",
       {640, 480},
       {},
       "<think>\nThe image shows a man standing on a concrete path next to a body of water, with a "
       "boat visible in the background. The man is wearing black shorts and appears to be "
       "interacting with something off-screen. There is another person in the background, also "
       "wearing shorts, who seems to be engaged in an activity involving a metal box or "
       "structure.\n</think>\n<answer>{\"bbox_2d\": [368, 1, 475, 330], \"label\": \"man wearing "
       "blue shirt and shorts\"}</answer>",
       ok,
       {{368 * 640.0 / 644, 1 * 480.0 / 476, 475 * 640.0 / 644, 330 * 480.0 / 476,
         "man wearing blue shirt and shorts"}},
       "om-ai-lab/VLM-R1 issue #99 (VLM-R1 answer, a Qwen2.5-VL-3B fine-tune that keeps "
       "Qwen2.5-VL's JSON pixel format per maintainer xrc10; image size not stated)"},
      // Qwen2.5-VL-3B-Instruct (MLX bf16 port, mlx-vlm, default processor): 467x700 (size printed
      // in the notebook) smart-resizes to 476x700 (467/28 = 16.7 -> 17 * 28 = 476; 700/28 = 25), so
      // x * 467 / 476 and y * 700 / 700: 171 -> 167.767, 428 -> 419.908, y unchanged (699 -> 699).
      // The chat template rendered the message list as text; the answer is still the model's.
      {"qwen2.5-vl",
       {467, 700},
       {},
       "```json\n[\n  {\n    \"bbox_2d\": [171, 105, 428, 699],\n    \"label\": \"person holding"
       " a dog\"\n  },\n  {\n    \"bbox_2d\": [180, 158, 318, 504],\n    \"label\": \"dog\"\n  }"
       "\n]\n```",
       ok,
       {{171 * 467.0 / 476, 105, 428 * 467.0 / 476, 699, "person holding a dog"},
        {180 * 467.0 / 476, 158, 318 * 467.0 / 476, 504, "dog"}},
       "JoeJoe1313/LLMs-Journey VLMs/qwen2_5_vl.ipynb @d4753ca46e38fa3494123c48b5036c85f12882f0 "
       "(notebook output of mlx-community/Qwen2.5-VL-3B-Instruct-bf16 on images/person_dog.jpg, "
       "467x700; also quoted in the author's blog post qwen2_5-vl-mlx-vlm)"},
      // Qwen2.5-VL-7B-Instruct, official cookbook, 'locate every cake and describe their features'
      // on cookbooks/assets/spatial_understanding/cakes.png (1024x1024 in QwenLM/Qwen2.5-VL
      // @f0af299, committed with the notebook; the notebook draws on a 640x640 thumbnail, so
      // square). 1024 smart-resizes to 1036 (1024/28 = 36.57 -> 37 * 28), so every value * 1024 /
      // 1036: 43 -> 42.502, 994 -> 982.486.
      {"qwen2.5-vl",
       {1024, 1024},
       {},
       "```json\n[\n\t{\"bbox_2d\": [43, 571, 209, 753], \"label\": \"cupcake with white frostin"
       "g and colorful sprinkles\"},\n\t{\"bbox_2d\": [68, 408, 214, 596], \"label\": \"cupcake "
       "with red frosting and sprinkles\"},\n\t{\"bbox_2d\": [259, 392, 386, 560], \"label\": \""
       "cupcake with pink frosting and sprinkles\"},\n\t{\"bbox_2d\": [412, 380, 518, 520], \"la"
       "bel\": \"cupcake with pink frosting and sprinkles\"},\n\t{\"bbox_2d\": [550, 368, 675, 5"
       "43], \"label\": \"cupcake with pink frosting and sprinkles\"},\n\t{\"bbox_2d\": [306, 56"
       "6, 462, 730], \"label\": \"cupcake with white frosting and candy eyes\"},\n\t{\"bbox_2d"
       "\": [365, 678, 535, 849], \"label\": \"cupcake with white frosting and candy eyes\"},\n"
       "\t{\"bbox_2d\": [138, 768, 319, 958], \"label\": \"cupcake with white frosting and candy"
       " eyes\"},\n\t{\"bbox_2d\": [531, 579, 690, 739], \"label\": \"cupcake with white frostin"
       "g and candy eyes\"},\n\t{\"bbox_2d\": [652, 492, 799, 662], \"label\": \"cupcake with wh"
       "ite frosting and candy eyes\"},\n\t{\"bbox_2d\": [829, 525, 994, 716], \"label\": \"cupc"
       "ake with white frosting and colorful sprinkles\"},\n\t{\"bbox_2d\": [765, 393, 896, 556]"
       ", \"label\": \"cupcake with chocolate frosting\"}\n]\n```",
       ok,
       {
           {43 * cs, 571 * cs, 209 * cs, 753 * cs,
            "cupcake with white frosting and colorful sprinkles"},
           {68 * cs, 408 * cs, 214 * cs, 596 * cs, "cupcake with red frosting and sprinkles"},
           {259 * cs, 392 * cs, 386 * cs, 560 * cs, "cupcake with pink frosting and sprinkles"},
           {412 * cs, 380 * cs, 518 * cs, 520 * cs, "cupcake with pink frosting and sprinkles"},
           {550 * cs, 368 * cs, 675 * cs, 543 * cs, "cupcake with pink frosting and sprinkles"},
           {306 * cs, 566 * cs, 462 * cs, 730 * cs, "cupcake with white frosting and candy eyes"},
           {365 * cs, 678 * cs, 535 * cs, 849 * cs, "cupcake with white frosting and candy eyes"},
           {138 * cs, 768 * cs, 319 * cs, 958 * cs, "cupcake with white frosting and candy eyes"},
           {531 * cs, 579 * cs, 690 * cs, 739 * cs, "cupcake with white frosting and candy eyes"},
           {652 * cs, 492 * cs, 799 * cs, 662 * cs, "cupcake with white frosting and candy eyes"},
           {829 * cs, 525 * cs, 994 * cs, 716 * cs,
            "cupcake with white frosting and colorful sprinkles"},
           {765 * cs, 393 * cs, 896 * cs, 556 * cs, "cupcake with chocolate frosting"},
       },
       "QwenLM/Qwen2.5-VL cookbooks/spatial_understanding.ipynb, first example (Qwen2.5-VL-7B-"
       "Instruct output, executed 2025-01-08), read from the copy in jaylim13/Qwen2.5-VL-fork "
       "@40239aad53d39f27c337df78ea570dfab6d87d90 (the upstream blob is not in the store)"},
      {"qwen3-vl",
       {1000, 500},
       {},
       "json\n[\n    {\"bbox_2d\": [323, 118, 444, 825], \"label\": \"watch\"},\n    {\"bbox_2d\": "
       "[444, 118, 565, 825], \"label\": \"watch\"},\n    {\"bbox_2d\": [565, 118, 686, 825], "
       "\"label\": \"watch\"},\n    {\"bbox_2d\": [686, 118, 807, 825], \"label\": \"watch\"}\n]",
       ok,
       {{323, 59, 444, 412.5, "watch"},
        {444, 59, 565, 412.5, "watch"},
        {565, 59, 686, 412.5, "watch"},
        {686, 59, 807, 412.5, "watch"}},
       "QwenLM/Qwen3-VL issue #2020 (Qwen3-VL-235B answer, 0-1000 relative)"},
      // the user asked for a custom "bbox" key and max_new_tokens=128 cut the answer off: boxes
      // without a "bbox_2d" key are not this family's format, so nothing is guessed
      {"qwen3-vl",
       {1000, 1000},
       {},
       "{\n  \"object_name\": \"monitor\",\n  \"bbox\": [195, 138, 617, 480],\n  \"object_name\": "
       "\"laptop\",\n  \"bbox\": [663, 399, 917, 657],\n  \"object_name\": \"keyboard\",\n  "
       "\"bbox\": [254, 584, 569, 657],\n  \"object_name\": \"mouse\",\n  \"bbox\": [581, 587, "
       "655, 65",
       fail,
       {},
       "QwenLM/Qwen3-VL issue #1720 (qwen3-vl-4b-instruct answer to a custom-format prompt, cut "
       "off)"},
      // Qwen3-VL cookbook 2d_grounding.ipynb, Example 1 (dining table, qwen3-vl-235b-a22b-instruct
      // via DashScope; 27 boxes). The notebook prints the size of the image it draws on, (640,
      // 479): that size is used, relative 0-1000 so x * 640 / 1000, y * 479 / 1000 (74 -> 47.36,
      // 361 -> 172.919, 999 -> 639.36 / 478.521).
      {"qwen3-vl",
       {640, 479},
       {},
       "```json\n[\n\t{\"bbox_2d\": [74, 361, 324, 808], \"label\": \"plate/dish\"},\n\t{\"bbox_"
       "2d\": [320, 660, 564, 956], \"label\": \"plate/dish\"},\n\t{\"bbox_2d\": [555, 575, 807,"
       " 901], \"label\": \"plate/dish\"},\n\t{\"bbox_2d\": [484, 187, 743, 568], \"label\": \"p"
       "late/dish\"},\n\t{\"bbox_2d\": [739, 440, 999, 901], \"label\": \"plate/dish\"},\n\t{\"b"
       "box_2d\": [300, 134, 481, 397], \"label\": \"plate/dish\"},\n\t{\"bbox_2d\": [691, 235, "
       "775, 328], \"label\": \"scallop\"},\n\t{\"bbox_2d\": [752, 204, 856, 325], \"label\": \""
       "scallop\"},\n\t{\"bbox_2d\": [835, 200, 919, 312], \"label\": \"scallop\"},\n\t{\"bbox_2"
       "d\": [735, 328, 834, 443], \"label\": \"scallop\"},\n\t{\"bbox_2d\": [812, 308, 918, 443"
       "], \"label\": \"scallop\"},\n\t{\"bbox_2d\": [885, 300, 980, 429], \"label\": \"scallop"
       "\"},\n\t{\"bbox_2d\": [162, 0, 303, 354], \"label\": \"wine bottle\"},\n\t{\"bbox_2d\": "
       "[462, 0, 589, 210], \"label\": \"wine bottle\"},\n\t{\"bbox_2d\": [615, 72, 730, 212], "
       "\"label\": \"bowl\"},\n\t{\"bbox_2d\": [255, 82, 333, 220], \"label\": \"bowl\"},\n\t{\""
       "bbox_2d\": [0, 801, 102, 999], \"label\": \"bowl\"},\n\t{\"bbox_2d\": [619, 939, 762, 99"
       "9], \"label\": \"bowl\"},\n\t{\"bbox_2d\": [981, 444, 999, 557], \"label\": \"bowl\"},\n"
       "\t{\"bbox_2d\": [462, 484, 597, 645], \"label\": \"bowl\"},\n\t{\"bbox_2d\": [636, 50, 7"
       "12, 180], \"label\": \"spoon\"},\n\t{\"bbox_2d\": [728, 0, 864, 193], \"label\": \"cocon"
       "ut drink\"},\n\t{\"bbox_2d\": [728, 843, 846, 999], \"label\": \"cup\"},\n\t{\"bbox_2d\""
       ": [95, 812, 223, 999], \"label\": \"cup\"},\n\t{\"bbox_2d\": [796, 800, 839, 999], \"lab"
       "el\": \"chopsticks\"},\n\t{\"bbox_2d\": [902, 433, 999, 466], \"label\": \"chopsticks\"}"
       ",\n\t{\"bbox_2d\": [557, 839, 605, 999], \"label\": \"chopsticks\"}\n]\n```",
       ok,
       {
           dt(74, 361, 324, 808, "plate/dish"),  dt(320, 660, 564, 956, "plate/dish"),
           dt(555, 575, 807, 901, "plate/dish"), dt(484, 187, 743, 568, "plate/dish"),
           dt(739, 440, 999, 901, "plate/dish"), dt(300, 134, 481, 397, "plate/dish"),
           dt(691, 235, 775, 328, "scallop"),    dt(752, 204, 856, 325, "scallop"),
           dt(835, 200, 919, 312, "scallop"),    dt(735, 328, 834, 443, "scallop"),
           dt(812, 308, 918, 443, "scallop"),    dt(885, 300, 980, 429, "scallop"),
           dt(162, 0, 303, 354, "wine bottle"),  dt(462, 0, 589, 210, "wine bottle"),
           dt(615, 72, 730, 212, "bowl"),        dt(255, 82, 333, 220, "bowl"),
           dt(0, 801, 102, 999, "bowl"),         dt(619, 939, 762, 999, "bowl"),
           dt(981, 444, 999, 557, "bowl"),       dt(462, 484, 597, 645, "bowl"),
           dt(636, 50, 712, 180, "spoon"),       dt(728, 0, 864, 193, "coconut drink"),
           dt(728, 843, 846, 999, "cup"),        dt(95, 812, 223, 999, "cup"),
           dt(796, 800, 839, 999, "chopsticks"), dt(902, 433, 999, 466, "chopsticks"),
           dt(557, 839, 605, 999, "chopsticks"),
       },
       "QwenLM/Qwen3-VL cookbooks/2d_grounding.ipynb, Example 1 (Qwen3-VL-235B-A22B-Instruct "
       "output), read from the copy in Firefly-llm/Qwen3-VL "
       "@d8cc2c173563f9fe5b35d29299e532b533fd2c7d (the upstream blob is not in the store)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: CogVLM / CogAgent", "[parsers][real]") {
  const std::vector<parser_case> cases = {
      {"cogvlm",
       {1000, 800},
       {},
       "Plan: 1. Type 'CogVLM' into the Google search bar. 2. Review the search results that "
       "appear. 3. Click on a relevant result to read more about CogVLM or access further "
       "resources.\nNext Action: Move the cursor to the Google search bar, and type 'CogVLM' into "
       "it.\nGrounded Operation:[combobox] Search -> TYPE: CogVLM at the box [[212,498,787,564]]",
       ok,
       {{212, 398.4, 787, 451.2, ""}},
       "THUDM/CogVLM README.md @f7283b2 (CogAgent answer with grounding)"},
      {"cogvlm",
       {1000, 1000},
       {},
       "[[881,448,975,521]]",
       ok,
       {{881, 448, 975, 521, ""}},
       "zai-org/CogVLM issue #165 (returned result; maintainer: relative 000-999, int(v)/1000)"},
      {"cogvlm",
       {288, 296},
       {},
       "[[097, 514, 283, 996]]",
       ok,
       {{0.097 * 288, 0.514 * 296, 0.283 * 288, 0.996 * 296, ""}},
       "zai-org/CogVLM issue #46 (answer on a 288x296 image; maintainer: proportion of the axis)"},
      {"cogvlm",
       {1000, 2000},
       {},
       "Action: Click on the 'Adobe Photoshop 2023' icon located in the middle of the screen to "
       "open the application.\nGrounded Operation: CLICK(box=[[346,574,424,710]], "
       "element_type='卡片', element_info='Adobe Photoshop 2023')\n<<一般操作>>",
       ok,
       {{346, 1148, 424, 1420, ""}},
       "modelscope/ms-swift tests/test_align/test_template/test_vision.py @3602360 (cogagent-9b "
       "answer asserted by the test)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: PaliGemma", "[parsers][real]") {
  const std::vector<parser_case> cases = {
      {"paligemma",
       {640, 480},
       {},
       "<loc0000><loc0000><loc1022><loc1022> cat",
       ok,
       {{0, 0, 1022.0 / 1024 * 640, 1022.0 / 1024 * 480, "cat"}},
       "modelscope/ms-swift tests (test_paligemma: paligemma-3b-mix-224 answer to 'detect cat')"},
      {"paligemma",
       {1024, 1024},
       {},
       "<loc0204><loc0366><loc0469><loc0558> road sign ; <loc0204><loc0162><loc0459><loc0357> "
       "road sign ; <loc0215><loc0710><loc0477><loc0879> road sign ; <loc0558><loc0551><loc0648>"
       "<loc0692> road sign",
       ok,
       {{366, 204, 558, 469, "road sign"},
        {162, 204, 357, 459, "road sign"},
        {710, 215, 879, 477, "road sign"},
        {551, 558, 692, 648, "road sign"}},
       "sevval12345/paligemma2-analysis-and-experiments README.md (paligemma2-3b-mix answer to "
       "'detect road sign')"},
      // 640x640 test image (the notebook prints its size); v / 1024 * 640 = v * 0.625, y first.
      // The answer ends with " ; " and a newline: an empty last object, not a box.
      {"paligemma",
       {640, 640},
       {},
       "<loc0504><loc0430><loc0882><loc0815> 6 of clubs ; <loc0102><loc0482><loc0416><loc0840> 7 "
       "of clubs ; <loc0159><loc0180><loc0499><loc0486> 8 of clubs ; <loc0476><loc0102><loc0820>"
       "<loc0424> 5 of clubs ; \n",
       ok,
       {{268.75, 315, 509.375, 551.25, "6 of clubs"},
        {301.25, 63.75, 525, 260, "7 of clubs"},
        {112.5, 99.375, 303.75, 311.875, "8 of clubs"},
        {63.75, 297.5, 265, 512.5, "5 of clubs"}},
       "roboflow/notebooks notebooks/how-to-finetune-paligemma2-on-detection-dataset.ipynb "
       "@01b2246 cell 25 output (fine-tuned PaliGemma 2 answer, printed by the notebook)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: InternVL", "[parsers][real]") {
  const std::vector<parser_case> cases = {
      {"internvl",
       {1000, 500},
       {},
       "<ref>XXX</ref><box>[[253, 231, 733, 787]]</box>",
       ok,
       {{253, 115.5, 733, 393.5, "XXX"}},
       "OpenGVLab/InternVL issue #227 (answer format confirmed by maintainer czczup)"},
      {"internvl",
       {500, 1000},
       {},
       "<ref>羊</ref><box>[[101, 201, 150, 266]]</box>",
       ok,
       {{50.5, 201, 75, 266, "羊"}},
       "modelscope/ms-swift examples/notebook/qwen2_5-vl-grounding/zh.ipynb @3602360 (InternVL2.5 "
       "grounding format)"},
      // InternVL2.5-8B answers quoted in the issue; the quote is the printed chat, the answer is
      // the text after "Assistant: ". Bare "label[[...]]" lists without <ref>/<box> tags: read as
      // bare [[...]] lists (no label). Image size not stated; 2000x1000 here, so with per-mille
      // ints (v / 1000 * W, edge) x = 2 v and y = v. The last box has y1 = 1000 > y2 = 998: the
      // corners are put in order (swapped), 1000 / 1000 * H = H is on the edge, not clipped.
      {"internvl",
       {2000, 1000},
       {},
       "car[[75, 658, 250, 871], [286, 558, 444, 711]]\ntruck[[440, 208, 502, 255]]\nvan[[446, "
       "240, 527, 311]]\nbus[[500, 244, 616, 363]]\npedestrian[[0, 1000, 999, 998]]",
       ok,
       {{150, 658, 500, 871, ""},
        {572, 558, 888, 711, ""},
        {880, 208, 1004, 255, ""},
        {892, 240, 1054, 311, ""},
        {1000, 244, 1232, 363, ""},
        {0, 998, 1998, 1000, "", swapped}},
       "OpenGVLab/InternVL issue #953 (InternVL2.5-8B answer to a multi-class detection prompt)"},
      {"internvl",
       {2000, 1000},
       {},
       "car[[561, 660, 695, 1000]]",
       ok,
       {{1122, 660, 1390, 1000, ""}},
       "OpenGVLab/InternVL issue #953 (InternVL2.5-8B answer to 'Please provide the bounding box "
       "coordinate of <ref>car</ref> in the image.')"},
      {"internvl",
       {1000, 500},
       {},
       "The bounding box coordinates of the region this sentence describes are [x1, y1, x2, y2].",
       fail,
       {},
       "OpenGVLab/InternVL issue #625 (InternVL-8B answered with the placeholder)"},
      {"internvl",
       {1000, 500},
       {},
       "<ref>class name</ref><box>[[x1, y1, x2, y2], ...]</box>",
       fail,
       {},
       "OpenGVLab/InternVL issue #606 (the format as the user quotes it: placeholders only)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: LLaVA-1.5 family", "[parsers][real]") {
  // LLaVA-HR = LLaVA-1.5 + mixture-of-resolution adapters, trained on the LLaVA-1.5 data mix, so
  // it answers the REC prompt ("Please provide the bounding box coordinate of the region this
  // sentence describes: ...") in LLaVA-1.5's form. Default contract: padded square, S = max(W, H).
  // 640x480: S = 640, pad (640 - 480) // 2 = 80 on y, so x = 640 v and y = 640 v - 80.
  // 480x640: S = 640, pad 80 on x, so x = 640 v - 80 and y = 640 v.
  // The answers are figure text (the paper prints the model output next to each image); image
  // sizes are chosen by the test.
  const std::string src = "arXiv 2403.03003 (LLaVA-HR paper) Figure 5(a), answers of LLaVA-HR ";
  const std::vector<parser_case> cases = {
      {"llava",
       {640, 480},
       {},
       "[0.92, 0.69, 0.97, 0.72]",
       ok,
       {{588.8, 361.6, 620.8, 380.8, ""}},
       src + "(384 pix) to 'The deer on the far right.' (wrong box in the paper)"},
      {"llava",
       {640, 480},
       {},
       "[0.66, 0.68, 0.74, 0.73]",
       ok,
       {{422.4, 355.2, 473.6, 387.2, ""}},
       src + "(1024 pix) to 'The deer on the far right.'"},
      // one-decimal values: trailing zeros are dropped by the model
      {"llava",
       {480, 640},
       {},
       "[0.4, 0.6, 0.51, 0.78]",
       ok,
       {{176, 384, 246.4, 499.2, ""}},
       src + "(384 pix) to 'The  child sliding down in red clothes.'"},
      {"llava",
       {480, 640},
       {},
       "[0.53, 0.57, 0.6, 0.71]",
       ok,
       {{259.2, 364.8, 304, 454.4, ""}},
       src + "(1024 pix) to 'The  child sliding down in red clothes.'"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: absolute pixel boxes", "[parsers][real]") {
  // RoboBrain 2.0 (BAAI, a Qwen2.5-VL-7B fine-tune) answers grounding and affordance prompts with
  // "[x_min, y_min, x_max, y_max]" in pixels; its own inference.py draws the numbers unchanged on
  // the original image (cv2.rectangle on cv2.imread(image)), so the documented frame is the
  // original image: family pixel, boxes unchanged. Image sizes are those of the README's demo
  // images in the same commit (assets/demo/grounding.jpg 426x640, affordance.jpg 640x426; the
  // Qwen2.5-VL processor would see 420x644 and 644x420, a difference of <= 1.5% the README's
  // convention ignores). The README labels the outputs "Prediction: (as an example)".
  const std::string rb =
      "FlagOpen/RoboBrain2.0 README.md @8b8b3bdf (lines from a19b15e / 619efbf), RoboBrain2.0-7B ";
  const std::vector<parser_case> cases = {
      {"pixel",
       {426, 640},
       {},
       "[0, 193, 226, 640]",
       ok,
       {{0, 193, 226, 640, ""}},
       rb + "'answer' to grounding prompt 'the person wearing a red hat' (y2 = H: on the edge)"},
      {"pixel",
       {640, 426},
       {},
       "[577, 224, 638, 310]",
       ok,
       {{577, 224, 638, 310, ""}},
       rb + "'answer' to affordance prompt 'hold the cup'"},
      // the same response's 'thinking' text (printed as a Python string: its \n are newlines);
      // one box in prose, no other bracket or number
      {"pixel",
       {640, 426},
       {},
       "From the visual input, the object is recognized as a white ceramic cup with a handle "
       "on its side. It appears cylindrical with an open top and has sufficient height for a "
       "standard drinking cup. The handle is positioned to one side, which is crucial for "
       "grasping. The cup rests on a wooden surface, suggesting stability due to its weight "
       "and material solidity.\n\nMy end-effector is equipped with a gripper capable of "
       "securely engaging objects of this size and shape, specifically designed for "
       "cylindrical and handle-like surfaces. Given my capabilities, I can adjust the grip to "
       "accommodate the handle's size and curve. The gripper can easily access the handle "
       "area without disturbing the cup's balance on the flat surface.\n\nThe current task is "
       "to hold the cup, which necessitates securely gripping it by the handle or potentially "
       "enveloping the body if necessary. The cup’s position on the table, within reach, "
       "allows me to approach from the left side toward the handle, ensuring optimal leverage "
       "for lifting. \n\nVerifying the handle's suitability, it seems sufficiently robust and "
       "unobstructed to enable a reliable grip. My sensors will ensure that the force applied "
       "through the gripper doesn't exceed the cup's weight and stability "
       "limits.\n\nTherefore, the cup's affordance area is [577, 224, 638, 310]. This is "
       "because the handle provides a clear and accessible spot for my gripper to engage "
       "securely, fulfilling the task requirement to hold the cup effectively.",
       ok,
       {{577, 224, 638, 310, ""}},
       rb + "'thinking' of the affordance answer above"},
      // Qwen2.5-VL-7B-Instruct box as the reporter quotes it (the answer itself was JSON; only
      // the list is quoted, so it is not counted as an answer). The issue states the original
      // size (368, 434) and the smart-resized size (364, 448) and says 476 exceeds 448, so the
      // sizes are W x H: family pixel with input=364x448 maps x * 368 / 364, y * 434 / 448;
      // y2 = 476 * 434 / 448 = 461.125 > 434 is clipped.
      {"pixel",
       {368, 434},
       {{"input", "364x448"}},
       "[19, 300, 154, 476]",
       ok,
       {{19 * 368.0 / 364, 300 * 434.0 / 448, 154 * 368.0 / 364, 434, "", clipped}},
       "QwenLM/Qwen3-VL issue #1035 (Qwen2.5-VL-7B-Instruct box list quoted by the reporter, "
       "sizes stated in the issue)"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("real answers: Ferret", "[parsers][real]") {
  // Ferret-7B (v1.3 checkpoint) answers to ScreenSpot grounding prompts, committed by
  // orby-ai-engineering/ml-ferret-eval: field "operation" is the raw decoded answer, "img_w" /
  // "img_h" the PIL size of the screenshot the model saw (stretched to 336 x 336 by
  // screenspot_output.py, do_center_crop=False). Default contract: int(v * W / 1000) per value.
  // The same files hold the repo's own decode as a cross-check: "output" is the centre of the
  // first box after its resize_bbox (int(v * W / 1000), the Ferret rule), and each case below
  // notes that centre; it equals the centre of the first expected box.
  const std::string org =
      "orby-ai-engineering/ml-ferret-eval "
      "screenspot/ferret-7b-v1.3-org_v3_query.jsonl @c850dd8 (Ferret-7B), ";
  const std::string gpt =
      "orby-ai-engineering/ml-ferret-eval "
      "screenspot/ferret-7b-v1.3-4o_v3_query.jsonl @876eac7 (Ferret-7B), ";
  const std::vector<parser_case> cases = {
      // 960x540: x = int(0.96 v), y = int(0.54 v). The box is repeated: two boxes, kept both.
      {"ferret",
       {960, 540},
       {},
       "In this UI screenshot, the element [138, 448, 464, 994] corresponding to \"close\" is "
       "located. It's a drop-down menu button [138, 448, 464, 994] within a certain software "
       "program.",
       ok,
       {{132, 241, 445, 536, ""}, {132, 241, 445, 536, ""}},
       org + "row 1, instruction 'close'; repo centre [288.5, 388.5]"},
      {"ferret",
       {960, 540},
       {},
       "\"minimize this window\" [876, 28, 998, 997].",
       ok,
       {{840, 15, 958, 538, ""}},
       org + "row 2, 'minimize this window'; repo centre [899.0, 276.5]"},
      // 1920x1080: x = int(1.92 v), y = int(1.08 v); the model dropped the closing quote
      {"ferret",
       {1920, 1080},
       {},
       "\"play the solitaire collection [156, 365, 904, 917].",
       ok,
       {{299, 394, 1735, 990, ""}},
       org + "row 3, 'play the solitaire collection'; repo centre [1017.0, 692.0]"},
      {"ferret",
       {960, 540},
       {},
       "\"open a new tab [542, 130, 723, 242]\".",
       ok,
       {{520, 70, 694, 130, ""}},
       org + "row 16, 'open a new tab'; repo centre [607.0, 100.0]"},
      // two different boxes; the repo scores the first only
      {"ferret",
       {960, 540},
       {},
       "The element [235, 0, 909, 997] corresponding to \"Minimize button located at the "
       "top-right corner of the Calculator window, represented by a dash symbol.\" is found on "
       "the right side of the calculator. The specific location of this element is [812, 67, "
       "893, 166].",
       ok,
       {{225, 0, 872, 538, ""}, {779, 36, 857, 89, ""}},
       gpt + "row 6, 'minimize calculator' (GPT-4o rewritten query); repo centre [548.5, 269.0]"},
      // x2 = 968 of 1000: near the right edge, inside the image
      {"ferret",
       {960, 540},
       {},
       "\"Network icon in the bottom-right corner of the taskbar.\" [844, 929, 968, 997].",
       ok,
       {{810, 501, 929, 538, ""}},
       gpt + "row 15, 'network and internet settings'; repo centre [869.5, 519.5]"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("documented formats: LLaVA, Shikra, MiniGPT-v2, Ferret, pixel", "[parsers][real]") {
  // These formats are written as the projects document them (spec protocol.md section 4); the
  // values are illustrative, not model answers.
  const std::vector<parser_case> cases = {
      {"llava",
       {640, 480},
       {},
       "[0.61, 0.36, 0.92, 0.83]",
       ok,
       {{0.61 * 640, 0.36 * 640 - 80, 0.92 * 640, 0.83 * 640 - 80, ""}},
       "protocol.md 4 (LLaVA-1.5 REC answer form in llava_v1_5_mix665k, 2-decimal floats)"},
      {"llava",
       {640, 480},
       {{"frame", "original"}},
       "[0.61, 0.36, 0.92, 0.83]",
       ok,
       {{0.61 * 640, 0.36 * 480, 0.92 * 640, 0.83 * 480, ""}},
       "same, frame=original (the disputed reading of LLaVA#623/#822)"},
      {"shikra",
       {400, 300},
       {},
       "a man[0.105,0.200,0.500,0.800;0.600,0.150,0.900,0.400] rides a horse",
       ok,
       {{42, 30, 200, 270, ""}, {240, 10, 360, 110, ""}},
       "protocol.md 4.2 (Shikra PlainBoxFormatter: 3 decimals, ';'-joined, padded square)"},
      {"minigpt-v2",
       {448, 300},
       {},
       "<p>a man</p> {<10><20><50><90>}<delim>{<60><20><90><95>}",
       ok,
       {{44.8, 60, 224, 270, "a man"}, {268.8, 60, 403.2, 285, "a man"}},
       "protocol.md 4.8 (MiniGPT-v2 {<x0><y0><x1><y1>} 0-100, <delim> between boxes)"},
      {"ferret",
       {333, 500},
       {},
       "There is a dog [100, 200, 300, 400] next to a cat [500, 100, 999, 999].",
       ok,
       {{33, 100, 99, 200, ""}, {166, 50, 332, 499, ""}},
       "protocol.md 4.11 (Ferret ints 0-999, decoded int(v * W / 1000))"},
      {"pixel",
       {640, 480},
       {},
       "The person is at [120, 40, 300, 460].",
       ok,
       {{120, 40, 300, 460, ""}},
       "plain pixel boxes"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("adversarial: prose, malformed and out-of-range text", "[parsers][adversarial]") {
  const std::vector<parser_case> cases = {
      // numbers in prose are never boxes
      {"llava",
       {640, 480},
       {},
       "There are 3 dogs and 2 cats, about 0.5 of the image.",
       empty,
       {},
       "adversarial"},
      {"pixel", {640, 480}, {}, "See reference [1] and [2].", empty, {}, "adversarial"},
      {"qwen2-vl",
       {640, 480},
       {},
       "The dog (on the left, 120, 40) is brown.",
       empty,
       {},
       "adversarial"},
      {"cogvlm",
       {640, 480},
       {},
       "I cannot provide the exact coordinates of the objects in the image as the image does not "
       "provide a scale or reference points for measuring",
       empty,
       {},
       "zai-org/CogVLM2 issue #45 (CogVLM2 answer to a grounding request)"},
      {"minigpt-v2",
       {640, 480},
       {},
       "I cannot provide a detailed description of the image you provided as it is not "
       "appropriate or respectful to describe someone's personal appearance or body features.",
       empty,
       {},
       "Vision-CAIR/MiniGPT-4 issue #386 (MiniGPT-v2 answer to '[grounding] describe this image "
       "in detail')"},
      {"paligemma", {640, 480}, {}, "", empty, {}, "adversarial: empty answer"},
      // box-like but malformed
      {"llava", {640, 480}, {}, "[0.1, 0.2, 0.3]", fail, {}, "adversarial: 3 numbers"},
      {"llava", {640, 480}, {}, "[0.1, 0.2, 0.3, 0.4, 0.5]", fail, {}, "adversarial: 5 numbers"},
      {"llava", {640, 480}, {}, "[0.1 0.2 0.3 0.4]", fail, {}, "adversarial: no commas"},
      {"llava", {640, 480}, {}, "[0.1, 0.2, 0.3, 0.4", fail, {}, "adversarial: unterminated"},
      {"pixel",
       {640, 480},
       {},
       "[533, 132, 457]",
       fail,
       {},
       "DeepSeek-VL2 issue #96 (odd number of values)"},
      {"pixel", {640, 480}, {}, "[1e3, 2, 3, 4]", fail, {}, "adversarial: exponent"},
      {"pixel",
       {640, 480},
       {},
       "[99999999999999999999999999999, 1, 2, 3]",
       fail,
       {},
       "adversarial: overlong number (DeepSeek-VL2 #96 style)"},
      {"qwen-vl",
       {640, 480},
       {},
       "<ref>dog</ref><box>(12,34)</box>",
       fail,
       {},
       "adversarial: one corner"},
      {"qwen-vl",
       {640, 480},
       {},
       "<ref>dog</ref><box>(12,34),(56,",
       fail,
       {},
       "adversarial: cut off"},
      {"qwen2-vl",
       {640, 480},
       {},
       "<|box_start|>(501,10), (995987)<|box_end|>",
       fail,
       {},
       "ScreenSpot-Pro-GUI-Grounding issue #7 (garbled coordinates)"},
      {"kosmos-2",
       {640, 480},
       {},
       "<phrase>a dog</phrase><object><patch_index_0044></object>",
       fail,
       {},
       "adversarial: one patch"},
      {"kosmos-2",
       {640, 480},
       {},
       "<object><patch_index_1024><patch_index_0044></object>",
       fail,
       {},
       "adversarial: index beyond the grid"},
      {"kosmos-2",
       {640, 480},
       {},
       "<patch_index_0044><patch_index_0863>",
       fail,
       {},
       "adversarial: patches outside <object>"},
      {"florence-2",
       {640, 480},
       {},
       "car<loc_53><loc_333><loc_933>",
       fail,
       {},
       "adversarial: 3 locations"},
      {"paligemma",
       {640, 480},
       {},
       "<loc0000><loc0000><loc1022> cat",
       fail,
       {},
       "supervision test_paligemma (3 locations)"},
      {"paligemma",
       {640, 480},
       {},
       "<loc12><loc0000><loc1022><loc1022> cat",
       fail,
       {},
       "adversarial: short location token"},
      {"minigpt-v2", {640, 480}, {}, "{<10><20><30>}", fail, {}, "adversarial: 3 values"},
      {"minigpt-v2", {640, 480}, {}, "{<10><20><30><x>}", fail, {}, "adversarial: non-number"},
      {"qwen2.5-vl",
       {640, 480},
       {},
       "```json\n[{\"bbox_2d\": [1, 2, 3], \"label\": \"a\"}]\n```",
       fail,
       {},
       "adversarial: 3 numbers"},
      {"qwen2.5-vl",
       {640, 480},
       {},
       "{\"bbox_2d\": \"12, 34, 56, 78\"}",
       fail,
       {},
       "adversarial: string instead of array"},
      {"qwen2.5-vl",
       {640, 480},
       {},
       "The box is [10, 20, 30, 40].",
       fail,
       {},
       "adversarial: no bbox_2d key"},
      {"qwen2.5-vl",
       {640, 480},
       {},
       "[{\"bbox_2d\": [10, 20, 30, 40], \"label\": \"a\"}, "
       "{\"bbox_2d\": [50, 60,",
       ok,
       {{10 * 640.0 / 644, 20 * 480.0 / 476, 30 * 640.0 / 644, 40 * 480.0 / 476, "a"}},
       "adversarial: cut off after the first object (max_tokens)",
       true},
      {"internvl", {640, 480}, {}, "<ref>dog</ref><box></box>", fail, {}, "adversarial: empty"},
      {"shikra",
       {640, 480},
       {},
       "[0.1,0.2,0.3,0.4;0.5,0.6]",
       ok,
       {{64, 48, 192, 176, ""}},
       "adversarial: second group short",
       true},
      {"llava",
       {640, 480},
       {},
       "[0.1, 0.2, 0.3, 0.4;0.5, 0.6, 0.7, 0.8]",
       fail,
       {},
       "adversarial: ';' is not LLaVA's format"},
      // swapped and out of range
      {"pixel",
       {640, 480},
       {},
       "[300, 460, 120, 40]",
       ok,
       {{120, 40, 300, 460, "", swapped}},
       "adversarial: swapped corners"},
      {"pixel",
       {640, 480},
       {},
       "[-10, 40, 700, 460]",
       ok,
       {{0, 40, 640, 460, "", clipped}},
       "adversarial: outside the image"},
      {"qwen2-vl",
       {1000, 1000},
       {},
       "<|box_start|>(600,700),(100,1200)<|box_end|>",
       ok,
       {{100, 700, 600, 1000, "", std::uint8_t(swapped | clipped)}},
       "adversarial: swapped and above 1000"},
      {"kosmos-2",
       {320, 320},
       {},
       "<object><patch_index_0863><patch_index_0044></object>",
       ok,
       {{125, 15, 315, 265, "", swapped}},
       "adversarial: corners in the wrong order"},
      // several answers in one, in order
      {"cogvlm",
       {1000, 1000},
       {},
       "A [[100,200,300,400;500,600,700,800]] and [[010,020,030,040]]",
       ok,
       {{100, 200, 300, 400, ""}, {500, 600, 700, 800, ""}, {10, 20, 30, 40, ""}},
       "adversarial: several boxes in order"},
  };
  for (const auto& c : cases) run_case(c);
}

TEST_CASE("every family is parsed and unknown families are rejected", "[parsers]") {
  for (auto id : family_ids) {
    const geometry g = family_geometry(id, {640, 480});
    const parse_result r = parse_answer(id, "no box here, 12 34 56 78", g);
    INFO(id);
    CHECK(r.status == query_status::empty);
    CHECK(r.geom == g);
  }
  CHECK_THROWS_AS(parse_answer("gpt-4o", "[1,2,3,4]", family_geometry("pixel", {10, 10})), error);
}

TEST_CASE("parsers survive arbitrary bytes", "[parsers][adversarial]") {
  // deterministic pseudo-random strings built from box-format fragments
  const std::vector<std::string> frags = {"[",
                                          "]",
                                          ",",
                                          ";",
                                          "0.5",
                                          "-",
                                          "<box>",
                                          "</box>",
                                          "(",
                                          ")",
                                          "<ref>",
                                          "</ref>",
                                          "{",
                                          "}",
                                          "<",
                                          ">",
                                          "<loc_",
                                          "<loc0",
                                          "12",
                                          "999",
                                          "<object>",
                                          "</object>",
                                          "<patch_index_0044>",
                                          "\"bbox_2d\"",
                                          ":",
                                          "\"label\"",
                                          "\"",
                                          "\\",
                                          "```json",
                                          "<|box_start|>",
                                          "<|box_end|>",
                                          "<p>",
                                          "</p>",
                                          "<delim>",
                                          "</delimiter_of_multi_objects/>",
                                          "\xff",
                                          "\n",
                                          " "};
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    const int len = int(next() % 40);
    for (int k = 0; k < len; ++k) s += frags[next() % frags.size()];
    for (auto id : family_ids) {
      const auto r = parse_answer(id, s, family_geometry(id, {640, 480}));
      for (const auto& b : r.boxes) {
        CHECK(b.box.x1 >= 0);
        CHECK(b.box.x2 <= 640);
        CHECK(b.box.x1 <= b.box.x2);
        CHECK(b.box.y1 <= b.box.y2);
      }
      for (const auto& p : r.points) {
        CHECK(p.x >= 0);
        CHECK(p.x <= 640);
        CHECK(p.y >= 0);
        CHECK(p.y <= 480);
      }
      if (r.status == query_status::ok) CHECK(!(r.boxes.empty() && r.points.empty()));
      if (r.status != query_status::ok) CHECK((r.boxes.empty() && r.points.empty()));
    }
  }
}
