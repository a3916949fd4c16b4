// SPDX-License-Identifier: Apache-2.0
// groundeval/report/png/overlay.hpp — qualitative-case overlays: boxes drawn on an RGB image, a
// caption strip with text rendered by stb_truetype, PNG output by stb_image_write.
// Target: groundeval::image (Debian's libstb compiles stb; never define *_IMPLEMENTATION here).
//
// The default font is DejaVu Sans from the Debian package fonts-dejavu-core; a missing font is an
// error that says which package to install (or set GROUNDEVAL_FONT to another .ttf file).
#pragma once

#include <groundeval/boxes/box.hpp>
#include <groundeval/error.hpp>
#include <groundeval/report/palette.hpp>
#include <groundeval/report/summary.hpp>
#include <groundeval/report/text.hpp>

#include <stb_image_write.h>
#include <stb_truetype.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::report {

/// An 8-bit RGB image, rows top to bottom, 3 bytes per pixel, no padding.
struct rgb_image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;

  static rgb_image filled(int w, int h, rgb c) {
    if (w < 0 || h < 0) throw error(error_kind::invalid, "rgb_image: negative size");
    rgb_image im{w, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h * 3)};
    for (std::size_t i = 0; i < im.pixels.size(); i += 3) {
      im.pixels[i] = c.r;
      im.pixels[i + 1] = c.g;
      im.pixels[i + 2] = c.b;
    }
    return im;
  }
  bool contains(int x, int y) const noexcept { return x >= 0 && y >= 0 && x < width && y < height; }
  rgb at(int x, int y) const {
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    return {pixels[i], pixels[i + 1], pixels[i + 2]};
  }
  void set(int x, int y, rgb c) {
    if (!contains(x, y)) return;
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    pixels[i] = c.r;
    pixels[i + 1] = c.g;
    pixels[i + 2] = c.b;
  }
  /// Mixes `c` into the pixel with coverage alpha in [0, 255].
  void blend(int x, int y, rgb c, int alpha) {
    if (!contains(x, y) || alpha <= 0) return;
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    auto mix = [alpha](std::uint8_t under, std::uint8_t over) {
      return static_cast<std::uint8_t>((under * (255 - alpha) + over * alpha + 127) / 255);
    };
    pixels[i] = mix(pixels[i], c.r);
    pixels[i + 1] = mix(pixels[i + 1], c.g);
    pixels[i + 2] = mix(pixels[i + 2], c.b);
  }
};

/// Copies decoded pixels with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels into an
/// RGB image (alpha is dropped).
inline rgb_image make_rgb_image(const unsigned char* data, int width, int height, int channels);

/// Fills the rectangle [x0, x1) x [y0, y1), clipped to the image.
inline void fill_rect(rgb_image& im, int x0, int y0, int x1, int y1, rgb c);

/// Draws the outline of `b` (pixel coordinates, x2/y2 exclusive) with `line_width` pixels drawn
/// inside the box edges, clipped to the image. The edges are at round(x1), round(x2) - 1, ...; a
/// box with a non-finite coordinate draws nothing.
inline void draw_box(rgb_image& im, const box_xyxy<double>& b, rgb c, int line_width = 3);

/// Area-average downscale so the width is at most `max_width` (never upscales); returns the
/// scale factor applied through `scale_out`.
inline rgb_image fit_width(const rgb_image& im, int max_width, double* scale_out = nullptr);

/// Encodes as PNG in memory; writes a PNG file (error_kind::io naming the path on failure).
inline std::vector<std::uint8_t> encode_png(const rgb_image& im);
inline void write_png(const rgb_image& im, const std::filesystem::path& path);

/// Where the default font is looked for: $GROUNDEVAL_FONT when set, else DejaVu Sans of the
/// Debian package fonts-dejavu-core.
inline std::filesystem::path default_font_path();

/// A TrueType font loaded into memory (copies share the font data).
class font {
 public:
  /// Loads a .ttf file; a missing or unreadable file is an error_kind::io naming it.
  static font load(const std::filesystem::path& ttf);
  /// Loads default_font_path(); the error says to install fonts-dejavu-core.
  static font load_default();

  /// Width in pixels of one line of UTF-8 text at pixel height `px`.
  int text_width(std::string_view utf8, float px) const;
  /// Distance between baselines at pixel height `px`.
  int line_height(float px) const;
  /// Draws one line of UTF-8 text with its top at `y` (anti-aliased); returns the end x.
  int draw(rgb_image& im, int x, int y, std::string_view utf8, float px, rgb c) const;
  /// Splits text into lines no wider than `max_width` (at spaces; over-long words are split).
  std::vector<std::string> wrap(std::string_view utf8, float px, int max_width) const;

 private:
  std::shared_ptr<const std::vector<unsigned char>> m_data;
  stbtt_fontinfo m_info{};
};

/// One line of a caption: text, colour, and an optional colour swatch before it.
struct caption_line {
  std::string text;
  rgb color{0x20, 0x20, 0x20};
  bool swatch = false;
  rgb swatch_color{};
};

/// Returns `im` with a white caption strip below it holding `lines`, each wrapped to the image
/// width.
inline rgb_image add_caption(const rgb_image& im, const std::vector<caption_line>& lines,
                             const font& f, float px = 14.0f);

/// A box to draw on an overlay.
struct overlay_box {
  box_xyxy<double> box;  ///< in the original image's pixels
  rgb color;
};

struct overlay_options {
  int max_width = 480;  ///< downscale wider photos to this width
  int line_width = 3;
  float font_px = 14.0f;
};

/// The caption of a gallery case: category and phrase, the sentence (grey), a green swatch line
/// for the ground truth, and one swatch line per entry of c.ious ("run: IoU 0.12", or "no box"),
/// coloured with run_color(position of the run in `run_names`).
inline std::vector<caption_line> case_caption(const gallery_case& c,
                                              const std::vector<std::string>& run_names);

/// The complete overlay of one case: the photo fitted to max_width, boxes drawn in order
/// (ground truth first, so runs' boxes stay visible on top), and the caption strip.
inline rgb_image render_overlay(const rgb_image& photo, const std::vector<overlay_box>& boxes,
                                const std::vector<caption_line>& caption, const font& f,
                                const overlay_options& opt = {});

// ---- implementation -------------------------------------------------------------------------

inline rgb_image make_rgb_image(const unsigned char* data, int width, int height, int channels) {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || data == nullptr)
    throw error(error_kind::invalid, "make_rgb_image: bad size, channel count or null data");
  rgb_image im{width, height,
               std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3)};
  const std::size_t n = static_cast<std::size_t>(width) * height;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* p = data + i * static_cast<std::size_t>(channels);
    if (channels <= 2) {
      im.pixels[i * 3] = im.pixels[i * 3 + 1] = im.pixels[i * 3 + 2] = p[0];
    } else {
      im.pixels[i * 3] = p[0];
      im.pixels[i * 3 + 1] = p[1];
      im.pixels[i * 3 + 2] = p[2];
    }
  }
  return im;
}

inline void fill_rect(rgb_image& im, int x0, int y0, int x1, int y1, rgb c) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, im.width);
  y1 = std::min(y1, im.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) im.set(x, y, c);
}

inline void draw_box(rgb_image& im, const box_xyxy<double>& b, rgb c, int line_width) {
  if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) ||
      !std::isfinite(b.y2) || line_width <= 0)
    return;
  auto to_int = [](double v) { return static_cast<int>(std::clamp(std::round(v), -1e9, 1e9)); };
  int x0 = to_int(std::min(b.x1, b.x2)), x1 = to_int(std::max(b.x1, b.x2));
  int y0 = to_int(std::min(b.y1, b.y2)), y1 = to_int(std::max(b.y1, b.y2));
  if (x1 <= x0) x1 = x0 + 1;  // a degenerate box still shows as a line
  if (y1 <= y0) y1 = y0 + 1;
  const int w = line_width;
  fill_rect(im, x0, y0, x1, std::min(y0 + w, y1), c);  // top
  fill_rect(im, x0, std::max(y1 - w, y0), x1, y1, c);  // bottom
  fill_rect(im, x0, y0, std::min(x0 + w, x1), y1, c);  // left
  fill_rect(im, std::max(x1 - w, x0), y0, x1, y1, c);  // right
}

inline rgb_image fit_width(const rgb_image& im, int max_width, double* scale_out) {
  if (max_width <= 0 || im.width <= max_width) {
    if (scale_out) *scale_out = 1.0;
    return im;
  }
  const double s = static_cast<double>(max_width) / im.width;
  const int nw = max_width;
  const int nh = std::max(1, static_cast<int>(std::lround(im.height * s)));
  rgb_image out = rgb_image::filled(nw, nh, rgb{});
  const double sx = static_cast<double>(im.width) / nw, sy = static_cast<double>(im.height) / nh;
  for (int y = 0; y < nh; ++y) {
    const int ya = static_cast<int>(y * sy);
    const int yb = std::max(ya + 1, std::min(im.height, static_cast<int>(std::ceil((y + 1) * sy))));
    for (int x = 0; x < nw; ++x) {
      const int xa = static_cast<int>(x * sx);
      const int xb =
          std::max(xa + 1, std::min(im.width, static_cast<int>(std::ceil((x + 1) * sx))));
      unsigned sum[3] = {0, 0, 0};
      unsigned n = 0;
      for (int yy = ya; yy < yb; ++yy)
        for (int xx = xa; xx < xb; ++xx) {
          const rgb p = im.at(xx, yy);
          sum[0] += p.r;
          sum[1] += p.g;
          sum[2] += p.b;
          ++n;
        }
      out.set(x, y,
              rgb{static_cast<std::uint8_t>((sum[0] + n / 2) / n),
                  static_cast<std::uint8_t>((sum[1] + n / 2) / n),
                  static_cast<std::uint8_t>((sum[2] + n / 2) / n)});
    }
  }
  if (scale_out) *scale_out = static_cast<double>(nw) / im.width;
  return out;
}

namespace detail {
inline void png_sink(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<std::uint8_t>*>(ctx);
  const auto* p = static_cast<const std::uint8_t*>(data);
  v->insert(v->end(), p, p + size);
}

/// Decodes one UTF-8 code point at `i` (advancing it); malformed input yields U+FFFD.
inline std::uint32_t overlay_next_utf8(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i++]);
  if (b0 < 0x80) return b0;
  int extra = 0;
  std::uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0)
    extra = 1, cp = b0 & 0x1F;
  else if ((b0 & 0xF0) == 0xE0)
    extra = 2, cp = b0 & 0x0F;
  else if ((b0 & 0xF8) == 0xF0)
    extra = 3, cp = b0 & 0x07;
  else
    return 0xFFFD;
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp > 0x10FFFF ? 0xFFFD : cp;
}
}  // namespace detail

inline std::vector<std::uint8_t> encode_png(const rgb_image& im) {
  std::vector<std::uint8_t> out;
  if (im.width <= 0 || im.height <= 0 || im.width > INT_MAX / 3)
    throw error(error_kind::invalid, "encode_png: empty or too large image");
  if (!stbi_write_png_to_func(&detail::png_sink, &out, im.width, im.height, 3, im.pixels.data(),
                              im.width * 3))
    throw error(error_kind::io, "encode_png: stb_image_write failed");
  return out;
}

inline void write_png(const rgb_image& im, const std::filesystem::path& path) {
  const auto bytes = encode_png(im);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  os.close();
  if (!os) throw error(error_kind::io, path.string(), 0, "cannot write the PNG file");
}

inline std::filesystem::path default_font_path() {
  if (const char* env = std::getenv("GROUNDEVAL_FONT"); env != nullptr && *env != '\0') return env;
  return "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

inline font font::load(const std::filesystem::path& ttf) {
  std::ifstream is(ttf, std::ios::binary);
  if (!is) throw error(error_kind::io, ttf.string(), 0, "cannot open the font file");
  auto data = std::make_shared<std::vector<unsigned char>>(std::istreambuf_iterator<char>(is),
                                                           std::istreambuf_iterator<char>());
  font f;
  const int offset = data->empty() ? -1 : stbtt_GetFontOffsetForIndex(data->data(), 0);
  if (offset < 0 || !stbtt_InitFont(&f.m_info, data->data(), offset))
    throw error(error_kind::parse, ttf.string(), 0, "not a TrueType font stb_truetype can read");
  f.m_data = std::move(data);  // the shared buffer does not move, so m_info's pointer stays valid
  return f;
}

inline font font::load_default() {
  const auto p = default_font_path();
  std::error_code ec;
  if (!std::filesystem::exists(p, ec))
    throw error(error_kind::io, p.string(), 0,
                "font not found: install the Debian package fonts-dejavu-core "
                "(apt-get install fonts-dejavu-core) or set GROUNDEVAL_FONT to a .ttf file");
  return load(p);
}

inline int font::line_height(float px) const {
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&m_info, &ascent, &descent, &gap);
  const float s = stbtt_ScaleForPixelHeight(&m_info, px);
  return static_cast<int>(std::ceil(static_cast<float>(ascent - descent + gap) * s));
}

inline int font::text_width(std::string_view utf8, float px) const {
  const float s = stbtt_ScaleForPixelHeight(&m_info, px);
  float x = 0;
  int prev = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const int g =
        stbtt_FindGlyphIndex(&m_info, static_cast<int>(detail::overlay_next_utf8(utf8, i)));
    if (prev) x += s * static_cast<float>(stbtt_GetGlyphKernAdvance(&m_info, prev, g));
    int adv = 0, lsb = 0;
    stbtt_GetGlyphHMetrics(&m_info, g, &adv, &lsb);
    x += s * static_cast<float>(adv);
    prev = g;
  }
  return static_cast<int>(std::ceil(x));
}

inline int font::draw(rgb_image& im, int x, int y, std::string_view utf8, float px, rgb c) const {
  const float s = stbtt_ScaleForPixelHeight(&m_info, px);
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&m_info, &ascent, &descent, &gap);
  const int baseline = y + static_cast<int>(std::lround(static_cast<float>(ascent) * s));
  float pen = static_cast<float>(x);
  int prev = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const int g =
        stbtt_FindGlyphIndex(&m_info, static_cast<int>(detail::overlay_next_utf8(utf8, i)));
    if (prev) pen += s * static_cast<float>(stbtt_GetGlyphKernAdvance(&m_info, prev, g));
    int adv = 0, lsb = 0;
    stbtt_GetGlyphHMetrics(&m_info, g, &adv, &lsb);
    int w = 0, h = 0, xoff = 0, yoff = 0;
    unsigned char* bm = stbtt_GetGlyphBitmap(&m_info, s, s, g, &w, &h, &xoff, &yoff);
    if (bm != nullptr) {
      const int gx = static_cast<int>(std::lround(pen)) + xoff, gy = baseline + yoff;
      for (int yy = 0; yy < h; ++yy)
        for (int xx = 0; xx < w; ++xx) im.blend(gx + xx, gy + yy, c, bm[yy * w + xx]);
      stbtt_FreeBitmap(bm, nullptr);
    }
    pen += s * static_cast<float>(adv);
    prev = g;
  }
  return static_cast<int>(std::ceil(pen));
}

inline std::vector<std::string> font::wrap(std::string_view utf8, float px, int max_width) const {
  std::vector<std::string> lines;
  std::string cur;
  auto push_word = [&](std::string_view word) {
    std::string trial = cur.empty() ? std::string(word) : cur + " " + std::string(word);
    if (text_width(trial, px) <= max_width || (cur.empty() && word.empty())) {
      cur = std::move(trial);
      return;
    }
    if (!cur.empty()) {
      lines.push_back(cur);
      cur.clear();
    }
    // The word alone: split it by code points when it is too wide.
    std::string piece;
    for (std::size_t i = 0; i < word.size();) {
      const std::size_t b = i;
      (void)detail::overlay_next_utf8(word, i);
      std::string next = piece + std::string(word.substr(b, i - b));
      if (!piece.empty() && text_width(next, px) > max_width) {
        lines.push_back(piece);
        piece = std::string(word.substr(b, i - b));
      } else {
        piece = std::move(next);
      }
    }
    cur = piece;
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i <= utf8.size(); ++i) {
    if (i == utf8.size() || utf8[i] == ' ' || utf8[i] == '\n') {
      if (i > start) push_word(utf8.substr(start, i - start));
      if (i < utf8.size() && utf8[i] == '\n') {
        lines.push_back(cur);
        cur.clear();
      }
      start = i + 1;
    }
  }
  if (!cur.empty() || lines.empty()) lines.push_back(cur);
  return lines;
}

inline rgb_image add_caption(const rgb_image& im, const std::vector<caption_line>& lines,
                             const font& f, float px) {
  const int pad = 6, lh = f.line_height(px);
  const int sw = static_cast<int>(px * 0.8f);  // swatch size
  const int width = std::max(im.width, 120);
  struct row {
    std::string text;
    rgb color;
    bool swatch;  ///< draw the swatch (first row of a line)
    int indent;   ///< continuation rows of a swatch line stay aligned with its text
    rgb swatch_color;
  };
  std::vector<row> rows;
  for (const auto& l : lines) {
    const int indent = l.swatch ? sw + 5 : 0;
    const auto wrapped = f.wrap(l.text, px, std::max(20, width - 2 * pad - indent));
    for (std::size_t i = 0; i < wrapped.size(); ++i)
      rows.push_back({wrapped[i], l.color, l.swatch && i == 0, indent, l.swatch_color});
  }
  const int strip = 2 * pad + lh * static_cast<int>(rows.size());
  rgb_image out = rgb_image::filled(width, im.height + strip, rgb{255, 255, 255});
  for (int y = 0; y < im.height; ++y)
    std::copy_n(im.pixels.begin() + static_cast<std::ptrdiff_t>(y) * im.width * 3, im.width * 3,
                out.pixels.begin() + static_cast<std::ptrdiff_t>(y) * width * 3);
  int y = im.height + pad;
  for (const auto& r : rows) {
    if (r.swatch)
      fill_rect(out, pad, y + (lh - sw) / 2, pad + sw, y + (lh - sw) / 2 + sw, r.swatch_color);
    f.draw(out, pad + r.indent, y, r.text, px, r.color);
    y += lh;
  }
  return out;
}

inline std::vector<caption_line> case_caption(const gallery_case& c,
                                              const std::vector<std::string>& run_names) {
  std::vector<caption_line> out;
  out.push_back(
      {c.category + ": \xE2\x80\x9C" + c.phrase + "\xE2\x80\x9D", rgb{0, 0, 0}, false, {}});
  out.push_back({c.sentence, rgb{90, 90, 90}, false, {}});
  out.push_back({"ground truth", rgb{0, 0, 0}, true, ground_truth_color});
  for (const auto& [run, iou] : c.ious) {
    const auto it = std::find(run_names.begin(), run_names.end(), run);
    const rgb col = it == run_names.end()
                        ? rgb{128, 128, 128}
                        : run_color(static_cast<std::size_t>(it - run_names.begin()));
    out.push_back({run + (std::isfinite(iou) ? ": IoU " + format_fixed(iou, 2) : ": no box"),
                   rgb{0, 0, 0}, true, col});
  }
  return out;
}

inline rgb_image render_overlay(const rgb_image& photo, const std::vector<overlay_box>& boxes,
                                const std::vector<caption_line>& caption, const font& f,
                                const overlay_options& opt) {
  double s = 1.0;
  rgb_image im = fit_width(photo, opt.max_width, &s);
  for (const auto& b : boxes)
    draw_box(im, {b.box.x1 * s, b.box.y1 * s, b.box.x2 * s, b.box.y2 * s}, b.color, opt.line_width);
  return add_caption(im, caption, f, opt.font_px);
}

}  // namespace groundeval::report
