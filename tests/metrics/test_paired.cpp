// SPDX-License-Identifier: Apache-2.0
// Paired statistics: PRNG reference values, McNemar's exact test, the image-level bootstrap and
// the comparison of two runs (deterministic case selection).
#include "fixtures.hpp"

#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/metrics/paired.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using namespace groundeval;
using namespace groundeval::test;

TEST_CASE("splitmix64 and pcg32 reproduce their reference outputs", "[paired]") {
  std::uint64_t s = 0;
  CHECK(splitmix64(s) == 0xE220A8397B1DCDAFull);
  CHECK(splitmix64(s) == 0x6E789E6AA1B965F4ull);
  CHECK(splitmix64(s) == 0x06C45D188009454Full);
  // pcg32-demo of the reference C implementation: pcg32_srandom_r(&rng, 42u, 54u).
  pcg32 g(42u, 54u);
  const std::uint32_t expect[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                   0x83d2f293, 0xbfa4784b, 0xcbed606e};
  for (auto e : expect) CHECK(g.next() == e);
  pcg32 h(7);
  for (int i = 0; i < 1000; ++i) {
    const auto v = h.below(13);
    REQUIRE(v < 13);
  }
  CHECK(pcg32(1).next() == pcg32(1).next());
  CHECK(pcg32(1).next() != pcg32(2).next());
}

TEST_CASE("McNemar exact p-values", "[paired]") {
  CHECK(mcnemar_exact_p(0, 0) == 1.0);
  CHECK(mcnemar_exact_p(1, 0) == 1.0);
  CHECK(mcnemar_exact_p(10, 0) == Approx(2.0 / 1024).epsilon(1e-12));
  // b=5, c=15: 2 * sum_{i<=5} C(20,i) / 2^20 = 2 * 21700 / 1048576
  CHECK(mcnemar_exact_p(5, 15) == Approx(2.0 * 21700 / 1048576).epsilon(1e-12));
  CHECK(mcnemar_exact_p(15, 5) == mcnemar_exact_p(5, 15));
  CHECK(mcnemar_exact_p(5000, 5000) == 1.0);
  CHECK(mcnemar_exact_p(4000, 6000) < 1e-80);
  const std::vector<std::uint8_t> a{1, 1, 0, 0, 1}, b{1, 0, 1, 0, 0};
  const auto m = mcnemar_exact(a, b);
  CHECK(m.both == 1);
  CHECK(m.a_only == 2);
  CHECK(m.b_only == 1);
  CHECK(m.neither == 1);
  CHECK(m.p_value == 1.0);
}

TEST_CASE("bootstrap: exact estimates, seeded and reproducible intervals", "[paired]") {
  std::vector<double> q{1, 2, 3, 4};
  CHECK(quantile_sorted(q, 0.5) == 2.5);
  CHECK(quantile_sorted(q, 0.0) == 1.0);
  CHECK(quantile_sorted(q, 1.0) == 4.0);
  std::vector<image_counts> imgs;
  for (int i = 0; i < 200; ++i)
    imgs.push_back({3, std::uint64_t(i % 3 == 0 ? 3 : 1), std::uint64_t(i % 2 == 0 ? 2 : 1)});
  const auto r1 = paired_bootstrap(imgs, 500, 11);
  const auto r2 = paired_bootstrap(imgs, 500, 11);
  const auto r3 = paired_bootstrap(imgs, 500, 12);
  CHECK(r1.a.lower == r2.a.lower);
  CHECK(r1.diff.upper == r2.diff.upper);
  CHECK((r1.a.lower != r3.a.lower || r1.a.upper != r3.a.upper));
  std::uint64_t n = 0, ha = 0, hb = 0;
  for (auto& im : imgs) n += im.phrases, ha += im.hits_a, hb += im.hits_b;
  CHECK(r1.a.estimate == double(ha) / double(n));
  CHECK(r1.b.estimate == double(hb) / double(n));
  CHECK(r1.a.lower < r1.a.estimate);
  CHECK(r1.a.upper > r1.a.estimate);
  CHECK(r1.diff.lower < r1.diff.estimate);
  CHECK(r1.diff.upper > r1.diff.estimate);
  // Identical images: every replicate equals the estimate.
  std::vector<image_counts> same(50, image_counts{2, 1, 2});
  const auto r4 = paired_bootstrap(same, 100, 1);
  CHECK(r4.a.lower == 0.5);
  CHECK(r4.a.upper == 0.5);
  CHECK(r4.diff.lower == 0.5);
}

TEST_CASE("compare_runs: McNemar counts, per-type deltas, deterministic cases", "[paired]") {
  std::vector<sample> ss;
  for (int i = 0; i < 12; ++i)
    ss.push_back(make_sample(std::to_string(500 + i), 0,
                             {make_phrase("1", {i % 2 ? "people" : "animals"}, {{0, 0, 100, 100}}),
                              make_phrase("2", {"other"}, {{200, 200, 300, 300}})}));
  const in_memory_dataset data("pairs", ss);
  prediction_set a, b;
  const bx good{0, 0, 100, 100}, good2{200, 200, 300, 300}, bad{400, 0, 450, 50};
  for (int i = 0; i < 12; ++i) {
    const std::string id = std::to_string(500 + i);
    a.sentences.push_back(sent(id, "0", {ranked({good}), ranked({i < 4 ? good2 : bad})}));
    b.sentences.push_back(sent(id, "0", {ranked({i < 6 ? good : bad}), ranked({good2})}));
  }
  const auto ra = evaluate(data, a), rb = evaluate(data, b);
  compare_options o;
  o.bootstrap_samples = 200;
  o.cases_per_kind = 3;
  const auto c = compare_runs(data, ra, rb, o);
  CHECK(c.phrases == 24);
  CHECK(c.images == 12);
  CHECK(c.mcnemar.both == 6 + 4);
  CHECK(c.mcnemar.a_only == 6);
  CHECK(c.mcnemar.b_only == 8);
  CHECK(c.mcnemar.neither == 0);
  REQUIRE(c.recall.size() == 4);
  CHECK(c.recall[0].ci.a.estimate == 16.0 / 24);
  CHECK(c.recall[0].ci.b.estimate == 18.0 / 24);
  REQUIRE(c.types.size() == 3);
  CHECK(c.types[1].type == "other");
  CHECK(c.types[1].delta == 1.0 - 4.0 / 12);
  CHECK(c.case_counts[static_cast<int>(case_kind::a_wins)] == 6);
  CHECK(c.case_counts[static_cast<int>(case_kind::b_wins)] == 8);
  CHECK(c.case_counts[static_cast<int>(case_kind::both_succeed)] == 10);
  CHECK(c.cases.size() == 9);
  // Same seed, same cases; the evaluation order does not matter.
  const auto c2 = compare_runs(data, ra, rb, o);
  for (std::size_t i = 0; i < c.cases.size(); ++i) CHECK(c.cases[i].outcome == c2.cases[i].outcome);
  o.seed = 99;
  const auto c3 = compare_runs(data, ra, rb, o);
  bool any_diff = false;
  for (std::size_t i = 0; i < c.cases.size(); ++i)
    any_diff |= c.cases[i].outcome != c3.cases[i].outcome;
  CHECK(any_diff);
  // Runs on different phrases are refused.
  auto a2 = a;
  a2.sentences.pop_back();
  evaluation_options miss;
  miss.count_missing_as_miss = true;
  const auto ra2 = evaluate(in_memory_dataset("x", {ss.begin(), ss.end() - 1}), a2, miss);
  CHECK_THROWS_AS(compare_runs(data, ra2, rb, o), groundeval::error);
}
