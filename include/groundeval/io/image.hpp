// SPDX-License-Identifier: Apache-2.0
// groundeval/io/image.hpp — image bytes and pixel views, without a decoder. Target:
// groundeval::core (standard library only). Decoding lives in io/stb/image_stb.hpp
// (groundeval::image).
#pragma once

#include <groundeval/boxes/box.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/limits.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

/// The original bytes of an image file (e.g. to send unchanged to a model endpoint).
struct image_bytes {
  std::string path;  ///< where they were read from (for messages)
  std::string data;  ///< the file content, byte for byte

  /// Lower-case file type guessed from the magic number: "jpeg", "png", "gif", "bmp", "webp"
  /// or "" when unknown (e.g. for a MIME type "image/<type>").
  std::string_view format() const noexcept {
    const auto b = [&](std::size_t i) {
      return i < data.size() ? static_cast<unsigned char>(data[i]) : 0u;
    };
    if (b(0) == 0xff && b(1) == 0xd8 && b(2) == 0xff) return "jpeg";
    if (b(0) == 0x89 && b(1) == 'P' && b(2) == 'N' && b(3) == 'G') return "png";
    if (b(0) == 'G' && b(1) == 'I' && b(2) == 'F') return "gif";
    if (b(0) == 'B' && b(1) == 'M') return "bmp";
    if (b(0) == 'R' && b(1) == 'I' && b(2) == 'F' && b(3) == 'F' && b(8) == 'W' && b(9) == 'E' &&
        b(10) == 'B' && b(11) == 'P')
      return "webp";
    return {};
  }
};

/// A non-owning view of 8-bit interleaved pixels, row-major, no padding between rows.
struct image_view {
  const unsigned char* pixels = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;  ///< 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA

  image_size size() const noexcept { return {width, height}; }
  /// Pointer to pixel (x, y); no bounds check.
  const unsigned char* at(int x, int y) const noexcept {
    return pixels + (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                     static_cast<std::size_t>(x)) *
                        static_cast<std::size_t>(channels);
  }
};

/// Reads an image file's bytes; a missing or unreadable file is an io error naming the path.
inline image_bytes read_image_bytes(const std::string& path) {
  image_bytes b;
  b.path = path;
  if (path.empty())
    throw error(error_kind::config, "no image path (the data set has no image folder)");
  if (!detail::read_whole_file(path, b.data, max_image_file_bytes))
    throw error(error_kind::io, path, 0,
                "cannot read image" + detail::read_failure_reason(max_image_file_bytes));
  if (b.data.empty()) throw error(error_kind::parse, path, 0, "image file is empty");
  return b;
}

}  // namespace groundeval
