// SPDX-License-Identifier: Apache-2.0
// groundeval/run/query_json.hpp — one phrase query as a JSON line: what `groundeval queries`
// writes for external pipelines (the key, the image, the sentence, the phrase and its span, and
// the caption each specialist family feeds its model; schema in docs/specialist.md).
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/postprocess/captions.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

namespace detail {
/// Appends `"name": [begin, end]`.
inline void json_span_field(std::string& o, const char* name, std::size_t b, std::size_t e) {
  o += ",\"";
  o += name;
  o += "\":[" + std::to_string(b) + "," + std::to_string(e) + "]";
}

}  // namespace detail

/// One query as a JSON line (the schema is in docs/specialist.md).
inline std::string query_json_line(const sample& s, std::size_t k, std::string_view image_path) {
  const phrase& p = s.phrases[k];
  std::string o = "{\"key\":";
  detail::json_quote(o,
                     s.image_id + "/" + std::to_string(s.sentence_index) + "/" + std::to_string(k));
  o += ",\"image_id\":";
  detail::json_quote(o, s.image_id);
  o += ",\"sentence_id\":" + std::to_string(s.sentence_index);
  o += ",\"phrase_index\":" + std::to_string(k);
  o += ",\"chain_id\":";
  detail::json_quote(o, p.chain_id);
  o += ",\"phrase_types\":[";
  for (std::size_t t = 0; t < p.types.size(); ++t) {
    if (t) o += ',';
    detail::json_quote(o, p.types[t]);
  }
  o += "],\"image_path\":";
  if (image_path.empty())
    o += "null";
  else
    detail::json_quote(o, image_path);
  o += ",\"image_size\":[" + std::to_string(s.size.width) + "," + std::to_string(s.size.height) +
       "]";
  o += ",\"sentence\":";
  detail::json_quote(o, s.sentence);
  o += ",\"phrase\":";
  detail::json_quote(o, p.text);
  // Python str indices (code points) and UTF-8 byte offsets of the phrase in the sentence.
  detail::json_span_field(o, "span", code_point_index(s.sentence, p.char_begin),
                          code_point_index(s.sentence, p.char_end));
  detail::json_span_field(o, "span_utf8", p.char_begin, p.char_end);
  o += ",\"captions\":{";
  bool first = true;
  for (const std::string_view family : caption_families) {
    const mapped_caption m = map_caption(family, s.sentence, p.char_begin, p.char_end);
    if (!first) o += ',';
    first = false;
    detail::json_quote(o, family);
    o += ":{\"caption\":";
    detail::json_quote(o, m.text);
    detail::json_span_field(o, "span", code_point_index(m.text, m.begin),
                            code_point_index(m.text, m.end));
    o += m.exact ? ",\"exact\":true}" : ",\"exact\":false}";
  }
  o += "}}\n";
  return o;
}

}  // namespace groundeval
