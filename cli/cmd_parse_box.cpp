// SPDX-License-Identifier: Apache-2.0
// groundeval parse-box — decodes one model answer with a family's box parser and geometry
// contract and prints the boxes in original-image pixels as JSON (for debugging and scripts).
#include "command.hpp"

#include <groundeval/error.hpp>
#include <groundeval/grounders/parse_json.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
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

/// WxH with positive integers.
groundeval::image_size parse_size(groundeval::cli::arg_reader& a) {
  const std::string v = a.value();
  const auto x = v.find('x');
  const auto w = groundeval::detail::parse_integer<int>(std::string_view(v).substr(0, x));
  const auto h = x == std::string::npos
                     ? std::nullopt
                     : groundeval::detail::parse_integer<int>(std::string_view(v).substr(x + 1));
  if (!w || !h || *w <= 0 || *h <= 0)
    a.fail("--image-size expects WxH with positive integers, e.g. 640x480, got '" + v + "'");
  return {*w, *h};
}

int run(const std::vector<std::string>& args) {
  std::string family, text;
  bool have_size = false, have_text = false;
  groundeval::image_size size{};
  std::vector<std::pair<std::string, std::string>> geom;
  for (groundeval::cli::arg_reader a("parse-box", args); a.next();) {
    if (a.help()) {
      std::fputs(usage().c_str(), stdout);
      return 0;
    } else if (a.is("--family")) {
      family = a.value();
    } else if (a.is("--image-size")) {
      size = parse_size(a);
      have_size = true;
    } else if (a.is("--geometry")) {
      geom.push_back(a.key_value());
    } else if (a.current().starts_with("--")) {
      a.unknown(usage());
    } else {
      if (have_text) a.fail("expected exactly one TEXT argument (quote the answer)");
      text = a.current();
      have_text = true;
    }
  }
  if (family.empty() || !have_size || !have_text)
    throw groundeval::error(groundeval::error_kind::config, std::string("parse-box: missing ") +
                                                                (family.empty() ? "--family"
                                                                 : !have_size   ? "--image-size"
                                                                                : "TEXT") +
                                                                "\n" + usage());
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});

  const groundeval::geometry g = groundeval::family_geometry(family, size, geom);
  const std::string out = groundeval::to_json(groundeval::parse_answer(family, text, g), family);
  std::printf("%s\n", out.c_str());
  return 0;
}

const bool registered = groundeval::cli::register_command(
    {"parse-box", "decode one model answer to original-image boxes (JSON)", run});

}  // namespace
