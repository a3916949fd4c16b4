// SPDX-License-Identifier: Apache-2.0
// The parser-case table format shared by tests/grounders/test_parsers.cpp and
// test_families.cpp: an answer, the family and image size it is decoded with, and the boxes (or
// points) expected, computed by hand from the family's documented convention.
#pragma once

#include <groundeval/grounders/parsers.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

struct want_box {
  double x1, y1, x2, y2;
  std::string label;
  std::uint8_t flags = groundeval::box_flag_none;
};

struct want_point {
  double x, y;
  std::string label;
  std::uint8_t flags = groundeval::box_flag_none;
};

struct parser_case {
  std::string family;
  groundeval::image_size size;
  std::vector<std::pair<std::string, std::string>> geom;
  std::string text;
  groundeval::query_status status;
  std::vector<want_box> boxes;
  std::string source;  ///< where the answer comes from (or "adversarial")
  bool partial = false;
  std::vector<want_point> points = {};
};

inline void run_case(const parser_case& c) {
  using namespace groundeval;
  INFO("family " << c.family << " | source: " << c.source << "\ntext: " << c.text);
  const geometry g = family_geometry(c.family, c.size, c.geom);
  const parse_result r = parse_answer(c.family, c.text, g);
  INFO("reason: " << r.reason);
  CHECK(r.status == c.status);
  CHECK(r.partial == c.partial);
  REQUIRE(r.boxes.size() == c.boxes.size());
  for (std::size_t i = 0; i < c.boxes.size(); ++i) {
    INFO("box " << i);
    CHECK(r.boxes[i].box.x1 == Approx(c.boxes[i].x1).margin(1e-6));
    CHECK(r.boxes[i].box.y1 == Approx(c.boxes[i].y1).margin(1e-6));
    CHECK(r.boxes[i].box.x2 == Approx(c.boxes[i].x2).margin(1e-6));
    CHECK(r.boxes[i].box.y2 == Approx(c.boxes[i].y2).margin(1e-6));
    CHECK(r.boxes[i].label == c.boxes[i].label);
    CHECK(int(r.boxes[i].flags) == int(c.boxes[i].flags));
  }
  REQUIRE(r.points.size() == c.points.size());
  for (std::size_t i = 0; i < c.points.size(); ++i) {
    INFO("point " << i);
    CHECK(r.points[i].x == Approx(c.points[i].x).margin(1e-6));
    CHECK(r.points[i].y == Approx(c.points[i].y).margin(1e-6));
    CHECK(r.points[i].label == c.points[i].label);
    CHECK(int(r.points[i].flags) == int(c.points[i].flags));
  }
  if (c.status != query_status::ok) CHECK(!r.reason.empty());
}
