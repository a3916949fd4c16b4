// SPDX-License-Identifier: Apache-2.0
// groundeval parse-box — decodes one model answer with a family's box parser and geometry
// contract and prints the boxes in original-image pixels as JSON (for debugging and scripts).
#include "command.hpp"

#include <groundeval/error.hpp>
#include <groundeval/grounders/parsers.hpp>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace {

/// The usage text; the family list and each family's geometry keys come from the family table.
std::string usage() {
  std::string u =
      "usage: groundeval parse-box --family F --image-size WxH [--geometry KEY=VALUE ...] TEXT\n"
      "\n"
      "Decodes TEXT (a model's answer; '-' reads it from standard input) with the box format of\n"
      "family F and prints {\"status\", \"boxes\" (original-image pixels x1,y1,x2,y2), "
      "\"labels\",\n"
      "\"box_flags\", \"points\" (x,y, point-answer families), \"flags\", \"partial\", "
      "\"reason\",\n"
      "\"geometry\"} as one JSON object.\n"
      "\n"
      "families (answer format; geometry keys beyond clip=true|false):\n";
  for (const auto& f : groundeval::families) {
    std::string keys;
    for (auto k : f.keys)
      if (!k.empty()) keys += (keys.empty() ? "" : " ") + std::string(k) + "=...";
    u += "  " + std::string(f.id) + std::string(f.id.size() < 13 ? 13 - f.id.size() : 1, ' ') +
         std::string(f.format) + (keys.empty() ? "" : "; " + keys) + "\n";
  }
  u += "geometry values:\n"
       "  frame=padded|original|center-crop   pad=client|server      (llava, shikra)\n"
       "  divisor=999|1000                     (qwen-vl)\n"
       "  min_pixels=N max_pixels=N factor=N   (qwen2.5-vl: the server processor's values)\n"
       "  decode=kosmos|edge|centre            (kosmos-2)\n"
       "  truncate=true|false                  (florence-2)\n"
       "  input=WxH                            (pixel: pixels of a stretched input of that size)\n";
  return u;
}

/// JSON string literal; invalid UTF-8 bytes become U+FFFD.
std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
      ++i;
    } else if (c == '\n') {
      o += "\\n";
      ++i;
    } else if (c == '\t') {
      o += "\\t";
      ++i;
    } else if (c == '\r') {
      o += "\\r";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
      o += buf;
      ++i;
    } else if (c < 0x80) {
      o += char(c);
      ++i;
    } else {
      const std::size_t n = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool valid = n > 0 && c < 0xF5 && i + n <= s.size();
      for (std::size_t k = 1; valid && k < n; ++k)
        valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (valid) {
        o.append(s.substr(i, n));
        i += n;
      } else {
        o += "\\ufffd";
        ++i;
      }
    }
  }
  o += '"';
  return o;
}

/// 10 significant digits: hides the last-bit noise of the inverse maps (508.99999999999994
/// prints as 509) while keeping 1e-5 px resolution on images up to 100000 px.
std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string flag_list(std::uint8_t flags) {
  std::string s = "[";
  for (auto name : groundeval::flag_names(flags)) {
    if (s.size() > 1) s += ", ";
    s += json_string(name);
  }
  return s + "]";
}

groundeval::image_size parse_size(const std::string& v) {
  const auto x = v.find('x');
  int w = 0, h = 0;
  bool good = x != std::string::npos;
  if (good) {
    auto [p1, e1] = std::from_chars(v.data(), v.data() + x, w);
    auto [p2, e2] = std::from_chars(v.data() + x + 1, v.data() + v.size(), h);
    good = e1 == std::errc{} && e2 == std::errc{} && p1 == v.data() + x &&
           p2 == v.data() + v.size() && w > 0 && h > 0;
  }
  if (!good)
    throw groundeval::error(groundeval::error_kind::config, "--image-size", 0,
                            "expected WxH with positive integers, e.g. 640x480, got '" + v + "'");
  return {w, h};
}

int run(const std::vector<std::string>& args) {
  std::string family, text;
  bool have_size = false, have_text = false;
  groundeval::image_size size{};
  std::vector<std::pair<std::string, std::string>> geom;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* opt) -> const std::string& {
      if (i + 1 >= args.size())
        throw groundeval::error(groundeval::error_kind::config, "parse-box", 0,
                                std::string(opt) + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(usage().c_str(), stdout);
      return 0;
    } else if (a == "--family") {
      family = value("--family");
    } else if (a == "--image-size") {
      size = parse_size(value("--image-size"));
      have_size = true;
    } else if (a == "--geometry") {
      const std::string& kv = value("--geometry");
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw groundeval::error(groundeval::error_kind::config, "--geometry", 0,
                                "expected KEY=VALUE, got '" + kv + "'");
      geom.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
      throw groundeval::error(groundeval::error_kind::config, "parse-box", 0,
                              "unknown option '" + a + "'\n" + usage());
    } else {
      if (have_text)
        throw groundeval::error(groundeval::error_kind::config, "parse-box", 0,
                                "expected exactly one TEXT argument (quote the answer)");
      text = a;
      have_text = true;
    }
  }
  if (family.empty() || !have_size || !have_text)
    throw groundeval::error(groundeval::error_kind::config, "parse-box", 0,
                            std::string("missing ") +
                                (family.empty() ? "--family"
                                 : !have_size   ? "--image-size"
                                                : "TEXT") +
                                "\n" + usage());
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});

  const groundeval::geometry g = groundeval::family_geometry(family, size, geom);
  const groundeval::parse_result r = groundeval::parse_answer(family, text, g);

  std::string out = "{\"status\": " + json_string(groundeval::to_string(r.status)) +
                    ", \"family\": " + json_string(family) + ", \"boxes\": [";
  std::string labels = "[", box_flags = "[";
  for (std::size_t i = 0; i < r.boxes.size(); ++i) {
    const auto& b = r.boxes[i].box;
    if (i) {
      out += ", ";
      labels += ", ";
      box_flags += ", ";
    }
    out += "[" + json_number(b.x1) + ", " + json_number(b.y1) + ", " + json_number(b.x2) + ", " +
           json_number(b.y2) + "]";
    labels += json_string(r.boxes[i].label);
    box_flags += flag_list(r.boxes[i].flags);
  }
  std::string points = "[";
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    const auto& p = r.points[i];
    points += std::string(i ? ", " : "") + "{\"point\": [" + json_number(p.x) + ", " +
              json_number(p.y) + "], \"label\": " + json_string(p.label) +
              ", \"flags\": " + flag_list(p.flags) + "}";
  }
  out += "], \"labels\": " + labels + "], \"box_flags\": " + box_flags +
         "], \"points\": " + points + "], \"flags\": " + flag_list(r.flags()) +
         ", \"partial\": " + (r.partial ? "true" : "false") +
         ", \"reason\": " + (r.reason.empty() ? std::string("null") : json_string(r.reason)) +
         ", \"geometry\": " + groundeval::to_json(r.geom) + "}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

const bool registered = groundeval::cli::register_command(
    {"parse-box", "decode one model answer to original-image boxes (JSON)", run});

}  // namespace
