// SPDX-License-Identifier: Apache-2.0
// Fuzzes the VLM box-format parsers (grounders/parsers.hpp, parse_answer). Byte 0 picks the
// family (modulo the number of families in the table), byte 1 the image size and geometry
// options; the rest is the model's answer. parse_answer is documented never to throw for any
// text, so any exception is a bug; every decoded box and point must be finite and, with
// clipping on, inside the image; status ok exactly when there is a box or a point.
#include "fuzz_util.hpp"

#include <groundeval/grounders/parsers.hpp>

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view family = groundeval::family_ids[data[0] % groundeval::family_ids.size()];
  const unsigned v = data[1];
  static constexpr groundeval::image_size sizes[4] = {{640, 480}, {1, 1}, {333, 5000}, {9999, 17}};
  const groundeval::image_size original = sizes[v & 3u];
  std::vector<std::pair<std::string, std::string>> options;
  const bool clip = (v & 4u) == 0;
  if (!clip) options.emplace_back("clip", "false");
  if (v & 8u) {  // the family's non-default variant, where it has one
    if (family == "llava" || family == "shikra")
      options.emplace_back("frame", (v & 16u) ? "center-crop" : "original");
    if (family == "qwen-vl") options.emplace_back("divisor", "1000");
    if (family == "kosmos-2") options.emplace_back("decode", (v & 16u) ? "edge" : "centre");
    if (family == "florence-2") options.emplace_back("truncate", "true");
    if (family == "pixel") options.emplace_back("input", "1x1000000");
    if (family == "qwen2.5-vl") options.emplace_back("factor", (v & 16u) ? "1" : "4096");
  }
  groundeval::geometry g;
  try {
    g = groundeval::family_geometry(family, original, options);
  } catch (const groundeval::error&) {
    return 0;  // a geometry the options do not allow for this size (documented config error)
  }
  const std::string_view text = groundeval_fuzz::as_text(data + 2, size - 2);
  const groundeval::parse_result r = groundeval::parse_answer(family, text, g);
  const bool found = !r.boxes.empty() || !r.points.empty();
  if ((r.status == groundeval::query_status::ok) != found) std::abort();
  for (const auto& p : r.points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) std::abort();
    if (clip && (p.x < 0 || p.y < 0 || p.x > original.width || p.y > original.height)) std::abort();
  }
  for (const auto& b : r.boxes) {
    if (!std::isfinite(b.box.x1) || !std::isfinite(b.box.y1) || !std::isfinite(b.box.x2) ||
        !std::isfinite(b.box.y2))
      std::abort();
    if (clip &&
        (b.box.x1 < 0 || b.box.y1 < 0 || b.box.x2 > original.width || b.box.y2 > original.height))
      std::abort();
  }
  return 0;
}
