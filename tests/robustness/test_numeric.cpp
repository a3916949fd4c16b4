// SPDX-License-Identifier: Apache-2.0
// Numeric edge cases (docs/robustness.md, table "Numeric edge cases"): NaN, +-Inf, subnormals,
// coordinates beyond 1e9, zero-area and inverted boxes through IoU, GIoU, DIoU, NMS, detector
// post-processing and the metrics, on the CPU. tests/cuda checks the same boxes on the GPU
// against these CPU results bit for bit.
#include <groundeval/boxes/iou.hpp>
#include <groundeval/boxes/nms.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/metrics/recall.hpp>
#include <groundeval/postprocess/pipeline.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace groundeval;
using B = box_xyxy<double>;

namespace {
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();
const B gt{0, 0, 10, 10};

/// iou, giou and diou of (a, gt) and (gt, a): all six equal `v` (and never NaN).
void check_family(const B& a, double v_iou, double v_giou, double v_diou) {
  CHECK(iou(a, gt) == v_iou);
  CHECK(iou(gt, a) == v_iou);
  CHECK(giou(a, gt) == v_giou);
  CHECK(giou(gt, a) == v_giou);
  CHECK(diou(a, gt) == v_diou);
  CHECK(diou(gt, a) == v_diou);
}

const std::vector<int> ks{1, 5, k_all};
phrase_hits hits(std::vector<B> preds, std::vector<B> g = {gt}) {
  std::vector<scored_box> p;
  for (const auto& b : preds) p.push_back({b, 1.0});
  return reference_phrase_hits(p, g, gt_protocol::any_box, ks, 0.5);
}
}  // namespace

TEST_CASE("N01 NaN coordinate through IoU, GIoU, DIoU and the reference IoU",
          "[robustness][numeric]") {
  check_family({qnan, 0, 10, 10}, 0, 0, 0);
  check_family({qnan, qnan, qnan, qnan}, 0, 0, 0);
  CHECK(iou(B{qnan, 0, 10, 10}, B{qnan, 0, 10, 10}) == 0);
  CHECK(std::isnan(reference_iou({qnan, 0, 10, 10}, gt)));
  CHECK(std::isnan(reference_iou(gt, {qnan, 0, 10, 10})));
}

TEST_CASE("N02 +-Inf coordinates through IoU, GIoU, DIoU and the reference IoU",
          "[robustness][numeric]") {
  check_family({0, 0, inf, 10}, 0, 0, 0);
  check_family({-inf, -inf, inf, inf}, 0, 0, 0);
  check_family({-inf, 0, 5, 10}, 0, 0, 0);
  CHECK(iou(B{-inf, -inf, inf, inf}, B{-inf, -inf, inf, inf}) == 0);  // Inf/Inf is not 1
  CHECK(reference_iou({0, 0, inf, 10}, gt) == 0);
}

TEST_CASE("N03 subnormal sizes", "[robustness][numeric]") {
  // area underflows to 0: a zero-area box
  check_family({0, 0, 1e-200, 1e-200}, 0, 0, -0.25);
  // a subnormal but positive area is an ordinary positive area
  const B d{0, 0, 5e-324, 10};
  CHECK(iou(d, d) == 1);
  CHECK(giou(d, d) == 1);
  CHECK(iou(d, gt) == 0);  // 5e-323 / 100 underflows to 0
}

TEST_CASE("N04 coordinates beyond 1e9", "[robustness][numeric]") {
  const double o = 1e12;
  const B a{o, o, o + 100, o + 100}, b{o + 50, o, o + 150, o + 100};
  const B a0{0, 0, 100, 100}, b0{50, 0, 150, 100};
  CHECK(iou(a, b) == iou(a0, b0));  // double: exact, 1/3
  CHECK(giou(a, b) == giou(a0, b0));
  CHECK(iou(a, b) == 1.0 / 3.0);
  // float: the spacing at 1e12 is 65536, the 100-pixel box has zero width -> IoU 0
  const box_xyxy<float> fa{1e12f, 1e12f, 1e12f + 100, 1e12f + 100};
  const box_xyxy<float> fb{1e12f + 50, 1e12f, 1e12f + 150, 1e12f + 100};
  CHECK(iou(fa, fb) == 0.0f);
  // huge but finite areas overflow to Inf: IoU 0, as for Inf coordinates
  check_family({0, 0, 1e300, 1e300}, 0, 0, 0);
}

TEST_CASE("N05 zero-area boxes", "[robustness][numeric]") {
  check_family({5, 5, 5, 5}, 0, 0, 0);
  check_family({0, 0, 10, 0}, 0, 0, -0.125);
  CHECK(iou(B{5, 5, 5, 5}, B{5, 5, 5, 5}) == 0);
  CHECK(reference_iou({5, 5, 5, 5}, gt) == 0);
  CHECK(std::isnan(reference_iou({5, 5, 5, 5}, {5, 5, 5, 5})));  // 0/0 as numpy
}

TEST_CASE("N06 inverted boxes", "[robustness][numeric]") {
  check_family({10, 10, 0, 0}, 0, 0, 0);
  check_family({8, 0, 2, 10}, 0, 0, 0);
  // the reference keeps the signed area: [10,10,0,0] has area +100 and no intersection
  CHECK(reference_iou({10, 10, 0, 0}, gt) == 0);
  CHECK(reference_iou({8, 0, 2, 10}, gt) == 0);
}

TEST_CASE("N07 NMS with a NaN score", "[robustness][numeric]") {
  const std::vector<B> boxes{gt, gt};
  const std::vector<double> scores{0.5, qnan};
  try {
    (void)nms<double>(boxes, scores);
    FAIL("no error");
  } catch (const error& e) {
    CHECK(std::string(e.what()) == "nms: score of box 1 is NaN");
  }
}

TEST_CASE("N08 NMS with NaN, inverted, zero-area and infinite boxes, +-Inf scores",
          "[robustness][numeric]") {
  const std::vector<B> boxes{
      gt, {qnan, 0, 10, 10}, gt, {10, 10, 0, 0}, {1, 1, 11, 11}, {0, 0, inf, 10}, {5, 5, 5, 5}};
  const std::vector<double> scores{0.9, 0.95, 0.8, 0.7, inf, 0.6, 0.5};
  // +Inf first; degenerate boxes never suppress and are never suppressed; 0 and 2 overlap 4
  CHECK(nms<double>(boxes, scores) == std::vector<std::size_t>{4, 1, 3, 5, 6});
  std::vector<double> s2 = scores;
  s2[5] = -inf;  // -Inf is not above the default threshold (-Inf): dropped
  CHECK(nms<double>(boxes, s2) == std::vector<std::size_t>{4, 1, 3, 6});
  CHECK(nms_reference<double>(boxes, s2, {}) == nms<double>(boxes, s2));
}

TEST_CASE("N09 NMS beyond 1e9 decides as at the origin", "[robustness][numeric]") {
  const double o = 1e12;
  const std::vector<B> far{
      {o, o, o + 100, o + 100}, {o + 10, o, o + 110, o + 100}, {o + 60, o, o + 160, o + 100}};
  const std::vector<B> near{{0, 0, 100, 100}, {10, 0, 110, 100}, {60, 0, 160, 100}};
  const std::vector<double> s{0.9, 0.8, 0.7};
  CHECK(nms<double>(far, s) == nms<double>(near, s));
  CHECK(nms<double>(far, s) == std::vector<std::size_t>{0, 2});
}

TEST_CASE("N10 post-processing: NaN logit, +Inf logit, NaN and Inf boxes",
          "[robustness][numeric]") {
  positive_map_options mo;
  mo.token_slots = 3;
  const std::vector<token_offset> tok{{0, 0}, {0, 1}, {2, 5}};
  const std::vector<char_span> spans{{0, 5}};
  const positive_map pm = build_positive_map(spans, tok, 5, mo);
  const float fnan = std::numeric_limits<float>::quiet_NaN();
  const float finf = std::numeric_limits<float>::infinity();
  std::vector<float> boxes{.5f, .5f, .2f, .2f, .5f, .5f, .4f, .4f};
  {
    const std::vector<float> logits{0, 1, 2, 0, fnan, 1};
    const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, 2, 3);
    try {
      (void)postprocess_image(v, 0, pm, image_size{100, 100}, mdetr_postprocess(), {}, "7.npz");
      FAIL("no error");
    } catch (const error& e) {
      CHECK(std::string(e.what()) == "7.npz: pred_logits[query 1, token 1] is NaN");
    }
  }
  {
    const std::vector<float> logits{0, 1, 2, 0, finf, 1};
    const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, 2, 3);
    try {
      (void)postprocess_image(v, 0, pm, image_size{100, 100}, mdetr_postprocess(), {}, "7.npz");
      FAIL("no error");
    } catch (const error& e) {
      CHECK(std::string(e.what()) ==
            "7.npz: softmax of query 1 is undefined (a +Inf logit, or every logit -Inf)");
    }
    // sigmoid: +Inf is probability 1, an ordinary score
    const auto r = postprocess_image(v, 0, pm, image_size{100, 100}, grounding_dino_postprocess());
    REQUIRE(r.size() == 1);
    CHECK_FALSE(r[0].boxes.empty());
  }
  {
    // NaN and Inf boxes pass through unchanged (the metrics define what they score)
    std::vector<float> b2{fnan, .5f, .2f, .2f, .5f, .5f, finf, .4f};
    const std::vector<float> logits{0, 1, 2, 0, 2, 1};
    const auto v = make_detector_outputs_view<float>(logits, b2, {}, 1, 2, 3);
    const auto r = postprocess_image(v, 0, pm, image_size{100, 100}, mdetr_postprocess());
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].boxes.size() == 2);
    bool saw_nan = false, saw_inf = false;
    for (const auto& sb : r[0].boxes) {
      saw_nan = saw_nan || std::isnan(sb.box.x1);
      saw_inf = saw_inf || std::isinf(sb.box.x2);
    }
    CHECK(saw_nan);
    CHECK(saw_inf);
  }
}

TEST_CASE("N11 Recall@k with NaN, Inf, zero-area and inverted predictions",
          "[robustness][numeric]") {
  // a NaN box makes numpy's max NaN for every k whose rows include it: a miss, flagged
  const auto n = hits({gt, {qnan, 0, 10, 10}});
  CHECK(n.mask == 0b001);  // R@1 hits (row 0 only); R@5 and upper bound see the NaN
  CHECK(n.has_nan);
  CHECK(hits({{-inf, -inf, inf, inf}}).mask == 0);
  CHECK(hits({{5, 5, 5, 5}}).mask == 0);
  CHECK(hits({{10, 10, 0, 0}}).mask == 0);
  // zero-area prediction on zero-area ground truth: 0/0 = NaN, a miss
  const auto z = hits({{5, 5, 5, 5}}, {{5, 5, 5, 5}});
  CHECK(z.mask == 0);
  CHECK(z.has_nan);
  // beyond 1e9 in double: the same decisions as at the origin
  const double o = 1e12;
  CHECK(hits({{o, o, o + 10, o + 10}}, {{o, o, o + 10, o + 12}}).mask == 0b111);
}

TEST_CASE("N12 top-1 IoU and the pointing game with NaN and Inf boxes", "[robustness][numeric]") {
  const std::vector<B> g{gt};
  const std::vector<scored_box> p_nan{{{qnan, 0, 10, 10}, 1.0}};
  const std::vector<scored_box> p_inf{{{-inf, -inf, inf, inf}, 1.0}};
  CHECK(top1_iou(p_nan, g, gt_protocol::any_box) == 0);
  CHECK(top1_iou(p_inf, g, gt_protocol::any_box) == 0);
  CHECK_FALSE(pointing_hit(p_nan, g, gt_protocol::any_box));
  CHECK_FALSE(pointing_hit(p_inf, g, gt_protocol::any_box));
}
