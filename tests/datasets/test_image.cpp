// SPDX-License-Identifier: Apache-2.0
// Images through stb_image: a hand-made 3x2 BMP (bytes written out below), size cross-check
// against the annotation, and clear errors for missing, empty and corrupt files.
#include <groundeval/io/stb/image_stb.hpp>

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace groundeval;

namespace {
// 24-bit BMP, 3x2 pixels, bottom-up rows padded to 4 bytes. Top row: red, green, blue;
// bottom row: white, black, grey (128).
std::string tiny_bmp() {
  auto le32 = [](unsigned v) {
    return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                       static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
  };
  auto le16 = [](unsigned v) {
    return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff)};
  };
  const unsigned row = 12, pixels = row * 2, offset = 14 + 40;
  std::string b = "BM" + le32(offset + pixels) + le32(0) + le32(offset);
  b += le32(40) + le32(3) + le32(2) + le16(1) + le16(24) + le32(0) + le32(pixels) + le32(2835) +
       le32(2835) + le32(0) + le32(0);
  auto px = [](unsigned char r, unsigned char g, unsigned char bl) {
    return std::string{static_cast<char>(bl), static_cast<char>(g), static_cast<char>(r)};
  };
  b += px(255, 255, 255) + px(0, 0, 0) + px(128, 128, 128) + std::string(3, '\0');  // bottom
  b += px(255, 0, 0) + px(0, 255, 0) + px(0, 0, 255) + std::string(3, '\0');        // top
  return b;
}
}  // namespace

TEST_CASE("images: bytes, probe, decode", "[image]") {
  ge_test::temp_dir d;
  const std::string path = d.write("img/42.jpg", tiny_bmp());  // extension does not matter
  const auto bytes = read_image_bytes(path);
  CHECK(bytes.data == tiny_bmp());
  CHECK(bytes.format() == "bmp");
  CHECK(probe_image_size(bytes) == image_size{3, 2});
  const auto img = decode_image(bytes, 3);
  const auto v = img.view();
  REQUIRE(v.size() == image_size{3, 2});
  CHECK(v.channels == 3);
  CHECK(v.at(0, 0)[0] == 255);  // red, top-left
  CHECK(v.at(0, 0)[1] == 0);
  CHECK(v.at(2, 0)[2] == 255);  // blue
  CHECK(v.at(1, 1)[0] == 0);    // black
  CHECK(v.at(2, 1)[1] == 128);  // grey
  CHECK(decode_image(bytes, 1).view().channels == 1);

  sample s;
  s.image_id = "42";
  s.size = {3, 2};
  const in_memory_dataset ds("t", {s}, d.str() + "/img");
  CHECK(load_sample_image(ds, ds[0]).data.size() == tiny_bmp().size());
}

TEST_CASE("images: errors name the file", "[image][errors]") {
  ge_test::temp_dir d;
  using ge_test::require_error_at;
  const std::string good = d.write("42.jpg", tiny_bmp());
  require_error_at([&] { (void)read_image_bytes(d.str() + "/missing.jpg"); },
                   d.str() + "/missing.jpg", 0, "cannot read image");
  const std::string empty = d.write("empty.jpg", "");
  require_error_at([&] { (void)read_image_bytes(empty); }, empty, 0, "image file is empty");
  const std::string corrupt = d.write("corrupt.jpg", "\xff\xd8\xff garbage, not a JPEG");
  require_error_at([&] { (void)probe_image_size(read_image_bytes(corrupt)); }, corrupt, 0,
                   "not a readable image");
  require_error_at([&] { (void)decode_image(read_image_bytes(corrupt)); }, corrupt, 0,
                   "cannot decode image");
  require_error_at(
      [&] {
        check_image_size(read_image_bytes(good), {500, 375});
      },
      good, 0, "image is 3x2 but the annotation says 500x375");
  sample s;
  s.image_id = "42";
  s.size = {4, 2};
  const in_memory_dataset ds("t", {s}, d.str());
  require_error_at([&] { (void)load_sample_image(ds, ds[0]); }, good, 0,
                   "image is 3x2 but the annotation says 4x2");
  CHECK_NOTHROW(load_sample_image(ds, ds[0], false));
}
