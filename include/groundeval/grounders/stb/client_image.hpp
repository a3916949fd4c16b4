// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/stb/client_image.hpp — the image a grounder sends, as the geometry
// contract's client-side step says (geometry::send): the original file bytes, or the image
// padded to a square exactly as LLaVA's expand2square does before the CLIP processor sees it
// (so a server that pads, resizes or centre-crops receives a square and the model frame is
// known). Also the plain test image of the Qwen frame check. Target: groundeval::image (stb).
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/io/image.hpp>
#include <groundeval/io/stb/image_stb.hpp>
#include <groundeval/report/png/overlay.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace groundeval {

/// What goes over the wire for one image.
struct sent_image {
  std::string bytes;  ///< file bytes (the original, or a PNG groundeval made)
  std::string mime;   ///< "image/png", "image/jpeg", ...
  image_size size;    ///< pixel size of what is sent
  bool transformed = false;
};

/// The RGB image padded to the square of side max(W, H), pasted at pad_offset (floor division
/// on the short side) on a background of `colour`: LLaVA mm_utils.expand2square (and Shikra's
/// Expand2square). `pixels` is 8-bit RGB, rows top to bottom.
inline report::rgb_image expand_to_square(const unsigned char* pixels, image_size size,
                                          const std::array<std::uint8_t, 3>& colour) {
  const image_size side = padded_square(size);
  report::rgb_image out =
      report::rgb_image::filled(side.width, side.height, {colour[0], colour[1], colour[2]});
  const image_size off = pad_offset(size);
  const std::size_t row = static_cast<std::size_t>(size.width) * 3;
  for (int y = 0; y < size.height; ++y)
    std::memcpy(out.pixels.data() + (static_cast<std::size_t>(y + off.height) * side.width +
                                     static_cast<std::size_t>(off.width)) *
                                        3,
                pixels + static_cast<std::size_t>(y) * row, row);
  return out;
}

/// The image to send for contract `g`: the original bytes for send_kind::original; for
/// send_kind::pad_square the decoded RGB pixels (an alpha channel is dropped, grey becomes RGB,
/// as PIL's convert('RGB') does) padded by expand_to_square, as a lossless PNG. A file whose
/// decoded size differs from g.original is an error naming the file (the contract would be
/// computed for the wrong image).
inline sent_image prepare_image(const image_bytes& original, const geometry& g) {
  if (g.send.kind == send_kind::original) {
    const std::string_view f = original.format();
    return {original.data, f.empty() ? "application/octet-stream" : "image/" + std::string(f),
            g.original, false};
  }
  const decoded_image d = decode_image(original, 3);
  if (!(d.size() == g.original))
    throw error(error_kind::invalid, original.path, 0,
                "image is " + std::to_string(d.size().width) + "x" +
                    std::to_string(d.size().height) + " but the annotation says " +
                    std::to_string(g.original.width) + "x" + std::to_string(g.original.height));
  const report::rgb_image sq = expand_to_square(d.view().pixels, d.size(), g.send.pad_colour);
  const std::vector<std::uint8_t> png = report::encode_png(sq);
  return {std::string(png.begin(), png.end()), "image/png", {sq.width, sq.height}, true};
}

/// A plain mid-grey PNG of `size` (the reference image of the Qwen frame check).
inline sent_image plain_image(image_size size) {
  const report::rgb_image im = report::rgb_image::filled(size.width, size.height, {128, 128, 128});
  const std::vector<std::uint8_t> png = report::encode_png(im);
  return {std::string(png.begin(), png.end()), "image/png", size, true};
}

}  // namespace groundeval
