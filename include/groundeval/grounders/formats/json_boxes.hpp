// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/formats/json_boxes.hpp — boxes as JSON arrays under a key: Qwen2.5-VL /
// Qwen3-VL "bbox_2d": [x1, y1, x2, y2] and Gemini "box_2d": [ymin, xmin, ymax, xmax] (plus
// Gemini's "point": [y, x]). A tolerant scanner, not a JSON parser: fenced or bare, cut-off
// answers keep their complete objects. Target: groundeval::core.
#pragma once

#include <groundeval/detail/json_scan.hpp>
#include <groundeval/grounders/formats/brackets.hpp>
#include <groundeval/grounders/formats/scan.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Reads a JSON string starting at t[i] == '"'; returns the index after the closing quote or
/// npos when unterminated / malformed. The one JSON string decoder (detail/json_scan.hpp), with
/// the tolerance model answers need: raw control characters other than a line feed, and lone
/// surrogate escapes, are kept.
inline std::size_t read_json_string(std::string_view t, std::size_t i, std::string& out) {
  return decode_json_string(t, i, out,
                            {.allow_control_characters = true, .allow_lone_surrogates = true})
      .end;
}

/// The keys of a JSON box format.
struct json_keys {
  std::string_view box{};    ///< key of a 4-number box array
  bool y_first = false;      ///< the box is [ymin, xmin, ymax, xmax] (Gemini)
  std::string_view point{};  ///< key of a 2-number point array ([y, x] when y_first); "" = none
};

/// Every `keys.box` key must be followed by ': [n, n, n, n]' (and `keys.point` by ': [n, n]');
/// the "label" string of the same object (before or after the key) labels its box. Works
/// fenced (```json ... ```) or not, and on answers cut off after some complete objects.
inline void scan_json_boxes(scan& sc, const json_keys& keys) {
  const std::string_view t = sc.text;
  const std::string q = "\"" + std::string(keys.box) + "\"";
  struct frame {
    std::string label;
    std::vector<std::size_t> items;
  };
  std::vector<frame> stack;
  std::string s;
  bool found_key = false;
  auto assign = [&](frame& f) {
    if (f.label.empty()) return;
    for (auto idx : f.items)
      if (sc.items[idx].label.empty()) sc.items[idx].label = f.label;
  };
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '{') {
      stack.push_back({});
      ++i;
    } else if (c == '}') {
      if (!stack.empty()) {
        assign(stack.back());
        stack.pop_back();
      }
      ++i;
    } else if (c == '"') {
      const std::size_t start = i;
      const std::size_t e = read_json_string(t, i, s);
      if (e == std::string_view::npos) {
        if (t.find(keys.box, i) != std::string_view::npos)
          sc.problem(start, "unterminated JSON string");
        break;
      }
      i = e;
      std::size_t k = i;
      while (k < t.size() && is_space(t[k])) ++k;
      const bool is_key = k < t.size() && t[k] == ':';
      if (!is_key) continue;
      ++k;
      while (k < t.size() && is_space(t[k])) ++k;
      const bool box = s == keys.box, point = !keys.point.empty() && s == keys.point;
      if (box || point) {
        found_key = true;
        const std::string name = "\"" + s + "\"";
        if (k >= t.size() || t[k] != '[') {
          sc.problem(start, name + " is not followed by an array");
          i = k;
          continue;
        }
        const auto close = t.find(']', k);
        const auto open2 = t.find('[', k + 1);
        if (close == std::string_view::npos) {
          sc.problem(start, "unterminated " + name + " array");
          break;
        }
        raw_item it;
        it.at = start;
        std::string why;
        const std::string_view body = t.substr(k + 1, close - k - 1);
        if (open2 != std::string_view::npos && open2 < close) {
          sc.problem(start, "nested array in " + name);
        } else if (box && parse_four(body, it.v, why)) {
          if (keys.y_first) it.v = {it.v[1], it.v[0], it.v[3], it.v[2]};
          if (!stack.empty()) stack.back().items.push_back(sc.items.size());
          sc.items.push_back(std::move(it));
        } else if (point && split(body, ',').size() == 2 &&
                   parse_number(split(body, ',')[0], it.v[0]) &&
                   parse_number(split(body, ',')[1], it.v[1])) {
          if (keys.y_first) std::swap(it.v[0], it.v[1]);
          it.point = true;
          if (!stack.empty()) stack.back().items.push_back(sc.items.size());
          sc.items.push_back(std::move(it));
        } else {
          sc.problem(start, "malformed " + name + ": " +
                                (box ? why : std::string("expected 2 comma-separated numbers")));
        }
        i = close + 1;
      } else if (s == "label" && k < t.size() && t[k] == '"') {
        std::string lab;
        const std::size_t e2 = read_json_string(t, k, lab);
        if (e2 == std::string_view::npos) break;
        if (!stack.empty()) stack.back().label = lab;
        i = e2;
      } else {
        i = k;
      }
    } else {
      ++i;
    }
  }
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) assign(*it);  // cut-off answers
  if (found_key) return;
  // no box key: a bare box is box-like text in the wrong format
  scan other{sc.text, {}, {}};
  scan_brackets(other, sc.text, 0, false);
  if (!other.items.empty())
    sc.problem(0, "box without a " + q + " key (this family answers in JSON)");
  for (auto& p : other.problems) sc.problems.push_back(std::move(p));
}

}  // namespace groundeval::detail
