// SPDX-License-Identifier: Apache-2.0
// Tests of the geometry contract (groundeval/grounders/geometry.hpp): one inverse map per
// preprocessing kind, the coordinate-space decoders, flags, serialization, family defaults.
#include <groundeval/grounders/parsers.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace groundeval;

namespace {
void check_box(const box_xyxy<double>& b, double x1, double y1, double x2, double y2) {
  CHECK(b.x1 == Approx(x1).margin(1e-9));
  CHECK(b.y1 == Approx(y1).margin(1e-9));
  CHECK(b.x2 == Approx(x2).margin(1e-9));
  CHECK(b.y2 == Approx(y2).margin(1e-9));
}
}  // namespace

TEST_CASE("pad_offset uses floor division on the short side (expand2square)", "[geometry]") {
  CHECK(pad_offset({640, 480}) == image_size{0, 80});
  CHECK(pad_offset({480, 640}) == image_size{80, 0});
  CHECK(pad_offset({641, 480}) == image_size{0, 80});  // (641 - 480) // 2 = 80
  CHECK(pad_offset({480, 641}) == image_size{80, 0});
  CHECK(pad_offset({500, 500}) == image_size{0, 0});
}

TEST_CASE("inverse map: none is the identity", "[geometry]") {
  double x = 12.5, y = 99.0;
  inverse_none(x, y);
  CHECK(x == 12.5);
  CHECK(y == 99.0);
}

TEST_CASE("inverse map: stretch scales each axis separately", "[geometry]") {
  double x = 224, y = 224;
  inverse_stretch({896, 224}, {448, 448}, x, y);
  CHECK(x == Approx(448));
  CHECK(y == Approx(112));
}

TEST_CASE("inverse map: pad_square scales by S / side and removes the offset", "[geometry]") {
  // 640x480 padded to 640x640 (offset y 80), resized to 336: the frame centre is the image centre
  double x = 168, y = 168;
  inverse_pad_square({640, 480}, {336, 336}, x, y);
  CHECK(x == Approx(320));
  CHECK(y == Approx(240));
  // the top edge of the pasted image is at y = 80 / 640 of the frame
  x = 0;
  y = 336.0 * 80 / 640;
  inverse_pad_square({640, 480}, {336, 336}, x, y);
  CHECK(x == Approx(0));
  CHECK(y == Approx(0).margin(1e-9));
  // portrait image: offset is on x
  x = 336.0 * 80 / 640;
  y = 336;
  inverse_pad_square({480, 640}, {336, 336}, x, y);
  CHECK(x == Approx(0).margin(1e-9));
  CHECK(y == Approx(640));
}

TEST_CASE("inverse map: smart_resize scales by W / w' and H / h'", "[geometry]") {
  double x = 1932, y = 1092;  // bottom-right corner of the 1920x1080 smart-resized input
  inverse_smart_resize({1920, 1080}, {1932, 1092}, x, y);
  CHECK(x == Approx(1920));
  CHECK(y == Approx(1080));
}

TEST_CASE("smart_resize matches the qwen-vl-utils algorithm", "[geometry]") {
  // Expected values from a direct Python transcription of vision_process.smart_resize
  // (factor 28, MIN_PIXELS 4*28*28, MAX_PIXELS 16384*28*28), run with Python's round().
  CHECK(smart_resize({1920, 1080}) == image_size{1932, 1092});
  CHECK(smart_resize({640, 480}) == image_size{644, 476});
  CHECK(smart_resize({8000, 6000}) == image_size{4116, 3080});  // max_pixels branch
  CHECK(smart_resize({20, 20}) == image_size{56, 56});          // min_pixels branch
  CHECK(smart_resize({70, 70}) == image_size{56, 56});          // 70/28 = 2.5 rounds to even (2)
  CHECK(smart_resize({1920, 1080}, 28, 3136, 1280LL * 28 * 28) == image_size{1316, 728});
  CHECK(smart_resize({500, 333}, 28, 256LL * 28 * 28, 1280LL * 28 * 28) == image_size{560, 392});
  CHECK(smart_resize({4000, 30}) == image_size{4004, 28});
  CHECK_THROWS_AS(smart_resize({4000, 19}), error);  // aspect ratio > 200
  CHECK_THROWS_AS(smart_resize({0, 10}), error);
}

TEST_CASE("model_frame per preprocessing kind", "[geometry]") {
  geometry g;
  g.original = {640, 480};
  g.pre.kind = preprocess_kind::none;
  CHECK(model_frame(g).width == 640);
  g.pre.kind = preprocess_kind::stretch;
  g.pre.target = {448, 448};
  CHECK(model_frame(g).height == 448);
  g.pre.kind = preprocess_kind::pad_square;
  g.pre.target = {};
  CHECK(model_frame(g).width == 640);
  CHECK(model_frame(g).height == 640);
  g.pre.kind = preprocess_kind::smart_resize;
  CHECK(model_frame(g).width == 644);
  CHECK(model_frame(g).height == 476);
}

TEST_CASE("coordinate spaces: grid edge vs centre, normalized, input pixels", "[geometry]") {
  coordinate_space s;
  s.kind = coord_space_kind::grid;
  s.bins = 1000;
  s.decode = bin_decode::edge;
  CHECK(decode_value(s, 53, 640) == Approx(33.92));
  s.decode = bin_decode::centre;
  CHECK(decode_value(s, 53, 640) == Approx(34.24));
  s.bins = 100;
  s.decode = bin_decode::edge;
  CHECK(decode_value(s, 50, 448) == Approx(224));
  s.kind = coord_space_kind::normalized;
  CHECK(decode_value(s, 0.25, 400) == Approx(100));
  s.kind = coord_space_kind::input_pixels;
  CHECK(decode_value(s, 17, 400) == 17);
}

TEST_CASE("Kosmos-2 patch decoding rules", "[geometry]") {
  // official rule: different row and column -> cell centres
  check_box(patch_box(44, 863, 32, patch_decode::kosmos), 12.5 / 32, 1.5 / 32, 31.5 / 32,
            26.5 / 32);
  // same row -> outer edges
  check_box(patch_box(3, 4, 32, patch_decode::kosmos), 3.0 / 32, 0, 5.0 / 32, 1.0 / 32);
  // same cell -> outer edges
  check_box(patch_box(33, 33, 32, patch_decode::kosmos), 1.0 / 32, 1.0 / 32, 2.0 / 32, 2.0 / 32);
  // forced rules
  check_box(patch_box(44, 863, 32, patch_decode::edge), 12.0 / 32, 1.0 / 32, 32.0 / 32, 27.0 / 32);
  check_box(patch_box(3, 4, 32, patch_decode::centre), 3.5 / 32, 0.5 / 32, 4.5 / 32, 0.5 / 32);
}

TEST_CASE("map_box: swapped corners and clipping are fixed and flagged", "[geometry]") {
  geometry g = family_geometry("pixel", {100, 50});
  auto m = map_box(g, 10, 20, 30, 40);
  check_box(m.box, 10, 20, 30, 40);
  CHECK(m.flags == box_flag_none);
  m = map_box(g, 30, 40, 10, 20);
  check_box(m.box, 10, 20, 30, 40);
  CHECK(m.flags == box_flag_swapped);
  m = map_box(g, -5, 20, 130, 60);
  check_box(m.box, 0, 20, 100, 50);
  CHECK(m.flags == box_flag_clipped);
  g.clip = false;
  m = map_box(g, -5, 20, 130, 60);
  check_box(m.box, -5, 20, 130, 60);
  CHECK(m.flags == box_flag_none);
}

TEST_CASE("map_box: LLaVA padded vs original frame", "[geometry]") {
  const geometry padded = family_geometry("llava", {640, 480});
  const geometry original = family_geometry("llava", {640, 480}, {{"frame", "original"}});
  // the image centre is (0.5, 0.5) in both frames
  auto a = map_box(padded, 0.5, 0.5, 0.5, 0.5);
  auto b = map_box(original, 0.5, 0.5, 0.5, 0.5);
  check_box(a.box, 320, 240, 320, 240);
  check_box(b.box, 320, 240, 320, 240);
  // but 0.25 in y is 0.25 * 640 - 80 = 80 in the padded frame, 120 in the original
  a = map_box(padded, 0, 0.25, 1, 0.75);
  b = map_box(original, 0, 0.25, 1, 0.75);
  check_box(a.box, 0, 80, 640, 400);
  check_box(b.box, 0, 120, 640, 360);
  // a box in the top padding band is clipped to the image
  a = map_box(padded, 0.1, 0.0, 0.2, 0.1);
  CHECK(a.flags == box_flag_clipped);
  CHECK(a.box.y1 == 0);
  CHECK(a.box.y2 == 0);
}

TEST_CASE("map_box: truncation (Ferret int(v * W / 1000))", "[geometry]") {
  const geometry g = family_geometry("ferret", {333, 500});
  const auto m = map_box(g, 100, 100, 999, 999);
  check_box(m.box, 33, 50, 332, 499);  // int(33.3), int(50), int(332.667), int(499.5)
}

TEST_CASE("map_patch_box: swapped patches", "[geometry]") {
  const geometry g = family_geometry("kosmos-2", {640, 640});
  const auto m = map_patch_box(g, 863, 44);  // lower-right given first
  CHECK((m.flags & box_flag_swapped) != 0);
  check_box(m.box, 12.5 * 20, 1.5 * 20, 31.5 * 20, 26.5 * 20);
}

TEST_CASE("to_json describes the contract deterministically", "[geometry]") {
  const geometry g = family_geometry("qwen2.5-vl", {1920, 1080});
  const std::string j = to_json(g);
  CHECK(j == to_json(family_geometry("qwen2.5-vl", {1920, 1080})));
  CHECK(j.find("\"preprocess\": \"smart_resize\"") != std::string::npos);
  CHECK(j.find("\"max_pixels\": 12845056") != std::string::npos);
  CHECK(j.find("\"frame\": [1932, 1092]") != std::string::npos);
  CHECK(j.find("\"space\": \"input_pixels\"") != std::string::npos);
  const std::string l = to_json(family_geometry("llava", {640, 480}));
  CHECK(l.find("\"pad_offset\": [0, 80]") != std::string::npos);
  const std::string f = to_json(family_geometry("florence-2", {640, 480}));
  CHECK(f.find("\"bins\": 1000, \"decode\": \"centre\"") != std::string::npos);
  CHECK(j != to_json(family_geometry("qwen2.5-vl", {1920, 1080}, {{"max_pixels", "1003520"}})));
}

TEST_CASE("family_geometry: keys, values and errors", "[geometry]") {
  CHECK(family_geometry("qwen-vl", {10, 10}).space.bins == 999);
  CHECK(family_geometry("qwen-vl", {10, 10}, {{"divisor", "1000"}}).space.bins == 1000);
  CHECK(family_geometry("qwen2.5-vl", {10, 10}, {{"min_pixels", "200704"}}).pre.min_pixels ==
        200704);
  CHECK(family_geometry("kosmos-2", {10, 10}, {{"decode", "edge"}}).space.patch ==
        patch_decode::edge);
  CHECK(family_geometry("florence-2", {10, 10}, {{"truncate", "true"}}).truncate);
  CHECK(family_geometry("pixel", {10, 10}, {{"input", "20x40"}}).pre.target == image_size{20, 40});
  try {
    family_geometry("llava", {640, 480}, {{"max_pixels", "100"}});
    FAIL("expected an error");
  } catch (const error& e) {
    CHECK(e.kind() == error_kind::config);
    CHECK(std::string(e.what()).find("valid keys: frame, pad, clip") != std::string::npos);
  }
  CHECK_THROWS_AS(family_geometry("llava", {640, 480}, {{"frame", "square"}}), error);
  CHECK_THROWS_AS(family_geometry("qwen2.5-vl", {640, 480}, {{"min_pixels", "-3"}}), error);
  CHECK_THROWS_AS(family_geometry("qwen2.5-vl", {640, 480}, {{"min_pixels", "12abc"}}), error);
  CHECK_THROWS_AS(
      family_geometry("qwen2.5-vl", {640, 480}, {{"min_pixels", "5000"}, {"max_pixels", "4000"}}),
      error);
  CHECK_THROWS_AS(family_geometry("gpt-4o", {640, 480}), error);
  CHECK_THROWS_AS(family_geometry("llava", {0, 480}), error);
  for (auto id : family_ids) CHECK_NOTHROW(family_geometry(id, {640, 480}));
}

TEST_CASE("center_crop: Hugging Face short-side resize and central crop", "[geometry]") {
  // 640x480 -> short side 336, long int(336 * 640 / 480) = 448; crop x from (448 - 336) // 2
  CHECK(center_crop_resized({640, 480}, 336) == image_size{448, 336});
  CHECK(center_crop_offset({640, 480}, 336) == image_size{56, 0});
  // int() truncates: 336 * 500 / 333 = 504.5 -> 504; portrait images crop on y
  CHECK(center_crop_resized({500, 333}, 336) == image_size{504, 336});
  CHECK(center_crop_resized({333, 500}, 336) == image_size{336, 504});
  CHECK(center_crop_offset({333, 500}, 336) == image_size{0, 84});
  const geometry g = family_geometry("llava", {640, 480}, {{"frame", "center-crop"}});
  CHECK(g.pre.kind == preprocess_kind::center_crop);
  CHECK(g.send.kind == send_kind::original);  // the server must see the non-square image
  // the crop's centre is the image centre; its left edge is x = 56 * 640 / 448 = 80
  check_box(map_box(g, 0.5, 0.5, 0.5, 0.5).box, 320, 240, 320, 240);
  check_box(map_box(g, 0, 0, 1, 1).box, 80, 0, 560, 480);
  // the crop of 500x333 starts at x = 84 in the 504-wide resize: 84 * 500 / 504 in the original
  const geometry h = family_geometry("llava", {500, 333}, {{"frame", "center-crop"}});
  check_box(map_box(h, 0, 0, 1, 1).box, 84 * 500.0 / 504, 0, 420 * 500.0 / 504, 333);
  const std::string j = to_json(g);
  CHECK(j.find("\"preprocess\": \"center_crop\", \"target\": 336, \"resized\": [448, 336], "
               "\"crop_offset\": [56, 0]") != std::string::npos);
  CHECK(j.find("\"send\"") == std::string::npos);
}

TEST_CASE("client-side padding: LLaVA's colour by default, recorded in the JSON", "[geometry]") {
  const geometry l = family_geometry("llava", {640, 480});
  CHECK(l.send.kind == send_kind::pad_square);
  CHECK(l.send.pad_colour == std::array<std::uint8_t, 3>{122, 116, 104});
  CHECK(to_json(l).find("\"send\": \"pad_square\", \"pad_colour\": [122, 116, 104], \"sent\": "
                        "[640, 640]") != std::string::npos);
  CHECK(family_geometry("shikra", {10, 20}).send.pad_colour ==
        std::array<std::uint8_t, 3>{255, 255, 255});
  // the decoding does not depend on who pads: same boxes as the server-padded contract
  const geometry server = family_geometry("llava", {640, 480}, {{"pad", "server"}});
  CHECK(server.send.kind == send_kind::original);
  check_box(map_box(l, 0, 0.25, 1, 0.75).box, 0, 80, 640, 400);
  check_box(map_box(server, 0, 0.25, 1, 0.75).box, 0, 80, 640, 400);
  // frame=original keeps sending the padded square (what the model saw in training)
  CHECK(family_geometry("llava", {640, 480}, {{"frame", "original"}}).send.kind ==
        send_kind::pad_square);
  // contradictions and bad values are configuration errors
  CHECK_THROWS_AS(
      family_geometry("llava", {640, 480}, {{"frame", "center-crop"}, {"pad", "client"}}), error);
  CHECK_THROWS_AS(family_geometry("llava", {640, 480}, {{"pad", "yes"}}), error);
  CHECK_THROWS_AS(family_geometry("qwen2.5-vl", {640, 480}, {{"pad", "client"}}), error);
  // no other family transforms the image client-side, so their JSON is unchanged
  for (auto id : family_ids)
    if (id != "llava" && id != "shikra")
      CHECK(to_json(family_geometry(id, {640, 480})).find("\"send\"") == std::string::npos);
}

TEST_CASE("map_point: decode, inverse map and clipping", "[geometry]") {
  const geometry g = family_geometry("molmo", {640, 480});  // percent
  auto p = map_point(g, 50, 25);
  CHECK(p.x == Approx(320));
  CHECK(p.y == Approx(120));
  CHECK(p.flags == box_flag_none);
  p = map_point(family_geometry("llava", {640, 480}), 0.5, 0.0);  // in the top padding band
  CHECK(p.y == 0);
  CHECK(p.flags == box_flag_clipped);
}
