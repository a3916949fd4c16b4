// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/formats/tags.hpp — boxes and points written inside tags: Qwen-VL /
// Qwen2-VL "(x1,y1),(x2,y2)" boxes, Kosmos-2 patch-index objects, MiniGPT-v2 "{<x><y><x><y>}",
// MiniCPM-V "<box>x1 y1 x2 y2</box>" and Molmo's "<point x=.. y=..>" / "<points x1=.. ...>".
// Target: groundeval::core.
#pragma once

#include <groundeval/grounders/formats/scan.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Matches "(x1,y1),(x2,y2)" (blanks allowed) at the start of s; returns characters consumed.
inline std::size_t match_paren_pair(std::string_view s, std::array<double, 4>& v) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && is_space(s[i])) ++i;
  };
  auto num = [&](double& out) {
    ws();
    std::size_t k = i;
    if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
    while (k < s.size() && (is_digit(s[k]) || s[k] == '.')) ++k;
    if (!parse_number(s.substr(i, k - i), out)) return false;
    i = k;
    ws();
    return true;
  };
  auto ch = [&](char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  if (!(ch('(') && num(v[0]) && ch(',') && num(v[1]) && ch(')') && ch(',') && ch('(') &&
        num(v[2]) && ch(',') && num(v[3]) && ch(')')))
    return 0;
  return i;
}

/// Qwen-VL / Qwen2-VL: [ref]label[/ref][box](x1,y1),(x2,y2)[/box], repeatable; several boxes
/// may follow one ref. Without any box tag (special tokens stripped by the server, or the
/// official completion prompt that ends in the open tag) bare "(x1,y1),(x2,y2)" pairs are read.
inline void scan_ref_box(scan& sc, std::string_view ref_open, std::string_view ref_close,
                         std::string_view box_open, std::string_view box_close) {
  const std::string_view t = sc.text;
  std::size_t pos = 0;
  std::string label;
  std::size_t label_end = 0;
  bool any_tag = false;
  // official Qwen-VL completion: the prompt ends with <box>, the answer with </box>
  {
    const auto first_close = t.find(box_close);
    const auto first_open = t.find(box_open);
    const auto lead = trim(t.substr(0, first_close == std::string_view::npos ? 0 : first_close));
    if (first_close != std::string_view::npos &&
        (first_open == std::string_view::npos || first_close < first_open) && !lead.empty() &&
        lead.front() == '(') {
      raw_item it;
      if (match_paren_pair(lead, it.v) == lead.size())
        sc.items.push_back(it);
      else
        sc.problem(0, "malformed box '" + std::string(lead) + "'");
      pos = first_close + box_close.size();
      any_tag = true;
    }
  }
  while (true) {
    const auto k = t.find(box_open, pos);
    const auto r = t.find(ref_open, pos);
    if (r != std::string_view::npos && (k == std::string_view::npos || r < k)) {
      const auto rc = t.find(ref_close, r + ref_open.size());
      if (rc == std::string_view::npos) {
        sc.problem(r, "unterminated " + std::string(ref_open));
        break;
      }
      label = std::string(trim(t.substr(r + ref_open.size(), rc - r - ref_open.size())));
      label_end = rc + ref_close.size();
      pos = label_end;
      continue;
    }
    if (k == std::string_view::npos) break;
    any_tag = true;
    const auto c = t.find(box_close, k + box_open.size());
    if (c == std::string_view::npos) {
      sc.problem(k, "unterminated " + std::string(box_open));
      break;
    }
    const auto body = trim(t.substr(k + box_open.size(), c - k - box_open.size()));
    raw_item it;
    if (match_paren_pair(body, it.v) == body.size() && !body.empty()) {
      // a ref labels the boxes that follow it, until other text intervenes
      const auto gap = trim(t.substr(label_end, k - label_end));
      it.label = gap.empty() && label_end > 0 ? label : std::string{};
      sc.items.push_back(std::move(it));
      label_end = gap.empty() && label_end > 0 ? c + box_close.size() : label_end;
    } else {
      sc.problem(k, "malformed box '" + std::string(body) + "'");
    }
    pos = c + box_close.size();
  }
  if (any_tag) return;
  for (std::size_t i = 0; (i = t.find('(', i)) != std::string_view::npos; ++i) {
    raw_item it;
    const std::size_t n = match_paren_pair(t.substr(i), it.v);
    if (n > 0) {
      sc.items.push_back(it);
      i += n - 1;
    }
  }
}

/// Kosmos-2: [phrase]label[/phrase][object]<patch_index_AAAA><patch_index_BBBB>
/// [</delimiter_of_multi_objects/> ...][/object].
inline void scan_kosmos(scan& sc, int n) {
  const std::string_view t = sc.text;
  constexpr std::string_view delim = "</delimiter_of_multi_objects/>", patch = "<patch_index_";
  const bool any = for_each_block(
      sc, "<object>", "</object>", [&](std::size_t k, std::size_t inner, std::size_t c) {
        const std::string label = adjacent_label(t, k, "<phrase>", "</phrase>");
        std::string_view body = t.substr(inner, c - inner);
        std::size_t part_start = 0;
        while (part_start <= body.size()) {
          auto d = body.find(delim, part_start);
          if (d == std::string_view::npos) d = body.size();
          const auto part = trim(body.substr(part_start, d - part_start));
          long a = -1, b = -1;
          const std::size_t e1 = read_loc(part, 0, patch, 4, a);
          std::size_t e2 = e1;
          if (e1 != std::string_view::npos) {
            while (e2 < part.size() && is_space(part[e2])) ++e2;
            e2 = read_loc(part, e2, patch, 4, b);
          }
          if (e2 == std::string_view::npos || e2 != part.size()) {
            sc.problem(k, "malformed <object> part '" + std::string(part) + "'");
          } else if (a >= long(n) * n || b >= long(n) * n) {
            sc.problem(k, "patch index beyond the " + std::to_string(n) + "x" + std::to_string(n) +
                              " grid");
          } else {
            raw_item it;
            it.v = {double(a), double(b), 0.0, 0.0};
            it.patch = true;
            it.label = label;
            sc.items.push_back(std::move(it));
          }
          part_start = d + delim.size();
        }
        return std::string_view::npos;
      });
  if (!any && t.find(patch) != std::string_view::npos)
    sc.problem(t.find(patch), "patch indices outside <object>...</object>");
}

/// MiniGPT-v2: "<p>label</p> {<x1><y1><x2><y2>}" with "<delim>" between boxes of one phrase.
inline void scan_minigpt(scan& sc) {
  const std::string_view t = sc.text;
  std::string label;
  std::size_t label_end = std::string_view::npos;
  std::size_t i = 0;
  while (i < t.size()) {
    const auto p = t.find("<p>", i);
    auto brace = t.find('{', i);
    while (brace != std::string_view::npos) {  // only "{<" opens a box
      std::size_t k = brace + 1;
      while (k < t.size() && is_space(t[k])) ++k;
      if (k < t.size() && t[k] == '<') break;
      brace = t.find('{', brace + 1);
    }
    if (p != std::string_view::npos && (brace == std::string_view::npos || p < brace)) {
      const auto pc = t.find("</p>", p);
      if (pc == std::string_view::npos) {
        sc.problem(p, "unterminated <p>");
        break;
      }
      label = std::string(trim(t.substr(p + 3, pc - p - 3)));
      label_end = pc + 4;
      i = label_end;
      continue;
    }
    if (brace == std::string_view::npos) break;
    const auto close = t.find('}', brace);
    if (close == std::string_view::npos) {
      sc.problem(brace, "unterminated '{<' box");
      break;
    }
    const auto body = t.substr(brace + 1, close - brace - 1);
    std::vector<double> vals;
    bool ok = true;
    for (std::size_t k = 0; k < body.size();) {
      if (is_space(body[k])) {
        ++k;
        continue;
      }
      const auto gt = body.find('>', k);
      double v = 0;
      if (body[k] != '<' || gt == std::string_view::npos ||
          !parse_number(body.substr(k + 1, gt - k - 1), v)) {
        ok = false;
        break;
      }
      vals.push_back(v);
      k = gt + 1;
    }
    if (!ok || vals.size() != 4) {
      sc.problem(brace, "malformed box '{" + std::string(body) + "}'");
    } else {
      raw_item it;
      it.v = {vals[0], vals[1], vals[2], vals[3]};
      if (label_end != std::string_view::npos) {
        std::string gap(t.substr(label_end, brace - label_end));
        for (auto d = gap.find("<delim>"); d != std::string::npos; d = gap.find("<delim>"))
          gap.erase(d, 7);
        if (trim(gap).empty()) {
          it.label = label;
          label_end = close + 1;
        } else {
          label_end = std::string_view::npos;
        }
      }
      sc.items.push_back(std::move(it));
    }
    i = close + 1;
  }
}

/// Numbers separated by blanks and/or commas (the whole string); false on anything else.
inline bool parse_number_list(std::string_view s, std::vector<double>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == ',')) ++i;
    if (i == s.size()) break;
    std::size_t k = i;
    while (k < s.size() && !is_space(s[k]) && s[k] != ',') ++k;
    double v = 0;
    if (!parse_number(s.substr(i, k - i), v)) return false;
    out.push_back(v);
    i = k;
  }
  return true;
}

/// MiniCPM-V: "<ref>label</ref><box>x1 y1 x2 y2</box>" (blank-separated, commas tolerated),
/// several <box> blocks allowed; "<point>x y</point>" is a point (MiniCPM-V's training format,
/// maintainer Cuiunbo in OpenBMB/MiniCPM-V#185). Numbers outside these tags are prose.
inline void scan_minicpm(scan& sc) {
  const std::string_view t = sc.text;
  struct tag {
    std::string_view open, close;
    std::size_t count;
    bool point;
  };
  static constexpr tag tags[] = {{"<box>", "</box>", 4, false}, {"<point>", "</point>", 2, true}};
  for (const tag& g : tags) {
    for (std::size_t k = t.find(g.open); k != std::string_view::npos; k = t.find(g.open, k + 1)) {
      const std::size_t inner = k + g.open.size();
      const auto c = t.find(g.close, inner);
      const auto again = t.find(g.open, inner);
      if (c == std::string_view::npos || (again != std::string_view::npos && again < c)) {
        sc.problem(k, "unterminated " + std::string(g.open));
        continue;
      }
      const std::string_view body = t.substr(inner, c - inner);
      std::vector<double> v;
      if (!parse_number_list(body, v) || v.size() != g.count) {
        sc.problem(k, "malformed " + std::string(g.open) + " '" + std::string(trim(body)) +
                          "': expected " + std::to_string(g.count) + " numbers");
        continue;
      }
      raw_item it;
      it.at = k;
      it.point = g.point;
      for (std::size_t n = 0; n < g.count; ++n) it.v[n] = v[n];
      it.label = adjacent_label(t, k, "<ref>", "</ref>");
      sc.items.push_back(std::move(it));
    }
  }
  // text order (boxes and points were collected tag kind by tag kind)
  std::stable_sort(sc.items.begin(), sc.items.end(),
                   [](const raw_item& a, const raw_item& b) { return a.at < b.at; });
}

/// The attributes name="value" of one tag body (without the tag name); false when malformed.
inline bool read_attributes(std::string_view s,
                            std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) return true;
    std::size_t k = i;
    while (k < s.size() && s[k] != '=' && !is_space(s[k])) ++k;
    const std::string_view name = s.substr(i, k - i);
    while (k < s.size() && is_space(s[k])) ++k;
    if (name.empty() || k >= s.size() || s[k] != '=') return false;
    ++k;
    while (k < s.size() && is_space(s[k])) ++k;
    if (k >= s.size() || (s[k] != '"' && s[k] != '\'')) return false;
    const char q = s[k];
    const auto e = s.find(q, k + 1);
    if (e == std::string_view::npos) return false;
    out.emplace_back(name, s.substr(k + 1, e - k - 1));
    i = e + 1;
  }
}

/// Molmo: <point x="X" y="Y" alt="A">text</point> and <points x1="X" y1="Y" x2=.. y2=.. ...
/// alt="A">text</points>, X and Y in percent of the image (allenai/molmo data_formatter.py
/// points_to_text; its extract_points treats a value above 100 as invalid, so they are
/// reported here). The label is the alt text.
inline void scan_molmo(scan& sc) {
  const std::string_view t = sc.text;
  std::vector<std::pair<std::string_view, std::string_view>> attrs;
  for (std::size_t k = t.find("<point"); k != std::string_view::npos; k = t.find("<point", k + 1)) {
    const bool many = t.substr(k, 7) == "<points";
    const std::size_t name_end = k + (many ? 7 : 6);
    if (name_end < t.size() && !is_space(t[name_end]) && t[name_end] != '>') continue;  // <pointer
    const auto gt = t.find('>', name_end);
    if (gt == std::string_view::npos) {
      sc.problem(k, "unterminated <point> tag");
      break;
    }
    if (!read_attributes(t.substr(name_end, gt - name_end), attrs)) {
      sc.problem(k, "malformed attributes in '" + std::string(t.substr(k, gt + 1 - k)) + "'");
      continue;
    }
    std::string alt;
    for (const auto& [n, v] : attrs)
      if (n == "alt") alt = std::string(v);
    // x / y (one point) or x1 y1, x2 y2, ... (several), in attribute order of the x's
    std::size_t found = 0;
    for (const auto& [n, v] : attrs) {
      if (n.empty() || n[0] != 'x') continue;
      const std::string_view suffix = n.substr(1);
      bool digits_only = true;
      for (char c : suffix) digits_only = digits_only && is_digit(c);
      if (!digits_only || suffix.empty() != !many) continue;
      std::string_view yv;
      bool has_y = false;
      for (const auto& [n2, v2] : attrs)
        if (n2.size() == n.size() && n2[0] == 'y' && n2.substr(1) == suffix) {
          yv = v2;
          has_y = true;
        }
      ++found;
      raw_item it;
      it.at = k;
      it.point = true;
      it.label = alt;
      if (!has_y) {
        sc.problem(k, "attribute " + std::string(n) + " without y" + std::string(suffix));
      } else if (!parse_number(v, it.v[0]) || !parse_number(yv, it.v[1])) {
        sc.problem(k, "point '" + std::string(v) + "', '" + std::string(yv) +
                          "' is not a pair of plain numbers");
      } else if (it.v[0] < 0 || it.v[1] < 0 || it.v[0] > 100 || it.v[1] > 100) {
        sc.problem(k, "point (" + std::string(v) + ", " + std::string(yv) +
                          ") outside 0-100 (Molmo's points are percentages)");
      } else {
        sc.items.push_back(std::move(it));
      }
    }
    if (found == 0) sc.problem(k, "<point> tag without coordinates");
  }
}

}  // namespace groundeval::detail
