// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/formats/brackets.hpp — box lists in square brackets: bare "[x1, y1, x2,
// y2]" (LLaVA, Ferret, pixel), ";"-joined lists (Shikra, CogVLM) and lists inside a pair of
// tags (InternVL <box>, DeepSeek-VL2 <|det|>, GLM-4.xV <|begin_of_box|>). Target:
// groundeval::core.
#pragma once

#include <groundeval/grounders/formats/scan.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval::detail {

/// Innermost [...] groups. A group is box-like when its content is made only of numbers and
/// separators (at least two numbers), or is four comma-separated short fields ("[x1, y1, x2,
/// y2]"). Box-like groups must hold 4 numbers (or, with `semicolons`, ;-joined quadruples);
/// other groups ("[1]", "[citation needed]") are prose.
inline void scan_brackets(scan& sc, std::string_view text, std::size_t base, bool semicolons,
                          const std::string& label = {}) {
  std::size_t i = 0;
  while ((i = text.find('[', i)) != std::string_view::npos) {
    const std::size_t j = text.find_first_of("[]", i + 1);
    if (j == std::string_view::npos) {
      const auto rest = trim(text.substr(i + 1));
      if (!rest.empty() && (is_digit(rest[0]) || rest[0] == '-' || rest[0] == '.'))
        sc.problem(base + i, "unterminated '[' list");
      return;
    }
    if (text[j] == '[') {  // not innermost
      i = j;
      continue;
    }
    const std::string_view content = text.substr(i + 1, j - i - 1);
    bool numeric = true;
    std::size_t digits = 0;
    for (char c : content) {
      if (is_digit(c))
        ++digits;
      else if (!(c == '.' || c == ',' || c == ';' || c == '-' || c == '+' || is_space(c)))
        numeric = false;
    }
    if (numeric && digits > 0) {
      const bool has_sep = content.find_first_of(",;") != std::string_view::npos;
      if (!has_sep) {
        // a single number ("[1]") is a citation; several blank-separated numbers are box-like
        std::size_t words = 0;
        for (std::size_t k = 0; k < content.size(); ++k)
          if (!is_space(content[k]) && (k == 0 || is_space(content[k - 1]))) ++words;
        if (words > 1) sc.problem(base + i, "numbers in '[...]' not separated by commas");
      } else if (content.find(';') != std::string_view::npos && !semicolons) {
        sc.problem(base + i, "';' inside a box list is not part of this family's format");
      } else {
        for (auto group : split(content, ';')) {
          raw_item it;
          std::string why;
          if (parse_four(group, it.v, why)) {
            it.label = label;
            it.at = base + i;
            sc.items.push_back(std::move(it));
          } else {
            sc.problem(base + i, "malformed box '[" + std::string(content) + "]': " + why);
          }
        }
      }
    } else if (!numeric) {
      const auto parts = split(content, ',');
      bool short_fields = parts.size() == 4;
      for (auto p : parts) {
        const auto t = trim(p);
        if (t.empty() || t.size() > 8) short_fields = false;
        for (char c : t)
          if (is_space(c)) short_fields = false;
      }
      if (short_fields) sc.problem(base + i, "non-numeric box '[" + std::string(content) + "]'");
    }
    i = j + 1;
  }
}

/// Tags around bracket lists: [ref_open]label[ref_close][box_open][[...], ...][box_close].
struct tagged_lists {
  std::string_view ref_open, ref_close, box_open, box_close;
  bool nested_open_is_unterminated = false;  ///< a box_open before the box_close: the first
                                             ///< one was cut off (reported, skipped)
};

/// Lists inside tag pairs; without any box tag the bare lists of the whole text are read (the
/// official InternVL evaluator's regex does the same; servers that strip special tokens leave
/// them bare).
inline void scan_tagged_lists(scan& sc, const tagged_lists& tags) {
  const std::string_view t = sc.text;
  const bool any = for_each_block(
      sc, tags.box_open, tags.box_close, [&](std::size_t k, std::size_t inner, std::size_t c) {
        if (tags.nested_open_is_unterminated) {
          const auto again = t.find(tags.box_open, inner);
          if (again != std::string_view::npos && again < c) {
            sc.problem(k, "unterminated " + std::string(tags.box_open));
            return again;
          }
        }
        const std::string label = tags.ref_open.empty()
                                      ? std::string{}
                                      : adjacent_label(t, k, tags.ref_open, tags.ref_close);
        const std::size_t before = sc.items.size(), before_p = sc.problems.size();
        scan_brackets(sc, t.substr(inner, c - inner), inner, false, label);
        if (sc.items.size() == before && sc.problems.size() == before_p)
          sc.problem(k, std::string(tags.box_open) + " without a [[x1, y1, x2, y2]] list");
        return std::string_view::npos;
      });
  if (!any) scan_brackets(sc, t, 0, false);
}

/// InternVL: "<ref>label</ref><box>[[x1, y1, x2, y2], ...]</box>".
inline void scan_internvl(scan& sc) {
  scan_tagged_lists(sc, {"<ref>", "</ref>", "<box>", "</box>"});
}

/// DeepSeek-VL2: "<|ref|>label<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>".
inline void scan_deepseek_vl2(scan& sc) {
  scan_tagged_lists(sc, {"<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", true});
}

/// "x1, y1, x2, y2" wrapped in one pair of ( ), < > or [ ] (GLM's "the bracket style may vary").
inline bool parse_wrapped_four(std::string_view s, std::array<double, 4>& v) {
  s = trim(s);
  if (s.size() < 2) return false;
  const char o = s.front(), c = s.back();
  if (!((o == '(' && c == ')') || (o == '<' && c == '>') || (o == '[' && c == ']'))) return false;
  std::string why;
  return parse_four(s.substr(1, s.size() - 2), v, why);
}

/// Removes "<think>...</think>" sections (reasoning that may hold draft boxes); an unterminated
/// one runs to the end.
inline std::string without_thinking(std::string_view t) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto o = t.find("<think>", pos);
    if (o == std::string_view::npos) break;
    out.append(t.substr(pos, o - pos));
    const auto c = t.find("</think>", o);
    if (c == std::string_view::npos) return out;
    pos = c + 8;
  }
  out.append(t.substr(pos));
  return out;
}

/// GLM-4.1V / 4.5V / 4.6V: the answer's boxes between "<|begin_of_box|>" and "<|end_of_box|>",
/// "[[x1,y1,x2,y2], ...]" or one box in ( ), < > or [ ]. Text between the markers that holds no
/// box-like text is an answer of another kind (the markers wrap any final answer) and is
/// ignored. Without markers (a server that strips special tokens) the bare lists outside
/// <think> sections are read.
inline void scan_glm(scan& sc) {
  const std::string_view t = sc.text;
  const bool any = for_each_block(
      sc, "<|begin_of_box|>", "<|end_of_box|>", [&](std::size_t, std::size_t inner, std::size_t c) {
        const std::string_view body = t.substr(inner, c - inner);
        raw_item it;
        it.at = inner;
        if (const auto b = trim(body);
            !b.empty() && b.front() != '[' && parse_wrapped_four(b, it.v))
          sc.items.push_back(std::move(it));
        else
          scan_brackets(sc, body, inner, false);
        return std::string_view::npos;
      });
  if (any) return;
  const std::string rest = without_thinking(t);
  scan bare{rest, {}, {}};
  scan_brackets(bare, rest, 0, false);
  for (auto& i : bare.items) sc.items.push_back(std::move(i));
  for (auto& p : bare.problems) sc.problems.push_back(std::move(p));
}

/// The `pixel` family: bare [x1, y1, x2, y2] lists, except those that are the value of a
/// "box_2d" key, which is Gemini's [ymin, xmin, ymax, xmax] in 0-1000 and would come out with
/// both axes and the scale wrong: those are reported, not decoded.
inline void scan_pixel(scan& sc) {
  scan_brackets(sc, sc.text, 0, false);
  const std::string_view t = sc.text;
  for (std::size_t k = t.find("box_2d"); k != std::string_view::npos; k = t.find("box_2d", k + 6)) {
    if (k > 0 && (t[k - 1] == '_' || (t[k - 1] >= 'a' && t[k - 1] <= 'z'))) continue;  // bbox_2d
    std::size_t j = k + 6;
    if (j < t.size() && (t[j] == '"' || t[j] == '\'')) ++j;
    while (j < t.size() && is_space(t[j])) ++j;
    if (j >= t.size() || (t[j] != ':' && t[j] != '=')) continue;
    ++j;
    while (j < t.size() && is_space(t[j])) ++j;
    if (j >= t.size() || t[j] != '[') continue;
    for (std::size_t n = 0; n < sc.items.size(); ++n)
      if (sc.items[n].at == j) {
        sc.items.erase(sc.items.begin() + static_cast<std::ptrdiff_t>(n));
        sc.problem(j,
                   "\"box_2d\" holds Gemini's [ymin, xmin, ymax, xmax] in 0-1000, not pixel "
                   "[x1, y1, x2, y2] (use family gemini)");
        break;
      }
  }
}

}  // namespace groundeval::detail
