// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/parsers.hpp — box-format parsers for the generalist VLM families: model
// text -> zero or more boxes in original-image pixels (+ the phrase label where the format has
// one), through the family's geometry contract (geometry.hpp). Target: groundeval::core.
//
// The interpretation is fixed by the family before any ground truth is seen: no "best of
// several readings". Numbers in prose are never boxes; box-like text that does not follow the
// family's format is reported (format_failure when nothing else parsed, otherwise status ok with
// `partial` set and the reason naming what was skipped). docs/generalist.md lists each family's
// convention with its source.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/geometry.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// The family identifiers, used everywhere (CLI, grounder specs, manifests).
inline constexpr std::array<std::string_view, 14> family_ids = {
    "llava",      "shikra", "qwen-vl",    "qwen2-vl",  "qwen2.5-vl", "qwen3-vl", "kosmos-2",
    "florence-2", "cogvlm", "minigpt-v2", "paligemma", "internvl",   "ferret",   "pixel"};

inline bool is_family(std::string_view f) noexcept {
  for (auto id : family_ids)
    if (id == f) return true;
  return false;
}

/// One decoded box.
struct parsed_box {
  box_xyxy<double> box{};       ///< original-image pixels
  std::array<double, 4> raw{};  ///< the values as written, reordered to x1, y1, x2, y2 (Kosmos-2:
                                ///< upper-left and lower-right patch index, 0, 0)
  std::string label;            ///< phrase label when the format carries one, else empty
  std::uint8_t flags = box_flag_none;  ///< box_flags bits (swapped, clipped)
};

/// Result of parsing one answer.
struct parse_result {
  query_status status = query_status::empty;  ///< ok / empty / format_failure (never error)
  std::vector<parsed_box> boxes;              ///< in the order they appear in the text
  std::string reason;    ///< why format_failure / empty, or what was skipped when partial
  bool partial = false;  ///< some box-like text was malformed and skipped (status stays ok)
  geometry geom{};       ///< the contract used
  /// Union of the boxes' flag bits.
  std::uint8_t flags() const noexcept {
    std::uint8_t f = 0;
    for (const auto& b : boxes) f |= b.flags;
    return f;
  }
};

/// The geometry keys a family accepts (for --geometry KEY=VALUE); every family accepts "clip".
inline std::vector<std::string_view> geometry_keys(std::string_view family) {
  std::vector<std::string_view> k;
  if (family == "llava" || family == "shikra")
    k = {"frame"};
  else if (family == "qwen-vl")
    k = {"divisor"};
  else if (family == "qwen2.5-vl")
    k = {"min_pixels", "max_pixels", "factor"};
  else if (family == "kosmos-2")
    k = {"decode"};
  else if (family == "florence-2")
    k = {"truncate"};
  else if (family == "pixel")
    k = {"input"};
  k.push_back("clip");
  return k;
}

namespace detail {
inline std::string join_keys(const std::vector<std::string_view>& keys) {
  std::string s;
  for (auto k : keys) {
    if (!s.empty()) s += ", ";
    s += k;
  }
  return s;
}
inline long long parse_positive(std::string_view key, std::string_view v) {
  long long x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc{} || p != v.data() + v.size() || x <= 0)
    throw error(error_kind::config, "--geometry", 0,
                std::string(key) + " must be a positive integer, got '" + std::string(v) + "'");
  return x;
}
inline bool parse_bool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw error(error_kind::config, "--geometry", 0,
              std::string(key) + " must be true or false, got '" + std::string(v) + "'");
}
[[noreturn]] inline void bad_value(std::string_view key, std::string_view v,
                                   std::string_view valid) {
  throw error(error_kind::config, "--geometry", 0,
              "invalid value '" + std::string(v) + "' for " + std::string(key) +
                  "; valid: " + std::string(valid));
}
}  // namespace detail

/// The documented geometry of `family` for an image of `original` size, adjusted by `options`
/// (KEY=VALUE pairs, see geometry_keys). Throws error_kind::config for an unknown family, an
/// unknown key (listing the valid ones) or a bad value, error_kind::invalid for a bad size.
inline geometry family_geometry(
    std::string_view family, image_size original,
    const std::vector<std::pair<std::string, std::string>>& options = {}) {
  if (!is_family(family)) {
    std::string all;
    for (auto id : family_ids) all += (all.empty() ? "" : ", ") + std::string(id);
    throw error(error_kind::config, "--family", 0,
                "unknown family '" + std::string(family) + "'; valid: " + all);
  }
  detail::check_original(original, "--image-size");
  geometry g;
  g.original = original;
  using P = preprocess_kind;
  using S = coord_space_kind;
  auto grid = [&](int bins, bin_decode d) {
    g.space.kind = S::grid;
    g.space.bins = bins;
    g.space.decode = d;
  };
  auto stretch = [&](int side) {
    g.pre.kind = P::stretch;
    g.pre.target = {side, side};
  };
  if (family == "llava") {  // expand2square, CLIP 336, normalized floats
    g.pre.kind = P::pad_square;
    g.pre.target = {336, 336};
  } else if (family == "shikra") {  // white Expand2square, CLIP 224, 3-decimal floats
    g.pre.kind = P::pad_square;
    g.pre.target = {224, 224};
  } else if (family == "qwen-vl") {  // 448 stretch, official eval divides by 999
    stretch(448);
    grid(999, bin_decode::edge);
  } else if (family == "qwen2-vl") {  // smart_resize (aspect kept), [0, 1000)
    g.pre.kind = P::smart_resize;
    grid(1000, bin_decode::edge);
  } else if (family == "qwen2.5-vl") {  // absolute pixels of the smart-resized input
    g.pre.kind = P::smart_resize;
    g.space.kind = S::input_pixels;
  } else if (family == "qwen3-vl") {  // relative 0-1000 again (round(x / w * 1000))
    grid(1000, bin_decode::edge);
  } else if (family == "kosmos-2") {  // 224 input, 32 x 32 patch grid
    stretch(224);
    g.space.kind = S::patch_grid;
    g.space.bins = 32;
  } else if (family == "florence-2") {  // 768 input, 1000 bins, bin centre
    stretch(768);
    grid(1000, bin_decode::centre);
  } else if (family == "cogvlm") {  // 490 input, per-mille ints 000-999
    stretch(490);
    grid(1000, bin_decode::edge);
  } else if (family == "minigpt-v2") {  // 448 input, 0-100, bin edge
    stretch(448);
    grid(100, bin_decode::edge);
  } else if (family == "paligemma") {  // square stretch (224/448/896 by checkpoint), 1024 bins
    g.pre.kind = P::stretch;
    grid(1024, bin_decode::edge);
  } else if (family == "internvl") {  // dynamic tiles of the original, ints 0-1000
    grid(1000, bin_decode::edge);
  } else if (family == "ferret") {  // 336 stretch, int(x * 1000 / W), decode int(v * W / 1000)
    stretch(336);
    grid(1000, bin_decode::edge);
    g.truncate = true;
  } else if (family == "pixel") {  // absolute pixels of the original image
    g.space.kind = S::input_pixels;
  }
  const auto keys = geometry_keys(family);
  for (const auto& [key, value] : options) {
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (!known)
      throw error(error_kind::config, "--geometry", 0,
                  "unknown key '" + key + "' for family " + std::string(family) +
                      "; valid keys: " + detail::join_keys(keys));
    if (key == "clip") {
      g.clip = detail::parse_bool(key, value);
    } else if (key == "frame") {
      if (value == "padded")
        g.pre.kind = P::pad_square;
      else if (value == "original") {
        g.pre.kind = P::none;
        g.pre.target = {};
      } else
        detail::bad_value(key, value, "padded, original");
    } else if (key == "divisor") {
      if (value == "999")
        g.space.bins = 999;
      else if (value == "1000")
        g.space.bins = 1000;
      else
        detail::bad_value(key, value, "999, 1000");
    } else if (key == "min_pixels") {
      g.pre.min_pixels = detail::parse_positive(key, value);
    } else if (key == "max_pixels") {
      g.pre.max_pixels = detail::parse_positive(key, value);
    } else if (key == "factor") {
      const long long f = detail::parse_positive(key, value);
      if (f > 4096) detail::bad_value(key, value, "1 .. 4096");
      g.pre.factor = static_cast<int>(f);
    } else if (key == "decode") {
      if (value == "kosmos")
        g.space.patch = patch_decode::kosmos;
      else if (value == "edge")
        g.space.patch = patch_decode::edge;
      else if (value == "centre" || value == "center")
        g.space.patch = patch_decode::centre;
      else
        detail::bad_value(key, value, "kosmos, edge, centre");
    } else if (key == "truncate") {
      g.truncate = detail::parse_bool(key, value);
    } else if (key == "input") {
      const auto x = value.find('x');
      if (x == std::string::npos) detail::bad_value(key, value, "WxH, e.g. 640x480");
      const long long w = detail::parse_positive(key, std::string_view(value).substr(0, x));
      const long long h = detail::parse_positive(key, std::string_view(value).substr(x + 1));
      if (w > 1000000 || h > 1000000) detail::bad_value(key, value, "sides up to 1000000");
      g.pre.kind = P::stretch;
      g.pre.target = {static_cast<int>(w), static_cast<int>(h)};
    }
  }
  if (g.pre.kind == P::smart_resize && g.pre.max_pixels < g.pre.min_pixels)
    throw error(error_kind::config, "--geometry", 0, "max_pixels must be >= min_pixels");
  if (g.pre.kind == P::smart_resize) (void)model_frame(g);  // aspect-ratio check up front
  return g;
}

// ---- scanning helpers ------------------------------------------------------------------------

namespace detail {

/// A box as found in the text, before mapping.
struct raw_item {
  std::array<double, 4> v{};
  std::string label;
  bool patch = false;  ///< Kosmos-2: v[0], v[1] are patch indices
};

struct scan {
  std::string_view text;
  std::vector<raw_item> items;
  std::vector<std::string> problems;
  void problem(std::size_t at, std::string what) {
    problems.push_back(std::move(what) + " at offset " + std::to_string(at));
  }
};

inline bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// A plain decimal number: optional sign, digits, optional fraction; no exponent, no hex, at
/// most 24 characters (so every accepted value is finite). The whole token must match.
inline bool parse_number(std::string_view tok, double& out) noexcept {
  tok = trim(tok);
  if (tok.empty() || tok.size() > 24) return false;
  std::size_t i = 0;
  if (tok[0] == '-' || tok[0] == '+') ++i;
  std::size_t digits = 0;
  while (i < tok.size() && is_digit(tok[i])) ++i, ++digits;
  if (i < tok.size() && tok[i] == '.') {
    ++i;
    while (i < tok.size() && is_digit(tok[i])) ++i, ++digits;
  }
  if (digits == 0 || i != tok.size()) return false;
  const char* b = tok.data() + (tok[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(b, tok.data() + tok.size(), out);
  return ec == std::errc{} && p == tok.data() + tok.size();
}

/// Splits on `sep` (no trimming).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

/// Parses "a, b, c, d" (exactly four numbers) into v; on failure returns a reason.
inline bool parse_four(std::string_view s, std::array<double, 4>& v, std::string& why) {
  const auto parts = split(s, ',');
  if (parts.size() != 4) {
    why = "expected 4 comma-separated numbers, found " + std::to_string(parts.size()) + " fields";
    return false;
  }
  for (std::size_t i = 0; i < 4; ++i)
    if (!parse_number(parts[i], v[i])) {
      why = "'" + std::string(trim(parts[i])) + "' is not a plain number";
      return false;
    }
  return true;
}

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

/// Reads a JSON string starting at t[i] == '"'; returns the index after the closing quote or
/// npos when unterminated / malformed. Decodes the standard escapes (\uXXXX to UTF-8).
inline std::size_t read_json_string(std::string_view t, std::size_t i, std::string& out) {
  out.clear();
  ++i;
  auto put = [&](unsigned cp) {
    if (cp < 0x80)
      out += char(cp);
    else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  };
  auto hex4 = [&](std::size_t at, unsigned& v) {
    if (at + 4 > t.size()) return false;
    v = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      const char c = t[k];
      v <<= 4;
      if (is_digit(c))
        v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= unsigned(c - 'A' + 10);
      else
        return false;
    }
    return true;
  };
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') return i + 1;
    if (c == '\n') return std::string_view::npos;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= t.size()) return std::string_view::npos;
    const char e = t[i + 1];
    i += 2;
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned cp = 0;
        if (!hex4(i, cp)) return std::string_view::npos;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= t.size() && t[i] == '\\' && t[i + 1] == 'u') {
          unsigned lo = 0;
          if (hex4(i + 2, lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        put(cp);
        break;
      }
      default:
        return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

/// Qwen2.5-VL / Qwen3-VL JSON: every "bbox_2d" key must be followed by ': [n, n, n, n]'; the
/// "label" string of the same object (before or after the key) labels its box. Works fenced
/// (```json ... ```) or not, and on answers cut off after some complete objects.
inline void scan_bbox_2d(scan& sc) {
  const std::string_view t = sc.text;
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
        if (t.find("bbox_2d", i) != std::string_view::npos)
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
      if (s == "bbox_2d") {
        found_key = true;
        if (k >= t.size() || t[k] != '[') {
          sc.problem(start, "\"bbox_2d\" is not followed by an array");
          i = k;
          continue;
        }
        const auto close = t.find(']', k);
        const auto open2 = t.find('[', k + 1);
        if (close == std::string_view::npos) {
          sc.problem(start, "unterminated \"bbox_2d\" array");
          break;
        }
        raw_item it;
        std::string why;
        if (open2 != std::string_view::npos && open2 < close) {
          sc.problem(start, "nested array in \"bbox_2d\"");
        } else if (parse_four(t.substr(k + 1, close - k - 1), it.v, why)) {
          if (!stack.empty()) stack.back().items.push_back(sc.items.size());
          sc.items.push_back(std::move(it));
        } else {
          sc.problem(start, "malformed \"bbox_2d\": " + why);
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
  // no bbox_2d key: a bare box is box-like text in the wrong format
  scan other{sc.text, {}, {}};
  scan_brackets(other, sc.text, 0, false);
  if (!other.items.empty())
    sc.problem(0, "box without a \"bbox_2d\" key (this family answers in JSON)");
  for (auto& p : other.problems) sc.problems.push_back(std::move(p));
}

/// Text of the <open>..</close> block that ends right before `at` (ignoring blanks), or empty.
inline std::string adjacent_label(std::string_view t, std::size_t at, std::string_view open,
                                  std::string_view close) {
  std::size_t e = at;
  while (e > 0 && is_space(t[e - 1])) --e;
  if (e < close.size() || t.substr(e - close.size(), close.size()) != close) return {};
  const auto o = t.rfind(open, e - close.size());
  if (o == std::string_view::npos) return {};
  return std::string(trim(t.substr(o + open.size(), e - close.size() - o - open.size())));
}

/// Reads "<prefix>DIGITS>" at t[i]; returns the end index or npos. `width` 0 = any length.
inline std::size_t read_loc(std::string_view t, std::size_t i, std::string_view prefix,
                            std::size_t width, long& value) {
  if (t.substr(i, prefix.size()) != prefix) return std::string_view::npos;
  std::size_t k = i + prefix.size();
  const std::size_t d0 = k;
  while (k < t.size() && is_digit(t[k]) && k - d0 < 8) ++k;
  const std::size_t nd = k - d0;
  if (nd == 0 || (width && nd != width) || k >= t.size() || t[k] != '>')
    return std::string_view::npos;
  value = std::stol(std::string(t.substr(d0, nd)));
  return k + 1;
}

/// Kosmos-2: [phrase]label[/phrase][object]<patch_index_AAAA><patch_index_BBBB>
/// [</delimiter_of_multi_objects/> ...][/object].
inline void scan_kosmos(scan& sc, int n) {
  const std::string_view t = sc.text;
  constexpr std::string_view open = "<object>", close = "</object>",
                             delim = "</delimiter_of_multi_objects/>", patch = "<patch_index_";
  std::size_t pos = 0;
  bool any = false;
  while (true) {
    const auto k = t.find(open, pos);
    if (k == std::string_view::npos) break;
    any = true;
    const auto c = t.find(close, k);
    if (c == std::string_view::npos) {
      sc.problem(k, "unterminated <object>");
      break;
    }
    const std::string label = adjacent_label(t, k, "<phrase>", "</phrase>");
    std::string_view body = t.substr(k + open.size(), c - k - open.size());
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
        sc.problem(
            k, "patch index beyond the " + std::to_string(n) + "x" + std::to_string(n) + " grid");
      } else {
        raw_item it;
        it.v = {double(a), double(b), 0.0, 0.0};
        it.patch = true;
        it.label = label;
        sc.items.push_back(std::move(it));
      }
      part_start = d + delim.size();
    }
    pos = c + close.size();
  }
  if (!any && t.find(patch) != std::string_view::npos)
    sc.problem(t.find(patch), "patch indices outside <object>...</object>");
}

/// Runs of consecutive location tokens ("<loc_N>" Florence-2, "<locNNNN>" PaliGemma); calls
/// on_run(begin, end, values) per run; malformed tokens are problems.
template <class F>
inline void scan_loc_runs(scan& sc, std::string_view t, std::string_view prefix, std::size_t width,
                          F&& on_run) {
  std::size_t i = 0;
  while ((i = t.find(prefix, i)) != std::string_view::npos) {
    // PaliGemma: "<loc" must not match inside "<loc_": handled by the digit requirement
    std::vector<long> vals;
    const std::size_t begin = i;
    std::size_t k = i;
    while (true) {
      long v = 0;
      const std::size_t e = read_loc(t, k, prefix, width, v);
      if (e == std::string_view::npos) break;
      vals.push_back(v);
      k = e;
      std::size_t k2 = k;
      while (k2 < t.size() && is_space(t[k2])) ++k2;
      if (t.substr(k2, prefix.size()) == prefix) k = k2;
    }
    if (vals.empty()) {
      if (!(prefix == "<loc" && t.substr(i, 5) == "<loc_"))
        sc.problem(i, "malformed location token '" + std::string(t.substr(i, 12)) + "'");
      i += prefix.size();
      continue;
    }
    on_run(begin, k, vals);
    i = k;
  }
}

/// Florence-2: "label<loc_a><loc_b><loc_c><loc_d>" repeated; 4k tokens = k boxes of one label.
inline void scan_florence(scan& sc) {
  // drop the tokenizer's sequence tokens first
  std::string clean;
  clean.reserve(sc.text.size());
  for (std::size_t i = 0; i < sc.text.size();) {
    bool skipped = false;
    for (std::string_view tok : {"</s>", "<s>", "<pad>"})
      if (sc.text.substr(i, tok.size()) == tok) {
        i += tok.size();
        skipped = true;
        break;
      }
    if (!skipped) clean += sc.text[i++];
  }
  const std::string_view t = clean;
  std::size_t prev_end = 0;
  scan_loc_runs(sc, t, "<loc_", 0, [&](std::size_t b, std::size_t e, const std::vector<long>& v) {
    std::string label(trim(t.substr(prev_end, b - prev_end)));
    if (v.size() % 4 != 0) {
      sc.problem(b, std::to_string(v.size()) + " <loc_N> tokens, not a multiple of 4");
    } else {
      for (std::size_t q = 0; q < v.size(); q += 4) {
        raw_item it;
        it.v = {double(v[q]), double(v[q + 1]), double(v[q + 2]), double(v[q + 3])};
        it.label = label;
        sc.items.push_back(std::move(it));
      }
    }
    prev_end = e;
  });
}

/// PaliGemma: "<locY1><locX1><locY2><locX2> label ; ..." (y first), optional <segNNN> tokens.
inline void scan_paligemma(scan& sc) {
  const std::string_view t = sc.text;
  struct run {
    std::size_t b, e;
    std::vector<long> v;
  };
  std::vector<run> runs;
  scan_loc_runs(sc, t, "<loc", 4, [&](std::size_t b, std::size_t e, const std::vector<long>& v) {
    runs.push_back({b, e, v});
  });
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& [b, e, v] = runs[r];
    std::size_t k = e;
    for (long dummy = 0;;) {  // skip segmentation tokens
      while (k < t.size() && is_space(t[k])) ++k;
      const std::size_t e2 = read_loc(t, k, "<seg", 3, dummy);
      if (e2 == std::string_view::npos) break;
      k = e2;
    }
    std::size_t stop = r + 1 < runs.size() ? runs[r + 1].b : t.size();
    const auto semi = t.find(';', k);
    if (semi != std::string_view::npos && semi < stop) stop = semi;
    const std::string label(trim(t.substr(k, stop - k)));
    if (v.size() % 4 != 0) {
      sc.problem(b, std::to_string(v.size()) + " <locNNNN> tokens, not a multiple of 4");
      continue;
    }
    for (std::size_t q = 0; q < v.size(); q += 4) {
      raw_item it;
      it.v = {double(v[q + 1]), double(v[q]), double(v[q + 3]), double(v[q + 2])};
      it.label = label;
      sc.items.push_back(std::move(it));
    }
  }
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

/// InternVL: "<ref>label</ref><box>[[x1, y1, x2, y2], ...]</box>"; without <box> tags the
/// bare [[...]] lists are read (the official evaluator's regex does the same).
inline void scan_internvl(scan& sc) {
  const std::string_view t = sc.text;
  std::size_t pos = 0;
  bool any = false;
  while (true) {
    const auto k = t.find("<box>", pos);
    if (k == std::string_view::npos) break;
    any = true;
    const auto c = t.find("</box>", k);
    if (c == std::string_view::npos) {
      sc.problem(k, "unterminated <box>");
      break;
    }
    const std::string label = adjacent_label(t, k, "<ref>", "</ref>");
    const std::size_t before = sc.items.size(), before_p = sc.problems.size();
    scan_brackets(sc, t.substr(k + 5, c - k - 5), k + 5, false, label);
    if (sc.items.size() == before && sc.problems.size() == before_p)
      sc.problem(k, "<box> without a [[x1, y1, x2, y2]] list");
    pos = c + 6;
  }
  if (!any) scan_brackets(sc, t, 0, false);
}

}  // namespace detail

/// Parses one model answer of `family` with the contract `g` (see family_geometry). Never
/// throws on any text; throws error_kind::config only for an unknown family.
inline parse_result parse_answer(std::string_view family, std::string_view text,
                                 const geometry& g) {
  if (!is_family(family))
    throw error(error_kind::config, "--family", 0, "unknown family '" + std::string(family) + "'");
  detail::scan sc{text, {}, {}};
  if (family == "llava" || family == "pixel" || family == "ferret")
    detail::scan_brackets(sc, text, 0, false);
  else if (family == "shikra" || family == "cogvlm")
    detail::scan_brackets(sc, text, 0, true);
  else if (family == "qwen-vl")
    detail::scan_ref_box(sc, "<ref>", "</ref>", "<box>", "</box>");
  else if (family == "qwen2-vl")
    detail::scan_ref_box(sc, "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
                         "<|box_end|>");
  else if (family == "qwen2.5-vl" || family == "qwen3-vl")
    detail::scan_bbox_2d(sc);
  else if (family == "kosmos-2")
    detail::scan_kosmos(sc, g.space.bins);
  else if (family == "florence-2")
    detail::scan_florence(sc);
  else if (family == "minigpt-v2")
    detail::scan_minigpt(sc);
  else if (family == "paligemma")
    detail::scan_paligemma(sc);
  else if (family == "internvl")
    detail::scan_internvl(sc);

  parse_result r;
  r.geom = g;
  for (auto& it : sc.items) {
    parsed_box pb;
    pb.raw = it.v;
    pb.label = std::move(it.label);
    const mapped_box m =
        it.patch ? map_patch_box(g, static_cast<int>(it.v[0]), static_cast<int>(it.v[1]))
                 : map_box(g, it.v[0], it.v[1], it.v[2], it.v[3]);
    pb.box = m.box;
    pb.flags = m.flags;
    r.boxes.push_back(std::move(pb));
  }
  for (const auto& p : sc.problems) r.reason += (r.reason.empty() ? "" : "; ") + p;
  if (!r.boxes.empty()) {
    r.status = query_status::ok;
    r.partial = !sc.problems.empty();
  } else if (!sc.problems.empty()) {
    r.status = query_status::format_failure;
  } else {
    r.status = query_status::empty;
    r.reason = "no box in the answer";
  }
  return r;
}

/// Names of the flag bits, for JSON output: "swapped", "clipped".
inline std::vector<std::string_view> flag_names(std::uint8_t flags) {
  std::vector<std::string_view> v;
  if (flags & box_flag_swapped) v.push_back("swapped");
  if (flags & box_flag_clipped) v.push_back("clipped");
  return v;
}

}  // namespace groundeval
