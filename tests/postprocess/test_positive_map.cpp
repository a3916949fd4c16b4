// SPDX-License-Identifier: Apache-2.0
// Tests of postprocess/positive_map.hpp: char_to_token, MDETR's fallback rules, multi-span
// phrases, normalized weights, and the bad-input errors (each names the item and phrase).
#include <groundeval/postprocess/positive_map.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace groundeval;

namespace {
// "a red car parked" tokenized by hand in the RoBERTa manner (offsets trimmed of the leading
// space): <s> a red car park ed </s>. Indices 0..6; specials carry (0, 0).
const std::vector<token_offset> kTokens{{0, 0}, {0, 1}, {2, 5}, {6, 9}, {10, 14}, {14, 16}, {0, 0}};
constexpr std::size_t kLen = 16;
positive_map_options opts(std::size_t slots = 8) {
  positive_map_options o;
  o.token_slots = slots;
  o.item = "caption 7";
  return o;
}
}  // namespace

TEST_CASE("char_to_token: first covering token; specials and spaces map to none", "[posmap]") {
  CHECK(char_to_token(kTokens, 0) == 1u);            // the special (0,0) never covers 0
  CHECK(char_to_token(kTokens, 1) == std::nullopt);  // the space
  CHECK(char_to_token(kTokens, 4) == 2u);
  CHECK(char_to_token(kTokens, 15) == 5u);
  CHECK(char_to_token(kTokens, 16) == std::nullopt);  // past the end
  CHECK(char_to_token(kTokens, -1) == std::nullopt);
}

TEST_CASE("positive map: exact spans and MDETR fallbacks", "[posmap]") {
  // p0 "a red car" [0, 9) -> tokens 1..3.
  // p1 " red" [1, 5): begin 1 is a space -> fallback begin+1 = 2 -> token 2; end-1 = 4 -> 2.
  // p2 "red " [2, 6): end-1 = 5 is a space -> fallback end-2 = 4 -> token 2, so p2 = {2}.
  // p3 "parked" [10, 16) -> tokens 4..5 (a word split in two sub-tokens).
  const std::vector<char_span> spans{{0, 9}, {1, 5}, {2, 6}, {10, 16}};
  const positive_map pm = build_positive_map(spans, kTokens, kLen, opts());
  REQUIRE(pm.phrases == 4);
  REQUIRE(pm.token_slots == 8);
  const std::vector<std::uint8_t> expect{0, 1, 1, 1, 0, 0, 0, 0,  //
                                         0, 0, 1, 0, 0, 0, 0, 0,  //
                                         0, 0, 1, 0, 0, 0, 0, 0,  //
                                         0, 0, 0, 0, 1, 1, 0, 0};
  CHECK(pm.mask == expect);
  CHECK(pm.count(0) == 3);
  CHECK(pm.count(3) == 2);

  // [1, 2) is a lone space: begin 1 -> none, fallback 2 -> token 2; end-1 = 1 -> none,
  // end-2 = 0 -> token 1; last < first, so MDETR's slice 2:2 is empty: unresolved.
  // The reversed range of [1, 2) is unresolved: an error by default, an empty row on request.
  const std::vector<char_span> lone{{1, 2}};
  CHECK_THROWS_WITH(build_positive_map(lone, kTokens, kLen, opts()),
                    Catch::Contains("caption 7") && Catch::Contains("phrase 0 span [1, 2)") &&
                        Catch::Contains("covers no token"));
  positive_map_options o = opts();
  o.unresolved = unresolved_span_policy::empty_row;
  const positive_map pe = build_positive_map(lone, kTokens, kLen, o);
  CHECK(pe.count(0) == 0);
}

TEST_CASE("positive map: several spans per phrase are OR-ed", "[posmap]") {
  const std::vector<char_span> spans{{0, 1}, {6, 9}, {2, 5}};
  const std::vector<std::size_t> offs{0, 2, 3};  // phrase 0 = spans 0,1; phrase 1 = span 2
  const positive_map pm = build_positive_map(spans, offs, kTokens, kLen, opts());
  CHECK(pm.at(0, 1));
  CHECK(!pm.at(0, 2));
  CHECK(pm.at(0, 3));
  CHECK(pm.count(1) == 1);
}

TEST_CASE("normalized weights: 1 / (n + eps) in T, exact mean with eps 0", "[posmap]") {
  const std::vector<char_span> spans{{0, 9}};
  const positive_map pm = build_positive_map(spans, kTokens, kLen, opts());
  const std::vector<float> w = normalized_weights<float>(pm, 1e-6f);
  CHECK(w[0] == 0.f);
  CHECK(w[1] == 1.f / (3.f + 1e-6f));
  CHECK(w[1] != 1.f / 3.f);  // the eps is visible in float32 at n = 3
  CHECK(normalized_weights<float>(pm, 0.f)[2] == 1.f / 3.f);
}

TEST_CASE("positive map: bad input names the item and phrase", "[posmap]") {
  const std::vector<char_span> empty{{3, 3}};
  CHECK_THROWS_WITH(build_positive_map(empty, kTokens, kLen, opts()),
                    Catch::Contains("caption 7: phrase 0 span [3, 3) is empty"));
  const std::vector<char_span> outside{{0, 9}, {10, 17}};
  CHECK_THROWS_WITH(build_positive_map(outside, kTokens, kLen, opts()),
                    Catch::Contains("phrase 1 span [10, 17) is outside the caption of 16"));
  const std::vector<token_offset> bad_tok{{0, 1}, {2, 20}};
  const std::vector<char_span> ok{{0, 1}};
  CHECK_THROWS_WITH(build_positive_map(ok, bad_tok, kLen, opts()),
                    Catch::Contains("token 1 has offsets [2, 20) outside the caption"));
  CHECK_THROWS_WITH(build_positive_map(ok, kTokens, kLen, opts(4)),
                    Catch::Contains("7 tokens do not fit in 4 token slots"));
  const std::vector<std::size_t> no_span{0, 0};
  const std::vector<char_span> none;
  CHECK_THROWS_WITH(build_positive_map(none, no_span, kTokens, kLen, opts()),
                    Catch::Contains("phrase 0 has no character span"));
}
