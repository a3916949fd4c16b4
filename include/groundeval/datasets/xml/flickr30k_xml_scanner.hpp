// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_xml_scanner.hpp — the minimal scanner for the documented
// layout of Annotations files (elements, text, comments), with the integer and name helpers it
// uses; anything else goes to TinyXML2 (flickr30k_tinyxml.hpp). Target: groundeval::xml.
#pragma once

#include <groundeval/datasets/xml/flickr30k_annotation.hpp>

#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

namespace groundeval::detail {

/// Integer text with Python int() rules (surrounding whitespace already removed, optional sign).
inline bool parse_int_text(std::string_view t, long long& value) {
  if (!t.empty() && t.size() <= 18) {  // the common case: plain digits, no overflow possible
    long long v = 0;
    std::size_t k = 0;
    for (; k < t.size(); ++k) {
      const unsigned d = static_cast<unsigned char>(t[k]) - unsigned{'0'};
      if (d > 9) break;
      v = v * 10 + static_cast<long long>(d);
    }
    if (k == t.size()) {
      value = v;
      return true;
    }
  }
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  return !t.empty() && ec == std::errc{} && ptr == t.data() + t.size();
}

/// `a == lit` for a string literal, inlined (no out-of-line compare call).
template <std::size_t N>
inline bool xml_name_is(std::string_view a, const char (&lit)[N]) noexcept {
  if (a.size() != N - 1) return false;
  for (std::size_t i = 0; i + 1 < N; ++i)  // constant trip count: unrolled, no memcmp call
    if (a[i] != lit[i]) return false;
  return true;
}

inline bool xml_same_name(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)  // tag names are short: no memcmp call
    if (a[i] != b[i]) return false;
  return true;
}

/// True when x[q..] is `name` followed by '>' (the close tag "</name>" without a name scan).
/// Names of at most 8 bytes are compared as one masked 64-bit word where 8 bytes can be read.
#if defined(__GNUC__)
[[gnu::always_inline]]
#endif
inline bool
xml_closes(std::string_view x, std::size_t q, std::string_view name) noexcept {
  const std::size_t len = name.size();
  if (q + len >= x.size() || x[q + len] != '>') return false;
  const char* a = x.data() + q;
  const char* b = name.data();
  const char* const end = x.data() + x.size();
  if constexpr (std::endian::native == std::endian::little) {
    // `name` views the same buffer as x (the scanner's stack), so both 8-byte reads are in x.
    if (len <= 8 && a + 8 <= end && b >= x.data() && b + 8 <= end) {
      std::uint64_t u, v;
      std::memcpy(&u, a, 8);
      std::memcpy(&v, b, 8);
      const std::uint64_t mask = len == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * len)) - 1;
      return ((u ^ v) & mask) == 0;
    }
  }
  return std::memcmp(a, b, len) == 0;
}

/// Character classes of the scanner's names: bit 0 = may start a name, != 0 = may continue one.
struct xml_name_table {
  unsigned char cls[256] = {};
  constexpr xml_name_table() {
    for (unsigned c = 0; c < 256; ++c) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        cls[c] = 3;
      else if ((c >= '0' && c <= '9') || c == '-' || c == '.')
        cls[c] = 2;
    }
  }
};
inline constexpr xml_name_table xml_name_classes{};

inline std::string_view xml_trim_view(std::string_view v) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!v.empty() && ws(v.front())) v.remove_prefix(1);
  while (!v.empty() && ws(v.back())) v.remove_suffix(1);
  return v;
}

inline bool valid_image_size(long long w, long long h) {
  return w > 0 && h > 0 && w <= (1 << 30) && h <= (1 << 30);
}

/// A minimal scanner for the documented layout of Annotations files: elements without
/// attributes, text, comments and an XML declaration. It returns false as soon as it meets
/// anything else (attributes, entities, CDATA, DOCTYPE, a comment or child inside a value element,
/// mismatched tags, a missing, invalid or inverted value, a NUL byte); the caller then parses the
/// file with TinyXML2, which also produces every error message. Where it returns true, the result
/// is the one the TinyXML2 path gives (both go through add_flickr30k_object; tested on the
/// fixtures, the generated data set and random mutations).
template <class Annotation>
bool fast_parse_flickr30k_annotation(std::string_view x, Annotation& ann) {
  const std::size_t n = x.size();
  // No NUL and no '&' anywhere (entities and character references go to TinyXML2; so does a
  // '&' in a comment, which costs only time).
  if (std::memchr(x.data(), '\0', n) || std::memchr(x.data(), '&', n)) return false;
  const char* const data = x.data();
  std::size_t p = (n >= 3 && x.substr(0, 3) == "\xEF\xBB\xBF") ? 3 : 0;
  constexpr int max_depth = 8;
  std::string_view stack[max_depth];
  int depth = 0;
  bool root_done = false;
  int size_state = 0, box_state = 0;  // 0 not seen, 1 inside the first one, 2 done
  bool have_w = false, have_h = false, in_object = false;
  bool have_v[4] = {false, false, false, false}, have_nobox = false, have_scene = false;
  long long w = 0, h = 0;
  flickr30k_raw_object obj;
  obj.names.reserve(4);
  ann.chains.reserve(16);
  int capture = -1, capture_depth = -1;  // 0 width 1 height 2 name 3..6 box 7 nobndbox 8 scene
  std::size_t text_begin = 0;
  auto name_start = [](char c) {
    return (xml_name_classes.cls[static_cast<unsigned char>(c)] & 1) != 0;
  };
  auto name_char = [](char c) { return xml_name_classes.cls[static_cast<unsigned char>(c)] != 0; };
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // Keeps the trimmed text of value element `cap`; false where TinyXML2 must decide.
  auto store = [&](int cap, std::string_view v) {
    if (cap == 2) {
      if (v.empty()) return false;
      for (const char ch : v)
        if (ch < '0' || ch > '9') return false;
      obj.names.push_back(v);
      return true;
    }
    long long val = 0;
    if (!parse_int_text(v, val)) return false;
    if (cap == 0) {
      w = val;
      have_w = true;
    } else if (cap == 1) {
      h = val;
      have_h = true;
    } else if (cap <= 6) {
      obj.v[cap - 3] = val;
      have_v[cap - 3] = true;
    } else if (cap == 7) {
      obj.nobox = val;
      have_nobox = true;
    } else {
      obj.scene = val;
      have_scene = true;
    }
    return true;
  };
  while (p < n) {
    std::size_t lt = p;
    while (lt < n && data[lt] != '<') ++lt;
    if (depth == 0 && !xml_trim_view(std::string_view(data + p, lt - p)).empty()) return false;
    if (lt == n) break;
    p = lt + 1;
    if (p >= n) return false;
    if (x[p] == '?') {  // XML declaration, only before the root element
      if (depth != 0 || root_done) return false;
      const std::size_t e = x.find("?>", p + 1);  // as TinyXML2: "<?>" does not close itself
      if (e == std::string_view::npos) return false;
      p = e + 2;
      continue;
    }
    if (x[p] == '!') {  // comment, anywhere but inside a value element
      if (capture >= 0 || x.substr(p, 3) != "!--") return false;
      const std::size_t e = x.find("-->", p + 3);
      if (e == std::string_view::npos) return false;
      p = e + 3;
      continue;
    }
    const bool closing = x[p] == '/';
    std::string_view name;
    bool self_close = false;
    if (closing && depth > 0 && xml_closes(x, p + 1, stack[depth - 1])) {
      // "</name>" spelled exactly like the open element's name: the common case, no name scan
      name = stack[depth - 1];
      p += name.size() + 2;
    } else {
      if (closing) ++p;
      const std::size_t nb = p;
      if (p >= n || !name_start(x[p])) return false;
      while (p < n && name_char(x[p])) ++p;
      name = std::string_view(data + nb, p - nb);
      while (p < n && ws(x[p])) ++p;
      if (!closing && p < n && x[p] == '/') {
        self_close = true;
        ++p;
      }
      if (p >= n || x[p] != '>') return false;  // attributes or garbage
      ++p;
      if (closing && (depth == 0 || !xml_same_name(stack[depth - 1], name))) return false;
    }

    if (closing) {
      --depth;
      if (capture >= 0 && depth == capture_depth) {
        if (!store(capture, xml_trim_view(std::string_view(data + text_begin, lt - text_begin))))
          return false;
        capture = -1;
      } else if (depth == 2 && box_state == 1 && xml_name_is(name, "bndbox")) {
        box_state = 2;
      } else if (depth == 1 && size_state == 1 && xml_name_is(name, "size")) {
        size_state = 2;
      } else if (depth == 1 && in_object && xml_name_is(name, "object")) {
        if (obj.names.empty()) return false;
        if (box_state != 0) {
          if (!(have_v[0] && have_v[1] && have_v[2] && have_v[3])) return false;
          if (obj.v[2] < obj.v[0] || obj.v[3] < obj.v[1]) return false;
          obj.has_box = true;
        } else if (!(have_nobox && have_scene)) {
          return false;
        }
        add_flickr30k_object(ann, obj);
        in_object = false;
      } else if (depth == 0) {
        root_done = true;
      }
      continue;
    }

    // Start tag (or empty-element tag) of an element at `depth` (0 = root).
    if (capture >= 0) return false;  // a child inside a value element
    int cap = -1;
    if (depth == 0) {
      if (root_done || name != "annotation" || self_close) return false;
    } else if (depth == 1) {
      if (xml_name_is(name, "object")) {
        if (self_close) return false;
        in_object = true;
        box_state = 0;
        have_v[0] = have_v[1] = have_v[2] = have_v[3] = have_nobox = have_scene = false;
        obj.names.clear();
        obj.has_box = false;
        obj.nobox = obj.scene = 0;
      } else if (xml_name_is(name, "size") && size_state == 0) {
        if (self_close) return false;
        size_state = 1;
      }
    } else if (depth == 2 && size_state == 1 && xml_name_is(stack[1], "size")) {
      if (xml_name_is(name, "width") && !have_w) cap = 0;
      if (xml_name_is(name, "height") && !have_h) cap = 1;
    } else if (depth == 2 && in_object && xml_name_is(stack[1], "object")) {
      if (xml_name_is(name, "name")) {
        cap = 2;
      } else if (xml_name_is(name, "bndbox") && box_state == 0) {
        if (self_close) return false;
        box_state = 1;
      } else if (xml_name_is(name, "nobndbox") && !have_nobox) {
        cap = 7;
      } else if (xml_name_is(name, "scene") && !have_scene) {
        cap = 8;
      }
    } else if (depth == 3 && box_state == 1 && xml_name_is(stack[2], "bndbox")) {
      // xmin ymin xmax ymax -> 0 1 2 3
      if (name.size() == 4 && (name[0] == 'x' || name[0] == 'y') && name[1] == 'm') {
        const int k = (name[2] == 'i' && name[3] == 'n')   ? 0
                      : (name[2] == 'a' && name[3] == 'x') ? 2
                                                           : -1;
        if (k >= 0 && !have_v[k + (name[0] == 'y')]) cap = 3 + k + (name[0] == 'y');
      }
    }
    if (self_close) {
      if (cap >= 0) return false;  // an empty value: TinyXML2 path reports it
      continue;
    }
    if (cap >= 0) {
      // The common value element "<tag>digits</tag>" in one step: the same result as pushing
      // it and reading its text at the close tag.
      std::size_t e = p;
      while (e < n && static_cast<unsigned>(data[e] - '0') <= 9u) ++e;
      if (e > p && e + 1 < n && data[e] == '<' && data[e + 1] == '/' &&
          xml_closes(x, e + 2, name)) {
        if (!store(cap, std::string_view(data + p, e - p))) return false;
        p = e + 3 + name.size();
        continue;
      }
    }
    if (depth >= max_depth) return false;
    stack[depth] = name;
    if (cap >= 0) {
      capture = cap;
      capture_depth = depth;
      text_begin = p;
    }
    ++depth;
  }
  if (!root_done || depth != 0 || size_state == 0 || !have_w || !have_h || !valid_image_size(w, h))
    return false;
  ann.size = {static_cast<int>(w), static_cast<int>(h)};
  return true;
}

}  // namespace groundeval::detail
