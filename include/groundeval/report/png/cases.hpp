// SPDX-License-Identifier: Apache-2.0
// groundeval/report/png/cases.hpp — draws a report's qualitative cases as PNG overlays: the
// photograph (or, on request, a labelled blank canvas when it is missing), the ground truth and
// each run's top box. Target: groundeval::image (stb).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/io/image.hpp>
#include <groundeval/io/stb/image_stb.hpp>
#include <groundeval/report/png/overlay.hpp>
#include <groundeval/report/summary.hpp>
#include <groundeval/report/writer.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace groundeval::report {

struct case_drawing_options {
  /// Draw a case whose image is missing on a blank canvas of the image's size, labelled "no
  /// image available", instead of listing it without a picture.
  bool blank_canvas = false;
};

/// What draw_cases() did.
struct case_drawing_summary {
  std::size_t drawn = 0;           ///< overlays written
  std::size_t no_image = 0;        ///< cases listed without an overlay
  std::size_t on_canvas = 0;       ///< drawn on a blank canvas
  std::vector<std::string> notes;  ///< for the report: undecodable images, cases without a picture
};

/// Writes an overlay for each case of `in` whose image `data` has on disk (ImageDataset) under
/// `dir` at case_png_path(), and sets the case's `png`. `top_box(run_index, case)` gives a run's
/// top box for the case (report/json/case_answers.hpp reads them from the runs' files) (a `const
/// box_xyxy<double>*`, nullptr when it has none); runs are in.runs, colored by run_color(index).
template <ImageDataset D, class TopBox>
case_drawing_summary draw_cases(report_input& in, const D& data, const TopBox& top_box,
                                const std::filesystem::path& dir,
                                const case_drawing_options& opt = {}) {
  case_drawing_summary out;
  using sample_type = std::ranges::range_value_t<const D>;
  std::map<std::tuple<std::string, long long>, const sample_type*> sentences;
  for (const auto& s : data)
    sentences.emplace(std::tuple{std::string(std::string_view(s.image_id)),
                                 static_cast<long long>(s.sentence_index)},
                      &s);
  std::vector<std::string> run_names;
  for (const auto& r : in.runs) run_names.push_back(r.name);
  std::optional<font> typeface;
  auto face = [&]() -> const font& {
    if (!typeface) typeface = font::load_default();
    return *typeface;
  };
  for (auto& g : in.cases) {
    auto it = sentences.find({g.image_id, g.sentence_index});
    if (it == sentences.end()) continue;
    const sample_type& s = *it->second;
    const auto ph =
        std::next(std::ranges::begin(s.phrases), static_cast<std::ptrdiff_t>(g.phrase_index));
    const std::string path(std::string_view(data.image_path(s)));
    std::error_code ec;
    rgb_image photo;
    if (path.empty() || !std::filesystem::exists(path, ec)) {
      const int w = s.size.width, h = s.size.height;
      if (!opt.blank_canvas || w <= 0 || h <= 0 || w > 8192 || h > 8192) {
        ++out.no_image;
        continue;
      }
      photo = rgb_image::filled(w, h, rgb{0xE8, 0xE8, 0xE8});
      const float px = std::max(14.0f, static_cast<float>(w) / 22.0f);
      face().draw(photo, 6, 6, "no image available", px, rgb{0x60, 0x60, 0x60});
      face().draw(photo, 6, 6 + face().line_height(px), "(blank canvas of the image size)", px,
                  rgb{0x60, 0x60, 0x60});
      ++out.on_canvas;
    } else {
      try {
        const decoded_image im = decode_image(read_image_bytes(path), 3);
        const image_view v = im.view();
        photo = make_rgb_image(v.pixels, v.width, v.height, v.channels);
      } catch (const error&) {
        out.notes.push_back(path + ": cannot decode the image; case listed without an overlay");
        ++out.no_image;
        continue;
      }
    }
    std::vector<overlay_box> boxes;
    for (const auto& b : ph->boxes) boxes.push_back({b, ground_truth_color});
    for (const auto& [name, iou] : g.ious) {
      const auto ri = static_cast<std::size_t>(std::find(run_names.begin(), run_names.end(), name) -
                                               run_names.begin());
      if (ri == run_names.size()) continue;
      if (const box_xyxy<double>* b = top_box(ri, std::as_const(g)))
        boxes.push_back({*b, run_color(ri)});
    }
    g.png = case_png_path(g);
    const auto target = dir / g.png;
    std::filesystem::create_directories(target.parent_path());
    write_png(render_overlay(photo, boxes, case_caption(g, run_names), face()), target);
    ++out.drawn;
  }
  if (out.on_canvas > 0)
    out.notes.push_back(std::to_string(out.on_canvas) +
                        " qualitative cases are drawn on a blank canvas labelled \"no image "
                        "available\": their images are not on disk");
  if (out.no_image > 0)
    out.notes.push_back(std::to_string(out.no_image) +
                        " qualitative cases are listed without an overlay: their images are not "
                        "on disk (e.g. a synthetic data set, or the images were not downloaded)");
  return out;
}

}  // namespace groundeval::report
