// SPDX-License-Identifier: Apache-2.0
// groundeval/report/png/query_overlay.hpp — one query's answer drawn on its image: decoded boxes
// in red, ground truth in green, and a caption with the phrase, the raw answer and the frame the
// answer was decoded in (what `groundeval probe` writes). Target: groundeval::image.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/io/stb/image_stb.hpp>
#include <groundeval/report/png/overlay.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace groundeval::report {

/// Draws `r`'s boxes (red) and `truth` (green) on the image at `image`, captioned with the
/// phrase, the raw answer, the status and the frame of `g`, and writes the PNG `file`. Without
/// a font the boxes are drawn without a caption (the reason goes to stderr).
inline void write_query_overlay(const std::string& image,
                                const std::vector<box_xyxy<double>>& truth, const query_result& r,
                                const std::string& phrase, const geometry& g,
                                const std::string& file) {
  const decoded_image d = decode_image(read_image_bytes(image), 3);
  const rgb_image photo = make_rgb_image(d.view().pixels, d.size().width, d.size().height, 3);
  std::vector<overlay_box> boxes;
  for (const auto& b : truth) boxes.push_back({b, {0x2e, 0xa0, 0x43}});
  for (const auto& b : r.boxes) boxes.push_back({b.box, {0xe0, 0x30, 0x30}});
  const frame_size fr = model_frame(g);
  const std::vector<caption_line> caption = {
      {"phrase: " + phrase},
      {"answer: " + r.raw_text},
      {std::string(to_string(r.status)) + "; frame " + std::string(to_string(g.pre.kind)) + " " +
       std::to_string(int(fr.width)) + "x" + std::to_string(int(fr.height)) + ", " +
       std::string(to_string(g.space.kind)) + "; red: decoded, green: ground truth"}};
  try {
    const font f = font::load_default();
    write_png(render_overlay(photo, boxes, caption, f, {1024}), file);
  } catch (const error& e) {  // no font: the boxes without a caption
    std::fprintf(stderr, "%s; writing %s without a caption\n", e.what(), file.c_str());
    rgb_image im = photo;
    for (const auto& b : boxes) draw_box(im, b.box, b.color);
    write_png(im, file);
  }
}

}  // namespace groundeval::report
