// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/parsers.hpp — model text -> zero or more boxes (or points) in
// original-image pixels (+ the phrase label where the format has one), through the family's
// scanner and geometry contract (families.hpp, geometry.hpp). Target: groundeval::core.
//
// The interpretation is fixed by the family before any ground truth is seen: no "best of
// several readings". Numbers in prose are never boxes; box-like text that does not follow the
// family's format is reported (format_failure when nothing else parsed, otherwise status ok with
// `partial` set and the reason naming what was skipped). docs/generalist.md lists each family's
// convention with its source.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/families.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/io/limits.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// One decoded box.
struct parsed_box {
  box_xyxy<double> box{};       ///< original-image pixels
  std::array<double, 4> raw{};  ///< the values as written, reordered to x1, y1, x2, y2 (Kosmos-2:
                                ///< upper-left and lower-right patch index, 0, 0)
  std::string label;            ///< phrase label when the format carries one, else empty
  std::uint8_t flags = box_flag_none;  ///< box_flags bits (swapped, clipped)
};

/// One decoded point (families whose answers are points, e.g. Molmo).
struct parsed_point {
  double x = 0.0, y = 0.0;      ///< original-image pixels
  std::array<double, 2> raw{};  ///< the values as written, as x, y
  std::string label;
  std::uint8_t flags = box_flag_none;  ///< box_flag_clipped
};

/// Result of parsing one answer.
struct parse_result {
  query_status status = query_status::empty;  ///< ok / empty / format_failure (never error)
  std::vector<parsed_box> boxes;              ///< in the order they appear in the text
  std::vector<parsed_point> points;           ///< likewise; only point-answer formats fill it
  std::string reason;    ///< why format_failure / empty, or what was skipped when partial
  bool partial = false;  ///< some box-like text was malformed and skipped (status stays ok)
  geometry geom{};       ///< the contract used
  /// Union of the boxes' and points' flag bits.
  std::uint8_t flags() const noexcept {
    std::uint8_t f = 0;
    for (const auto& b : boxes) f |= b.flags;
    for (const auto& p : points) f |= p.flags;
    return f;
  }
};

/// Parses one model answer of `family` with the contract `g` (see family_geometry). Never
/// throws on any text; throws error_kind::config only for an unknown family. Status ok means at
/// least one box or point.
inline parse_result parse_answer(std::string_view family, std::string_view text,
                                 const geometry& g) {
  const family_info& f = require_family(family);
  detail::scan sc{text, {}, {}};
  f.scan(sc, g);

  parse_result r;
  r.geom = g;
  for (auto& it : sc.items) {
    if (it.point) {
      parsed_point pp;
      pp.raw = {it.v[0], it.v[1]};
      pp.label = std::move(it.label);
      const mapped_point m = map_point(g, it.v[0], it.v[1]);
      pp.x = m.x;
      pp.y = m.y;
      pp.flags = m.flags;
      r.points.push_back(std::move(pp));
      continue;
    }
    parsed_box pb;
    pb.raw = it.v;
    pb.label = std::move(it.label);
    const mapped_box m =
        it.patch ? map_patch_box(g, static_cast<int>(it.v[0]), static_cast<int>(it.v[1]))
                 : map_box(g, it.v[0], it.v[1], it.v[2], it.v[3]);
    pb.box = m.box;
    pb.flags = m.flags;
    r.boxes.push_back(std::move(pb));
  }
  for (const auto& p : sc.problems) r.reason += (r.reason.empty() ? "" : "; ") + p;
  if (!r.boxes.empty() || !r.points.empty()) {
    r.status = query_status::ok;
    r.partial = !sc.problems.empty();
  } else if (!sc.problems.empty()) {
    r.status = query_status::format_failure;
  } else {
    r.status = query_status::empty;
    r.reason = f.answers == answer_kind::points ? "no point in the answer" : "no box in the answer";
  }
  return r;
}

/// One raw answer decoded by `family` under the contract `g`, as a query result: status, the
/// parser's reason as message (cut to max_query_message_bytes), the boxes in text order scored
/// 1, 1/2, 1/3, ... (so their ranks survive), the points, the contract as geometry JSON and the
/// text itself. Latency is left unmeasured. This is what the openai grounder records for an
/// answer.
inline query_result decoded_answer(std::string_view family, std::string raw_text,
                                   const geometry& g) {
  const parse_result p = parse_answer(family, raw_text, g);
  query_result q;
  q.geometry = to_json(g);
  q.raw_text = std::move(raw_text);
  q.status = p.status;
  q.message = p.reason;
  for (std::size_t i = 0; i < p.boxes.size(); ++i)
    q.boxes.push_back({p.boxes[i].box, 1.0 / double(i + 1)});
  for (const auto& pt : p.points) q.points.push_back({pt.x, pt.y});
  cut_utf8(q.message, max_query_message_bytes);
  return q;
}

/// Names of the flag bits, for JSON output: "swapped", "clipped".
inline std::vector<std::string_view> flag_names(std::uint8_t flags) {
  std::vector<std::string_view> v;
  if (flags & box_flag_swapped) v.push_back("swapped");
  if (flags & box_flag_clipped) v.push_back("clipped");
  return v;
}

}  // namespace groundeval
