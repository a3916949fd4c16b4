// SPDX-License-Identifier: Apache-2.0
// PNG overlays on synthetic images: box outlines (pixel colours at the edges, line width,
// clipping), downscaling, PNG encoding read back through stb_image, text rendered with
// stb_truetype from DejaVu Sans (fonts-dejavu-core), the caption strip, and a complete sample
// report whose pages and overlays are checked together.
#include <groundeval/boxes/iou.hpp>
#include <groundeval/report/png/overlay.hpp>
#include <groundeval/report/writer.hpp>

#include <stb_image.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace groundeval;
using namespace groundeval::report;

namespace {

const rgb white{255, 255, 255};
const rgb red{255, 0, 0};

/// Pixels of `im` in [x0, x1) x [y0, y1) that differ from `c`.
int count_not(const rgb_image& im, int x0, int y0, int x1, int y1, rgb c) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += im.at(x, y) == c ? 0 : 1;
  return n;
}

}  // namespace

TEST_CASE("draw_box draws the outline inside the box edges", "[png]") {
  auto im = rgb_image::filled(50, 40, white);
  draw_box(im, {10.0, 5.0, 30.0, 25.0}, red, 2);
  // Edges: columns 10, 11 and 28, 29; rows 5, 6 and 23, 24.
  CHECK(im.at(10, 15) == red);
  CHECK(im.at(11, 15) == red);
  CHECK(im.at(12, 15) == white);
  CHECK(im.at(9, 15) == white);
  CHECK(im.at(29, 15) == red);
  CHECK(im.at(28, 15) == red);
  CHECK(im.at(27, 15) == white);
  CHECK(im.at(30, 15) == white);
  CHECK(im.at(20, 5) == red);
  CHECK(im.at(20, 6) == red);
  CHECK(im.at(20, 7) == white);
  CHECK(im.at(20, 4) == white);
  CHECK(im.at(20, 24) == red);
  CHECK(im.at(20, 25) == white);
  CHECK(im.at(10, 5) == red);  // corners
  CHECK(im.at(29, 24) == red);
  CHECK(count_not(im, 12, 7, 28, 23, white) == 0);  // the inside stays untouched
  // Exactly the outline: 2 * (20 * 2) + 2 * (16 * 2) pixels.
  CHECK(count_not(im, 0, 0, 50, 40, white) == 2 * 40 + 2 * 32);

  // Fractional coordinates are rounded; swapped corners are accepted.
  auto im2 = rgb_image::filled(20, 20, white);
  draw_box(im2, {14.6, 12.4, 4.4, 2.5}, red, 1);
  CHECK(im2.at(4, 8) == red);
  CHECK(im2.at(14, 8) == red);
  CHECK(im2.at(15, 8) == white);
  CHECK(im2.at(8, 3) == red);
  CHECK(im2.at(8, 11) == red);

  // Clipping: a box reaching outside draws only its visible part; non-finite draws nothing.
  auto im3 = rgb_image::filled(20, 20, white);
  draw_box(im3, {-10.0, -10.0, 5.0, 1e12}, red, 3);
  CHECK(im3.at(4, 10) == red);
  CHECK(im3.at(0, 10) == white);
  CHECK(im3.at(1, 0) == white);  // top edge is off the image
  draw_box(im3, {std::nan(""), 0.0, 5.0, 5.0}, rgb{0, 0, 255}, 3);
  draw_box(im3, {100.0, 100.0, 200.0, 200.0}, rgb{0, 0, 255}, 3);
  CHECK(count_not(im3, 0, 0, 20, 20, white) == count_not(im3, 2, 0, 5, 20, white));
}

TEST_CASE("make_rgb_image and fit_width", "[png]") {
  const unsigned char grey[4] = {0, 100, 200, 255};
  const auto g = make_rgb_image(grey, 2, 2, 1);
  CHECK(g.at(1, 0) == rgb{100, 100, 100});
  const unsigned char rgba[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto c = make_rgb_image(rgba, 2, 1, 4);
  CHECK(c.at(1, 0) == rgb{5, 6, 7});
  CHECK_THROWS_AS(make_rgb_image(rgba, 2, 1, 5), error);

  // 8x4 of 2x2 blocks scaled to width 4: each output pixel is one block's average.
  auto im = rgb_image::filled(8, 4, white);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 8; ++x)
      im.set(x, y, rgb{static_cast<std::uint8_t>(x * 30), static_cast<std::uint8_t>(y * 60), 0});
  double s = 0;
  const auto small = fit_width(im, 4, &s);
  CHECK(s == 0.5);
  REQUIRE(small.width == 4);
  REQUIRE(small.height == 2);
  CHECK(small.at(1, 1) == rgb{75, 150, 0});  // x 2,3 -> 60, 90; y 2,3 -> 120, 180
  const auto same = fit_width(im, 100, &s);
  CHECK(s == 1.0);
  CHECK(same.pixels == im.pixels);
}

TEST_CASE("PNG encoding reads back pixel for pixel", "[png]") {
  auto im = rgb_image::filled(17, 9, rgb{10, 20, 30});
  draw_box(im, {2, 2, 15, 8}, run_color(1), 1);
  im.set(0, 0, rgb{255, 0, 128});
  const auto png = encode_png(im);
  REQUIRE(png.size() > 8);
  CHECK(png[0] == 0x89);
  CHECK(png[1] == 'P');
  int w = 0, h = 0, ch = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> px(
      stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &w, &h, &ch, 3),
      stbi_image_free);
  REQUIRE(px);
  CHECK(w == 17);
  CHECK(h == 9);
  CHECK(std::equal(im.pixels.begin(), im.pixels.end(), px.get()));

  const auto dir =
      std::filesystem::temp_directory_path() / ("groundeval_png_" + std::to_string(::getpid()));
  write_png(im, dir / "cases" / "x.png");
  CHECK(std::filesystem::file_size(dir / "cases" / "x.png") == png.size());
  std::filesystem::remove_all(dir);
  CHECK_THROWS_AS(encode_png(rgb_image{}), error);
}

TEST_CASE("font loading errors name the file and the package", "[png]") {
  CHECK_THROWS_WITH(font::load("/nonexistent/font.ttf"),
                    Catch::Contains("/nonexistent/font.ttf") && Catch::Contains("cannot open"));
  const auto bogus = std::filesystem::temp_directory_path() /
                     ("groundeval_bogus_" + std::to_string(::getpid()) + ".ttf");
  std::ofstream(bogus) << "not a font";
  CHECK_THROWS_WITH(font::load(bogus), Catch::Contains("not a TrueType font"));
  std::filesystem::remove(bogus);
  ::setenv("GROUNDEVAL_FONT", "/nonexistent/x.ttf", 1);
  CHECK_THROWS_WITH(font::load_default(),
                    Catch::Contains("fonts-dejavu-core") && Catch::Contains("/nonexistent/x.ttf"));
  ::unsetenv("GROUNDEVAL_FONT");
  CHECK(default_font_path() == "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
}

TEST_CASE("text is rendered with DejaVu Sans", "[png]") {
  const font f = font::load_default();  // needs fonts-dejavu-core (scripts/extra-packages.txt)
  CHECK(f.line_height(14) >= 14);
  CHECK(f.line_height(14) <= 20);
  CHECK(f.text_width("", 14) == 0);
  CHECK(f.text_width("iiii", 14) < f.text_width("WWWW", 14));
  CHECK(f.text_width("WWWW", 28) > f.text_width("WWWW", 14) * 3 / 2);

  auto im = rgb_image::filled(200, 40, white);
  const int end = f.draw(im, 10, 10, "Hello <script> \xc3\xa9", 16, rgb{0, 0, 0});
  CHECK(end == 10 + f.text_width("Hello <script> \xc3\xa9", 16));
  const int inked = count_not(im, 0, 0, 200, 40, white);
  CHECK(inked > 100);  // real glyphs, not a blank
  CHECK(count_not(im, 10, 10, end + 1, 10 + f.line_height(16), white) == inked);  // in its box
  // Text that does not fit is clipped, never written out of bounds (ASan checks the rest).
  f.draw(im, 190, 35, "overflowing text", 30, red);
  f.draw(im, -50, -20, "negative", 30, red);

  const auto lines = f.wrap(
      "a man in a blue shirt is riding a very tall unicycle down the "
      "street supercalifragilisticexpialidocious",
      14, 120);
  CHECK(lines.size() >= 3);
  for (const auto& l : lines) CHECK(f.text_width(l, 14) <= 120);
  const auto one_word = f.wrap("WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", 14, 60);
  CHECK(one_word.size() > 1);
}

TEST_CASE("caption strip and complete overlay", "[png]") {
  const font f = font::load_default();
  // A synthetic 1000x500 "photo": a horizontal grey ramp.
  auto photo = rgb_image::filled(1000, 500, white);
  for (int y = 0; y < 500; ++y)
    for (int x = 0; x < 1000; ++x) {
      const auto v = static_cast<std::uint8_t>(x / 4);
      photo.set(x, y, rgb{v, v, v});
    }
  const std::vector<overlay_box> boxes{{{100, 100, 500, 400}, ground_truth_color},
                                       {{600, 50, 900, 300}, run_color(0)}};
  const std::vector<caption_line> caption{
      {"a \"phrase\" <script>", rgb{0, 0, 0}, false, {}},
      {"A long sentence that surely needs more than one line at this width, to check the wrap.",
       rgb{60, 60, 60},
       false,
       {}},
      {"run A: IoU 0.12", rgb{0, 0, 0}, true, run_color(0)}};
  overlay_options opt;
  opt.max_width = 400;
  const auto out = render_overlay(photo, boxes, caption, f, opt);
  REQUIRE(out.width == 400);
  REQUIRE(out.height > 200);  // 200 for the photo plus the caption strip
  // Boxes scaled by 0.4: ground truth at x 40..200, run at 240..360.
  CHECK(out.at(40, 100) == ground_truth_color);
  CHECK(out.at(199, 100) == ground_truth_color);
  CHECK(out.at(300, 20) == run_color(0));
  CHECK(out.at(300, 119) == run_color(0));
  CHECK(out.at(120, 100) != ground_truth_color);  // inside: the photo
  // The caption strip is white with ink, at least four rows tall (wrapped).
  const int strip_ink = count_not(out, 0, 200, 400, out.height, white);
  CHECK(strip_ink > 300);
  CHECK(out.height - 200 >= 4 * f.line_height(opt.font_px));
  // The swatch of the run line has the run's colour.
  int swatch = 0;
  for (int y = 200; y < out.height; ++y)
    for (int x = 0; x < 20; ++x) swatch += out.at(x, y) == run_color(0) ? 1 : 0;
  CHECK(swatch >= 64);
}

// ---- a complete sample report --------------------------------------------------------------
// Synthetic scenes and three trivial synthetic "runs" computed here (whole image, centre box, and
// the ground truth jittered by a fixed pattern); no model is involved and the report says so. With
// GROUNDEVAL_SAMPLE_REPORT_DIR set, the report is kept there (scripts/screenshot_report.sh uses
// it).

namespace {

struct synthetic_phrase {
  int image;
  box_xyxy<double> gt;
  std::string type;
};

run_summary summarize(const std::string& name, const std::string& grounder,
                      const std::vector<synthetic_phrase>& ps,
                      const std::vector<box_xyxy<double>>& preds, std::vector<std::uint8_t>& hits) {
  run_summary r;
  r.name = name;
  r.grounder = grounder;
  r.dataset = "synthetic scenes (generated by test_report_png)";
  r.images = 8;
  r.sentences = ps.size();
  r.phrases = ps.size();
  std::vector<std::string> types;
  std::vector<std::uint64_t> type_n, type_hit;
  const char* bucket_names[3] = {"small (< 64\xC2\xB2)", "medium", "large (> 128\xC2\xB2)"};
  std::uint64_t bn[3] = {0, 0, 0}, bh[3] = {0, 0, 0};
  double bi[3] = {0, 0, 0};
  std::uint64_t n_hit = 0;
  double sum_iou = 0;
  std::array<std::uint64_t, 5> acc{};
  double acc5095 = 0;
  hits.clear();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const double v = iou(ps[i].gt, preds[i]);
    const bool hit = iou_hit(v, 0.5);
    hits.push_back(hit ? 1 : 0);
    r.top1_ious.push_back(v);
    n_hit += hit;
    sum_iou += v;
    for (std::size_t t = 0; t < 5; ++t) acc[t] += v >= accuracy_thresholds[t];
    for (int t = 0; t < 10; ++t) acc5095 += v >= 0.5 + 0.05 * t ? 0.1 : 0.0;
    auto it = std::find(types.begin(), types.end(), ps[i].type);
    if (it == types.end()) {
      types.push_back(ps[i].type);
      type_n.push_back(0);
      type_hit.push_back(0);
      it = types.end() - 1;
    }
    const auto ti = static_cast<std::size_t>(it - types.begin());
    ++type_n[ti];
    type_hit[ti] += hit;
    const double area = (ps[i].gt.x2 - ps[i].gt.x1) * (ps[i].gt.y2 - ps[i].gt.y1);
    const int b = area < 64 * 64 ? 0 : area > 128 * 128 ? 2 : 1;
    ++bn[b];
    bh[b] += hit;
    bi[b] += v;
  }
  const double n = static_cast<double>(ps.size());
  const double r1 = static_cast<double>(n_hit) / n;
  r.overall = {"all", ps.size(), r1, r1, r1, r1};  // one box per query: R@5 = R@10 = R@1
  for (std::size_t t = 0; t < types.size(); ++t) {
    const double f = static_cast<double>(type_hit[t]) / static_cast<double>(type_n[t]);
    r.by_type.push_back({types[t], type_n[t], f, f, f, f});
  }
  r.mean_iou = sum_iou / n;
  for (std::size_t t = 0; t < 5; ++t) r.accuracy_at[t] = static_cast<double>(acc[t]) / n;
  r.accuracy_50_95 = acc5095 / n;
  for (int b = 0; b < 3; ++b)
    if (bn[b] > 0)
      r.by_size.push_back({bucket_names[b], bn[b],
                           static_cast<double>(bh[b]) / static_cast<double>(bn[b]),
                           bi[b] / static_cast<double>(bn[b])});
  return r;
}

rgb_image synthetic_scene(int k) {
  auto im = rgb_image::filled(320, 240, rgb{230, 230, 230});
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x)
      im.set(x, y,
             rgb{static_cast<std::uint8_t>(40 + (x * 3 + k * 29) % 180),
                 static_cast<std::uint8_t>(60 + (y * 2 + k * 17) % 150),
                 static_cast<std::uint8_t>(90 + k * 20)});
  return im;
}

}  // namespace

TEST_CASE("a complete sample report with overlays", "[png][sample]") {
  namespace fs = std::filesystem;
  const char* keep = std::getenv("GROUNDEVAL_SAMPLE_REPORT_DIR");
  const fs::path dir = keep && *keep ? fs::path(keep)
                                     : fs::temp_directory_path() /
                                           ("groundeval_sample_" + std::to_string(::getpid()));
  const char* types[4] = {"people", "clothing", "animals", "<script>alert(1)</script>"};
  std::vector<synthetic_phrase> ps;
  std::vector<box_xyxy<double>> whole, center, jitter;
  for (int i = 0; i < 40; ++i) {
    const double x = 10 + (i * 37) % 200, y = 10 + (i * 23) % 120;
    const double w = 30 + (i * 53) % 110, h = 25 + (i * 31) % 100;
    ps.push_back({i % 8, {x, y, x + w, y + h}, types[i % 4]});
    whole.push_back({0, 0, 320, 240});
    center.push_back({80, 60, 240, 180});
    const double d = ((i * 7) % 11) * 0.06 * w;  // 0 .. 0.6 w
    jitter.push_back({x + d, y + d / 2, x + w + d, y + h});
  }
  report_input in;
  in.title = "Synthetic sample report (invented scenes, trivial baselines; not model output)";
  in.generated = "test_report_png";
  std::vector<std::uint8_t> h0, h1, h2;
  in.runs.push_back(summarize("whole-image", "whole-image", ps, whole, h0));
  in.runs.push_back(summarize("center", "center:0.5", ps, center, h1));
  in.runs.push_back(summarize("jitter", "ground truth shifted by a fixed pattern", ps, jitter, h2));
  in.runs[2].latency = latency_row{40, 0.012, 0.011, 0.02, 83.3};
  in.runs[1].format_failures = 0;
  paired_summary p;
  p.run_a = "center";
  p.run_b = "jitter";
  p.phrases = ps.size();
  p.images = 8;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (h1[i] && h2[i])
      ++p.both_right;
    else if (h1[i])
      ++p.a_only;
    else if (h2[i])
      ++p.b_only;
    else
      ++p.neither;
  }
  // McNemar's exact two-sided p-value: min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2).
  {
    const std::uint64_t nd = p.a_only + p.b_only, lo = std::min(p.a_only, p.b_only);
    double tail = 0, term = std::pow(0.5, static_cast<double>(nd));  // C(nd, 0) / 2^nd
    for (std::uint64_t i = 0; i <= lo; ++i) {
      tail += term;
      term = term * static_cast<double>(nd - i) / static_cast<double>(i + 1);
    }
    p.mcnemar_p = std::min(1.0, 2 * tail);
  }
  p.recall = {{1,
               {in.runs[1].overall.r_at_1},
               {in.runs[2].overall.r_at_1},
               {in.runs[2].overall.r_at_1 - in.runs[1].overall.r_at_1}}};
  p.cases = {{"both_succeed", p.both_right},
             {"a_wins", p.a_only},
             {"b_wins", p.b_only},
             {"both_fail", p.neither}};
  in.pairs.push_back(p);

  const font f = font::load_default();
  const std::vector<std::string> names{"whole-image", "center", "jitter"};
  for (std::size_t i : {0u, 1u, 2u, 3u}) {
    gallery_case c;
    c.category = h2[i] ? (h1[i] ? "both_succeed" : "b_wins") : (h1[i] ? "a_wins" : "both_fail");
    c.run_a = "center";
    c.run_b = "jitter";
    c.image_id = "synthetic-" + std::to_string(ps[i].image);
    c.sentence_index = 0;
    c.phrase_index = i;
    c.phrase = ps[i].type == types[3] ? "a <script> tag" : "the " + ps[i].type;
    c.sentence = "A generated scene with " + c.phrase + " in it.";
    c.ious = {{"center", iou(ps[i].gt, center[i])}, {"jitter", iou(ps[i].gt, jitter[i])}};
    c.png = case_png_path(c);
    const auto overlay = render_overlay(
        synthetic_scene(ps[i].image),
        {{ps[i].gt, ground_truth_color}, {center[i], run_color(1)}, {jitter[i], run_color(2)}},
        case_caption(c, names), f);
    write_png(overlay, dir / c.png);
    in.cases.push_back(c);
  }
  write_report(in, dir);

  // Every image the page refers to exists and is a non-blank PNG.
  std::ifstream is(dir / "index.html");
  std::stringstream ss;
  ss << is.rdbuf();
  const std::string html = ss.str();
  // (no std::regex: GCC 12 warns falsely inside <regex> under the sanitizers)
  const std::string tag = "<img src=\"";
  int images = 0;
  for (auto pos = html.find(tag); pos != std::string::npos; pos = html.find(tag, pos + 1)) {
    const auto start = pos + tag.size();
    const fs::path png = dir / html.substr(start, html.find('"', start) - start);
    INFO(png);
    REQUIRE(fs::exists(png));
    int w = 0, h = 0, ch = 0;
    std::unique_ptr<unsigned char, void (*)(void*)> px(stbi_load(png.c_str(), &w, &h, &ch, 3),
                                                       stbi_image_free);
    REQUIRE(px);
    CHECK(w == 320);
    CHECK(h > 240);
    std::set<std::uint32_t> colours;  // photo, boxes, caption ink: far from blank
    for (int k = 0; k < w * h; ++k) {
      const unsigned char* q = px.get() + 3 * k;
      colours.insert(static_cast<std::uint32_t>(q[0] << 16 | q[1] << 8 | q[2]));
    }
    CHECK(colours.size() > 50);
    ++images;
  }
  CHECK(images == 4);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  // b = 1, c = 16: p = 2 * (C(17, 0) + C(17, 1)) / 2^17 = 36 / 2^17.
  CHECK(p.a_only == 1);
  CHECK(p.b_only == 16);
  CHECK(p.mcnemar_p == Approx(36.0 / 131072.0));
  CHECK(html.find("p = 0.000275") != std::string::npos);
  if (!(keep && *keep)) fs::remove_all(dir);
}
