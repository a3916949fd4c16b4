// SPDX-License-Identifier: Apache-2.0
// Tests of grounders/baselines.hpp: whole image, centre prior, seeded random (checked against
// SplitMix64's published test vector and a Python transcription of the documented recipe), and
// the oracle over proposals.
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/grounders/baselines.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace groundeval;
using BD = box_xyxy<double>;

namespace {
grounding_request request(const std::vector<phrase_query>& qs, std::string_view id = "img1",
                          image_size sz = {640, 480}) {
  return grounding_request{image_ref{id, {}, sz}, qs};
}
}  // namespace

TEST_CASE("whole-image and center-prior", "[baselines]") {
  const std::vector<phrase_query> qs{{"a dog", "a dog runs", 0, 5, 0}, {"x", "x", 0, 1, 1}};
  const auto r = whole_image_grounder{}.ground(request(qs, "i", {200, 100}));
  REQUIRE(r.size() == 2);
  CHECK(r[1].boxes.size() == 1);
  CHECK(r[1].boxes[0].box == BD{0, 0, 200, 100});
  const auto c = center_prior_grounder{0.5}.ground(request(qs, "i", {200, 100}));
  CHECK(c[0].boxes[0].box == BD{50, 25, 150, 75});
  CHECK(center_prior_grounder{1.0}.ground(request(qs, "i", {200, 100}))[0].boxes[0].box ==
        BD{0, 0, 200, 100});
  CHECK_THROWS_WITH(center_prior_grounder{0.0}.ground(request(qs)),
                    Catch::Contains("center-prior: fraction must be in (0, 1]"));
  CHECK(center_prior_grounder{0.25}.describe() == "center-prior fraction=0.250000");
}

TEST_CASE("splitmix64 matches the published test vector", "[baselines]") {
  // Seed 1234567: the first five outputs listed with Vigna's reference splitmix64.c.
  splitmix64_engine g{1234567};
  CHECK(g.next() == 6457827717110365317ull);
  CHECK(g.next() == 3203168211198807973ull);
  CHECK(g.next() == 9817491932198370423ull);
  CHECK(g.next() == 4593380528125082431ull);
  CHECK(g.next() == 16408922859458223821ull);
}

TEST_CASE("random grounder: documented stream, order independence", "[baselines]") {
  const std::vector<phrase_query> qs{{"a man", "a man in a red jacket", 0, 5, 0}};
  random_grounder g{42, 2};
  const auto r = g.ground(request(qs));
  REQUIRE(r[0].boxes.size() == 2);
  // Expected values from a 15-line Python transcription of the doc comment (seed 42, image
  // "img1", sentence "a man in a red jacket", span [0, 5), image 640 x 480).
  CHECK(r[0].boxes[0].box ==
        BD{365.36762738915354, 28.265714171052654, 568.9785210216461, 253.03085886563264});
  CHECK(r[0].boxes[1].box ==
        BD{239.0437848198784, 32.503447853182394, 257.40889210439633, 419.6182644362801});
  CHECK(r[0].boxes[1].score == 0.5);
  // Same query inside a bigger request, at another position: same boxes.
  const std::vector<phrase_query> two{{"x", "other", 0, 1, 0}, qs[0]};
  CHECK(g.ground(request(two))[1].boxes == r[0].boxes);
  // Another seed or image gives other boxes.
  CHECK(random_grounder{43, 2}.ground(request(qs))[0].boxes != r[0].boxes);
  CHECK(g.ground(request(qs, "img2"))[0].boxes != r[0].boxes);
  CHECK(random_grounder{1, 0}.ground(request(qs))[0].status == query_status::empty);
}

TEST_CASE("oracle: best proposal per phrase, ANY-box and MERGED", "[baselines]") {
  sample s;
  s.image_id = "img1";
  s.size = {100, 100};
  s.sentence = "two dogs play";
  phrase p;
  p.text = "two dogs";
  p.char_begin = 0;
  p.char_end = 8;
  p.boxes = {{0, 0, 10, 10}, {50, 50, 60, 60}};
  s.phrases = {p};
  in_memory_dataset data("toy", {s});
  // Proposals: k0 far away (IoU 0), k1 = second dog exactly (1), k2 half of first dog (0.5),
  // k3 the enclosing box [0,0,60,60] (IoU 1 under MERGED, 100/3600 with the first dog).
  oracle_grounder::proposal_map props{
      {"img1", {{80, 80, 90, 90}, {50, 50, 60, 60}, {0, 0, 5, 10}, {0, 0, 60, 60}}}};
  const std::vector<phrase_query> qs{{"two dogs", "two dogs play", 0, 8, 0},
                                     {"play", "two dogs play", 9, 13, 1}};
  const auto r = oracle_grounder(data, props).ground(request(qs, "img1", {100, 100}));
  REQUIRE(r[0].boxes.size() == 4);
  CHECK(r[0].boxes[0].box == BD{50, 50, 60, 60});
  CHECK(r[0].boxes[0].score == 1.0);
  CHECK(r[0].boxes[1].score == 0.5);
  CHECK(r[0].boxes[3].box == BD{80, 80, 90, 90});
  CHECK(r[1].status == query_status::error);
  CHECK(r[1].message.find("no ground truth for image img1 phrase [9, 13)") != std::string::npos);
  const auto m = oracle_grounder(data, props, true).ground(request(qs, "img1", {100, 100}));
  CHECK(m[0].boxes[0].box == BD{0, 0, 60, 60});
  CHECK(oracle_grounder(data, {}).ground(request(qs, "img1"))[0].status == query_status::empty);
}
