// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_tinyxml.hpp — parse_flickr30k_annotation: an
// Annotations file through the fast scanner, or TinyXML2 for any other layout and for every
// problem message. Target: groundeval::xml (TinyXML2).
#pragma once

#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/xml/flickr30k_annotation.hpp>
#include <groundeval/datasets/xml/flickr30k_xml_scanner.hpp>
#include <groundeval/error.hpp>

#include <tinyxml2.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

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

}  // namespace groundeval
