// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/json/mdetr.hpp — loader for MDETR's COCO-style annotation JSON
// (final_flickr_{separate,merged}GT_<split>.json, final_refcoco{,+,g}_<split>.json, as reused by
// GLIP and Grounding DINO). Target: groundeval::json. Parsed with simdjson's DOM API (about 14x
// faster than nlohmann/json on a train-sized file, docs/datasets.md §4); nlohmann/json (the
// target's other dependency) only re-parses a file simdjson rejected, to locate the syntax error.
#pragma once

#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/detail/text_encoding.hpp>
#include <groundeval/detail/text_position.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/limits.hpp>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace groundeval {

/// A loaded MDETR-format file with its statistics.
struct mdetr_load_result {
  in_memory_dataset dataset;
  dataset_statistics statistics;
};

namespace detail {

/// Byte offset in UTF-8 `s` of code point number `cp` (Python string index); npos if past the end.
inline std::size_t codepoint_to_byte(std::string_view s, std::size_t cp) {
  std::size_t i = 0, k = 0;
  while (k < cp) {
    if (i >= s.size()) return std::string_view::npos;
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    ++k;
  }
  return i <= s.size() ? i : std::string_view::npos;
}

/// Typed access to simdjson DOM elements with errors naming the file and the item.
class mdetr_reader {
 public:
  using element = simdjson::dom::element;
  using type = simdjson::dom::element_type;

  explicit mdetr_reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(const std::string& item, const std::string& what) const {
    throw error(error_kind::invalid, m_file, 0, item + ": " + what);
  }

  static std::string dump(element v) { return simdjson::minify(v); }

  /// The member `key` of object `obj`, or nullopt-like `found = false`. A key given twice: the
  /// last one counts, as with Python's json.load, which the reference evaluator reads with.
  static bool find(simdjson::dom::object obj, std::string_view key, element& out) {
    bool found = false;
    for (const auto field : obj)
      if (field.key == key) {
        out = field.value;
        found = true;
      }
    return found;
  }

  element member(simdjson::dom::object obj, const char* key, const std::string& item) const {
    element v;
    if (!find(obj, key, v)) fail(item, std::string("missing '") + key + "'");
    return v;
  }

  static bool is_integer(element v) { return v.type() == type::INT64 || v.type() == type::UINT64; }

  long long integer(element v, const std::string& item, const char* key) const {
    switch (v.type()) {
      case type::INT64:
        return static_cast<long long>(v.get_int64().value_unsafe());
      case type::UINT64: {
        const std::uint64_t u = v.get_uint64().value_unsafe();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<long long>::max()))
          return static_cast<long long>(u);
        break;
      }
      case type::DOUBLE: {
        const double d = v.get_double().value_unsafe();
        if (d >= -9.2e18 && d <= 9.2e18 && d == static_cast<double>(static_cast<long long>(d)))
          return static_cast<long long>(d);
        break;
      }
      case type::STRING: {  // MDETR's Flickr files store width/height as strings (xmltodict)
        const std::string_view s = v.get_string().value_unsafe();
        if (const auto x = parse_integer<long long>(s)) return *x;
        break;
      }
      default:
        break;
    }
    fail(item, std::string("'") + key + "' must be an integer, got " + dump(v));
  }

  double number(element v, const std::string& item, const char* key) const {
    switch (v.type()) {
      case type::INT64:
        return static_cast<double>(v.get_int64().value_unsafe());
      case type::UINT64:
        return static_cast<double>(v.get_uint64().value_unsafe());
      case type::DOUBLE:
        return v.get_double().value_unsafe();
      default:
        fail(item, std::string("'") + key + "' must be a number, got " + dump(v));
    }
  }

  std::string_view string(element v, const std::string& item, const char* key) const {
    if (v.type() != type::STRING)
      fail(item, std::string("'") + key + "' must be a string, got " + dump(v));
    return v.get_string().value_unsafe();
  }

  simdjson::dom::array array(element v, const std::string& item, const std::string& what) const {
    if (v.type() != type::ARRAY) fail(item, what);
    return v.get_array().value_unsafe();
  }

  /// A [begin, end) span in code points → bytes of `caption`.
  /// `ascii`: the caption is pure ASCII, so code points are bytes (no scan per span).
  std::pair<std::size_t, std::size_t> span(element v, std::string_view caption,
                                           const std::string& item, bool ascii = false) const {
    long long be[2] = {0, 0};
    int n = 0;
    bool ok = v.type() == type::ARRAY;
    if (ok)
      for (const element x : array(v, item, "")) {
        if (n >= 2 || !is_integer(x) ||
            (x.type() == type::UINT64 &&
             x.get_uint64().value_unsafe() >
                 static_cast<std::uint64_t>(std::numeric_limits<long long>::max()))) {
          ok = false;
          break;
        }
        be[n++] = x.type() == type::INT64 ? static_cast<long long>(x.get_int64().value_unsafe())
                                          : static_cast<long long>(x.get_uint64().value_unsafe());
      }
    if (!ok || n != 2) fail(item, "a span must be [begin, end] integers, got " + dump(v));
    const long long b = be[0], e = be[1];
    auto to_byte = [&](long long cp) {
      const auto c = static_cast<std::size_t>(cp);
      if (ascii) return c <= caption.size() ? c : std::string_view::npos;
      return codepoint_to_byte(caption, c);
    };
    const std::size_t bb = b < 0 ? std::string_view::npos : to_byte(b);
    const std::size_t eb = e < b ? std::string_view::npos : to_byte(e);
    if (bb == std::string_view::npos || eb == std::string_view::npos)
      fail(item, "span " + dump(v) + " is outside the caption (" + std::to_string(caption.size()) +
                     " bytes)");
    return {bb, eb};
  }

  const std::string& file() const noexcept { return m_file; }

 private:
  std::string m_file;
};

/// Throws the parse error for a file simdjson rejected: nlohmann/json re-parses it to find the
/// line of the error (the message then says what nlohmann saw); where nlohmann accepts the text
/// (simdjson is stricter in a few corners: nesting deeper than 1024, integers above 2^64), the
/// simdjson error is reported without a line.
[[noreturn]] inline void throw_json_syntax_error(const std::string& path, std::string_view text,
                                                 simdjson::error_code code) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    (void)j;
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, path, line_of(text, e.byte > 0 ? e.byte - 1 : 0),
                std::string("malformed JSON: ") + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // 406: a number beyond the double range
    throw error(error_kind::parse, path, 0, std::string("malformed JSON: ") + e.what());
  } catch (const nlohmann::json::exception&) {
  }
  throw error(error_kind::parse, path, 0,
              std::string("malformed JSON (simdjson): ") + simdjson::error_message(code));
}

/// Index of the word that starts at or after byte `begin` (words split like Python str.split()).
inline int word_index_at(std::string_view s, std::size_t begin) {
  int n = 0;
  std::size_t i = 0;
  while (i < begin && i < s.size()) {
    std::size_t sp;
    while (i < s.size() && (sp = python_space_length(s, i)) != 0) i += sp;
    if (i >= begin || i >= s.size()) break;
    while (i < s.size() && python_space_length(s, i) == 0) ++i;
    ++n;
  }
  return n;
}

}  // namespace detail

/// Loads an MDETR-format annotation file.
///
/// * Flickr30k (images carry `tokens_positive_eval`): one sample per image entry (= caption);
///   image_id = `original_img_id`, sentence_index = `sentence_id`; one phrase per entry of
///   `tokens_positive_eval` (its first span; spans are converted from Python code points to
///   bytes), whose boxes are the `bbox`es (xywh → xyxy) of every annotation of that entry whose
///   `tokens_positive` contains the same span. chain_id and types are not in the format (empty).
/// * RefCOCO/+/g (no `tokens_positive_eval`): one sample per expression; image_id = `file_name`
///   without extension, sentence_index = running index of that image's expressions in file
///   order; one phrase = the whole expression, boxes = the entry's annotations.
/// Errors name the file and, for a syntax error, the line; for a structural error the item
/// (e.g. "images[12]: missing 'caption'").
inline mdetr_load_result load_mdetr_annotations_detailed(const std::string& json_path,
                                                         const std::string& image_dir = {}) {
  using element = simdjson::dom::element;
  using type = simdjson::dom::element_type;
  std::string text;  // read with the room simdjson needs after the text, parsed in place
  if (!detail::read_whole_file(json_path, text, max_annotation_file_bytes,
                               simdjson::SIMDJSON_PADDING))
    throw error(
        error_kind::io, json_path, 0,
        "cannot read annotation file" + detail::read_failure_reason(max_annotation_file_bytes));
  const std::size_t size = text.size();
  text.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  std::string_view body(text.data(), size);
  if (auto why = detail::utf16_problem(body); !why.empty())
    throw error(error_kind::parse, json_path, 1, why);
  detail::strip_utf8_bom(body);  // the padding after the text stays valid
  simdjson::dom::parser parser;
  element doc;
  if (const auto code = parser.parse(body.data(), body.size(), false).get(doc);
      code != simdjson::SUCCESS)
    detail::throw_json_syntax_error(json_path, body, code);
  const detail::mdetr_reader rd(json_path);
  if (doc.type() != type::OBJECT)
    rd.fail("top level", "expected an object with 'images' and 'annotations'");
  const simdjson::dom::object top = doc.get_object().value_unsafe();
  const auto images = rd.array(rd.member(top, "images", "top level"), "images", "must be an array");
  const auto anns =
      rd.array(rd.member(top, "annotations", "top level"), "annotations", "must be an array");
  std::size_t n_images = 0;
  for (const element im : images) {
    (void)im;
    ++n_images;
  }

  // json image id → sample index
  std::unordered_map<long long, std::size_t> by_id;
  by_id.reserve(n_images);
  std::vector<sample> samples(n_images);
  std::vector<char> flickr(n_images, 0);
  std::vector<char> ascii(n_images, 0);  // caption is pure ASCII
  std::map<std::pair<std::string, int>, std::size_t> seen;
  std::unordered_map<std::string, int> next_sentence;
  std::string item;
  auto item_name = [&item](const char* what, std::size_t i) -> const std::string& {
    item.assign(what);
    item += '[';
    item += std::to_string(i);
    item += ']';
    return item;
  };
  std::size_t i = 0;
  for (const element imv : images) {
    item_name("images", i);
    if (imv.type() != type::OBJECT) rd.fail(item, "must be an object");
    const simdjson::dom::object im = imv.get_object().value_unsafe();
    const long long id = rd.integer(rd.member(im, "id", item), item, "id");
    if (!by_id.emplace(id, i).second) rd.fail(item, "duplicate image id " + std::to_string(id));
    sample& s = samples[i];
    s.sentence = rd.string(rd.member(im, "caption", item), item, "caption");
    ascii[i] = std::all_of(s.sentence.begin(), s.sentence.end(),
                           [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
    const long long w = rd.integer(rd.member(im, "width", item), item, "width");
    const long long h = rd.integer(rd.member(im, "height", item), item, "height");
    if (w <= 0 || h <= 0 || w > (1 << 30) || h > (1 << 30))
      rd.fail(item, "image size must be positive");
    s.size = {static_cast<int>(w), static_cast<int>(h)};
    element v;
    if (rd.find(im, "original_img_id", v)) {
      s.image_id = v.type() == type::STRING
                       ? std::string(v.get_string().value_unsafe())
                       : std::to_string(rd.integer(v, item, "original_img_id"));
    } else if (rd.find(im, "file_name", v)) {
      std::string_view f = rd.string(v, item, "file_name");
      const auto slash = f.find_last_of('/');
      if (slash != std::string_view::npos) f.remove_prefix(slash + 1);
      const auto dot = f.find_last_of('.');
      s.image_id = dot == std::string_view::npos ? f : f.substr(0, dot);
    } else {
      s.image_id = std::to_string(id);
    }
    if (auto why = image_id_problem(s.image_id); !why.empty()) rd.fail(item, why);
    if (rd.find(im, "sentence_id", v)) {
      s.sentence_index = static_cast<int>(rd.integer(v, item, "sentence_id"));
    } else {
      s.sentence_index = next_sentence[s.image_id]++;
    }
    if (!seen.emplace(std::make_pair(s.image_id, s.sentence_index), i).second)
      rd.fail(item, "duplicate (image " + s.image_id + ", sentence " +
                        std::to_string(s.sentence_index) + ")");
    if (rd.find(im, "tokens_positive_eval", v)) {
      flickr[i] = 1;
      for (const element spans : rd.array(v, item, "'tokens_positive_eval' must be an array")) {
        element first;
        if (spans.type() != type::ARRAY || spans.at(0).get(first) != simdjson::SUCCESS)
          rd.fail(item, "each 'tokens_positive_eval' entry must be a non-empty list of spans");
        const auto [b, e] = rd.span(first, s.sentence, item, ascii[i] != 0);
        phrase p;
        p.char_begin = b;
        p.char_end = e;
        p.text = s.sentence.substr(b, e - b);
        p.first_word_index = detail::word_index_at(s.sentence, b);
        s.phrases.push_back(std::move(p));
      }
    } else {
      phrase p;
      p.char_begin = 0;
      p.char_end = s.sentence.size();
      p.text = s.sentence;
      s.phrases.push_back(std::move(p));
    }
    ++i;
  }

  mdetr_load_result res;
  std::size_t j = 0;
  for (const element av : anns) {
    item_name("annotations", j++);
    if (av.type() != type::OBJECT) rd.fail(item, "must be an object");
    const simdjson::dom::object a = av.get_object().value_unsafe();
    const long long iid = rd.integer(rd.member(a, "image_id", item), item, "image_id");
    const auto it = by_id.find(iid);
    if (it == by_id.end()) rd.fail(item, "image_id " + std::to_string(iid) + " is not in 'images'");
    const element bb = rd.member(a, "bbox", item);
    element c[4];
    std::size_t nc = 0;
    if (bb.type() == type::ARRAY)
      for (const element x : rd.array(bb, item, "")) {
        if (nc == 4) {
          nc = 5;
          break;
        }
        c[nc++] = x;
      }
    if (nc != 4) rd.fail(item, "'bbox' must be [x, y, w, h]");
    const double x = rd.number(c[0], item, "bbox"), y = rd.number(c[1], item, "bbox");
    const double w = rd.number(c[2], item, "bbox"), h = rd.number(c[3], item, "bbox");
    if (!(w >= 0 && h >= 0))
      rd.fail(item, "'bbox' has a negative width or height: " + detail::mdetr_reader::dump(bb));
    const box_xyxy<double> box = to_xyxy(box_xywh<double>{x, y, w, h});
    ++res.statistics.boxes;
    if (w == 0 || h == 0) ++res.statistics.degenerate_boxes;
    sample& s = samples[it->second];
    if (!flickr[it->second]) {
      s.phrases[0].boxes.push_back(box);
      continue;
    }
    element tp;
    if (!rd.find(a, "tokens_positive", tp) || tp.type() != type::ARRAY)
      rd.fail(item, "'tokens_positive' must be a list of spans (Flickr30k format)");
    for (const element sp : rd.array(tp, item, "")) {
      const auto [b, e] = rd.span(sp, s.sentence, item, ascii[it->second] != 0);
      for (phrase& p : s.phrases)
        if (p.char_begin == b && p.char_end == e) p.boxes.push_back(box);
    }
  }
  for (std::size_t k0 = 0; k0 < samples.size(); ++k0)
    for (std::size_t k = 0; k < samples[k0].phrases.size(); ++k)
      if (flickr[k0] && samples[k0].phrases[k].boxes.empty())
        rd.fail("images[" + std::to_string(k0) + "]",
                "phrase " + std::to_string(k) + " ('" + samples[k0].phrases[k].text +
                    "') of tokens_positive_eval has no annotation with its span");
  std::string name = json_path;
  if (const auto slash = name.find_last_of('/'); slash != std::string::npos)
    name.erase(0, slash + 1);
  res.dataset = in_memory_dataset("mdetr:" + name, std::move(samples), image_dir);
  add_sample_statistics(res.dataset, res.statistics);
  return res;
}

/// Loads an MDETR-format annotation file (see load_mdetr_annotations_detailed); `image_dir` is
/// the folder of the images (image_path() = <image_dir>/<image_id>.jpg; COCO train2014 for
/// RefCOCO/+/g, whose image ids are the file names without extension).
inline in_memory_dataset load_mdetr_annotations(const std::string& json_path,
                                                const std::string& image_dir = {}) {
  return std::move(load_mdetr_annotations_detailed(json_path, image_dir).dataset);
}

}  // namespace groundeval
