// SPDX-License-Identifier: Apache-2.0
// groundeval/io/stb/image_stb.hpp — decode images on demand with stb_image (Debian's libstb, which
// already compiles the implementation: never define STB_IMAGE_IMPLEMENTATION). Target:
// groundeval::image.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/image.hpp>

#include <stb_image.h>

#include <climits>
#include <memory>
#include <string>

namespace groundeval {

namespace detail {
struct stbi_deleter {
  void operator()(unsigned char* p) const noexcept { stbi_image_free(p); }
};
inline std::string stbi_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}
inline int stbi_length(const image_bytes& b) {
  if (b.data.size() > static_cast<std::size_t>(INT_MAX))
    throw error(error_kind::unsupported, b.path, 0, "image file larger than 2 GiB");
  return static_cast<int>(b.data.size());
}
}  // namespace detail

/// Decoded pixels, owning their memory.
class decoded_image {
 public:
  decoded_image() = default;
  image_view view() const noexcept { return {m_pixels.get(), m_width, m_height, m_channels}; }
  image_size size() const noexcept { return {m_width, m_height}; }
  int channels() const noexcept { return m_channels; }

 private:
  friend decoded_image decode_image(const image_bytes&, int);
  std::unique_ptr<unsigned char, detail::stbi_deleter> m_pixels;
  int m_width = 0, m_height = 0, m_channels = 0;
};

/// Width and height from the file header (no full decode). A corrupt or unsupported file is a
/// parse error naming the path and stb's reason.
inline image_size probe_image_size(const image_bytes& b) {
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(b.data.data()),
                             detail::stbi_length(b), &w, &h, &c))
    throw error(error_kind::parse, b.path, 0,
                "not a readable image (" + detail::stbi_reason() + ")");
  return {w, h};
}

/// Decodes to 8-bit pixels with `channels` channels (0 = as stored). Errors name the path.
inline decoded_image decode_image(const image_bytes& b, int channels = 3) {
  if (channels < 0 || channels > 4)
    throw error(error_kind::config, b.path, 0, "channels must be 0..4");
  decoded_image img;
  int w = 0, h = 0, c = 0;
  img.m_pixels.reset(stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(b.data.data()),
                                           detail::stbi_length(b), &w, &h, &c, channels));
  if (!img.m_pixels)
    throw error(error_kind::parse, b.path, 0,
                "cannot decode image (" + detail::stbi_reason() + ")");
  img.m_width = w;
  img.m_height = h;
  img.m_channels = channels ? channels : c;
  return img;
}

/// Throws an invalid-input error naming the path when the file's size differs from `expected`
/// (the annotation's); expected {0, 0} (unknown) is not checked.
inline void check_image_size(const image_bytes& b, image_size expected) {
  if (expected.width == 0 && expected.height == 0) return;
  const image_size got = probe_image_size(b);
  if (!(got == expected))
    throw error(error_kind::invalid, b.path, 0,
                "image is " + std::to_string(got.width) + "x" + std::to_string(got.height) +
                    " but the annotation says " + std::to_string(expected.width) + "x" +
                    std::to_string(expected.height));
}

/// The original bytes of a sample's image (`ds.image_path(s)`), size cross-checked against the
/// annotation unless `check_size` is false.
inline image_bytes load_sample_image(const in_memory_dataset& ds, const sample& s,
                                     bool check_size = true) {
  image_bytes b = read_image_bytes(ds.image_path(s));
  if (check_size) check_image_size(b, s.size);
  return b;
}

}  // namespace groundeval
