// SPDX-License-Identifier: Apache-2.0
// Hand-computed fixtures for the three post-processing presets (postprocess/pipeline.hpp).
//
// Method: logits are chosen so the activations are round numbers that can be followed on paper
// (softmax: logits ln(k) give probabilities k / sum(k); sigmoid: logits ln(p / (1 - p)) give p,
// -Inf gives 0). The expected ranking and boxes below were derived by hand from the rules of
// each reference (MDETR models/postprocessors.py PostProcessFlickr, GLIP ATSSPostProcessor +
// flickr_post_process, Grounding DINO demo/test_ap_on_coco.py PostProcessCocoGrounding) and are
// written out in the comments; boxes use dyadic values so the float32 decode is exact. These are
// synthetic outputs, not outputs of any real model.
#include <groundeval/postprocess/pipeline.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace groundeval;
using Catch::Matchers::WithinRel;

namespace {
float lg(float k) { return std::log(k); }
float logit(float p) { return std::log(p / (1.f - p)); }
using BD = box_xyxy<double>;

// Caption "a red car" with hand offsets: slot 0 <s>, 1 "a", 2 "red", 3 "car"; T = 5 slots, the
// last one being MDETR's "no object".
const std::vector<token_offset> kTok{{0, 0}, {0, 1}, {2, 5}, {6, 9}};
positive_map map_of(std::vector<char_span> spans, std::size_t slots) {
  positive_map_options o;
  o.token_slots = slots;
  return build_positive_map(spans, kTok, 9, o);
}
std::vector<std::int64_t> queries_of(const phrase_ranking& r) { return r.queries; }
}  // namespace

TEST_CASE("preset mdetr: softmax incl. no-object, max over tokens, all queries ranked",
          "[presets]") {
  // Phrases: p0 "a red car" [0,9) -> slots {1,2,3}; p1 " red" [1,5) -> slot {2} (begin fallback).
  const positive_map pm = map_of({{0, 9}, {1, 5}}, 5);
  // softmax rows (k / 10):
  //   q0 k = [1,1,2,4,2] -> [.1,.1,.2,.4,.2]: p0 = max(.1,.2,.4) = .4, p1 = .2
  //   q1 k = [1,6,1,1,1] -> [.1,.6,.1,.1,.1]: p0 = .6,                 p1 = .1
  //   q2 k = [1,1,5,1,2] -> [.1,.1,.5,.1,.2]: p0 = .5,                 p1 = .5
  // ranking p0: q1 (.6), q2 (.5), q0 (.4); p1: q2 (.5), q0 (.2), q1 (.1).
  const std::vector<float> logits{lg(1), lg(1), lg(2), lg(4), lg(2),  //
                                  lg(1), lg(6), lg(1), lg(1), lg(1),  //
                                  lg(1), lg(1), lg(5), lg(1), lg(2)};
  // cxcywh normalized; image 200 x 100:
  //   q0 (.5,.5,.5,.5)    -> (.25,.25,.75,.75) -> (50, 25, 150, 75)
  //   q1 (.25,.25,.5,.5)  -> (0,0,.5,.5)       -> (0, 0, 100, 50)
  //   q2 (.75,.5,.25,1)   -> (.625,0,.875,1)   -> (125, 0, 175, 100)
  const std::vector<float> boxes{.5f, .5f, .5f, .5f, .25f, .25f, .5f, .5f, .75f, .5f, .25f, 1.f};
  const auto view = make_detector_outputs_view<float>(logits, boxes, {}, 1, 3, 5);
  const auto r = postprocess_image(view, 0, pm, image_size{200, 100}, mdetr_postprocess());
  REQUIRE(r.size() == 2);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{1, 2, 0});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{2, 0, 1});
  CHECK(r[0].boxes[0].box == BD{0, 0, 100, 50});
  CHECK(r[0].boxes[1].box == BD{125, 0, 175, 100});
  CHECK(r[0].boxes[2].box == BD{50, 25, 150, 75});
  CHECK_THAT(r[0].boxes[0].score, WithinRel(0.6, 1e-6));
  CHECK_THAT(r[0].boxes[1].score, WithinRel(0.5, 1e-6));
  CHECK_THAT(r[0].boxes[2].score, WithinRel(0.4, 1e-6));
  CHECK_THAT(r[1].boxes[0].score, WithinRel(0.5, 1e-6));
  CHECK_THAT(r[1].boxes[1].score, WithinRel(0.2, 1e-6));
  CHECK_THAT(r[1].boxes[2].score, WithinRel(0.1, 1e-6));
  CHECK(r[1].boxes[0].box == BD{125, 0, 175, 100});
}

TEST_CASE("preset grounding-dino: sigmoid, normalized-map product, top-k over pairs", "[presets]") {
  // T = 4 slots: 0 <s> (logit -Inf -> prob 0), p0 "red car" [2,9) -> {2,3}... use p0 = "a red"
  // [0,5) -> slots {1,2}, p1 "car" [6,9) -> slot {3}.
  const positive_map pm = map_of({{0, 5}, {6, 9}}, 4);
  const float ninf = -std::numeric_limits<float>::infinity();
  // sigmoid probs per query (slots 1, 2, 3):
  //   q0 [.75, .75, .25]: p0 = 1.5 / (2 + 1e-6) ~ .75,  p1 = .25 / (1 + 1e-6)
  //   q1 [.5,  .5,  .9 ]: p0 = 1.0 / (2 + 1e-6) ~ .5,   p1 = .9 / (1 + 1e-6)
  //   q2 [.9,  .5,  .5 ]: p0 = 1.4 / (2 + 1e-6) ~ .7,   p1 = .5 / (1 + 1e-6)
  // pairs ranked: q1p1 .9, q0p0 .75, q2p0 .7, q1p0 .49999975, q2p1 .4999995, q0p1 .25
  const std::vector<float> logits{ninf, logit(.75f), logit(.75f), logit(.25f),  //
                                  ninf, 0.f,         0.f,         logit(.9f),   //
                                  ninf, logit(.9f),  0.f,         0.f};
  const std::vector<float> boxes{.5f, .5f, .5f, .5f, .25f, .25f, .5f, .5f, .75f, .5f, .25f, 1.f};
  const auto view = make_detector_outputs_view<float>(logits, boxes, {}, 1, 3, 4);
  postprocess_options o = grounding_dino_postprocess();
  CHECK(o.pair_top_k == 300);
  auto r = postprocess_image(view, 0, pm, image_size{200, 100}, o);
  // All 6 pairs fit in 300: p0 = q0, q2, q1; p1 = q1, q2, q0.
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, 2, 1});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{1, 2, 0});
  const float d2 = 2.f + 1e-6f, d1 = 1.f + 1e-6f;
  const float s = 1.f / (1.f + std::exp(-logit(.75f)));
  CHECK_THAT(r[0].boxes[0].score, WithinRel(static_cast<double>(s / d2 + s / d2), 1e-6));
  CHECK_THAT(r[1].boxes[0].score, WithinRel(0.9 / d1, 1e-6));
  CHECK(r[1].boxes[0].box == BD{0, 0, 100, 50});
  // Top 4 pairs only: p0 = q0, q2, q1; p1 = q1 (q2p1 and q0p1 fall out).
  o.pair_top_k = 4;
  r = postprocess_image(view, 0, pm, image_size{200, 100}, o);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, 2, 1});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{1});
  // Top 1: only q1p1; phrase 0's list is empty.
  o.pair_top_k = 1;
  r = postprocess_image(view, 0, pm, image_size{200, 100}, o);
  CHECK(r[0].boxes.empty());
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{1});
  CHECK(to_query_results(std::move(r))[0].status == query_status::empty);
}

TEST_CASE("preset glip: mean, threshold, centerness, sqrt, +1 NMS, cap, zero box", "[presets]") {
  // p0 "a red" -> slots {1,2}; p1 "car" -> slot {3}; T = 4.
  const positive_map pm = map_of({{0, 5}, {6, 9}}, 4);
  // probs (slots 1,2,3) | centerness c = sigmoid(cl)        | scores sqrt(mean * c)
  //   q0 [.9, .7, .01]  | cl 0     -> .5  p0 .8, p1 .01 (< .05: dropped)  | p0 sqrt(.4)   = .6325
  //   q1 [.5, .5, .5 ]  | cl ln 3  -> .75 p0 .5, p1 .5                   | both sqrt(.375) = .6124
  //   q2 [.04,.04,.8 ]  | cl ln 9  -> .9  p0 .04 dropped, p1 .8           | p1 sqrt(.72)  = .8485
  //   q3 [.1, .1, .3 ]  | cl 0     -> .5  p0 .1, p1 .3                    | p0 .2236, p1 .3873
  // Boxes xyxy in the 100 x 100 network input:
  //   q0 [10,10,50,50], q1 [12,10,52,50] (with +1: inter 39*41 = 1599, union 2*1681 - 1599 =
  //   1763, IoU .907 > .6: q1p0 suppressed by q0p0; q1p1 is another class and stays),
  //   q2 [60,60,90,90], q3 [-5,70,20,120] -> clipped to [0,70,20,99].
  // Ranked after NMS: q2p1 .8485, q0p0 .6325, q1p1 .6124, q3p1 .3873, q3p0 .2236.
  // Original image 200 x 300: scale (2, 3).
  const float ninf = -std::numeric_limits<float>::infinity();
  const std::vector<float> logits{ninf, logit(.9f),  logit(.7f),  logit(.01f),  //
                                  ninf, 0.f,         0.f,         0.f,          //
                                  ninf, logit(.04f), logit(.04f), logit(.8f),   //
                                  ninf, logit(.1f),  logit(.1f),  logit(.3f)};
  const std::vector<float> cent{0.f, std::log(3.f), std::log(9.f), 0.f};
  const std::vector<float> boxes{10, 10, 50, 50, 12, 10, 52, 50, 60, 60, 90, 90, -5, 70, 20, 120};
  const auto view = make_detector_outputs_view<float>(logits, boxes, cent, 1, 4, 4);
  postprocess_options o = glip_postprocess();
  const image_size orig{200, 300}, input{100, 100};
  auto r = postprocess_image(view, 0, pm, orig, o, input);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, 3, -1});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{2, 1, 3, -1});
  CHECK(r[0].boxes[0].box == BD{20, 30, 100, 150});
  CHECK(r[0].boxes.back().box == BD{0, 0, 0, 0});
  CHECK(r[1].boxes[0].box == BD{120, 180, 180, 270});
  CHECK(r[1].boxes[1].box == BD{24, 30, 104, 150});
  CHECK(r[1].boxes[2].box == BD{0, 210, 40, 297});  // clipped to W_in - 1, H_in - 1 first
  CHECK_THAT(r[1].boxes[0].score, WithinRel(std::sqrt(0.72), 1e-5));
  CHECK_THAT(r[0].boxes[0].score, WithinRel(std::sqrt(0.4), 1e-5));
  CHECK_THAT(r[1].boxes[1].score, WithinRel(std::sqrt(0.375), 1e-5));

  // 4 detections per image: the 4th best is .3873, so q3p0 (.2236) goes.
  o.detections_per_image = 4;
  r = postprocess_image(view, 0, pm, orig, o, input);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, -1});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{2, 1, 3, -1});

  // kthvalue keeps ties: without NMS, q1p0 and q1p1 tie at .6124 (3rd and 4th); a cap of 3
  // keeps both (score >= the 3rd best).
  o.nms = false;
  o.detections_per_image = 3;
  r = postprocess_image(view, 0, pm, orig, o, input);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, 1, -1});
  CHECK(queries_of(r[1]) == std::vector<std::int64_t>{2, 1, -1});

  // Without the legacy +1 the q0/q1 IoU is 38*40 / (2*1600 - 1520) = .905: still suppressed;
  // lowering the threshold to .95 keeps both.
  o = glip_postprocess();
  o.nms_iou_threshold = 0.95;
  r = postprocess_image(view, 0, pm, orig, o, input);
  CHECK(queries_of(r[0]) == std::vector<std::int64_t>{0, 1, 3, -1});
}

TEST_CASE("pipeline: bad input names the item", "[presets]") {
  const positive_map pm = map_of({{0, 5}}, 4);
  std::vector<float> logits(2 * 4, 0.f), boxes(2 * 4, .5f);
  CHECK_THROWS_WITH(make_detector_outputs_view<float>(logits, boxes, {}, 1, 2, 5, "dump 3"),
                    Catch::Contains("dump 3: pred_logits has 8 values, expected [1, 2, 5]"));
  std::vector<float> short_boxes(7, .5f);
  CHECK_THROWS_WITH(make_detector_outputs_view<float>(logits, short_boxes, {}, 1, 2, 4),
                    Catch::Contains("pred_boxes has 7 values, expected [1, 2, 4]"));
  const auto v5 =
      make_detector_outputs_view<float>(std::vector<float>(10, 0.f), boxes, {}, 1, 2, 5);
  CHECK_THROWS_WITH(
      postprocess_image(v5, 0, pm, image_size{10, 10}, mdetr_postprocess(), {}, "img 9"),
      Catch::Contains("img 9: pred_logits has 5 token slots but the positive map has 4"));
  logits[6] = std::numeric_limits<float>::quiet_NaN();
  const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, 2, 4);
  CHECK_THROWS_WITH(
      postprocess_image(v, 0, pm, image_size{10, 10}, mdetr_postprocess(), {}, "img 9"),
      Catch::Contains("img 9: pred_logits[query 1, token 2] is NaN"));
  logits[6] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(
      postprocess_image(v, 0, pm, image_size{10, 10}, mdetr_postprocess(), {}, "img 9"),
      Catch::Contains("softmax of query 1 is undefined"));
  logits[6] = 0.f;
  CHECK_THROWS_WITH(
      postprocess_image(v, 0, pm, image_size{10, 10}, glip_postprocess(), {}, "img 9"),
      Catch::Contains("needs centerness"));
  CHECK_THROWS_WITH(postprocess_image(v, 1, pm, image_size{10, 10}, mdetr_postprocess()),
                    Catch::Contains("batch index 1 out of 1"));
  CHECK_THROWS_WITH(postprocess_preset("owl"),
                    Catch::Contains("unknown post-processing preset 'owl'"));
  CHECK(postprocess_preset("gdino").preset == "grounding-dino");
}

TEST_CASE("pipeline: GEMM aggregation equals the plain per-phrase loops", "[presets]") {
  // Random probabilities; the normalized_sum and mean scores must match direct sums.
  const positive_map pm = map_of({{0, 5}, {6, 9}, {2, 9}}, 4);
  std::vector<float> probs{.1f, .2f, .3f, .4f, .9f, .8f, .7f, .6f};
  postprocess_options o = grounding_dino_postprocess();
  auto s = phrase_scores<float>(probs, 2, pm, o);
  CHECK(s[0 * 3 + 0] == .2f * (1.f / (2.f + 1e-6f)) + .3f * (1.f / (2.f + 1e-6f)));
  const float w2 = 1.f / (2.f + 1e-6f);
  CHECK(s[1 * 3 + 2] == .7f * w2 + .6f * w2);  // phrase 2 [2, 9) -> slots {2, 3}
  CHECK(s[1 * 3 + 1] == .6f * (1.f / (1.f + 1e-6f)));
  o.aggregation = score_aggregation::mean;
  s = phrase_scores<float>(probs, 2, pm, o);
  CHECK(s[1 * 3 + 1] == .6f);
  CHECK(s[0 * 3 + 0] == (.2f + .3f) / 2.f);
}

TEST_CASE("pipeline: scores equal the full-width computation bit for bit", "[presets]") {
  // The pipeline activates only the token columns some phrase uses; the dropped columns add
  // exact zeros, so the scores must equal phrase_scores() over all T columns.
  std::mt19937 rng(5);
  std::normal_distribution<float> n(-3.f, 2.f);
  const std::size_t q = 40, t = 16;
  std::vector<token_offset> offs;
  for (std::size_t i = 0; i < 12; ++i) offs.push_back({2 * i, 2 * i + 1});
  positive_map_options po;
  po.token_slots = t;
  const std::vector<char_span> spans{{0, 5}, {8, 9}, {6, 23}};
  const positive_map pm = build_positive_map(spans, offs, 24, po);
  std::vector<float> logits(q * t), boxes(q * 4, .5f);
  for (auto& x : logits) x = n(rng);
  const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, q, t);
  for (const postprocess_options& o : {grounding_dino_postprocess(), mdetr_postprocess()}) {
    std::vector<float> probs(q * t);
    for (std::size_t i = 0; i < q; ++i) {
      const float* r = &logits[i * t];
      if (o.activation == token_activation::sigmoid) {
        for (std::size_t j = 0; j < t; ++j) probs[i * t + j] = 1.f / (1.f + std::exp(-r[j]));
      } else {
        float m = r[0], s = 0.f;
        for (std::size_t j = 0; j < t; ++j) m = std::max(m, r[j]);
        for (std::size_t j = 0; j < t; ++j) s += std::exp(r[j] - m);
        for (std::size_t j = 0; j < t; ++j) probs[i * t + j] = std::exp(r[j] - m) / s;
      }
    }
    const std::vector<float> full = phrase_scores<float>(probs, q, pm, o);
    const auto res = postprocess_image(v, 0, pm, image_size{10, 10}, o);
    std::size_t seen = 0;
    for (std::size_t p = 0; p < res.size(); ++p)
      for (std::size_t k = 0; k < res[p].boxes.size(); ++k, ++seen) {
        const auto qi = static_cast<std::size_t>(res[p].queries[k]);
        CHECK(res[p].boxes[k].score == static_cast<double>(full[qi * 3 + p]));
        if (k > 0) CHECK(res[p].boxes[k].score <= res[p].boxes[k - 1].score);
      }
    CHECK(seen == (o.pair_top_k ? std::min<std::size_t>(o.pair_top_k, q * 3) : q * 3));
  }
}

TEST_CASE("postprocess_batch: same lists as image by image, any thread count", "[presets]") {
  std::mt19937 rng(8);
  std::normal_distribution<float> n(-3.f, 2.f);
  std::uniform_real_distribution<float> u(.1f, .9f);
  const std::size_t b = 5, q = 30, t = 8;
  std::vector<float> logits(b * q * t), boxes(b * q * 4);
  for (auto& x : logits) x = n(rng);
  for (auto& x : boxes) x = u(rng);
  const positive_map pm = map_of({{0, 5}, {6, 9}}, t);
  const auto v = make_detector_outputs_view<float>(logits, boxes, {}, b, q, t);
  const std::vector<image_size> sizes(b, image_size{640, 480});
  parallel_options one, many;
  one.threads = 1;
  many.threads = 3;
  many.min_work_per_thread = 1;
  const std::vector<positive_map> maps{pm};
  const auto r1 = postprocess_batch<float>(v, maps, sizes, grounding_dino_postprocess(), {}, one);
  const auto r3 = postprocess_batch<float>(v, maps, sizes, grounding_dino_postprocess(), {}, many);
  REQUIRE(r1.size() == b);
  for (std::size_t i = 0; i < b; ++i) {
    const auto ref = postprocess_image(v, i, pm, sizes[i], grounding_dino_postprocess());
    for (std::size_t p = 0; p < 2; ++p) {
      CHECK(r1[i][p].boxes == ref[p].boxes);
      CHECK(r3[i][p].boxes == ref[p].boxes);
    }
  }
  const std::vector<positive_map> two{pm, pm};
  CHECK_THROWS_WITH(postprocess_batch<float>(v, two, sizes, mdetr_postprocess()),
                    Catch::Contains("2 positive maps for 5 images"));
}

TEST_CASE("pipeline: the score threshold is compared in the element type", "[presets]") {
  // torch compares a float32 tensor with a Python float in float32 (0.05 becomes 0.05f); a
  // double threshold just below the float score p that rounds to p must therefore drop p.
  const positive_map pm = map_of({{6, 9}}, 4);
  postprocess_options o = grounding_dino_postprocess();
  o.aggregation = score_aggregation::mean;
  o.pair_top_k = 0;
  const float x = std::log(0.05f / 0.95f);
  const std::vector<float> logits{0.f, 0.f, 0.f, x}, boxes{.5f, .5f, .5f, .5f};
  const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, 1, 4);
  const float p = 1.f / (1.f + std::exp(-x));
  o.score_threshold = static_cast<double>(p) - 1e-12;  // > in double, == after rounding to float
  REQUIRE(static_cast<float>(o.score_threshold) == p);
  CHECK(postprocess_image(v, 0, pm, image_size{10, 10}, o)[0].boxes.empty());
  o.score_threshold = static_cast<double>(std::nextafter(p, 0.f));
  CHECK(postprocess_image(v, 0, pm, image_size{10, 10}, o)[0].boxes.size() == 1);
  o.score_threshold = static_cast<double>(p);
  CHECK(postprocess_image(v, 0, pm, image_size{10, 10}, o)[0].boxes.empty());
}
