// SPDX-License-Identifier: Apache-2.0
// Recall@k edge cases against hand-computed reference decisions (MDETR flickr_eval.py rules).
#include "fixtures.hpp"

#include <groundeval/metrics/answers.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/metrics/paired.hpp>
#include <groundeval/metrics/recall.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

using namespace groundeval;
using groundeval::test::bx;
using groundeval::test::ranked;

namespace {
const std::array<int, 4> kKs{1, 5, 10, k_all};
phrase_hits hits(const std::vector<scored_box>& p, const std::vector<bx>& g,
                 gt_protocol proto = gt_protocol::any_box, double thr = 0.5) {
  return reference_phrase_hits(p, g, proto, kKs, thr);
}
constexpr std::uint32_t all4 = 0xF;
}  // namespace

TEST_CASE("an IoU of exactly 0.5 is a hit (inclusive threshold)", "[recall]") {
  const std::vector<bx> gt{{0, 0, 100, 100}};
  const auto p = ranked({{0, 0, 100, 50}});
  REQUIRE(reference_iou(p[0].box, gt[0]) == 0.5);
  CHECK(hits(p, gt).mask == all4);
}

TEST_CASE("a float32 trap: the float IoU rounds to 0.5, the double IoU is below", "[recall]") {
  const std::vector<bx> gt{{0, 0, 100, 100}};
  const auto p = ranked({{0, 0, 100, 49.999999}});
  const double d = reference_iou(p[0].box, gt[0]);
  REQUIRE(d < 0.5);
  // The same arithmetic in float32 gives exactly 0.5, so a float evaluator would count a hit.
  const float fi = 100.0f * 49.999999f, fu = 10000.0f;
  REQUIRE(fi / fu == 0.5f);
  CHECK(hits(p, gt).mask == 0u);
  // A hit further down the list only counts from its rank on.
  const auto p2 = ranked({{0, 0, 100, 49.999999},
                          {300, 300, 310, 310},
                          {300, 300, 301, 301},
                          {300, 300, 302, 302},
                          {300, 300, 303, 303},
                          {0, 0, 100, 100}});
  CHECK(hits(p2, gt).mask == 0b1100u);  // hit at 10 and upper bound, not at 1 or 5
}

TEST_CASE("fewer boxes than k: R@k uses what is there", "[recall]") {
  const std::vector<bx> gt{{10, 10, 20, 20}};
  CHECK(hits(ranked({{300, 300, 310, 310}, {10, 10, 20, 20}}), gt).mask == 0b1110u);
}

TEST_CASE("ANY-box and MERGED-box protocols differ as defined", "[recall]") {
  const std::vector<bx> gt{{0, 0, 8, 10}, {12, 0, 20, 10}};
  const auto whole = ranked({{0, 0, 20, 10}});
  const auto part = ranked({{0, 0, 8, 10}});
  CHECK(hits(whole, gt, gt_protocol::any_box).mask == 0u);  // 80/200 with each box
  CHECK(hits(whole, gt, gt_protocol::merged_box).mask == all4);
  CHECK(hits(part, gt, gt_protocol::any_box).mask == all4);
  CHECK(hits(part, gt, gt_protocol::merged_box).mask == 0u);  // 80/200 with the enclosing box
}

TEST_CASE("NaN IoU propagates through numpy max: a miss at every k covering its row", "[recall]") {
  // Zero-area ground truth and a zero-area prediction: 0 / 0 = NaN in the reference arithmetic.
  const std::vector<bx> gt{{5, 5, 5, 9}, {10, 10, 20, 20}};
  const bx nan_maker{1, 1, 1, 1};
  REQUIRE(std::isnan(reference_iou(nan_maker, gt[0])));
  // NaN first, a perfect hit second: miss at every k.
  auto h = hits(ranked({nan_maker, {10, 10, 20, 20}}), gt);
  CHECK(h.mask == 0u);
  CHECK(h.has_nan);
  // Hit first, NaN at rank 3: hit at k=1, miss at 5, 10 and the upper bound.
  h = hits(ranked({{10, 10, 20, 20}, {50, 50, 60, 60}, nan_maker}), gt);
  CHECK(h.mask == 0b0001u);
  CHECK(h.has_nan);
  // A NaN coordinate in a prediction also gives NaN.
  const double qnan = std::numeric_limits<double>::quiet_NaN();
  CHECK(hits(ranked({{qnan, 10, 20, 20}}), {{10, 10, 20, 20}}).mask == 0u);
  // MERGED: the enclosing box has positive area, so no NaN here.
  CHECK(hits(ranked({nan_maker, {5, 5, 20, 20}}), gt, gt_protocol::merged_box).mask == 0b1110u);
}

TEST_CASE("degenerate predictions follow the numpy arithmetic", "[recall]") {
  const std::vector<bx> gt{{10, 10, 20, 20}};
  CHECK(hits(ranked({{0, 0, 0, 0}}), gt).mask == 0u);  // placeholder box: IoU 0
  // Box inverted in x only: area -100, inter 0, union -100 + 100 = 0 -> 0/0 NaN.
  const bx inv{20, 10, 10, 20};
  CHECK(std::isnan(reference_iou(inv, gt[0])));
  CHECK(hits(ranked({inv, {10, 10, 20, 20}}), gt).has_nan);
}

TEST_CASE("an empty candidate list is a miss and is reported", "[recall]") {
  const auto h = hits({}, {{0, 0, 1, 1}});
  CHECK(h.mask == 0u);
  CHECK(h.empty_list);
}

TEST_CASE("recall_at_k counts a phrase once in all and once per type", "[recall]") {
  recall_at_k r;
  const std::vector<bx> gt{{0, 0, 10, 10}};
  const std::vector<std::string> two{"people", "clothing"}, one{"people"}, dup{"other", "other"};
  const auto good = ranked({{0, 0, 10, 10}});
  const auto bad = ranked({{50, 50, 60, 60}});
  r.add({good}, {gt, two, {}});
  r.add({bad}, {gt, one, {}});
  r.add({good}, {gt, dup, {}});
  const auto& t = r.result();
  CHECK(t.categories.at("all").total == 3);
  CHECK(t.categories.at("people").total == 2);
  CHECK(t.categories.at("clothing").total == 1);
  CHECK(t.categories.at("other").total == 2);  // a type listed twice counts twice
  CHECK(t.recall(1) == 2.0 / 3.0);
  CHECK(t.recall(1, "people") == 0.5);
  CHECK(t.recall(k_all, "clothing") == 1.0);
  CHECK(std::isnan(t.recall(1, "animals")));
  CHECK_THROWS_AS(t.recall(3), groundeval::error);

  // merge of two halves equals one pass
  recall_at_k a, b;
  a.add({good}, {gt, two, {}});
  b.add({bad}, {gt, one, {}});
  b.add({good}, {gt, dup, {}});
  a.merge(b);
  CHECK(a.result().categories.at("all").hits == t.categories.at("all").hits);
  CHECK(a.result().categories.at("other").hits == t.categories.at("other").hits);
  recall_at_k c(recall_options{{1}, 0.5, gt_protocol::merged_box});
  CHECK_THROWS_AS(a.merge(c), groundeval::error);
}

TEST_CASE("recall_at_k: copies and assignments count on their own", "[recall]") {
  // recall_at_k remembers where its last categories are in its own table; a copy (the
  // evaluator copies a prototype per block) must not add to the original's.
  const std::vector<bx> gt{{0, 0, 10, 10}};
  const std::vector<std::string> people{"people"}, both{"people", "clothing"};
  const auto good = ranked({{0, 0, 10, 10}});
  recall_at_k a;
  a.add({good}, {gt, people, {}});
  recall_at_k b = a;
  b.add({good}, {gt, people, {}});
  b.add({good}, {gt, both, {}});
  a.add({good}, {gt, people, {}});
  CHECK(a.result().categories.at("all").total == 2);
  CHECK(a.result().categories.at("people").total == 2);
  CHECK(a.result().categories.count("clothing") == 0);
  CHECK(b.result().categories.at("all").total == 3);
  CHECK(b.result().categories.at("people").total == 3);
  CHECK(b.result().categories.at("clothing").total == 1);
  recall_at_k c;
  c.add({good}, {gt, both, {}});
  c = a;  // takes a's counts; adds go to c's own table
  c.add({good}, {gt, both, {}});
  CHECK(a.result().categories.at("all").total == 2);
  CHECK(a.result().categories.count("clothing") == 0);
  CHECK(c.result().categories.at("all").total == 3);
  CHECK(c.result().categories.at("clothing").total == 1);
  recall_at_k d = std::move(c);
  d.add({good}, {gt, people, {}});
  CHECK(d.result().categories.at("people").total == 4);
}

TEST_CASE("recall options are validated", "[recall]") {
  CHECK_THROWS_AS(recall_at_k(recall_options{{0}, 0.5, gt_protocol::any_box}), groundeval::error);
  CHECK_THROWS_AS(recall_at_k(recall_options{{}, 0.5, gt_protocol::any_box}), groundeval::error);
  CHECK_NOTHROW(recall_at_k(recall_options{{1, 100}, 0.3, gt_protocol::any_box}));
}

TEST_CASE("localization metric: mean IoU, thresholds, pointing game, size buckets", "[metrics]") {
  localization_metric m;
  const std::vector<bx> gt{{0, 0, 100, 100}};  // 10000 / (500*400) = 0.05 -> medium
  const std::vector<std::string> ty{"people"};
  m.add({ranked({{0, 0, 100, 100}})}, {gt, ty, {500, 400}});      // IoU 1
  m.add({ranked({{0, 0, 100, 50}})}, {gt, ty, {500, 400}});       // IoU 0.5, centre inside
  m.add({ranked({{200, 200, 300, 300}})}, {gt, ty, {500, 400}});  // IoU 0
  m.add({{}}, {gt, ty, {0, 0}});                                  // empty, unknown size
  const auto& r = m.result();
  CHECK(r.phrases == 4);
  CHECK(r.mean_iou() == Approx(1.5 / 4));
  CHECK(r.at_threshold[2] == 2);  // >= 0.5
  CHECK(r.at_threshold[3] == 1);  // >= 0.7
  CHECK(r.pointing_hits == 2);
  CHECK(r.accuracy_coco() == Approx((2 + 9 * 1) / 10.0 / 4));
  CHECK(r.buckets[static_cast<int>(size_bucket::medium)].phrases == 3);
  CHECK(r.buckets[static_cast<int>(size_bucket::unknown)].phrases == 1);
  CHECK(classify_size(std::vector<bx>{{0, 0, 10, 10}}, {500, 400}) == size_bucket::small);
  CHECK(classify_size(std::vector<bx>{{0, 0, 250, 200}}, {500, 400}) == size_bucket::large);
}

TEST_CASE("answer and latency metrics", "[metrics]") {
  answer_metric a;
  latency_metric l;
  const std::vector<bx> gt{{0, 0, 1, 1}};
  const double inf = std::numeric_limits<double>::infinity();
  const auto b = ranked({{0, 0, 1, 1}, {0, 0, inf, 1}});
  a.add({b, query_status::ok, 0.2}, {gt, {}, {}});
  a.add({{}, query_status::format_failure, 0.1}, {gt, {}, {}});
  a.add({{}, query_status::empty, -1}, {gt, {}, {}});
  CHECK(a.result().count(query_status::ok) == 1);
  CHECK(a.result().count(query_status::format_failure) == 1);
  CHECK(a.result().empty_lists == 2);
  CHECK(a.result().non_finite_boxes == 1);
  for (int i = 1; i <= 20; ++i) l.add({{}, query_status::ok, i * 0.01}, {gt, {}, {}});
  l.add({{}, query_status::ok, -1.0}, {gt, {}, {}});  // not measured: ignored
  const auto s = l.result();
  CHECK(s.count == 20);
  CHECK(s.p50_s == 10 * 0.01);
  CHECK(s.p95_s == 19 * 0.01);
  CHECK(s.max_s == 20 * 0.01);
  CHECK(s.mean_s == Approx(0.105));
  CHECK(s.queries_per_s == Approx(20 / 2.1));
}

TEST_CASE("reference_phrase_hits equals a plain numpy-style loop on random boxes", "[recall]") {
  // The naive form: the N x M reference_iou matrix, then numpy max over the first k rows.
  const double special[] = {0.0,
                            1.0,
                            0.5,
                            -1.0,
                            1e300,
                            std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN()};
  pcg32 rng(5);
  auto coord = [&]() -> double {
    const auto r = rng.below(20);
    if (r == 0) return special[rng.below(7)];
    return static_cast<double>(rng.below(64)) * 0.25;  // a small grid: many ties and touches
  };
  const std::array<int, 5> ks{1, 2, 5, k_all, 3};
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<scored_box> p(rng.below(7));
    for (auto& b : p) b.box = {coord(), coord(), coord(), coord()};
    std::vector<bx> g(1 + rng.below(3));
    for (auto& b : g) b = {coord(), coord(), coord(), coord()};
    for (auto proto : {gt_protocol::any_box, gt_protocol::merged_box}) {
      std::vector<bx> gg = g;
      if (proto == gt_protocol::merged_box) gg = {enclose(g.data(), g.size())};
      std::uint32_t expect = 0;
      for (std::size_t i = 0; i < ks.size(); ++i) {
        const std::size_t rows = ks[i] == k_all ? p.size() : std::min<std::size_t>(p.size(), ks[i]);
        if (rows == 0) continue;
        double mx = -std::numeric_limits<double>::infinity();
        bool nan = false;
        for (std::size_t r = 0; r < rows; ++r)
          for (const auto& b : gg) {
            const double v = reference_iou(p[r].box, b);
            if (std::isnan(v))
              nan = true;
            else
              mx = std::max(mx, v);
          }
        if (!nan && mx >= 0.5) expect |= 1u << i;
      }
      const auto h = reference_phrase_hits(p, g, proto, ks, 0.5);
      INFO("trial " << trial);
      REQUIRE(h.mask == expect);
    }
  }
}

TEST_CASE("localization, answer and latency metrics merge like one pass", "[metrics]") {
  const std::vector<bx> gt{{0, 0, 100, 100}};
  const std::vector<std::string> ty{"people"};
  const std::vector<std::vector<scored_box>> answers{
      ranked({{0, 0, 100, 100}}), ranked({{0, 0, 100, 50}}), {}, ranked({{10, 10, 90, 90}})};
  const query_status st[] = {query_status::ok, query_status::ok, query_status::format_failure,
                             query_status::ok};
  localization_metric l1, la, lb;
  answer_metric a1, aa, ab;
  latency_metric t1, ta, tb;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const phrase_prediction p{answers[i], st[i], 0.1 * double(i + 1)};
    const phrase_truth t{gt, ty, {500, 400}};
    l1.add(p, t), a1.add(p, t), t1.add(p, t);
    if (i % 2)
      la.add(p, t), aa.add(p, t), ta.add(p, t);
    else
      lb.add(p, t), ab.add(p, t), tb.add(p, t);
  }
  la.merge(lb), aa.merge(ab), ta.merge(tb);
  CHECK(la.result().phrases == l1.result().phrases);
  CHECK(la.result().at_threshold == l1.result().at_threshold);
  CHECK(la.result().at_coco == l1.result().at_coco);
  CHECK(la.result().pointing_hits == l1.result().pointing_hits);
  CHECK(la.result().iou_sum == Approx(l1.result().iou_sum));
  CHECK(aa.result().by_status == a1.result().by_status);
  CHECK(aa.result().empty_lists == 1);
  CHECK(ta.result().p95_s == t1.result().p95_s);
  CHECK(ta.result().total_s == t1.result().total_s);  // summed after sorting: order-independent
  CHECK_THROWS_AS(la.merge(localization_metric(gt_protocol::merged_box)), groundeval::error);
}

TEST_CASE("match giou: MDETR's RefExp rule (GIoU >= threshold) against the IoU rule", "[recall]") {
  const std::vector<bx> gt{{0, 0, 10, 10}};
  // IoU 67.24 / 132.76 = 0.5065 (hit); GIoU 0.5065 - (139.24 - 132.76) / 139.24 = 0.4600 (miss).
  const auto p = ranked({{1.8, 1.8, 11.8, 11.8}});
  CHECK(reference_giou(p[0].box, gt[0]) == Approx(0.5065 - 6.48 / 139.24).epsilon(1e-3));
  CHECK(reference_giou(p[0].box, gt[0]) == Approx(giou(p[0].box, gt[0])).epsilon(1e-12));
  const k_plan plan(kKs);
  CHECK(reference_phrase_hits(p, gt, gt_protocol::any_box, plan, 0.5).mask == all4);
  CHECK(reference_phrase_hits(p, gt, gt_protocol::any_box, plan, 0.5, match_criterion::giou).mask ==
        0);
  // a second, better box at rank 2: a GIoU hit from k = 5 on
  const auto p2 = ranked({{1.8, 1.8, 11.8, 11.8}, {0, 0, 10, 10}});
  CHECK(
      reference_phrase_hits(p2, gt, gt_protocol::any_box, plan, 0.5, match_criterion::giou).mask ==
      0xE);
  // disjoint boxes: GIoU is negative, never a hit; NaN coordinates count as NaN phrases
  const auto far = ranked({{50, 50, 60, 60}});
  CHECK(reference_giou(far[0].box, gt[0]) < 0);
  const auto nan = ranked({{std::numeric_limits<double>::quiet_NaN(), 0, 10, 10}});
  CHECK(reference_phrase_hits(nan, gt, gt_protocol::any_box, plan, 0.5, match_criterion::giou)
            .has_nan);
  // the metric: options carry the criterion, results say it, merging across criteria is refused
  recall_options o;
  o.match = match_criterion::giou;
  recall_at_k a(o), b;
  CHECK(a.result().match == match_criterion::giou);
  CHECK_THROWS_AS(a.merge(b), error);
  CHECK(parse_match_criterion("giou") == match_criterion::giou);
  CHECK_THROWS_AS(parse_match_criterion("dice"), error);
}
