// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/families.hpp — the table of generalist VLM families: for each, its answer
// format, documented geometry contract, extra geometry keys, scanner and grounding prompt, in one
// row. Everything that depends on the family (family_geometry, parse_answer, default_prompt, the
// CLI's lists) reads this table; adding a family is adding a row (and its tests and docs).
// docs/generalist.md gives each row's sources. Target: groundeval::core.
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/grounders/formats/brackets.hpp>
#include <groundeval/grounders/formats/json_boxes.hpp>
#include <groundeval/grounders/formats/loc_tokens.hpp>
#include <groundeval/grounders/formats/scan.hpp>
#include <groundeval/grounders/formats/tags.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/geometry_options.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// What a family's answers locate a phrase with.
enum class answer_kind : std::uint8_t {
  boxes,  ///< boxes (x1, y1, x2, y2)
  points  ///< points (x, y): Molmo; box metrics score them as misses
};

/// A prompt template and where it comes from.
struct prompt_template {
  std::string_view text;
  std::string_view source;
};

/// One row of the family table.
struct family_info {
  std::string_view id;      ///< identifier used everywhere (CLI, grounder specs, manifests)
  std::string_view format;  ///< the answer format in one line
  answer_kind answers = answer_kind::boxes;
  preprocessing pre{};       ///< documented contract: what the model saw ...
  coordinate_space space{};  ///< ... what its numbers are ...
  bool truncate = false;     ///< ... whether the official decoder truncates to integers ...
  client_preprocess send{};  ///< ... and what groundeval does to the image before sending it
  std::array<std::string_view, 3> keys{};  ///< geometry keys beyond "clip" ("" = unused)
  void (*scan)(detail::scan&, const geometry&) = nullptr;  ///< finds the boxes / points
  prompt_template prompt{};                                ///< documented grounding prompt
};

namespace detail {
constexpr preprocessing stretched(int side) { return {preprocess_kind::stretch, {side, side}}; }
constexpr preprocessing padded(int side) { return {preprocess_kind::pad_square, {side, side}}; }
constexpr coordinate_space grid(int bins, bin_decode d = bin_decode::edge) {
  return {coord_space_kind::grid, bins, d};
}
}  // namespace detail

// clang-format off
/// The families, in a fixed order (new ones are appended: fuzz seeds index this table).
inline constexpr family_info families[] = {
    {"llava", "[x1, y1, x2, y2] floats in [0, 1]", answer_kind::boxes,
     detail::padded(336), {}, false, {send_kind::pad_square, llava_pad_colour},
     {"frame", "pad"},
     [](detail::scan& s, const geometry&) { detail::scan_brackets(s, s.text, 0, false); },
     {"Please provide the bounding box coordinate of the region this sentence describes: "
      "{phrase}",
      "LLaVA-1.5 llava_v1_5_mix665k REC prompt (also lmms-eval refcoco_bbox_rec)"}},
    {"shikra", "[x0,y0,x1,y1;x0,...] 3-decimal floats", answer_kind::boxes,
     detail::padded(224), {}, false, {send_kind::pad_square, shikra_pad_colour},
     {"frame", "pad"},
     [](detail::scan& s, const geometry&) { detail::scan_brackets(s, s.text, 0, true); },
     {"Can you point out {phrase} in the image and provide the coordinates of its location?",
      "shikras/shikra config/_base_/dataset/template/REC.json (image placeholder dropped: the "
      "image is sent separately)"}},
    {"qwen-vl", "<ref>p</ref><box>(x1,y1),(x2,y2)</box>", answer_kind::boxes,
     detail::stretched(448), detail::grid(999), false, {}, {"divisor"},
     [](detail::scan& s, const geometry&) {
       detail::scan_ref_box(s, "<ref>", "</ref>", "<box>", "</box>");
     },
     {"<ref>{phrase}</ref><box>",
      "QwenLM/Qwen-VL eval_mm/evaluate_grounding.py (completion prompt; the answer ends with "
      "</box>)"}},
    {"qwen2-vl", "<|box_start|>(x1,y1),(x2,y2)<|box_end|> in 0-1000", answer_kind::boxes,
     {preprocess_kind::smart_resize}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) {
       detail::scan_ref_box(s, "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
                            "<|box_end|>");
     },
     {"Output the bounding box in the image corresponding to the instruction \"{phrase}\" with "
      "grounding.",
      "prompt used for Qwen2-VL in likaixin2000/ScreenSpot-Pro-GUI-Grounding (issue #7); "
      "answers <|box_start|>(x1,y1),(x2,y2)<|box_end|> in 0-1000"}},
    {"qwen2.5-vl", "JSON \"bbox_2d\": [x1, y1, x2, y2] in input pixels", answer_kind::boxes,
     {preprocess_kind::smart_resize}, {coord_space_kind::input_pixels}, false, {},
     {"min_pixels", "max_pixels", "factor"},
     [](detail::scan& s, const geometry&) { detail::scan_json_boxes(s, {"bbox_2d"}); },
     {"Locate {phrase} in this image and output the bbox coordinates in JSON format.",
      "Qwen maintainers' RefCOCO prompt, QwenLM/Qwen3-VL issue #991"}},
    {"qwen3-vl", "JSON \"bbox_2d\": [x1, y1, x2, y2] in 0-1000", answer_kind::boxes,
     {}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_json_boxes(s, {"bbox_2d"}); },
     {"Locate {phrase} in this image and output the bbox coordinates in JSON format.",
      "same JSON grounding prompt as Qwen2.5-VL (QwenLM/Qwen3-VL cookbooks/2d_grounding); "
      "coordinates are 0-1000"}},
    {"kosmos-2", "<object><patch_index_AAAA><patch_index_BBBB></object>", answer_kind::boxes,
     detail::stretched(224), {coord_space_kind::patch_grid, 32}, false, {}, {"decode"},
     [](detail::scan& s, const geometry& g) { detail::scan_kosmos(s, g.space.bins); },
     {"<grounding>{prefix} <phrase>{phrase}</phrase>",
      "microsoft/unilm kosmos-2/evaluation/flickr_entities/cook_data.py: caption prefix up to "
      "the phrase, then the phrase in grounding tags; the model continues with "
      "<object>...</object>"}},
    {"florence-2", "p<loc_a><loc_b><loc_c><loc_d>", answer_kind::boxes,
     detail::stretched(768), detail::grid(1000, bin_decode::centre), false, {}, {"truncate"},
     [](detail::scan& s, const geometry&) { detail::scan_florence(s); },
     {"<CAPTION_TO_PHRASE_GROUNDING>{phrase}",
      "Florence-2 model card task token (use {sentence} to ground the whole caption)"}},
    {"cogvlm", "[[x0,y0,x1,y1;...]] 000-999", answer_kind::boxes,
     detail::stretched(490), detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_brackets(s, s.text, 0, true); },
     {"Can you point out {phrase} in the image and provide the bounding boxes of their "
      "location?",
      "THUDM/CogVLM README.md (caption2box template example)"}},
    {"minigpt-v2", "<p>p</p> {<x0><y0><x1><y1>} 0-100", answer_kind::boxes,
     detail::stretched(448), detail::grid(100), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_minigpt(s); },
     {"[refer] give me the location of {phrase}",
      "Vision-CAIR/MiniGPT-4 eval_scripts/eval_ref.py ([refer] task identifier)"}},
    {"paligemma", "<locY1><locX1><locY2><locX2> label ; ... (y first)", answer_kind::boxes,
     {preprocess_kind::stretch}, detail::grid(1024), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_paligemma(s); },
     {"detect {phrase}", "PaliGemma README: 'detect {thing} ; {thing}' task prefix"}},
    {"internvl", "<ref>p</ref><box>[[x1, y1, x2, y2]]</box> 0-1000", answer_kind::boxes,
     {}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_internvl(s); },
     {"Please provide the bounding box coordinate of the region this sentence describes: "
      "<ref>{phrase}</ref>",
      "OpenGVLab/InternVL internvl_chat/eval/refcoco/evaluate_grounding.py"}},
    {"ferret", "phrase [x1, y1, x2, y2] ints 0-999", answer_kind::boxes,
     detail::stretched(336), detail::grid(1000), true, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_brackets(s, s.text, 0, false); },
     {"What are the locations of {phrase}?",
      "apple/ml-ferret ferret/eval/model_flickr.py (one phrase instead of the caption's list)"}},
    {"pixel", "[x1, y1, x2, y2] absolute pixels", answer_kind::boxes,
     {}, {coord_space_kind::input_pixels}, false, {}, {"input"},
     [](detail::scan& s, const geometry&) { detail::scan_pixel(s); },
     {"Locate {phrase} in the image. Answer with its bounding box in pixels as [x1, y1, x2, "
      "y2].",
      "groundeval's own generic prompt (no model documents it)"}},
    {"gemini", "JSON \"box_2d\": [ymin, xmin, ymax, xmax] in 0-1000 (y first)",
     answer_kind::boxes, {}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) {
       detail::scan_json_boxes(s, {"box_2d", true, "point"});
     },
     {"Detect {phrase} in the image. Output a JSON list where each entry contains the 2D "
      "bounding box in the key \"box_2d\" and the text label in the key \"label\".",
      "google-gemini/cookbook quickstarts/Spatial_understanding.ipynb (its detection prompts, "
      "one phrase per query)"}},
    {"minicpm-v", "<ref>p</ref><box>x1 y1 x2 y2</box> 0-1000", answer_kind::boxes,
     {}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_minicpm(s); },
     {"Please provide the bounding box coordinate of the region this sentence describes: "
      "<ref>{phrase}</ref>",
      "maintainer floe20 in OpenBMB/MiniCPM-V issue #982 (MiniCPM-V 4.5)"}},
    {"deepseek-vl2", "<|ref|>p<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|> 0-999",
     answer_kind::boxes, {}, detail::grid(999), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_deepseek_vl2(s); },
     {"<|ref|>{phrase}<|/ref|>.",
      "deepseek-ai/DeepSeek-VL2 README.md single-image grounding example (the <image> "
      "placeholder dropped: the image is sent separately)"}},
    {"glm-4v", "<|begin_of_box|>[[x1,y1,x2,y2]]<|end_of_box|> 0-1000", answer_kind::boxes,
     {}, detail::grid(1000), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_glm(s); },
     {"Help me to locate {phrase} in the image and give me its bounding boxes.",
      "zai-org/GLM-V README.md, Grounding (GLM-4.5V)"}},
    {"molmo", "<point x=\"X\" y=\"Y\" alt=\"..\">..</point> in percent (points)",
     answer_kind::points, {}, detail::grid(100), false, {}, {},
     [](detail::scan& s, const geometry&) { detail::scan_molmo(s); },
     {"Point to the object that best matches the expression:\n{phrase}\n",
      "allenai/molmo olmo/data/data_formatter.py refexp_pointing templates"}},
};
// clang-format on

/// The family identifiers, in table order.
inline constexpr auto family_ids = [] {
  std::array<std::string_view, std::size(families)> ids{};
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = families[i].id;
  return ids;
}();

/// The row of `id`, or nullptr.
inline const family_info* find_family(std::string_view id) noexcept {
  for (const auto& f : families)
    if (f.id == id) return &f;
  return nullptr;
}

inline bool is_family(std::string_view f) noexcept { return find_family(f) != nullptr; }

/// The row of `id`; an unknown family is error_kind::config naming `what` and the valid ones.
inline const family_info& require_family(std::string_view id, std::string_view what = "--family") {
  if (const family_info* f = find_family(id)) return *f;
  std::string all;
  for (auto fid : family_ids) all += (all.empty() ? "" : ", ") + std::string(fid);
  throw error(error_kind::config, std::string(what), 0,
              "unknown family '" + std::string(id) + "'; valid: " + all);
}

/// The geometry keys a family accepts (for --geometry KEY=VALUE); every family accepts "clip".
/// An unknown family accepts "clip" only (family_geometry rejects it).
inline std::vector<std::string_view> geometry_keys(std::string_view family) {
  std::vector<std::string_view> k;
  if (const family_info* f = find_family(family))
    for (auto key : f->keys)
      if (!key.empty()) k.push_back(key);
  k.push_back("clip");
  return k;
}

/// The documented geometry of `family` for an image of `original` size, adjusted by `options`
/// (KEY=VALUE pairs, see geometry_keys). Throws error_kind::config for an unknown family, an
/// unknown key (listing the valid ones) or a bad value, error_kind::invalid for a bad size.
inline geometry family_geometry(
    std::string_view family, image_size original,
    const std::vector<std::pair<std::string, std::string>>& options = {}) {
  const family_info& f = require_family(family);
  detail::check_original(original, "--image-size");
  geometry g;
  g.original = original;
  g.pre = f.pre;
  g.space = f.space;
  g.truncate = f.truncate;
  g.send = f.send;
  const geometry defaults = g;
  const auto keys = geometry_keys(family);
  detail::option_state st;
  for (const auto& [key, value] : options) {
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (!known)
      throw error(error_kind::config, "--geometry", 0,
                  "unknown key '" + key + "' for family " + std::string(family) +
                      "; valid keys: " + detail::join_keys(keys));
    detail::apply_geometry_option(g, defaults, st, key, value);
  }
  detail::finish_geometry_options(g, defaults, st);
  if (g.pre.kind == preprocess_kind::smart_resize && g.pre.max_pixels < g.pre.min_pixels)
    throw error(error_kind::config, "--geometry", 0, "max_pixels must be >= min_pixels");
  if (g.pre.kind == preprocess_kind::smart_resize) (void)model_frame(g);  // aspect check now
  return g;
}

}  // namespace groundeval
