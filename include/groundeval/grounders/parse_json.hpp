// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/parse_json.hpp — one parsed answer (parse_result) as a one-line JSON
// object: what `groundeval parse-box` prints and scripts read. Target: groundeval::core.
#pragma once

#include <groundeval/detail/json_text.hpp>
#include <groundeval/detail/text_encoding.hpp>
#include <groundeval/grounders/parsers.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace groundeval {

namespace detail {
/// Model text as a JSON string: bytes that are not UTF-8 become U+FFFD first.
inline void json_text_value(std::string& out, std::string_view s) {
  json_quote(out, replace_invalid_utf8(s));
}
/// 10 significant digits: hides the last-bit noise of the inverse maps (508.99999999999994
/// prints as 509) while keeping 1e-5 px resolution on images up to 100000 px.
inline void json_pixel(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  out += buf;
}
inline void json_flags(std::string& out, std::uint8_t flags) {
  out += '[';
  bool first = true;
  for (const auto name : flag_names(flags)) {
    if (!first) out += ", ";
    first = false;
    json_quote(out, name);
  }
  out += ']';
}
}  // namespace detail

/// {"status", "family", "boxes" (original pixels x1,y1,x2,y2), "labels", "box_flags", "points"
/// ([{"point": [x, y], "label", "flags"}]), "flags", "partial", "reason" (null when empty),
/// "geometry" (to_json of the contract)} on one line.
inline std::string to_json(const parse_result& r, std::string_view family) {
  using namespace detail;
  std::string o = "{\"status\": ";
  json_quote(o, to_string(r.status));
  o += ", \"family\": ";
  json_quote(o, family);
  o += ", \"boxes\": [";
  for (std::size_t i = 0; i < r.boxes.size(); ++i) {
    const auto& b = r.boxes[i].box;
    o += i ? ", [" : "[";
    for (const double v : {b.x1, b.y1, b.x2, b.y2}) {
      if (o.back() != '[') o += ", ";
      json_pixel(o, v);
    }
    o += ']';
  }
  o += "], \"labels\": [";
  for (std::size_t i = 0; i < r.boxes.size(); ++i) {
    if (i) o += ", ";
    json_text_value(o, r.boxes[i].label);
  }
  o += "], \"box_flags\": [";
  for (std::size_t i = 0; i < r.boxes.size(); ++i) {
    if (i) o += ", ";
    json_flags(o, r.boxes[i].flags);
  }
  o += "], \"points\": [";
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    const auto& p = r.points[i];
    o += i ? ", {\"point\": [" : "{\"point\": [";
    json_pixel(o, p.x);
    o += ", ";
    json_pixel(o, p.y);
    o += "], \"label\": ";
    json_text_value(o, p.label);
    o += ", \"flags\": ";
    json_flags(o, p.flags);
    o += '}';
  }
  o += "], \"flags\": ";
  json_flags(o, r.flags());
  o += r.partial ? ", \"partial\": true, \"reason\": " : ", \"partial\": false, \"reason\": ";
  if (r.reason.empty())
    o += "null";
  else
    json_text_value(o, r.reason);
  o += ", \"geometry\": " + to_json(r.geom) + "}";
  return o;
}

}  // namespace groundeval
