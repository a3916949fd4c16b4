// SPDX-License-Identifier: Apache-2.0
// python/src/bind_parse.cpp — box parsing of generalist model answers: a family's geometry
// contract (family_geometry) and its parser (parse_answer), exactly what `groundeval parse-box`
// runs. groundeval/parsing.py turns the tuple into a ParseResult.
#include "common.hpp"

#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/parsers.hpp>

#include <nanobind/stl/array.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace groundeval::python {

namespace {

std::vector<std::string> names(std::uint8_t flags) {
  std::vector<std::string> v;
  for (auto n : flag_names(flags)) v.emplace_back(n);
  return v;
}

/// One decoded point: x, y (original pixels), label, flag names.
using point_tuple = std::tuple<double, double, std::string, std::vector<std::string>>;

/// (status, boxes [[x1, y1, x2, y2]], raw values, labels, per-box flag names, flag names,
/// partial, reason, geometry JSON, points)
using parse_tuple =
    std::tuple<std::string, std::vector<std::array<double, 4>>, std::vector<std::array<double, 4>>,
               std::vector<std::string>, std::vector<std::vector<std::string>>,
               std::vector<std::string>, bool, std::string, std::string, std::vector<point_tuple>>;

parse_tuple parse_box(const std::string& family, const std::string& text, int width, int height,
                      const std::vector<std::pair<std::string, std::string>>& geometry_options) {
  const geometry g = family_geometry(family, image_size{width, height}, geometry_options);
  const parse_result r = parse_answer(family, text, g);
  parse_tuple out;
  auto& [status, boxes, raw, labels, box_flags, flags, partial, reason, geom, points] = out;
  status = std::string(to_string(r.status));
  for (const auto& b : r.boxes) {
    boxes.push_back({b.box.x1, b.box.y1, b.box.x2, b.box.y2});
    raw.push_back(b.raw);
    labels.push_back(b.label);
    box_flags.push_back(names(b.flags));
  }
  for (const auto& p : r.points) points.emplace_back(p.x, p.y, p.label, names(p.flags));
  flags = names(r.flags());
  partial = r.partial;
  reason = r.reason;
  geom = to_json(r.geom);
  return out;
}

}  // namespace

void bind_parse(nb::module_& m) {
  m.def("parse_box", &parse_box, nb::arg("family"), nb::arg("text"), nb::arg("width"),
        nb::arg("height"), nb::arg("geometry"));
  m.def("families", [] {
    std::vector<std::string> v;
    for (auto f : family_ids) v.emplace_back(f);
    return v;
  });
  m.def("geometry_keys", [](const std::string& family) {
    std::vector<std::string> v;
    for (auto k : geometry_keys(family)) v.emplace_back(k);
    return v;
  });
}

}  // namespace groundeval::python
