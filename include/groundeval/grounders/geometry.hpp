// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/geometry.hpp — the geometry contract of a generalist (text-output) model:
// what image the model saw and what its coordinate numbers mean, plus the one inverse map per
// preprocessing kind that brings a box back to original-image pixels. Target: groundeval::core.
//
// Pipeline for one box written by a model (docs/generalist.md has each family's setting):
//   values --(coordinate space)--> pixels of the model frame --(inverse preprocessing)-->
//   original-image pixels --(optional truncation, then clipping to the image)--> result.
// The model frame is the image the model's coordinates refer to: the original image (none), the
// stretched input (stretch), the padded square (pad_square), the Qwen2.5-VL smart-resized input
// (smart_resize) or the central crop of a short-side resize (center_crop). Normalized, grid and
// patch coordinates are fractions of that frame, so the frame's pixel size only matters for
// `input_pixels`. Separately, `send` records what groundeval itself does to the image before a
// server sees it (nothing, or LLaVA's expand2square padding done client-side).
#pragma once

#include <groundeval/boxes/box.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace groundeval {

/// What was done to the original image before the model saw it.
enum class preprocess_kind : std::uint8_t {
  none,          ///< the model saw the original image (or coordinates refer to it directly)
  stretch,       ///< resized to `target` ignoring the aspect ratio (CLIP-style square resize)
  pad_square,    ///< padded to a square of side S = max(w, h), original pasted at
                 ///< ((S - w) / 2, (S - h) / 2) with floor division (LLaVA expand2square,
                 ///< Shikra Expand2square), then resized to side `target.width` (0 = S)
  smart_resize,  ///< Qwen2-VL/Qwen2.5-VL smart_resize: both sides multiples of `factor`, area
                 ///< within [min_pixels, max_pixels], aspect ratio about kept
  center_crop,   ///< resized so the short side is T = target.width (long side int(T * long /
                 ///< short)), then the central T x T crop at ((w' - T) // 2, (h' - T) // 2):
                 ///< Hugging Face CLIPImageProcessor resize(shortest_edge) + center_crop
};

/// What groundeval does to the image itself before sending it to a server.
enum class send_kind : std::uint8_t {
  original,   ///< the original file bytes, unchanged
  pad_square  ///< decoded, padded to a square exactly like LLaVA's expand2square (colour
              ///< `pad_colour`, image pasted at pad_offset), sent as PNG: a server that pads,
              ///< resizes or centre-crops a square image sees what the model saw in training
};

/// What the numbers in the model's answer are.
enum class coord_space_kind : std::uint8_t {
  normalized,    ///< fractions in [0, 1] of the frame
  grid,          ///< integer bins 0 .. bins-1 over the frame (decoded by `bin_decode`)
  patch_grid,    ///< Kosmos-2 patch indices on a bins x bins grid (index = row * bins + col)
  input_pixels,  ///< absolute pixels of the model frame
};

/// How an integer bin v of an N-bin grid becomes a fraction of the frame.
enum class bin_decode : std::uint8_t {
  edge,   ///< v / N — the bin's lower edge (MiniGPT-v2, CogVLM, Qwen-VL, PaliGemma, ...)
  centre  ///< (v + 0.5) / N — the bin's centre (Florence-2)
};

/// How a Kosmos-2 pair of corner patches becomes a box.
enum class patch_decode : std::uint8_t {
  kosmos,  ///< the official rule (unilm decode_string.py, HF patch_index_to_coordinate): outer
           ///< cell edges when both corners share a row or a column, cell centres otherwise
  edge,    ///< always outer cell edges: [ul * cell, (lr + 1) * cell]
  centre   ///< always cell centres: [(ul + 0.5) * cell, (lr + 0.5) * cell]
};

/// The image the model saw.
struct preprocessing {
  preprocess_kind kind = preprocess_kind::none;
  image_size target{};  ///< stretch: input size; pad_square: side in target.width; 0 = unknown
                        ///< / same as the frame before resizing (does not change fractions)
  long long min_pixels = 4 * 28 * 28;      ///< smart_resize lower bound on the area
  long long max_pixels = 16384 * 28 * 28;  ///< smart_resize upper bound on the area
  int factor = 28;                         ///< smart_resize side multiple
  friend bool operator==(const preprocessing&, const preprocessing&) = default;
};

/// What the model's numbers are.
struct coordinate_space {
  coord_space_kind kind = coord_space_kind::normalized;
  int bins = 1000;  ///< grid: number of bins (= the divisor); patch_grid: cells per side
  bin_decode decode = bin_decode::edge;
  patch_decode patch = patch_decode::kosmos;
  friend bool operator==(const coordinate_space&, const coordinate_space&) = default;
};

/// The client-side step (send_kind) and its padding colour.
struct client_preprocess {
  send_kind kind = send_kind::original;
  std::array<std::uint8_t, 3> pad_colour{};  ///< RGB of the padding band (pad_square)
  friend bool operator==(const client_preprocess&, const client_preprocess&) = default;
};

/// LLaVA-1.5's padding colour: `tuple(int(x * 255) for x in image_processor.image_mean)` with the
/// CLIP mean (0.48145466, 0.4578275, 0.40821073) -> (122, 116, 104) (haotian-liu/LLaVA
/// llava/mm_utils.py process_images).
inline constexpr std::array<std::uint8_t, 3> llava_pad_colour = {
    static_cast<std::uint8_t>(0.48145466 * 255), static_cast<std::uint8_t>(0.4578275 * 255),
    static_cast<std::uint8_t>(0.40821073 * 255)};
static_assert(llava_pad_colour[0] == 122 && llava_pad_colour[1] == 116 &&
              llava_pad_colour[2] == 104);
/// Shikra's Expand2square background: white.
inline constexpr std::array<std::uint8_t, 3> shikra_pad_colour = {255, 255, 255};

/// The full contract: stored with every prediction so a result can be audited and re-mapped.
struct geometry {
  image_size original{};  ///< original image size in pixels
  preprocessing pre{};
  coordinate_space space{};
  client_preprocess send{};  ///< what groundeval did to the image before sending it
  bool truncate = false;     ///< floor the original-pixel coordinates (Ferret's int(v * W / 1000))
  bool clip = true;          ///< clip to [0, W] x [0, H] (flagged when it changes the box)
  friend bool operator==(const geometry&, const geometry&) = default;
};

/// A size in (possibly fractional) pixels.
struct frame_size {
  double width = 0.0;
  double height = 0.0;
};

/// Box flag bits reported by map_box.
enum box_flags : std::uint8_t {
  box_flag_none = 0,
  box_flag_swapped = 1,  ///< corners were given in the wrong order and have been swapped
  box_flag_clipped = 2,  ///< the box reached outside the image and has been clipped
};

// ---- preprocessing ---------------------------------------------------------------------------

namespace detail {
/// Python 3 round(): nearest integer, ties to even (qwen-vl-utils uses it in round_by_factor).
inline double round_half_even(double x) {
  const double f = std::floor(x);
  const double d = x - f;
  if (d > 0.5) return f + 1.0;
  if (d < 0.5) return f;
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}
inline void check_original(image_size s, std::string_view what) {
  if (s.width <= 0 || s.height <= 0)
    throw error(error_kind::invalid, std::string(what), 0,
                "image size must be positive, got " + std::to_string(s.width) + "x" +
                    std::to_string(s.height));
}
}  // namespace detail

/// Offset at which the original image is pasted into its padded square: ((S - w) // 2,
/// (S - h) // 2) with S = max(w, h) — LLaVA `expand2square` and Shikra `Expand2square`.
inline image_size pad_offset(image_size original) {
  const int s = original.width > original.height ? original.width : original.height;
  return {(s - original.width) / 2, (s - original.height) / 2};
}

/// Qwen2-VL/Qwen2.5-VL `smart_resize` (qwen-vl-utils vision_process.py): the input size the
/// processor produces for an image of `original` size. Throws error_kind::invalid when the
/// aspect ratio exceeds 200 (the processor refuses such images) or the size is not positive.
inline image_size smart_resize(image_size original, int factor = 28,
                               long long min_pixels = 4LL * 28 * 28,
                               long long max_pixels = 16384LL * 28 * 28) {
  detail::check_original(original, "smart_resize");
  if (factor <= 0 || min_pixels <= 0 || max_pixels < min_pixels)
    throw error(error_kind::config, "smart_resize", 0,
                "need factor > 0 and 0 < min_pixels <= max_pixels");
  const double h = original.height, w = original.width, f = factor;
  if ((h > w ? h / w : w / h) > 200.0)
    throw error(error_kind::invalid, "smart_resize", 0,
                "absolute aspect ratio must be at most 200");
  double hb = std::max(f, detail::round_half_even(h / f) * f);
  double wb = std::max(f, detail::round_half_even(w / f) * f);
  if (hb * wb > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt(h * w / static_cast<double>(max_pixels));
    hb = std::max(f, std::floor(h / beta / f) * f);
    wb = std::max(f, std::floor(w / beta / f) * f);
  } else if (hb * wb < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    hb = std::ceil(h * beta / f) * f;
    wb = std::ceil(w * beta / f) * f;
  }
  return {static_cast<int>(wb), static_cast<int>(hb)};
}

/// The square groundeval sends for send_kind::pad_square: side max(W, H).
inline image_size padded_square(image_size original) {
  const int s = original.width > original.height ? original.width : original.height;
  return {s, s};
}

/// center_crop: the size after the short-side resize to `side` (Hugging Face
/// get_resize_output_image_size with default_to_square=False: the long side is
/// int(side * long / short), truncated).
inline image_size center_crop_resized(image_size original, int side) {
  detail::check_original(original, "center_crop");
  if (side <= 0)
    throw error(error_kind::config, "center_crop", 0, "the crop side must be positive");
  const bool portrait = original.width <= original.height;
  const double s = portrait ? original.width : original.height;
  const double l = portrait ? original.height : original.width;
  const int long_side = static_cast<int>(side * l / s);
  return portrait ? image_size{side, long_side} : image_size{long_side, side};
}

/// center_crop: where the side x side crop starts in the resized image: ((w' - side) // 2,
/// (h' - side) // 2) (Hugging Face image_transforms.center_crop).
inline image_size center_crop_offset(image_size original, int side) {
  const image_size r = center_crop_resized(original, side);
  return {(r.width - side) / 2, (r.height - side) / 2};
}

/// Pixel size of the model frame, the image that `input_pixels` coordinates refer to.
inline frame_size model_frame(const geometry& g) {
  const image_size o = g.original;
  switch (g.pre.kind) {
    case preprocess_kind::none:
      return {double(o.width), double(o.height)};
    case preprocess_kind::stretch:
      if (g.pre.target.width > 0 && g.pre.target.height > 0)
        return {double(g.pre.target.width), double(g.pre.target.height)};
      return {double(o.width), double(o.height)};
    case preprocess_kind::pad_square: {
      if (g.pre.target.width > 0) return {double(g.pre.target.width), double(g.pre.target.width)};
      const double s = o.width > o.height ? o.width : o.height;
      return {s, s};
    }
    case preprocess_kind::smart_resize: {
      const image_size r = smart_resize(o, g.pre.factor, g.pre.min_pixels, g.pre.max_pixels);
      return {double(r.width), double(r.height)};
    }
    case preprocess_kind::center_crop:
      return {double(g.pre.target.width), double(g.pre.target.width)};
  }
  return {double(o.width), double(o.height)};
}

// One inverse map per preprocessing kind: a point in model-frame pixels -> original pixels.
// `frame` is model_frame(g) (passed in so smart_resize is computed once per box).

/// none: the frame is the original image.
inline void inverse_none(double& x, double& y) noexcept {
  (void)x;
  (void)y;
}
/// stretch: x * W / frame_w, y * H / frame_h.
inline void inverse_stretch(image_size original, frame_size frame, double& x, double& y) noexcept {
  x = x * original.width / frame.width;
  y = y * original.height / frame.height;
}
/// pad_square: scale the frame back to side S, then subtract the paste offset.
inline void inverse_pad_square(image_size original, frame_size frame, double& x,
                               double& y) noexcept {
  const double s = original.width > original.height ? original.width : original.height;
  const image_size off = pad_offset(original);
  x = x * s / frame.width - off.width;
  y = y * s / frame.height - off.height;
}
/// smart_resize: x * W / w', y * H / h' with (w', h') the smart-resized size.
inline void inverse_smart_resize(image_size original, frame_size frame, double& x,
                                 double& y) noexcept {
  inverse_stretch(original, frame, x, y);
}

/// center_crop: frame pixels -> the resized image (scale to the crop side, add the crop offset)
/// -> original pixels (x * W / w', y * H / h'). `side` is the crop side (g.pre.target.width).
inline void inverse_center_crop(image_size original, int side, frame_size frame, double& x,
                                double& y) {
  const image_size r = center_crop_resized(original, side);
  const image_size off = center_crop_offset(original, side);
  x = (x * side / frame.width + off.width) * original.width / r.width;
  y = (y * side / frame.height + off.height) * original.height / r.height;
}

/// Dispatches to the inverse map of g.pre.kind.
inline void frame_to_original(const geometry& g, frame_size frame, double& x, double& y) {
  switch (g.pre.kind) {
    case preprocess_kind::none:
      inverse_none(x, y);
      return;
    case preprocess_kind::stretch:
      inverse_stretch(g.original, frame, x, y);
      return;
    case preprocess_kind::pad_square:
      inverse_pad_square(g.original, frame, x, y);
      return;
    case preprocess_kind::smart_resize:
      inverse_smart_resize(g.original, frame, x, y);
      return;
    case preprocess_kind::center_crop:
      inverse_center_crop(g.original, g.pre.target.width, frame, x, y);
      return;
  }
}

// ---- coordinate spaces -----------------------------------------------------------------------

/// One value of the coordinate space -> fraction of the frame (normalized / grid) or frame
/// pixels (input_pixels). Not for patch_grid (use patch_box).
inline double decode_value(const coordinate_space& s, double v, double frame_extent) noexcept {
  switch (s.kind) {
    case coord_space_kind::normalized:
      return v * frame_extent;
    case coord_space_kind::grid:
      return (s.decode == bin_decode::centre ? v + 0.5 : v) / s.bins * frame_extent;
    case coord_space_kind::input_pixels:
      return v;
    case coord_space_kind::patch_grid:
      return v / s.bins * frame_extent;
  }
  return v;
}

/// Kosmos-2: corner patch indices -> normalized box (fractions of the frame), by `rule`.
/// Indices must be in [0, n*n); the caller orders the corners (see map_patch_box).
inline box_xyxy<double> patch_box(int ul, int lr, int n, patch_decode rule) noexcept {
  const double cell = 1.0 / n;
  const int ulx = ul % n, uly = ul / n, lrx = lr % n, lry = lr / n;
  const bool edges = rule == patch_decode::edge ||
                     (rule == patch_decode::kosmos && (ul == lr || ulx == lrx || uly == lry));
  if (edges) return {ulx * cell, uly * cell, (lrx + 1) * cell, (lry + 1) * cell};
  return {(ulx + 0.5) * cell, (uly + 0.5) * cell, (lrx + 0.5) * cell, (lry + 0.5) * cell};
}

/// A box mapped to original pixels with its flags (box_flags bits).
struct mapped_box {
  box_xyxy<double> box{};
  std::uint8_t flags = box_flag_none;
};

namespace detail {
inline mapped_box finish_box(const geometry& g, frame_size frame, box_xyxy<double> b,
                             std::uint8_t flags) {
  frame_to_original(g, frame, b.x1, b.y1);
  frame_to_original(g, frame, b.x2, b.y2);
  if (g.truncate) {
    b = {std::trunc(b.x1), std::trunc(b.y1), std::trunc(b.x2), std::trunc(b.y2)};
  }
  if (g.clip) {
    const double w = g.original.width, h = g.original.height;
    auto c = [](double v, double hi) { return v < 0.0 ? 0.0 : (v > hi ? hi : v); };
    const box_xyxy<double> k{c(b.x1, w), c(b.y1, h), c(b.x2, w), c(b.y2, h)};
    if (!(k == b)) flags |= box_flag_clipped;
    b = k;
  }
  return {b, flags};
}
}  // namespace detail

/// The contract's full inverse: four values as written (x1, y1, x2, y2 order) -> original-image
/// pixels. Swapped corners are put in order (flag swapped); then frame decode, inverse
/// preprocessing, optional truncation and clipping (flag clipped). Not for patch_grid.
inline mapped_box map_box(const geometry& g, double x1, double y1, double x2, double y2) {
  std::uint8_t flags = box_flag_none;
  if (x2 < x1) {
    std::swap(x1, x2);
    flags |= box_flag_swapped;
  }
  if (y2 < y1) {
    std::swap(y1, y2);
    flags |= box_flag_swapped;
  }
  const frame_size f = model_frame(g);
  const box_xyxy<double> b{decode_value(g.space, x1, f.width), decode_value(g.space, y1, f.height),
                           decode_value(g.space, x2, f.width), decode_value(g.space, y2, f.height)};
  return detail::finish_box(g, f, b, flags);
}

/// Kosmos-2 corner patches -> original pixels. A lower-right patch left of or above the
/// upper-left one is swapped per axis (flag swapped). Indices must be in [0, bins^2).
inline mapped_box map_patch_box(const geometry& g, int ul, int lr) {
  const int n = g.space.bins;
  int ulx = ul % n, uly = ul / n, lrx = lr % n, lry = lr / n;
  std::uint8_t flags = box_flag_none;
  if (lrx < ulx) {
    std::swap(ulx, lrx);
    flags |= box_flag_swapped;
  }
  if (lry < uly) {
    std::swap(uly, lry);
    flags |= box_flag_swapped;
  }
  const box_xyxy<double> nb = patch_box(uly * n + ulx, lry * n + lrx, n, g.space.patch);
  const frame_size f = model_frame(g);
  return detail::finish_box(
      g, f, {nb.x1 * f.width, nb.y1 * f.height, nb.x2 * f.width, nb.y2 * f.height}, flags);
}

/// A point mapped to original pixels with its flags (box_flag_clipped only).
struct mapped_point {
  double x = 0.0, y = 0.0;
  std::uint8_t flags = box_flag_none;
};

/// One point (x, y as written) -> original-image pixels: frame decode, inverse preprocessing,
/// optional truncation and clipping (flag clipped). Not for patch_grid.
inline mapped_point map_point(const geometry& g, double x, double y) {
  const frame_size f = model_frame(g);
  double px = decode_value(g.space, x, f.width), py = decode_value(g.space, y, f.height);
  frame_to_original(g, f, px, py);
  if (g.truncate) {
    px = std::trunc(px);
    py = std::trunc(py);
  }
  std::uint8_t flags = box_flag_none;
  if (g.clip) {
    const double w = g.original.width, h = g.original.height;
    const double cx = px < 0.0 ? 0.0 : (px > w ? w : px), cy = py < 0.0 ? 0.0 : (py > h ? h : py);
    if (cx != px || cy != py) flags |= box_flag_clipped;
    px = cx;
    py = cy;
  }
  return {px, py, flags};
}

// ---- names and serialization -----------------------------------------------------------------

constexpr std::string_view to_string(preprocess_kind k) noexcept {
  switch (k) {
    case preprocess_kind::none:
      return "none";
    case preprocess_kind::stretch:
      return "stretch";
    case preprocess_kind::pad_square:
      return "pad_square";
    case preprocess_kind::smart_resize:
      return "smart_resize";
    case preprocess_kind::center_crop:
      return "center_crop";
  }
  return "unknown";
}
constexpr std::string_view to_string(send_kind k) noexcept {
  return k == send_kind::pad_square ? "pad_square" : "original";
}
constexpr std::string_view to_string(coord_space_kind k) noexcept {
  switch (k) {
    case coord_space_kind::normalized:
      return "normalized";
    case coord_space_kind::grid:
      return "grid";
    case coord_space_kind::patch_grid:
      return "patch_grid";
    case coord_space_kind::input_pixels:
      return "input_pixels";
  }
  return "unknown";
}
constexpr std::string_view to_string(bin_decode d) noexcept {
  return d == bin_decode::centre ? "centre" : "edge";
}
constexpr std::string_view to_string(patch_decode d) noexcept {
  switch (d) {
    case patch_decode::kosmos:
      return "kosmos";
    case patch_decode::edge:
      return "edge";
    case patch_decode::centre:
      return "centre";
  }
  return "unknown";
}

namespace detail {
inline std::string json_number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace detail

/// What is sent to the model for geometry `g`, in words: "the original file", or "a PNG padded
/// to S square client-side" (send_kind::pad_square, S known from the original size).
inline std::string describe_send(const geometry& g) {
  if (g.send.kind == send_kind::original) return "the original file";
  return "a PNG padded to " + std::to_string(padded_square(g.original).width) +
         " square client-side";
}

/// One-line JSON object describing the contract (for manifests and the prediction cache key).
/// Keys: original, preprocess (+ target / pad_offset / factor, min_pixels, max_pixels / resized,
/// crop_offset), send + pad_colour + sent (only when groundeval transforms the image itself),
/// frame, space (+ bins, decode / patch_decode), truncate, clip. Deterministic: same contract,
/// same text.
inline std::string to_json(const geometry& g) {
  std::string s = "{\"original\": [" + std::to_string(g.original.width) + ", " +
                  std::to_string(g.original.height) + "], \"preprocess\": \"" +
                  std::string(to_string(g.pre.kind)) + "\"";
  switch (g.pre.kind) {
    case preprocess_kind::none:
      break;
    case preprocess_kind::stretch:
      s += ", \"target\": [" + std::to_string(g.pre.target.width) + ", " +
           std::to_string(g.pre.target.height) + "]";
      break;
    case preprocess_kind::pad_square: {
      const image_size off = pad_offset(g.original);
      s += ", \"target\": " + std::to_string(g.pre.target.width) + ", \"pad_offset\": [" +
           std::to_string(off.width) + ", " + std::to_string(off.height) + "]";
      break;
    }
    case preprocess_kind::smart_resize:
      s += ", \"factor\": " + std::to_string(g.pre.factor) +
           ", \"min_pixels\": " + std::to_string(g.pre.min_pixels) +
           ", \"max_pixels\": " + std::to_string(g.pre.max_pixels);
      break;
    case preprocess_kind::center_crop:
      s += ", \"target\": " + std::to_string(g.pre.target.width);
      if (g.original.width > 0 && g.original.height > 0) {
        const image_size r = center_crop_resized(g.original, g.pre.target.width);
        const image_size off = center_crop_offset(g.original, g.pre.target.width);
        s += ", \"resized\": [" + std::to_string(r.width) + ", " + std::to_string(r.height) +
             "], \"crop_offset\": [" + std::to_string(off.width) + ", " +
             std::to_string(off.height) + "]";
      }
      break;
  }
  if (g.send.kind != send_kind::original) {
    const auto& c = g.send.pad_colour;
    s += ", \"send\": \"" + std::string(to_string(g.send.kind)) + "\", \"pad_colour\": [" +
         std::to_string(c[0]) + ", " + std::to_string(c[1]) + ", " + std::to_string(c[2]) + "]";
    if (g.original.width > 0 && g.original.height > 0) {
      const image_size q = padded_square(g.original);
      s += ", \"sent\": [" + std::to_string(q.width) + ", " + std::to_string(q.height) + "]";
    }
  }
  if (g.original.width > 0 && g.original.height > 0) {
    const frame_size f = model_frame(g);
    s += ", \"frame\": [" + detail::json_number(f.width) + ", " + detail::json_number(f.height) +
         "]";
  }
  s += ", \"space\": \"" + std::string(to_string(g.space.kind)) + "\"";
  if (g.space.kind == coord_space_kind::grid)
    s += ", \"bins\": " + std::to_string(g.space.bins) + ", \"decode\": \"" +
         std::string(to_string(g.space.decode)) + "\"";
  if (g.space.kind == coord_space_kind::patch_grid)
    s += ", \"bins\": " + std::to_string(g.space.bins) + ", \"patch_decode\": \"" +
         std::string(to_string(g.space.patch)) + "\"";
  s += std::string(", \"truncate\": ") + (g.truncate ? "true" : "false") +
       ", \"clip\": " + (g.clip ? "true" : "false") + "}";
  return s;
}

}  // namespace groundeval
