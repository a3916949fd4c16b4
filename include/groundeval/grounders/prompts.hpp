// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/prompts.hpp — each family's documented grounding prompt and the template
// renderer (one query per phrase, the caption as context where the family uses it).
// Target: groundeval::core.
//
// Templates are plain text with placeholders: {phrase} (the phrase), {sentence} (the whole
// caption), {prefix} (the caption text before the phrase, as in Kosmos-2's Flickr protocol).
// "{{" and "}}" are literal braces. Users override a family's template with any string that
// passes validate_prompt_template.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>

#include <string>
#include <string_view>

namespace groundeval {

/// A prompt template and where it comes from.
struct prompt_template {
  std::string_view text;
  std::string_view source;
};

/// The documented grounding prompt of `family` (throws error_kind::config for an unknown one).
inline prompt_template default_prompt(std::string_view family) {
  // LLaVA-1.5 was trained on normalized floats with this REC prompt; asking it for pixels is a
  // known mistake (it never saw pixel coordinates).
  if (family == "llava")
    return {
        "Please provide the bounding box coordinate of the region this sentence describes: "
        "{phrase}",
        "LLaVA-1.5 llava_v1_5_mix665k REC prompt (also lmms-eval refcoco_bbox_rec)"};
  if (family == "shikra")
    return {"Can you point out {phrase} in the image and provide the coordinates of its location?",
            "shikras/shikra config/_base_/dataset/template/REC.json (image placeholder dropped: "
            "the image is sent separately)"};
  if (family == "qwen-vl")
    return {"<ref>{phrase}</ref><box>",
            "QwenLM/Qwen-VL eval_mm/evaluate_grounding.py (completion prompt; the answer ends "
            "with </box>)"};
  if (family == "qwen2-vl")
    return {
        "Output the bounding box in the image corresponding to the instruction \"{phrase}\" "
        "with grounding.",
        "prompt used for Qwen2-VL in likaixin2000/ScreenSpot-Pro-GUI-Grounding (issue #7); "
        "answers <|box_start|>(x1,y1),(x2,y2)<|box_end|> in 0-1000"};
  if (family == "qwen2.5-vl")
    return {"Locate {phrase} in this image and output the bbox coordinates in JSON format.",
            "Qwen maintainers' RefCOCO prompt, QwenLM/Qwen3-VL issue #991"};
  if (family == "qwen3-vl")
    return {"Locate {phrase} in this image and output the bbox coordinates in JSON format.",
            "same JSON grounding prompt as Qwen2.5-VL (QwenLM/Qwen3-VL cookbooks/2d_grounding); "
            "coordinates are 0-1000"};
  if (family == "kosmos-2")
    return {"<grounding>{prefix} <phrase>{phrase}</phrase>",
            "microsoft/unilm kosmos-2/evaluation/flickr_entities/cook_data.py: caption prefix up "
            "to the phrase, then the phrase in grounding tags; the model continues with "
            "<object>...</object>"};
  if (family == "florence-2")
    return {"<CAPTION_TO_PHRASE_GROUNDING>{phrase}",
            "Florence-2 model card task token (use {sentence} to ground the whole caption)"};
  if (family == "cogvlm")
    return {
        "Can you point out {phrase} in the image and provide the bounding boxes of their "
        "location?",
        "THUDM/CogVLM README.md (caption2box template example)"};
  if (family == "minigpt-v2")
    return {"[refer] give me the location of {phrase}",
            "Vision-CAIR/MiniGPT-4 eval_scripts/eval_ref.py ([refer] task identifier)"};
  if (family == "paligemma")
    return {"detect {phrase}", "PaliGemma README: 'detect {thing} ; {thing}' task prefix"};
  if (family == "internvl")
    return {
        "Please provide the bounding box coordinate of the region this sentence describes: "
        "<ref>{phrase}</ref>",
        "OpenGVLab/InternVL internvl_chat/eval/refcoco/evaluate_grounding.py"};
  if (family == "ferret")
    return {"What are the locations of {phrase}?",
            "apple/ml-ferret ferret/eval/model_flickr.py (one phrase instead of the caption's "
            "list)"};
  if (family == "pixel")
    return {
        "Locate {phrase} in the image. Answer with its bounding box in pixels as [x1, y1, "
        "x2, y2].",
        "groundeval's own generic prompt (no model documents it)"};
  throw error(error_kind::config, "prompt", 0,
              "no prompt for unknown family '" + std::string(family) + "'");
}

namespace detail {
/// Walks a template; calls on_text(literal) and on_field(name). Throws on bad syntax.
template <class T, class F>
void walk_template(std::string_view t, T&& on_text, F&& on_field) {
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      on_text(std::string_view("{"));
      i += 2;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      on_text(std::string_view("}"));
      i += 2;
    } else if (c == '{') {
      const auto e = t.find('}', i);
      if (e == std::string_view::npos)
        throw error(error_kind::config, "prompt template", 0,
                    "unterminated '{' at offset " + std::to_string(i));
      const auto name = t.substr(i + 1, e - i - 1);
      if (name != "phrase" && name != "sentence" && name != "prefix")
        throw error(error_kind::config, "prompt template", 0,
                    "unknown placeholder {" + std::string(name) +
                        "}; valid: {phrase}, {sentence}, {prefix}");
      on_field(name);
      i = e + 1;
    } else if (c == '}') {
      throw error(error_kind::config, "prompt template", 0,
                  "lone '}' at offset " + std::to_string(i) + " (write '}}')");
    } else {
      const auto e = t.find_first_of("{}", i);
      const auto end = e == std::string_view::npos ? t.size() : e;
      on_text(t.substr(i, end - i));
      i = end;
    }
  }
}
}  // namespace detail

/// Throws error_kind::config when `tmpl` has an unknown placeholder or unbalanced braces, or no
/// {phrase} / {sentence} at all (a prompt that does not say what to find).
inline void validate_prompt_template(std::string_view tmpl) {
  bool names_target = false;
  detail::walk_template(
      tmpl, [](std::string_view) {},
      [&](std::string_view f) { names_target = names_target || f != "prefix"; });
  if (!names_target)
    throw error(error_kind::config, "prompt template", 0,
                "the template must contain {phrase} or {sentence}");
}

/// Fills the placeholders of `tmpl` for query `q`. {prefix} is q.sentence[0, char_begin)
/// (empty when the span is out of range).
inline std::string render_prompt(std::string_view tmpl, const phrase_query& q) {
  std::string out;
  detail::walk_template(
      tmpl, [&](std::string_view s) { out += s; },
      [&](std::string_view f) {
        if (f == "phrase")
          out += q.phrase;
        else if (f == "sentence")
          out += q.sentence;
        else if (q.char_begin <= q.sentence.size())
          out += q.sentence.substr(0, q.char_begin);
      });
  return out;
}

}  // namespace groundeval
