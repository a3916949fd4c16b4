// SPDX-License-Identifier: Apache-2.0
#include <groundeval/boxes/iou.hpp>

#include <catch2/catch.hpp>

using namespace groundeval;
TEST_CASE("placeholder iou") { CHECK(iou(box_xyxy<double>{0, 0, 2, 2}, box_xyxy<double>{1, 0, 3, 2}) == Approx(1.0 / 3)); }
