// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/prompts.hpp — each family's documented grounding prompt (a column of the
// family table, families.hpp) and the template renderer (one query per phrase, the caption as
// context where the family uses it).
// Target: groundeval::core.
//
// Templates are plain text with placeholders: {phrase} (the phrase), {sentence} (the whole
// caption), {prefix} (the caption text before the phrase, as in Kosmos-2's Flickr protocol).
// "{{" and "}}" are literal braces. Users override a family's template with any string that
// passes validate_prompt_template.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/families.hpp>

#include <string>
#include <string_view>

namespace groundeval {

/// The documented grounding prompt of `family` (its row of the family table; throws
/// error_kind::config for an unknown family).
inline prompt_template default_prompt(std::string_view family) {
  if (const family_info* f = find_family(family)) return f->prompt;
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
