// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/geometry_options.hpp — the KEY=VALUE options that adjust a family's
// geometry contract (`--geometry frame=original`, grounder spec keys such as max_pixels=...):
// one handler per key, in one table. Which keys a family accepts is said by the family table
// (families.hpp). Target: groundeval::core.
#pragma once

#include <groundeval/detail/parse_number.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/geometry.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

namespace detail {

inline std::string join_keys(const std::vector<std::string_view>& keys) {
  std::string s;
  for (auto k : keys) {
    if (!s.empty()) s += ", ";
    s += k;
  }
  return s;
}
inline long long parse_positive(std::string_view key, std::string_view v) {
  const auto x = detail::parse_integer<long long>(v);
  if (!x || *x <= 0)
    throw error(error_kind::config, "--geometry", 0,
                std::string(key) + " must be a positive integer, got '" + std::string(v) + "'");
  return *x;
}
inline bool parse_bool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw error(error_kind::config, "--geometry", 0,
              std::string(key) + " must be true or false, got '" + std::string(v) + "'");
}
[[noreturn]] inline void bad_value(std::string_view key, std::string_view v,
                                   std::string_view valid) {
  throw error(error_kind::config, "--geometry", 0,
              "invalid value '" + std::string(v) + "' for " + std::string(key) +
                  "; valid: " + std::string(valid));
}

/// What the options said beyond the geometry itself (checked together once all are applied).
struct option_state {
  std::string_view pad;  ///< "client", "server" or "" (not given)
};

/// One option: its key and how it changes the contract. `defaults` is the family's documented
/// contract for the same image.
struct geometry_option {
  std::string_view key;
  void (*apply)(geometry& g, const geometry& defaults, option_state& st, std::string_view key,
                std::string_view value);
};

// clang-format off
inline constexpr geometry_option geometry_options[] = {
    {"clip", [](geometry& g, const geometry&, option_state&, std::string_view k,
                std::string_view v) { g.clip = parse_bool(k, v); }},
    // what the model's numbers are fractions of: the padded square, the original image, or the
    // central crop a server's CLIP processor takes from a non-square image
    {"frame", [](geometry& g, const geometry& d, option_state&, std::string_view k,
                 std::string_view v) {
       if (v == "padded") {
         g.pre.kind = preprocess_kind::pad_square;
       } else if (v == "original") {
         g.pre.kind = preprocess_kind::none;
         g.pre.target = {};
       } else if (v == "center-crop" || v == "center_crop" || v == "centre-crop") {
         g.pre.kind = preprocess_kind::center_crop;
         g.pre.target = d.pre.target;
       } else {
         bad_value(k, v, "padded, original, center-crop");
       }
     }},
    // who pads the image to a square: groundeval before sending (client) or the server
    {"pad", [](geometry&, const geometry&, option_state& st, std::string_view k,
               std::string_view v) {
       if (v == "client") st.pad = "client";
       else if (v == "server") st.pad = "server";
       else bad_value(k, v, "client, server");
     }},
    {"divisor", [](geometry& g, const geometry&, option_state&, std::string_view k,
                   std::string_view v) {
       if (v == "999") g.space.bins = 999;
       else if (v == "1000") g.space.bins = 1000;
       else bad_value(k, v, "999, 1000");
     }},
    {"min_pixels", [](geometry& g, const geometry&, option_state&, std::string_view k,
                      std::string_view v) { g.pre.min_pixels = parse_positive(k, v); }},
    {"max_pixels", [](geometry& g, const geometry&, option_state&, std::string_view k,
                      std::string_view v) { g.pre.max_pixels = parse_positive(k, v); }},
    {"factor", [](geometry& g, const geometry&, option_state&, std::string_view k,
                  std::string_view v) {
       const long long f = parse_positive(k, v);
       if (f > 4096) bad_value(k, v, "1 .. 4096");
       g.pre.factor = static_cast<int>(f);
     }},
    {"decode", [](geometry& g, const geometry&, option_state&, std::string_view k,
                  std::string_view v) {
       if (v == "kosmos") g.space.patch = patch_decode::kosmos;
       else if (v == "edge") g.space.patch = patch_decode::edge;
       else if (v == "centre" || v == "center") g.space.patch = patch_decode::centre;
       else bad_value(k, v, "kosmos, edge, centre");
     }},
    {"truncate", [](geometry& g, const geometry&, option_state&, std::string_view k,
                    std::string_view v) { g.truncate = parse_bool(k, v); }},
    // pixels of a stretched input of that size instead of the original image
    {"input", [](geometry& g, const geometry&, option_state&, std::string_view k,
                 std::string_view v) {
       const auto x = v.find('x');
       if (x == std::string_view::npos) bad_value(k, v, "WxH, e.g. 640x480");
       const long long w = parse_positive(k, v.substr(0, x));
       const long long h = parse_positive(k, v.substr(x + 1));
       if (w > 1000000 || h > 1000000) bad_value(k, v, "sides up to 1000000");
       g.pre.kind = preprocess_kind::stretch;
       g.pre.target = {static_cast<int>(w), static_cast<int>(h)};
     }},
};
// clang-format on

/// Applies one KEY=VALUE (the key must be one of geometry_options; the family checks first).
inline void apply_geometry_option(geometry& g, const geometry& defaults, option_state& st,
                                  std::string_view key, std::string_view value) {
  for (const auto& o : geometry_options)
    if (o.key == key) return o.apply(g, defaults, st, key, value);
  throw error(error_kind::config, "--geometry", 0, "unknown key '" + std::string(key) + "'");
}

/// Checks the options together and settles what is sent: a family that pads client-side by
/// default (defaults.send) keeps doing so unless pad=server or the frame is a server's centre
/// crop (which client padding would turn into a no-op: contradictory with pad=client).
inline void finish_geometry_options(geometry& g, const geometry& defaults, const option_state& st) {
  if (defaults.send.kind == send_kind::original) return;
  if (g.pre.kind == preprocess_kind::center_crop) {
    if (st.pad == "client")
      throw error(error_kind::config, "--geometry", 0,
                  "pad=client makes a server's centre crop a no-op (the server then sees a "
                  "square), so frame=center-crop needs pad=server; use frame=padded to pad "
                  "client-side");
    g.send = {};
  } else if (st.pad == "server") {
    g.send = {};
  }
}

}  // namespace detail

}  // namespace groundeval
