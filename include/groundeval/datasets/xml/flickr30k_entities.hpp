// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_entities.hpp — the Flickr30k Entities loader
// (Annotations/<id>.xml with TinyXML2 + Sentences/<id>.txt). Target: groundeval::xml.
// One sample per non-empty sentence line; ground truth as MDETR's flickr_eval.py sees it.
#pragma once

#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/parallel.hpp>

#include <tinyxml2.h>

#if defined(GROUNDEVAL_DETAIL_POSIX_IO) && __has_include(<sys/stat.h>)
#include <sys/stat.h>
#define GROUNDEVAL_DETAIL_FLICKR_OPENAT 1
#endif

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace groundeval {

/// How to load Flickr30k Entities.
struct flickr30k_options {
  std::string root;  ///< folder with Annotations/ and Sentences/ (the unpacked annotations.zip)
  /// "train", "val", "test" or "all" (= train, val, test in that order). The list is read from
  /// `<root>/<split>.txt` when present, else from `<data_dir>/flickr30k_entities/<split>.txt`.
  std::string split = "test";
  std::vector<std::string> image_ids;  ///< explicit image ids; when non-empty, `split` is ignored
  std::string data_dir;                ///< folder with the official lists (the repository's data/)
  /// Image folder for image_path(); empty: <root>/flickr30k-images when that exists.
  std::string image_dir;
  bool strict = true;  ///< strict: first problem throws; lenient: problems are collected
  /// A chain id used in a sentence but absent from the XML happens in the real data and is only
  /// counted in the statistics; set this to make it an error (strict) / a problem (lenient).
  bool missing_chain_is_error = false;
  unsigned threads = 0;  ///< 0: hardware concurrency
  /// Read Annotations files with a minimal scanner for the documented layout, falling back to
  /// TinyXML2 for any other file and for every error (same results; about 3.5x faster than
  /// TinyXML2 alone, see docs/datasets.md §6). false: TinyXML2 only.
  bool fast_xml = true;
};

/// Everything a load produces.
struct flickr30k_load_result {
  in_memory_dataset dataset;
  dataset_statistics statistics;
  std::vector<dataset_problem> problems;  ///< empty in strict mode
  std::vector<std::string> image_ids;     ///< the requested image ids after validation, in order
};

/// The boxes and flags of one chain id in one Annotations file.
struct flickr30k_chain {
  std::string id;
  std::vector<box_xyxy<double>> boxes;  ///< raw 1-based integers as written, in file order
  bool scene = false;
  bool nobox = false;
};

/// One parsed Annotations/<id>.xml.
struct flickr30k_annotation {
  image_size size;
  std::vector<flickr30k_chain> chains;  ///< in order of first appearance
  std::size_t box_objects = 0;          ///< <object>s with a <bndbox>
  std::size_t shared_boxes = 0;         ///< of those, with >= 2 <name>s
  std::size_t scene_objects = 0;
  std::size_t nobox_objects = 0;
  std::size_t degenerate_boxes = 0;

  const flickr30k_chain* find(std::string_view id) const noexcept {
    for (const auto& c : chains)
      if (c.id == id) return &c;
    return nullptr;
  }
  flickr30k_chain& get(std::string_view id) {
    for (auto& c : chains)
      if (c.id == id) return c;
    chains.push_back({std::string(id), {}, false, false});
    return chains.back();
  }
  /// Appends a box to a chain of this annotation (the interface add_flickr30k_object fills).
  void add_box(flickr30k_chain& c, const box_xyxy<double>& b) { c.boxes.push_back(b); }
};

namespace detail {

/// One <object> as read from the file, before it is added to the annotation (shared by the
/// TinyXML2 path and the fast scanner so both apply identical rules).
struct flickr30k_raw_object {
  std::vector<std::string_view> names;  ///< trimmed, validated digits
  bool has_box = false;
  long long v[4] = {0, 0, 0, 0};  ///< xmin, ymin, xmax, ymax (validated: not inverted)
  long long nobox = 0, scene = 0;
};

/// The loader's per-thread form of an annotation: chain ids view the file buffer (or the
/// TinyXML2 fallback's flickr30k_annotation), boxes sit in one vector as per-chain lists in file
/// order, and nothing is freed between images. Same rules as flickr30k_annotation
/// (add_flickr30k_object fills both).
struct flickr30k_scratch {
  static constexpr std::uint32_t none = 0xffffffffu;
  struct chain {
    std::string_view id;
    std::uint32_t head = none, tail = none, count = 0;
    bool scene = false;
    bool nobox = false;
  };
  struct box_node {
    box_xyxy<double> box;
    std::uint32_t next = none;
  };
  image_size size;
  std::vector<chain> chains;  ///< in order of first appearance
  std::vector<box_node> boxes;
  std::size_t box_objects = 0, shared_boxes = 0, scene_objects = 0, nobox_objects = 0;
  std::size_t degenerate_boxes = 0;

  void clear() noexcept {
    size = {};
    chains.clear();
    boxes.clear();
    box_objects = shared_boxes = scene_objects = nobox_objects = degenerate_boxes = 0;
  }
  chain& get(std::string_view id) {
    for (auto& c : chains)
      if (c.id == id) return c;
    chains.push_back({id});
    return chains.back();
  }
  const chain* find(std::string_view id) const noexcept {
    for (const auto& c : chains)
      if (c.id == id) return &c;
    return nullptr;
  }
  /// Copies a chain's boxes (file order) into `out`, sized once.
  void copy_boxes(const chain& c, std::vector<box_xyxy<double>>& out) const {
    out.reserve(c.count);
    for (std::uint32_t k = c.head; k != none; k = boxes[k].next) out.push_back(boxes[k].box);
  }
  /// Takes an annotation read by the TinyXML2 path (`ann` must outlive the views).
  void assign(const flickr30k_annotation& ann) {
    clear();
    size = ann.size;
    box_objects = ann.box_objects;
    shared_boxes = ann.shared_boxes;
    scene_objects = ann.scene_objects;
    nobox_objects = ann.nobox_objects;
    degenerate_boxes = ann.degenerate_boxes;
    for (const auto& c : ann.chains) {
      chains.push_back({c.id});
      chains.back().scene = c.scene;
      chains.back().nobox = c.nobox;
      for (const auto& b : c.boxes) add_box(chains.back(), b);
    }
  }
  /// Appends a box to a chain's list.
  void add_box(chain& c, const box_xyxy<double>& b) {
    const auto k = static_cast<std::uint32_t>(boxes.size());
    boxes.push_back({b, none});
    if (c.tail == none)
      c.head = k;
    else
      boxes[c.tail].next = k;
    c.tail = k;
    ++c.count;
  }
};

/// Adds one validated <object> to an annotation (flickr30k_annotation or the loader's
/// flickr30k_scratch): counts, then its box or flags under each of its chain ids.
template <class Annotation>
void add_flickr30k_object(Annotation& ann, const flickr30k_raw_object& o) {
  if (o.has_box) {
    const box_xyxy<double> b{static_cast<double>(o.v[0]), static_cast<double>(o.v[1]),
                             static_cast<double>(o.v[2]), static_cast<double>(o.v[3])};
    ++ann.box_objects;
    if (o.names.size() > 1) ++ann.shared_boxes;
    if (o.v[2] == o.v[0] || o.v[3] == o.v[1]) ++ann.degenerate_boxes;
    for (const auto nm : o.names) ann.add_box(ann.get(nm), b);
  } else {
    if (o.nobox > 0) ++ann.nobox_objects;
    if (o.scene > 0) ++ann.scene_objects;
    for (const auto nm : o.names) {
      auto& c = ann.get(nm);
      c.nobox = c.nobox || o.nobox > 0;
      c.scene = c.scene || o.scene > 0;
    }
  }
}

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
      const std::size_t e = x.find("?>", p);
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

}  // namespace detail

namespace detail {

inline std::string_view xml_trim(const char* s) {
  if (!s) return {};
  std::string_view v(s);
  while (!v.empty() &&
         (v.front() == ' ' || v.front() == '\t' || v.front() == '\n' || v.front() == '\r'))
    v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\n' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

/// Reads the integer text of child `tag` of `parent` (Python int() rules: optional sign and
/// surrounding whitespace). Reports a problem and returns false when missing or non-numeric.
inline bool xml_int_child(const tinyxml2::XMLElement* parent, const char* tag,
                          const std::string& file, problem_sink& sink, long long& value) {
  const tinyxml2::XMLElement* e = parent->FirstChildElement(tag);
  if (!e) {
    sink.report(error_kind::parse, file, static_cast<std::size_t>(parent->GetLineNum()),
                std::string("<") + parent->Name() + "> has no <" + tag + ">");
    return false;
  }
  const std::string_view t = xml_trim(e->GetText());
  if (!parse_int_text(t, value)) {
    sink.report(
        error_kind::parse, file, static_cast<std::size_t>(e->GetLineNum()),
        std::string("<") + tag + "> is not an integer: '" + std::string(t.substr(0, 40)) + "'");
    return false;
  }
  return true;
}

inline bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace detail

/// Parses the text of an Annotations file. Problems (strict → error "FILE:LINE: ..."): malformed
/// XML, no <annotation> root, missing or non-numeric size, object without <name>, non-digit
/// chain id, non-numeric or missing box coordinate, inverted box (xmax < xmin or ymax < ymin),
/// box-less object without <nobndbox>/<scene>. Lenient mode skips the broken object.
inline flickr30k_annotation parse_flickr30k_annotation(std::string_view xml,
                                                       const std::string& file, problem_sink& sink,
                                                       bool fast = true) {
  using namespace tinyxml2;
  flickr30k_annotation ann;
  if (fast) {
    if (detail::fast_parse_flickr30k_annotation(xml, ann)) return ann;
    ann = flickr30k_annotation{};
  }
  thread_local XMLDocument doc(true, PRESERVE_WHITESPACE);
  if (doc.Parse(xml.data(), xml.size()) != XML_SUCCESS) {
    const std::string msg = std::string("malformed XML: ") + doc.ErrorName();
    const auto line = static_cast<std::size_t>(doc.ErrorLineNum());
    doc.Clear();
    sink.report(error_kind::parse, file, line, msg);
    return ann;
  }
  const XMLElement* root = doc.FirstChildElement("annotation");
  if (!root) {
    sink.report(error_kind::parse, file, 0, "no <annotation> root element");
    return ann;
  }
  if (const XMLElement* size = root->FirstChildElement("size")) {
    long long w = 0, h = 0;
    if (detail::xml_int_child(size, "width", file, sink, w) &&
        detail::xml_int_child(size, "height", file, sink, h)) {
      if (!detail::valid_image_size(w, h))
        sink.report(
            error_kind::invalid, file, static_cast<std::size_t>(size->GetLineNum()),
            "image size must be positive, got " + std::to_string(w) + "x" + std::to_string(h));
      else
        ann.size = {static_cast<int>(w), static_cast<int>(h)};
    }
  } else {
    sink.report(error_kind::parse, file, static_cast<std::size_t>(root->GetLineNum()),
                "<annotation> has no <size>");
  }
  for (const XMLElement* obj = root->FirstChildElement("object"); obj;
       obj = obj->NextSiblingElement("object")) {
    const auto obj_line = static_cast<std::size_t>(obj->GetLineNum());
    const XMLElement* first_name = obj->FirstChildElement("name");
    if (!first_name) {
      sink.report(error_kind::parse, file, obj_line, "<object> has no <name>");
      continue;
    }
    detail::flickr30k_raw_object raw;
    bool ok = true;
    for (const XMLElement* nm = first_name; nm; nm = nm->NextSiblingElement("name")) {
      const std::string_view id = detail::xml_trim(nm->GetText());
      if (!detail::is_digits(id)) {
        sink.report(
            error_kind::parse, file, static_cast<std::size_t>(nm->GetLineNum()),
            "chain id in <name> must be digits, got '" + std::string(id.substr(0, 40)) + "'");
        ok = false;
      }
      raw.names.push_back(id);
    }
    if (!ok) continue;
    if (const XMLElement* bb = obj->FirstChildElement("bndbox")) {
      static constexpr const char* tags[4] = {"xmin", "ymin", "xmax", "ymax"};
      for (int k = 0; k < 4 && ok; ++k)
        ok = detail::xml_int_child(bb, tags[k], file, sink, raw.v[k]);
      if (!ok) continue;
      const long long* v = raw.v;
      if (v[2] < v[0] || v[3] < v[1]) {
        sink.report(error_kind::invalid, file, static_cast<std::size_t>(bb->GetLineNum()),
                    "inverted box [" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " +
                        std::to_string(v[2]) + ", " + std::to_string(v[3]) +
                        "] (xmax < xmin or ymax < ymin)");
        continue;
      }
      raw.has_box = true;
    } else if (!detail::xml_int_child(obj, "nobndbox", file, sink, raw.nobox) ||
               !detail::xml_int_child(obj, "scene", file, sink, raw.scene)) {
      continue;
    }
    detail::add_flickr30k_object(ann, raw);
  }
  return ann;
}

namespace detail {

/// Per-image result of the parallel load (counts go to the worker's flickr30k_counts).
struct flickr30k_image_result {
  std::vector<sample> samples;
  std::vector<std::string> missing_chain_examples;  // first 20 of this image
  std::vector<dataset_problem> problems;
};

/// What one worker thread counts over the images it loads (added up after the load).
struct flickr30k_counts {
  dataset_statistics annotations;  // annotation-level and non-evaluable phrase counts
  sample_counter samples;          // sample-derived counts
  flickr30k_scratch scratch;       // reused per image
};

inline std::string path_join(const std::string& a, std::string_view b) {
  std::string p = a;
  if (!p.empty() && p.back() != '/') p += '/';
  p += b;
  return p;
}

/// Largest Annotations or Sentences file read (the real ones are below 10 KiB): a bigger one is
/// an io problem naming the limit, so a stray huge file cannot exhaust memory.
inline constexpr std::size_t flickr30k_max_file_bytes = std::size_t{64} << 20;

/// A folder opened once for the whole load, so that each file is opened relative to it (openat:
/// no walk of the root path per file). fd < 0 when unavailable: files are then opened by path.
struct flickr30k_folder {
  int fd = -1;
  flickr30k_folder() = default;
  explicit flickr30k_folder(const std::string& path) {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#else
    (void)path;
#endif
  }
  flickr30k_folder(const flickr30k_folder&) = delete;
  flickr30k_folder& operator=(const flickr30k_folder&) = delete;
  ~flickr30k_folder() {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
    if (fd >= 0) ::close(fd);
#endif
  }
};

/// Reads one small file into a per-thread buffer that is reused and never zero-filled: openat
/// (relative to `dir`) + fstat + one read of the file's size + close. `out` views the buffer
/// until the next call on this thread with the same `slot` (two buffers: 0 and 1). Returns false
/// with errno set (EFBIG above `max_bytes`), like read_whole_file; `path` is opened instead when
/// `dir` is not open.
inline bool read_flickr30k_file(const flickr30k_folder& dir, const std::string& name,
                                const std::string& path, std::size_t max_bytes,
                                std::string_view& out, int slot = 0) {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
  struct buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };
  thread_local buffer bufs[2];
  buffer& buf = bufs[slot & 1];
  const int fd = dir.fd >= 0 ? ::openat(dir.fd, name.c_str(), O_RDONLY | O_CLOEXEC)
                             : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  auto fail = [fd](int e) {
    ::close(fd);
    errno = e;
    return false;
  };
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const std::size_t expected = regular ? static_cast<std::size_t>(st.st_size) : 0;
  if (expected > max_bytes) return fail(EFBIG);
  std::size_t size = 0;
  auto reserve = [&](std::size_t cap) {
    if (buf.capacity >= cap) return;
    cap = std::max({cap, buf.capacity * 2, std::size_t{16384}});
    std::unique_ptr<char[]> d(new char[cap]);
    if (size) std::memcpy(d.get(), buf.data.get(), size);
    buf.data = std::move(d);
    buf.capacity = cap;
  };
  reserve(expected + 1);  // +1: a short read then proves the end of the file
  for (;;) {
    if (size == buf.capacity) reserve(size + 1);
    const auto n = ::read(fd, buf.data.get() + size, buf.capacity - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
    if (size > max_bytes) return fail(EFBIG);
    if (regular && size >= expected && size < buf.capacity) break;  // short read: end of file
  }
  ::close(fd);
  out = std::string_view(buf.data.get(), size);
  return true;
#else
  (void)dir;
  (void)name;
  thread_local std::string bufs[2];
  std::string& buf = bufs[slot & 1];
  if (!read_whole_file(path, buf, max_bytes)) return false;
  out = buf;
  return true;
#endif
}

inline void load_flickr30k_image(const flickr30k_options& opt, const std::string& id,
                                 const flickr30k_folder& annotations,
                                 const flickr30k_folder& sentences_dir, flickr30k_counts& counts,
                                 flickr30k_image_result& r) {
  problem_sink sink(opt.strict);
  std::string_view xml, txt;
  std::string name;  // "<id>.xml", then "<id>.txt"
  name.reserve(id.size() + 4);
  name.append(id).append(".xml");
  auto path = [&](const char* folder, const char* ext) {
    std::string p = opt.root;
    if (!p.empty() && p.back() != '/') p += '/';
    return p.append(folder).append(id).append(ext);
  };
  const std::string xml_path = path("Annotations/", ".xml");
  if (!read_flickr30k_file(annotations, name, xml_path, flickr30k_max_file_bytes, xml, 0)) {
    sink.report(error_kind::io, xml_path, 0,
                "cannot read annotation file" + read_failure_reason(flickr30k_max_file_bytes));
    r.problems = sink.take();
    return;
  }
  // The fast scanner fills the scratch annotation, whose chain ids view `xml`; any other file
  // goes through TinyXML2 (which also reports every problem) into `fallback`.
  flickr30k_scratch& ann = counts.scratch;
  ann.clear();
  flickr30k_annotation fallback;
  if (!(opt.fast_xml && fast_parse_flickr30k_annotation(xml, ann))) {
    fallback = parse_flickr30k_annotation(xml, xml_path, sink, false);
    ann.assign(fallback);
  }
  name.replace(name.size() - 3, 3, "txt");
  const std::string txt_path = path("Sentences/", ".txt");
  if (!read_flickr30k_file(sentences_dir, name, txt_path, flickr30k_max_file_bytes, txt, 1)) {
    sink.report(error_kind::io, txt_path, 0,
                "cannot read sentence file" + read_failure_reason(flickr30k_max_file_bytes));
    r.problems = sink.take();
    return;
  }
  std::vector<flickr30k_sentence> sentences = parse_flickr30k_sentences(txt, txt_path, sink);

  auto& c = counts.annotations;
  c.boxes += ann.box_objects;
  c.shared_boxes += ann.shared_boxes;
  c.scene_objects += ann.scene_objects;
  c.nobox_objects += ann.nobox_objects;
  c.degenerate_boxes += ann.degenerate_boxes;
  c.chains += ann.chains.size();
  for (const auto& ch : ann.chains)
    if (ch.count >= 2) ++c.multi_box_chains;

  r.samples.resize(sentences.size());
  for (std::size_t k = 0; k < sentences.size(); ++k) {
    flickr30k_sentence& s = sentences[k];
    sample& smp = r.samples[k];
    smp.image_id = id;
    smp.size = ann.size;
    smp.sentence_index = static_cast<int>(k);
    smp.sentence = std::move(s.text);
    smp.phrases = std::move(s.phrases);
    for (phrase& p : smp.phrases) {
      const flickr30k_scratch::chain* ch = ann.find(p.chain_id);
      if (ch && ch->count > 0) {
        ann.copy_boxes(*ch, p.boxes);
      } else if (p.chain_id == "0") {
        // notvisual: counted by sample_counter
      } else if (!ch) {
        ++c.missing_chain_phrases;
        if (r.missing_chain_examples.size() < 20)
          r.missing_chain_examples.push_back(txt_path + ":" + std::to_string(s.line) + ": chain " +
                                             p.chain_id);
        if (opt.missing_chain_is_error)
          sink.report(error_kind::invalid, txt_path, s.line,
                      "chain id " + p.chain_id + " is absent from " + xml_path);
      } else if (ch->scene) {
        ++c.scene_phrases;
      } else {
        ++c.nobox_phrases;
      }
    }
    counts.samples.add(smp);
  }
  if (!r.samples.empty()) counts.samples.count_image();
  r.problems = sink.take();
}

}  // namespace detail

namespace detail {

/// Block of indices a worker of for_each_image_dynamic takes at a time.
inline constexpr std::size_t dynamic_block = 64;

/// Number of workers for_each_image_dynamic uses for n indices (0 threads = hardware
/// concurrency; never more than there are blocks, at least 1).
inline unsigned dynamic_worker_count(std::size_t n, unsigned threads) {
  const unsigned t = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(
      std::max<std::size_t>(1, std::min<std::size_t>(t, (n + dynamic_block - 1) / dynamic_block)));
}

/// Calls fn(i, w) for i in [0, n) on dynamic_worker_count(n, threads) threads, w being the
/// worker's index; workers take blocks of 64 indices from a shared counter, so a thread slowed
/// down by other load on the machine does not hold the others up. If calls throw, the exception
/// of the smallest failing index is rethrown (the same one as a sequential loop would throw,
/// whatever the timing); indices above a known failure are skipped.
template <class Fn>
void for_each_image_dynamic(std::size_t n, unsigned threads, Fn&& fn) {
  constexpr std::size_t block = dynamic_block;
  const unsigned t = dynamic_worker_count(n, threads);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> first_error{n};
  std::vector<std::exception_ptr> errors(std::max(1u, t));
  std::vector<std::size_t> error_index(errors.size(), n);
  auto work = [&](unsigned w) {
    for (;;) {
      const std::size_t b = next.fetch_add(block);
      if (b >= n) return;
      const std::size_t e = std::min(n, b + block);
      for (std::size_t i = b; i < e; ++i) {
        if (i > first_error.load(std::memory_order_relaxed)) return;
        try {
          fn(i, w);
        } catch (...) {
          if (i < error_index[w]) {
            error_index[w] = i;
            errors[w] = std::current_exception();
          }
          std::size_t cur = first_error.load();
          while (i < cur && !first_error.compare_exchange_weak(cur, i)) {
          }
          return;
        }
      }
    }
  };
  if (t <= 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(t - 1);
    for (unsigned w = 1; w < t; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& th : pool) th.join();
  }
  std::size_t best = n;
  std::exception_ptr err;
  for (std::size_t w = 0; w < errors.size(); ++w)
    if (errors[w] && error_index[w] < best) {
      best = error_index[w];
      err = errors[w];
    }
  if (err) std::rethrow_exception(err);
}

}  // namespace detail

/// Resolves the image ids to load (explicit list, `<root>/<split>.txt`, or the official list).
inline std::vector<std::string> resolve_flickr30k_image_ids(const flickr30k_options& opt,
                                                            problem_sink& sink) {
  if (!opt.image_ids.empty()) return validate_image_ids(opt.image_ids, "image id list", {}, sink);
  if (opt.split.empty()) throw error(error_kind::config, "flickr30k: no split and no image ids");
  if (opt.split == "all") {
    std::vector<std::string> all;
    for (const char* s : {"train", "val", "test"}) {
      flickr30k_options o = opt;
      o.split = s;
      for (auto& id : resolve_flickr30k_image_ids(o, sink)) all.push_back(std::move(id));
    }
    return validate_image_ids(std::move(all), "split 'all' (train + val + test)", {}, sink);
  }
  const std::string own = detail::path_join(opt.root, opt.split + ".txt");
  if (detail::file_exists(own)) return read_split_file(own, sink);
  if (!opt.data_dir.empty()) {
    const std::string official = flickr30k_split_path(opt.data_dir, opt.split);
    if (detail::file_exists(official)) return read_split_file(official, sink);
  }
  throw error(
      error_kind::config, own, 0,
      "no split list for '" + opt.split + "' (looked here" +
          (opt.data_dir.empty() ? std::string()
                                : " and in " + flickr30k_split_path(opt.data_dir, opt.split)) +
          ")");
}

/// Loads Flickr30k Entities with statistics and, in lenient mode, the problems report.
inline flickr30k_load_result load_flickr30k_entities_detailed(const flickr30k_options& opt) {
  problem_sink sink(opt.strict);
  flickr30k_load_result res;
  res.image_ids = resolve_flickr30k_image_ids(opt, sink);
  const auto& ids = res.image_ids;

  std::vector<detail::flickr30k_image_result> per(ids.size());
  const detail::flickr30k_folder annotations(detail::path_join(opt.root, "Annotations"));
  const detail::flickr30k_folder sentences(detail::path_join(opt.root, "Sentences"));
  std::vector<detail::flickr30k_counts> counts(
      detail::dynamic_worker_count(ids.size(), opt.threads));
  detail::for_each_image_dynamic(ids.size(), opt.threads, [&](std::size_t i, unsigned w) {
    detail::load_flickr30k_image(opt, ids[i], annotations, sentences, counts[w], per[i]);
  });

  // Samples move into one vector in image order, on the same threads (offsets from a prefix
  // sum); problems and examples are gathered in image order.
  std::vector<std::size_t> offset(ids.size() + 1, 0);
  for (std::size_t i = 0; i < ids.size(); ++i) offset[i + 1] = offset[i] + per[i].samples.size();
  std::vector<sample> samples(offset.back());
  detail::for_each_image_dynamic(ids.size(), opt.threads, [&](std::size_t i, unsigned) {
    std::move(per[i].samples.begin(), per[i].samples.end(),
              samples.begin() + static_cast<std::ptrdiff_t>(offset[i]));
    per[i].samples = {};
  });
  dataset_statistics& st = res.statistics;
  for (auto& r : per) {
    for (auto& m : r.missing_chain_examples)
      if (st.missing_chain_examples.size() < 20) st.missing_chain_examples.push_back(std::move(m));
    sink.append(std::move(r.problems));
  }
  per.clear();
  for (const auto& c : counts) {
    const auto& a = c.annotations;
    st.boxes += a.boxes;
    st.shared_boxes += a.shared_boxes;
    st.chains += a.chains;
    st.multi_box_chains += a.multi_box_chains;
    st.scene_objects += a.scene_objects;
    st.nobox_objects += a.nobox_objects;
    st.degenerate_boxes += a.degenerate_boxes;
    st.missing_chain_phrases += a.missing_chain_phrases;
    st.scene_phrases += a.scene_phrases;
    st.nobox_phrases += a.nobox_phrases;
    c.samples.add_to(st);
  }
  std::string image_dir = opt.image_dir;
  if (image_dir.empty()) {
    const std::string d = detail::path_join(opt.root, "flickr30k-images");
    if (detail::file_exists(d)) image_dir = d;
  }
  res.dataset = in_memory_dataset(
      "flickr30k_entities:" + (opt.image_ids.empty() ? opt.split : std::string("custom")),
      std::move(samples), std::move(image_dir));
  res.problems = sink.take();
  return res;
}

/// Loads Flickr30k Entities (strict by default: the first problem throws groundeval::error
/// naming the file and line). In lenient mode problems are dropped; use the lenient variant to
/// see them.
inline in_memory_dataset load_flickr30k_entities(const flickr30k_options& opt) {
  return std::move(load_flickr30k_entities_detailed(opt).dataset);
}

/// Lenient load: never throws for bad input files (only for a bad configuration, e.g. no split
/// list); every problem is in the returned report.
inline flickr30k_load_result load_flickr30k_entities_lenient(flickr30k_options opt) {
  opt.strict = false;
  return load_flickr30k_entities_detailed(opt);
}

}  // namespace groundeval
