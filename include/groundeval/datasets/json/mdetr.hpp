// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/json/mdetr.hpp — loader for MDETR's COCO-style annotation JSON
// (final_flickr_{separate,merged}GT_<split>.json, final_refcoco{,+,g}_<split>.json, as reused by
// GLIP and Grounding DINO). Target: groundeval::json (nlohmann/json).
#pragma once

#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
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

inline std::size_t json_line_of(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
}

class mdetr_reader {
 public:
  explicit mdetr_reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(const std::string& item, const std::string& what) const {
    throw error(error_kind::invalid, m_file, 0, item + ": " + what);
  }

  const nlohmann::json& member(const nlohmann::json& obj, const char* key,
                               const std::string& item) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail(item, std::string("missing '") + key + "'");
    return *it;
  }

  long long integer(const nlohmann::json& v, const std::string& item, const char* key) const {
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d == static_cast<double>(static_cast<long long>(d))) return static_cast<long long>(d);
    }
    if (v.is_string()) {  // MDETR's Flickr files store width/height as strings (xmltodict)
      const std::string& s = v.get_ref<const std::string&>();
      long long x = 0;
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
      if (ec == std::errc{} && p == s.data() + s.size() && !s.empty()) return x;
    }
    fail(item, std::string("'") + key + "' must be an integer, got " + v.dump());
  }

  double number(const nlohmann::json& v, const std::string& item, const char* key) const {
    if (!v.is_number()) fail(item, std::string("'") + key + "' must be a number, got " + v.dump());
    return v.get<double>();
  }

  const std::string& string(const nlohmann::json& v, const std::string& item,
                            const char* key) const {
    if (!v.is_string()) fail(item, std::string("'") + key + "' must be a string, got " + v.dump());
    return v.get_ref<const std::string&>();
  }

  /// A [begin, end) span in code points → bytes of `caption`.
  std::pair<std::size_t, std::size_t> span(const nlohmann::json& v, const std::string& caption,
                                           const std::string& item) const {
    if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
      fail(item, "a span must be [begin, end] integers, got " + v.dump());
    const auto b = v[0].get<long long>(), e = v[1].get<long long>();
    const std::size_t bb =
        b < 0 ? std::string_view::npos : codepoint_to_byte(caption, static_cast<std::size_t>(b));
    const std::size_t eb =
        e < b ? std::string_view::npos : codepoint_to_byte(caption, static_cast<std::size_t>(e));
    if (bb == std::string_view::npos || eb == std::string_view::npos)
      fail(item, "span " + v.dump() + " is outside the caption (" + std::to_string(caption.size()) +
                     " bytes)");
    return {bb, eb};
  }

  const std::string& file() const noexcept { return m_file; }

 private:
  std::string m_file;
};

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
  std::string text;
  if (!detail::read_whole_file(json_path, text))
    throw error(error_kind::io, json_path, 0, "cannot read annotation file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, json_path,
                detail::json_line_of(text, e.byte > 0 ? e.byte - 1 : 0),
                std::string("malformed JSON: ") + e.what());
  }
  text.clear();
  text.shrink_to_fit();
  const detail::mdetr_reader rd(json_path);
  if (!doc.is_object()) rd.fail("top level", "expected an object with 'images' and 'annotations'");
  const auto& images = rd.member(doc, "images", "top level");
  const auto& anns = rd.member(doc, "annotations", "top level");
  if (!images.is_array()) rd.fail("images", "must be an array");
  if (!anns.is_array()) rd.fail("annotations", "must be an array");

  // json image id → sample index
  std::unordered_map<long long, std::size_t> by_id;
  by_id.reserve(images.size());
  std::vector<sample> samples(images.size());
  std::vector<char> flickr(images.size(), 0);
  std::map<std::pair<std::string, int>, std::size_t> seen;
  std::unordered_map<std::string, int> next_sentence;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string item = "images[" + std::to_string(i) + "]";
    const auto& im = images[i];
    if (!im.is_object()) rd.fail(item, "must be an object");
    const long long id = rd.integer(rd.member(im, "id", item), item, "id");
    if (!by_id.emplace(id, i).second) rd.fail(item, "duplicate image id " + std::to_string(id));
    sample& s = samples[i];
    s.sentence = rd.string(rd.member(im, "caption", item), item, "caption");
    const long long w = rd.integer(rd.member(im, "width", item), item, "width");
    const long long h = rd.integer(rd.member(im, "height", item), item, "height");
    if (w <= 0 || h <= 0 || w > (1 << 30) || h > (1 << 30))
      rd.fail(item, "image size must be positive");
    s.size = {static_cast<int>(w), static_cast<int>(h)};
    if (const auto it = im.find("original_img_id"); it != im.end()) {
      s.image_id = it->is_string() ? it->get<std::string>()
                                   : std::to_string(rd.integer(*it, item, "original_img_id"));
    } else if (const auto fn = im.find("file_name"); fn != im.end()) {
      std::string f = rd.string(*fn, item, "file_name");
      const auto slash = f.find_last_of('/');
      if (slash != std::string::npos) f.erase(0, slash + 1);
      const auto dot = f.find_last_of('.');
      s.image_id = dot == std::string::npos ? f : f.substr(0, dot);
    } else {
      s.image_id = std::to_string(id);
    }
    if (const auto it = im.find("sentence_id"); it != im.end()) {
      s.sentence_index = static_cast<int>(rd.integer(*it, item, "sentence_id"));
    } else {
      s.sentence_index = next_sentence[s.image_id]++;
    }
    if (!seen.emplace(std::make_pair(s.image_id, s.sentence_index), i).second)
      rd.fail(item, "duplicate (image " + s.image_id + ", sentence " +
                        std::to_string(s.sentence_index) + ")");
    if (const auto it = im.find("tokens_positive_eval"); it != im.end()) {
      flickr[i] = 1;
      if (!it->is_array()) rd.fail(item, "'tokens_positive_eval' must be an array");
      for (const auto& spans : *it) {
        if (!spans.is_array() || spans.empty())
          rd.fail(item, "each 'tokens_positive_eval' entry must be a non-empty list of spans");
        const auto [b, e] = rd.span(spans[0], s.sentence, item);
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
  }

  mdetr_load_result res;
  for (std::size_t j = 0; j < anns.size(); ++j) {
    const std::string item = "annotations[" + std::to_string(j) + "]";
    const auto& a = anns[j];
    if (!a.is_object()) rd.fail(item, "must be an object");
    const long long iid = rd.integer(rd.member(a, "image_id", item), item, "image_id");
    const auto it = by_id.find(iid);
    if (it == by_id.end()) rd.fail(item, "image_id " + std::to_string(iid) + " is not in 'images'");
    const auto& bb = rd.member(a, "bbox", item);
    if (!bb.is_array() || bb.size() != 4) rd.fail(item, "'bbox' must be [x, y, w, h]");
    const double x = rd.number(bb[0], item, "bbox"), y = rd.number(bb[1], item, "bbox");
    const double w = rd.number(bb[2], item, "bbox"), h = rd.number(bb[3], item, "bbox");
    if (!(w >= 0 && h >= 0)) rd.fail(item, "'bbox' has a negative width or height: " + bb.dump());
    const box_xyxy<double> box = to_xyxy(box_xywh<double>{x, y, w, h});
    ++res.statistics.boxes;
    if (w == 0 || h == 0) ++res.statistics.degenerate_boxes;
    sample& s = samples[it->second];
    if (!flickr[it->second]) {
      s.phrases[0].boxes.push_back(box);
      continue;
    }
    const auto tp = a.find("tokens_positive");
    if (tp == a.end() || !tp->is_array())
      rd.fail(item, "'tokens_positive' must be a list of spans (Flickr30k format)");
    for (const auto& sp : *tp) {
      const auto [b, e] = rd.span(sp, s.sentence, item);
      for (phrase& p : s.phrases)
        if (p.char_begin == b && p.char_end == e) p.boxes.push_back(box);
    }
  }
  for (std::size_t i = 0; i < samples.size(); ++i)
    for (std::size_t k = 0; k < samples[i].phrases.size(); ++k)
      if (flickr[i] && samples[i].phrases[k].boxes.empty())
        rd.fail("images[" + std::to_string(i) + "]",
                "phrase " + std::to_string(k) + " ('" + samples[i].phrases[k].text +
                    "') of tokens_positive_eval has no annotation with its span");
  std::string name = json_path;
  if (const auto slash = name.find_last_of('/'); slash != std::string::npos)
    name.erase(0, slash + 1);
  res.dataset = in_memory_dataset("mdetr:" + name, std::move(samples), image_dir);
  add_sample_statistics(res.dataset, res.statistics);
  return res;
}

/// Loads an MDETR-format annotation file (see load_mdetr_annotations_detailed).
inline in_memory_dataset load_mdetr_annotations(const std::string& json_path) {
  return std::move(load_mdetr_annotations_detailed(json_path).dataset);
}

}  // namespace groundeval
