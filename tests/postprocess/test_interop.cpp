// SPDX-License-Identifier: Apache-2.0
// Tests of groundeval::interop: .npy / .npz reading (fixtures written by fixtures/
// make_fixtures.py with NumPy; synthetic arrays, not model outputs), zero-copy Eigen / xtensor
// views, the Eigen GEMM path against the reference loop, and the npy-detector grounder.
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/grounders/interop/npy_detector.hpp>
#include <groundeval/interop/eigen.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/interop/xtensor.hpp>

#include <catch2/catch.hpp>
#include <xtensor/xarray.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace groundeval;
using BD = box_xyxy<double>;

namespace {
const std::string kDir = GROUNDEVAL_FIXTURES_DIR;
std::string fx(const std::string& name) { return kDir + "/" + name; }
}  // namespace

TEST_CASE("npy: read, convert dtype, Fortran order", "[interop][npy]") {
  const auto boxes = read_npy<float>(fx("mdetr_img2/pred_boxes.npy"));
  CHECK(boxes.shape == std::vector<std::size_t>{3, 4});
  CHECK(boxes.data[4] == 0.25f);
  CHECK(boxes.view()(2, 3) == 1.f);  // zero-copy xtensor adaptor
  // float64, Fortran order on disk: element (r, c) must be ln(k[r][c]) in C order.
  const auto lg = read_npy<double>(fx("mdetr_img2/pred_logits.npy"));
  REQUIRE(lg.shape == std::vector<std::size_t>{3, 5});
  CHECK(lg.data[0 * 5 + 3] == std::log(4.0));
  CHECK(lg.data[1 * 5 + 1] == std::log(6.0));
  CHECK(lg.data[2 * 5 + 2] == std::log(5.0));
  const auto off = read_npy<long long>(fx("mdetr_img2/token_offsets.npy"));  // int32 on disk
  CHECK(off.data == std::vector<long long>{0, 0, 0, 1, 2, 5, 6, 9});
}

TEST_CASE("npy: bad files are errors naming the file", "[interop][npy]") {
  CHECK_THROWS_WITH(read_npy<float>(fx("truncated.npy")),
                    Catch::Contains("truncated.npy") && Catch::Contains("body holds 45 bytes") &&
                        Catch::Contains("need 48"));
  CHECK_THROWS_WITH(
      read_npy<float>(fx("nope.npy")),
      Catch::Contains("nope.npy: cannot read array file (No such file or directory)"));
  CHECK_THROWS_WITH(parse_npy<float>("hello world", "mem"),
                    Catch::Contains("mem: not a valid .npy array: missing the"));
  // A header length pointing past the end, and a malformed dictionary.
  std::string h("\x93NUMPY\x01\x00\xff\x00", 10);
  CHECK_THROWS_WITH(parse_npy<float>(h, "mem"), Catch::Contains("truncated header"));
  std::string bad("\x93NUMPY\x01\x00\x10\x00{'descr': 7}   \n", 26);
  CHECK_THROWS_WITH(parse_npy<float>(bad, "mem"), Catch::Contains("unrecognized header"));
  // Every truncation of a valid file fails cleanly (never crashes).
  std::ifstream in(fx("mdetr_img2/pred_boxes.npy"), std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t n = 0; n < full.size(); ++n)
    CHECK_THROWS_AS(parse_npy<float>(full.substr(0, n), "cut"), groundeval::error);
  CHECK(parse_npy<float>(full, "whole").size() == 12);
}

// Found by fuzz/fuzz_npy.cpp: a float array read as integers (token_offsets, input_size) with a
// value outside the integer type's range was undefined behaviour (UBSan: "outside the range of
// representable values"); it is now an error naming the item.
TEST_CASE("npy: float values that do not fit the integer type are errors", "[interop][npy]") {
  const auto make = [](const char* descr, const std::string& body) {
    std::string header = std::string("{'descr': '") + descr +
                         "', 'fortran_order': False, 'shape': (" + std::to_string(body.size() / 8) +
                         ",), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string b("\x93NUMPY\x01\x00", 8);
    b += static_cast<char>(header.size() & 0xff);
    b += static_cast<char>(header.size() >> 8);
    return b + header + body;
  };
  const auto f8 = [](std::initializer_list<double> v) {
    std::string s(v.size() * 8, '\0');
    std::size_t i = 0;
    for (const double d : v) std::memcpy(&s[8 * i++], &d, 8);
    return s;
  };
  const std::string ok = make("<f8", f8({2.0, -3.75, 9.2e18}));
  CHECK(parse_npy<long long>(ok, "mem").data ==
        std::vector<long long>{2, -3, 9200000000000000000LL});
  for (const double bad : {8.37212e+198, 9.3e18, -1e19, std::nan(""), HUGE_VAL, -HUGE_VAL})
    CHECK_THROWS_WITH(parse_npy<long long>(make("<f8", f8({1.0, bad})), "mem"),
                      Catch::Contains("mem: value") && Catch::Contains("at index 1") &&
                          Catch::Contains("does not fit the integer array"));
  CHECK(parse_npy<unsigned char>(make("<f8", f8({255.5, -0.5})), "mem").data ==
        std::vector<unsigned char>{255, 0});
  CHECK_THROWS_AS(parse_npy<unsigned char>(make("<f8", f8({256.0})), "mem"), groundeval::error);
  CHECK_THROWS_AS(parse_npy<unsigned char>(make("<f8", f8({-1.0})), "mem"), groundeval::error);
}

TEST_CASE("npz: stored archives, keys, compressed ones rejected", "[interop][npz]") {
  const npz_file z(fx("gdino_img1.npz"));
  CHECK(z.keys() ==
        std::vector<std::string>{"pred_logits", "pred_boxes", "token_offsets", "caption"});
  const auto l = z.get<float>("pred_logits");
  CHECK(l.shape == std::vector<std::size_t>{1, 3, 4});
  CHECK(std::isinf(l.data[0]));
  CHECK(l.data[5] == 0.f);
  CHECK_THROWS_WITH(z.get<float>("centerness"), Catch::Contains("no array 'centerness'"));
  const npz_file c(fx("compressed.npz"));
  CHECK_THROWS_WITH(c.get<float>("pred_logits"),
                    Catch::Contains("compressed.npz:pred_logits") &&
                        Catch::Contains("np.savez, not np.savez_compressed"));
  CHECK_THROWS_WITH(npz_file(fx("truncated.npy")), Catch::Contains("not a valid .npz"));
  // Every truncation of a valid archive fails cleanly.
  std::ifstream in(fx("gdino_img1.npz"), std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string tmp = "groundeval_cut_test.npz";
  for (std::size_t n = 0; n < full.size(); n += 7) {
    std::ofstream(tmp, std::ios::binary) << full.substr(0, n);
    CHECK_THROWS_AS(npz_file(tmp), groundeval::error);
  }
  std::remove(tmp.c_str());
}

TEST_CASE("views: Eigen maps and xtensor adaptors see caller memory", "[interop][views]") {
  std::vector<float> logits(2 * 3 * 4), boxes(2 * 3 * 4), cen(2 * 3);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i);
  const auto v = make_detector_outputs_view<float>(logits, boxes, cen, 2, 3, 4);
  const auto m = logits_matrix(v, 1);
  CHECK(m.rows() == 3);
  CHECK(m(2, 3) == 23.f);
  CHECK(m.data() == logits.data() + 12);  // no copy
  const auto t = logits_tensor(v, 1);
  CHECK(t(2, 3) == 23.f);
  CHECK(&t(0, 0) == logits.data() + 12);

  row_major_matrix<float> el(3, 4), eb(3, 4);
  el.setZero();
  eb.setZero();
  Eigen::VectorXf ec;  // absent
  const auto ve = make_detector_outputs_view(el, eb, ec, "eigen");
  CHECK(ve.logits == el.data());
  CHECK(ve.centerness == nullptr);
  Eigen::MatrixXf col_major(3, 4);
  CHECK_THROWS_WITH(make_detector_outputs_view(col_major, eb, ec, "eigen"),
                    Catch::Contains("eigen: pred_logits must be a dense row-major matrix"));
  row_major_matrix<float> eb3(3, 3);
  CHECK_THROWS_WITH(make_detector_outputs_view(el, eb3, ec, "eigen"),
                    Catch::Contains("pred_boxes is 3 x 3, expected 3 x 4"));

  xt::xarray<float> xl = xt::zeros<float>({1, 3, 4}), xb = xt::zeros<float>({1, 3, 4});
  const auto vx = make_detector_outputs_view(xl, xb);
  CHECK(vx.batch == 1);
  CHECK(vx.logits == xl.data());
  xt::xarray<float> xbad = xt::zeros<float>({1, 2, 4});
  CHECK_THROWS_WITH(
      make_detector_outputs_view(xl, xbad, static_cast<xt::xarray<float>*>(nullptr), "x"),
      Catch::Contains("x: pred_boxes has shape [1, 2, 4] but pred_logits has shape [1, 3, 4]"));
}

TEST_CASE("eigen_gemm matches the reference loop; the pipeline ranks the same", "[interop][gemm]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  const std::size_t q = 50, t = 32;
  std::vector<float> logits(q * t), boxes(q * 4, .5f);
  for (auto& x : logits) x = u(rng);
  std::vector<token_offset> offs;
  for (std::size_t i = 0; i < 20; ++i) offs.push_back({i * 2, i * 2 + 1});
  positive_map_options po;
  po.token_slots = t;
  const std::vector<char_span> spans{{0, 5}, {10, 11}, {4, 39}};
  const positive_map pm = build_positive_map(spans, offs, 40, po);
  std::vector<float> probs;
  const auto v = make_detector_outputs_view<float>(logits, boxes, {}, 1, q, t);
  for (const auto& preset : {grounding_dino_postprocess(), mdetr_postprocess()}) {
    postprocess_options o = preset;
    o.aggregation = score_aggregation::normalized_sum;
    o.activation = token_activation::sigmoid;
    std::vector<float> p(q * t);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = 1.f / (1.f + std::exp(-logits[i]));
    const auto a = phrase_scores<float>(p, q, pm, o, reference_gemm{});
    const auto b = phrase_scores<float>(p, q, pm, o, eigen_gemm{});
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      CHECK_THAT(b[i], Catch::Matchers::WithinRel(a[i], 1e-5f));
  }
  const auto ra =
      postprocess_image<float>(v, 0, pm, image_size{10, 10}, grounding_dino_postprocess());
  const auto rb = postprocess_image<float, eigen_gemm>(v, 0, pm, image_size{10, 10},
                                                       grounding_dino_postprocess(), {}, "", {});
  for (std::size_t p = 0; p < ra.size(); ++p) CHECK(ra[p].boxes.size() == rb[p].boxes.size());
}

TEST_CASE("npy-detector: replays dumps through any preset", "[interop][npy-detector]") {
  npy_detector_grounder g(fx("manifest.txt"), grounding_dino_postprocess());
  static_assert(Grounder<basic_npy_detector_grounder<eigen_gemm>>);
  // Image 1: the Grounding DINO fixture of test_presets.cpp, from an .npz.
  const std::string cap = "a red car";
  const std::vector<phrase_query> qs{{"a red", cap, 0, 5, 0}, {"car", cap, 6, 9, 1}};
  auto r = g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qs});
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].status == query_status::ok);
  REQUIRE(r[0].boxes.size() == 3);
  CHECK(r[0].boxes[1].box == BD{125, 0, 175, 100});  // q2 second for "a red" (see presets)
  CHECK(r[1].boxes[0].box == BD{0, 0, 100, 50});     // q1 first for "car"
  // Image 2: the MDETR fixture from a folder of .npy files (float64, Fortran order).
  npy_detector_grounder gm(fx("manifest.txt"), mdetr_postprocess());
  const std::vector<phrase_query> qm{{"a red car", cap, 0, 9, 0}, {"red", cap, 1, 5, 1}};
  r = gm.ground(grounding_request{image_ref{"img2", {}, {200, 100}}, qm});
  REQUIRE(r[0].boxes.size() == 3);
  CHECK(r[0].boxes[0].box == BD{0, 0, 100, 50});     // q1 (.6)
  CHECK(r[1].boxes[0].box == BD{125, 0, 175, 100});  // q2 (.5)
  CHECK_THAT(r[0].boxes[0].score, Catch::Matchers::WithinRel(0.6, 1e-6));
  // Per-query failures are recorded, naming the item: a span no token covers, a malformed dump.
  const std::vector<phrase_query> bad{{"car", cap, 6, 12, 0}, {"a", cap, 0, 1, 1}};
  r = g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, bad});
  CHECK(r[0].status == query_status::error);
  CHECK(r[0].message.find("gdino_img1.npz (image img1, phrase 0): phrase 0 span [6, 12) is "
                          "outside the caption of 9") != std::string::npos);
  CHECK(r[1].status == query_status::ok);
  r = g.ground(grounding_request{image_ref{"img3", {}, {200, 100}}, qs});
  CHECK(r[0].status == query_status::error);
  CHECK(r[0].message.find("bad_shapes.npz: pred_boxes has shape [1, 2, 4]") != std::string::npos);
  // A query without a dump stops the run (an error naming the manifest and the query).
  const std::vector<phrase_query> other{{"x", "another caption", 0, 1, 2}};
  CHECK_THROWS_WITH(g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, other}),
                    Catch::Contains("manifest.txt: no dump for the query image img1 sentence ? "
                                    "phrase 2 (caption \"another caption\")"));
  CHECK_THROWS_WITH(g.ground(grounding_request{image_ref{"img7", {}, {200, 100}}, qs}),
                    Catch::Contains("image img7 sentence ? phrase 0") &&
                        Catch::Contains("the manifest has no dump of this image"));
  // A dump of the Grounding DINO form of the caption ("A Red car ." -> "a red car .") replays
  // with the query's spans.
  const std::string upper = "A Red car .";
  const std::vector<phrase_query> qu{{"A Red", upper, 0, 5, 0}, {"car", upper, 6, 9, 1}};
  const auto ru = g.ground(grounding_request{image_ref{"img4", {}, {200, 100}}, qu});
  const auto rl = g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qs});
  REQUIRE(ru[0].status == query_status::ok);
  CHECK(ru[0].boxes == rl[0].boxes);
  CHECK(ru[1].boxes == rl[1].boxes);
  // A missing dump file is a set-up error naming manifest and line.
  CHECK_THROWS_WITH(npy_detector_grounder(fx("missing_manifest.txt"), mdetr_postprocess()),
                    Catch::Contains("missing_manifest.txt:3: dump file") &&
                        Catch::Contains("not_there.npz' does not exist"));
  CHECK_THROWS_WITH(
      npy_detector_grounder(fx("none.txt"), mdetr_postprocess()),
      Catch::Contains("none.txt: cannot read the manifest (No such file or directory)"));
  CHECK_THROWS_WITH(load_detector_dump(fx("gone.npz")),
                    Catch::Contains("gone.npz: dump file does not exist"));
}

TEST_CASE("npy-detector: keyed dumps match by query key, cross-checked by caption",
          "[interop][npy-detector]") {
  npy_detector_grounder g(fx("manifest_v2.txt"), grounding_dino_postprocess());
  CHECK(g.keyed());
  npy_detector_grounder ref(fx("manifest.txt"), grounding_dino_postprocess());
  const std::string cap = "a red car", src = "A Red car";
  const std::vector<phrase_query> qs{{"a red", cap, 0, 5, 0}, {"car", cap, 6, 9, 1}};
  const auto want = ref.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qs});
  // Key (img1, 2): the dump's own phrase spans in "a red car." are used.
  const std::vector<phrase_query> qk{{"A Red", src, 0, 5, 0, 2}, {"car", src, 6, 9, 1, 2}};
  auto r = g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qk});
  REQUIRE(r[0].status == query_status::ok);
  CHECK(r[0].boxes == want[0].boxes);
  CHECK(r[1].boxes == want[1].boxes);
  // Unknown sentence index: matched by the dump's source caption.
  const std::vector<phrase_query> qn{{"car", src, 6, 9, 1}};
  r = g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qn});
  CHECK(r[0].boxes == want[1].boxes);
  // The right key with another caption: the cross-check stops the run, naming the dump.
  const std::vector<phrase_query> qc{{"a", "A blue car", 0, 1, 0, 2}};
  CHECK_THROWS_WITH(g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qc}),
                    Catch::Contains("manifest_v2.txt:2: dump '") &&
                        Catch::Contains("gdino_keyed.npz' is keyed image img1 sentence 2, but "
                                        "its caption \"A Red car\" is not the data set's "
                                        "caption \"A blue car\""));
  // Another sentence of the image, a phrase the dump has no span for.
  const std::vector<phrase_query> qo{{"car", src, 6, 9, 1, 0}};
  CHECK_THROWS_WITH(g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qo}),
                    Catch::Contains("no dump for the query image img1 sentence 0 phrase 1"));
  const std::vector<phrase_query> qp{{"car", src, 6, 9, 5, 2}};
  CHECK_THROWS_WITH(g.ground(grounding_request{image_ref{"img1", {}, {200, 100}}, qp}),
                    Catch::Contains("gdino_keyed.npz: no span for phrase 5 \"car\" of image img1"));

  // Malformed version-2 manifests: errors name manifest:line.
  const auto dir = std::filesystem::temp_directory_path() / "ge_npy_v2_manifests";
  std::filesystem::create_directories(dir);
  const auto manifest = [&](const std::string& name, const std::string& body) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << "# groundeval npy-detector manifest 2\n" << body;
    return path;
  };
  const std::string dump = fx("gdino_keyed.npz");
  CHECK_THROWS_WITH(
      npy_detector_grounder(manifest("spaces.txt", "img1 2 " + dump + "\n"), mdetr_postprocess()),
      Catch::Contains("spaces.txt:2: expected '<image id>TAB<sentence index>TAB"));
  CHECK_THROWS_WITH(
      npy_detector_grounder(manifest("neg.txt", "img1\t-1\t" + dump + "\n"), mdetr_postprocess()),
      Catch::Contains("neg.txt:2: expected"));
  CHECK_THROWS_WITH(
      npy_detector_grounder(
          manifest("dup.txt", "img1\t2\t" + dump + "\n# c\nimg1\t2\t" + dump + "\n"),
          mdetr_postprocess()),
      Catch::Contains("dup.txt:4: a second dump for image img1 sentence 2 (one dump per key)"));

  // check_queries: the data set has img1 with sentences 0 and 2 (evaluable).
  const auto make = [](int index, std::string sentence, bool evaluable) {
    sample s;
    s.image_id = "img1", s.size = {200, 100}, s.sentence_index = index;
    s.sentence = std::move(sentence);
    phrase p;
    p.text = "car", p.char_begin = 6, p.char_end = 9;
    if (evaluable) p.boxes.push_back({0, 0, 10, 10});
    s.phrases.push_back(p);
    return s;
  };
  in_memory_dataset ok("d", {make(0, "A big car", true), make(2, src, true)});
  CHECK_NOTHROW(g.check_queries(ok));
  in_memory_dataset no_sentence("d", {make(0, "A big car", true), make(2, src, false)});
  CHECK_THROWS_WITH(g.check_queries(no_sentence),
                    Catch::Contains("manifest_v2.txt:2: dump '") &&
                        Catch::Contains("gdino_keyed.npz' matches no query: the data set has no "
                                        "evaluable sentence 2 of image img1"));
  sample elsewhere = make(2, src, true);
  elsewhere.image_id = "img5";
  CHECK_THROWS_WITH(g.check_queries(in_memory_dataset("d", {elsewhere})),
                    Catch::Contains("matches no query: image img1 is not in the data set"));
  // Version 1 (by caption): the dumps of an image are checked when they are loaded.
  npy_detector_grounder v1(fx("manifest.txt"), grounding_dino_postprocess());
  sample s4 = make(0, "Not that caption", true);
  s4.image_id = "img4";
  v1.check_queries(in_memory_dataset("d", {s4}));
  const std::vector<phrase_query> q4{{"car", "Not that caption", 6, 9, 0, 0}};
  CHECK_THROWS_WITH(v1.ground(grounding_request{image_ref{"img4", {}, {200, 100}}, q4}),
                    Catch::Contains("manifest.txt:5: dump '") &&
                        Catch::Contains("gdino_lower.npz' matches no query: its caption "
                                        "\"a red car .\" is none of the evaluable captions of "
                                        "image img4"));
}
