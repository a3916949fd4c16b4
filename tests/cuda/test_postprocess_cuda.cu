// SPDX-License-Identifier: Apache-2.0
// [cuda] detector post-processing on the GPU against the CPU pipeline (postprocess/pipeline.hpp):
//  * each stage exactly: activations within 1 ulp of the CPU's (exp is the only libm call; the
//    device rounds a double exp), span-form phrase scores bit-identical to the CPU's
//    phrase_scores on the same probabilities, top-k rankings, scores and boxes bit-identical to
//    the CPU's ranking rule on the same scores;
//  * end to end against postprocess_batch (MDETR / GLIP-mean / Grounding DINO aggregations with
//    per_phrase_top_k = k): identical rankings, scores and boxes whenever the device activations
//    equal the CPU's bit for bit (checked, else a visible warning and a near-tie-tolerant check);
//    the cuBLAS GEMM form within a tolerance (its sum order differs from the CPU's);
//  * adversarial: ties in scores, NaN / +Inf / -Inf logits, empty spans, Q not a multiple of any
//    block size, B = 1, k > Q, score thresholds, per-image maps, xyxy boxes.
#include "cuda_test_support.cuh"

#include <groundeval/postprocess/pipeline.hpp>

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace groundeval;

namespace {

struct pp_case {
  std::size_t b = 2, q = 37, t = 32, p = 3;
  std::vector<float> logits, boxes;
  std::vector<positive_map> maps;  // one per image (per_image) or one shared
  std::vector<image_size> sizes;
  bool per_image = false;
};

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Distance in ulps between two finite floats of the same sign (large for anything else).
std::int64_t ulps(float a, float b) {
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b) || (a < 0) != (b < 0)) return 1 << 30;
  return std::abs(static_cast<std::int64_t>(bits(a)) - static_cast<std::int64_t>(bits(b)));
}

/// A map whose phrases are contiguous token runs (some empty when `empty_every` divides p + 1).
positive_map span_map(std::size_t phrases, std::size_t t, std::mt19937& rng,
                      std::size_t empty_every = 0) {
  positive_map pm;
  pm.phrases = phrases;
  pm.token_slots = t;
  pm.mask.assign(phrases * t, 0);
  for (std::size_t p = 0; p < phrases; ++p) {
    if (empty_every != 0 && (p + 1) % empty_every == 0) continue;
    const std::size_t len = 1 + rng() % 5, b = rng() % (t - len);
    for (std::size_t j = b; j < b + len; ++j) pm.mask[p * t + j] = 1;
  }
  return pm;
}

/// Logits on a 1/8 grid in [-6, 6] (many exact ties), -Inf in the last `pad` slots (Grounding
/// DINO's unused slots); boxes cxcywh in (0, 1).
pp_case make_case(std::size_t b, std::size_t q, std::size_t t, std::size_t p, unsigned seed,
                  bool per_image, std::size_t pad = 0, std::size_t empty_every = 0) {
  pp_case c;
  c.b = b;
  c.q = q;
  c.t = t;
  c.p = p;
  c.per_image = per_image;
  std::mt19937 rng(seed);
  c.logits.resize(b * q * t);
  for (std::size_t i = 0; i < c.logits.size(); ++i)
    c.logits[i] = (i % t) >= t - pad ? -std::numeric_limits<float>::infinity()
                                     : static_cast<float>(static_cast<int>(rng() % 97) - 48) / 8.0f;
  std::uniform_real_distribution<float> u(0.05f, 0.95f);
  c.boxes.resize(b * q * 4);
  for (std::size_t i = 0; i < b * q; ++i) {
    c.boxes[4 * i] = u(rng);
    c.boxes[4 * i + 1] = u(rng);
    c.boxes[4 * i + 2] = u(rng) / 3;
    c.boxes[4 * i + 3] = u(rng) / 3;
  }
  for (std::size_t k = 0; k < (per_image ? b : 1); ++k)
    c.maps.push_back(span_map(p, t - pad, rng, empty_every));
  for (auto& m : c.maps) {  // widen to t slots (the padding slots belong to no phrase)
    positive_map w;
    w.phrases = m.phrases;
    w.token_slots = t;
    w.mask.assign(m.phrases * t, 0);
    for (std::size_t pp = 0; pp < m.phrases; ++pp)
      for (std::size_t j = 0; j < m.token_slots; ++j)
        w.mask[pp * t + j] = m.mask[pp * m.token_slots + j];
    m = std::move(w);
  }
  for (std::size_t i = 0; i < b; ++i)
    c.sizes.push_back({static_cast<int>(320 + 17 * i), static_cast<int>(240 + 11 * i)});
  return c;
}

struct gpu_result {
  std::vector<std::int32_t> queries;
  std::vector<float> scores;
  std::vector<box_xyxy<float>> boxes;
  std::vector<std::uint32_t> counts, flags;
};

struct cublas_handle {
  cublasHandle_t h = nullptr;
  cublas_handle() { REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS); }
  ~cublas_handle() { cublasDestroy(h); }
  cublas_handle(const cublas_handle&) = delete;
  cublas_handle& operator=(const cublas_handle&) = delete;
};

cuda::token_activation to_gpu(token_activation a) {
  return a == token_activation::softmax ? cuda::token_activation::softmax
                                        : cuda::token_activation::sigmoid;
}
cuda::score_aggregation to_gpu(score_aggregation a) {
  return a == score_aggregation::max    ? cuda::score_aggregation::max
         : a == score_aggregation::mean ? cuda::score_aggregation::mean
                                        : cuda::score_aggregation::normalized_sum;
}

cuda::postprocess_params gpu_params(const postprocess_options& o, std::size_t k) {
  cuda::postprocess_params g;
  g.activation = to_gpu(o.activation);
  g.aggregation = to_gpu(o.aggregation);
  g.map_eps = static_cast<float>(o.map_eps);
  g.score_threshold = static_cast<float>(o.score_threshold);
  g.top_k = k;
  g.boxes_cxcywh = o.format == box_format::cxcywh;
  return g;
}

gpu_result run_gpu(const pp_case& c, const postprocess_options& o, std::size_t k, bool gemm,
                   bool tf32 = false, std::size_t pair = 0) {
  const auto params = [&] {
    auto g = gpu_params(o, k);
    g.allow_tf32 = tf32;
    g.pair_top_k = pair;
    return g;
  }();
  std::vector<cuda::token_span> spans;
  std::vector<float> weights;
  std::vector<std::uint32_t> counts;
  for (const positive_map& m : c.maps) {
    std::vector<cuda::token_span> s;
    REQUIRE(cuda::contiguous_spans(m, s));
    spans.insert(spans.end(), s.begin(), s.end());
    const auto w = cuda::gemm_weights(m, params.aggregation, params.map_eps);
    weights.insert(weights.end(), w.begin(), w.end());
    const auto n = cuda::token_counts(m);
    counts.insert(counts.end(), n.begin(), n.end());
  }
  std::vector<float> scales;
  for (const image_size& s : c.sizes) {
    scales.push_back(static_cast<float>(s.width));
    scales.push_back(static_cast<float>(s.height));
  }
  test::device_buffer<float> dl(c.logits), db(c.boxes), dw(weights), dsc(scales);
  test::device_buffer<cuda::token_span> ds(spans);
  test::device_buffer<std::uint32_t> dn(counts), dcount(c.b * c.p), dflags(c.b);
  test::device_buffer<std::int32_t> oq(c.b * c.p * k);
  test::device_buffer<float> os(c.b * c.p * k);
  test::device_buffer<box_xyxy<float>> ob(c.b * c.p * k);
  const std::size_t ws = cuda::postprocess_workspace_bytes(c.b, c.q, c.t, c.p, gemm);
  test::device_buffer<char> work(ws);
  cuda::phrase_map map;
  map.per_image = c.per_image;
  if (gemm) {
    map.weights = dw.ptr;
    map.counts = dn.ptr;
  } else {
    map.spans = ds.ptr;
  }
  const cuda::postprocess_outputs out{oq.ptr, os.ptr, ob.ptr, dcount.ptr, dflags.ptr};
  cublas_handle h;
  REQUIRE(cuda::postprocess(dl.ptr, db.ptr, c.b, c.q, c.t, c.p, map, dsc.ptr, params, out, work.ptr,
                            ws, gemm ? static_cast<void*>(h.h) : nullptr, nullptr)
              .ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  return {oq.to_host(), os.to_host(), ob.to_host(), dcount.to_host(), dflags.to_host()};
}

/// CPU reference: postprocess_image per image with every candidate ranked (per_phrase_top_k = 0;
/// the comparisons take the first k, which is what per_phrase_top_k = k keeps); threw[b] when the
/// CPU rejects image b.
std::vector<std::vector<phrase_ranking>> run_cpu(const pp_case& c, postprocess_options o,
                                                 std::vector<bool>& threw, std::size_t pair = 0) {
  o.pair_top_k = pair;
  o.per_phrase_top_k = 0;
  const detector_outputs_view<float> v{c.logits.data(), c.boxes.data(), nullptr, c.b, c.q, c.t};
  std::vector<std::vector<phrase_ranking>> res(c.b);
  threw.assign(c.b, false);
  for (std::size_t i = 0; i < c.b; ++i) {
    try {
      res[i] = postprocess_image<float>(v, i, c.maps[c.per_image ? i : 0], c.sizes[i], o);
    } catch (const error&) {
      threw[i] = true;
    }
  }
  return res;
}

/// Exact comparison of one image: same queries, score bits and box bits at every rank.
void require_identical(const pp_case& c, const gpu_result& g, std::size_t k, std::size_t b,
                       const std::vector<phrase_ranking>& cpu) {
  for (std::size_t p = 0; p < c.p; ++p) {
    INFO("image " << b << " phrase " << p);
    const phrase_ranking& r = cpu[p];
    const std::size_t n = std::min(k, r.queries.size());
    REQUIRE(g.counts[b * c.p + p] == n);
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t at = (b * c.p + p) * k + i;
      INFO("rank " << i);
      if (i >= n) {
        CHECK(g.queries[at] == -1);
        continue;
      }
      CHECK(g.queries[at] == r.queries[i]);
      CHECK(static_cast<double>(g.scores[at]) == r.boxes[i].score);
      CHECK(box_cast<double>(g.boxes[at]) == r.boxes[i].box);
    }
  }
}

/// Tolerant comparison (GEMM form, or activations that differ by an ulp somewhere): scores
/// within `tol` (relative) rank by rank, and where the query differs, the CPU's scores at that
/// rank and at the GPU's choice are a near tie.
void require_equivalent(const pp_case& c, const gpu_result& g, std::size_t k, std::size_t b,
                        const std::vector<phrase_ranking>& cpu, double tol) {
  for (std::size_t p = 0; p < c.p; ++p) {
    INFO("image " << b << " phrase " << p);
    const phrase_ranking& r = cpu[p];
    const std::size_t n = g.counts[b * c.p + p];
    // Counts can differ only through a score at the threshold; the tests use -Inf or far values.
    REQUIRE(n == std::min(k, r.queries.size()));
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = (b * c.p + p) * k + i;
      INFO("rank " << i);
      const double cs = r.boxes[i].score, gs = g.scores[at];
      CHECK(std::abs(cs - gs) <= tol * std::max(1.0, std::abs(cs)));
      if (g.queries[at] != r.queries[i]) {
        // the GPU's query must sit in the CPU list within tol of the CPU score at this rank
        bool near = false;
        for (std::size_t j = 0; j < r.queries.size(); ++j)
          if (r.queries[j] == g.queries[at])
            near = std::abs(r.boxes[j].score - cs) <= 2 * tol * std::max(1.0, std::abs(cs));
        CHECK(near);
      }
    }
  }
}

/// True when the device activations of every logit of the case equal the CPU's bit for bit
/// (and checks that none is more than 1 ulp away).
bool activations_bit_identical(const pp_case& c, token_activation act) {
  test::device_buffer<float> dl(c.logits), probs(c.logits.size());
  test::device_buffer<std::uint32_t> flags(c.b);
  REQUIRE(cuda::activate_tokens(dl.ptr, c.b, c.q, c.t, to_gpu(act), probs.ptr, flags.ptr, nullptr)
              .ok());
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const auto g = probs.to_host();
  std::vector<std::size_t> cols(c.t);
  for (std::size_t j = 0; j < c.t; ++j) cols[j] = j;
  bool same = true;
  for (std::size_t b = 0; b < c.b; ++b) {
    std::vector<float> cpu;
    try {
      detail::activate<float>(std::span<const float>(c.logits.data() + b * c.q * c.t, c.q * c.t),
                              c.q, c.t, cols, act, cpu, "image");
    } catch (const error&) {
      continue;  // flagged image: compared elsewhere
    }
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      const std::int64_t d = ulps(cpu[i], g[b * c.q * c.t + i]);
      REQUIRE(d <= 1);
      same = same && d == 0;
    }
  }
  if (!same) WARN("device exp differs from the host's by 1 ulp on some logit (see score_math.hpp)");
  return same;
}

/// `pair`: Grounding DINO's cap of the best (query, phrase) pairs per image (0: none; <= k).
void check_end_to_end(const pp_case& c, const postprocess_options& o, std::size_t k,
                      std::size_t pair = 0) {
  INFO(o.describe() << " B=" << c.b << " Q=" << c.q << " T=" << c.t << " P=" << c.p << " k=" << k
                    << " pair_top_k=" << pair);
  std::vector<bool> threw;
  const auto cpu = run_cpu(c, o, threw, pair);
  const bool exact = activations_bit_identical(c, o.activation);
  const gpu_result g = run_gpu(c, o, k, /*gemm=*/false, false, pair);
  for (std::size_t b = 0; b < c.b; ++b) {
    if (threw[b]) {
      CHECK((g.flags[b] & (cuda::flag_nan_logit | cuda::flag_softmax_undefined)) != 0);
      continue;
    }
    REQUIRE(g.flags[b] == 0);
    if (exact)
      require_identical(c, g, k, b, cpu[b]);
    else
      require_equivalent(c, g, k, b, cpu[b], 1e-6);
  }
  // The GEMM form's near ties may move the pair cap's boundary: compared without the cap.
  if (o.aggregation != score_aggregation::max && pair == 0) {
    const gpu_result h = run_gpu(c, o, k, /*gemm=*/true);
    for (std::size_t b = 0; b < c.b; ++b)
      if (!threw[b]) require_equivalent(c, h, k, b, cpu[b], 1e-5);
  }
}

}  // namespace

TEST_CASE("GPU post-processing equals the CPU pipeline (presets, random)", "[cuda][postprocess]") {
  if (!test::have_cuda_device()) return;
  auto mdetr = mdetr_postprocess();
  auto gdino = grounding_dino_postprocess();
  auto glip_mean = grounding_dino_postprocess();  // GLIP's token mean without its dense extras
  glip_mean.aggregation = score_aggregation::mean;
  for (const auto& o : {mdetr, gdino, glip_mean}) {
    check_end_to_end(make_case(2, 37, 32, 3, 1, false), o, 10);
    check_end_to_end(make_case(1, 1, 8, 2, 2, false), o, 5);              // B = 1, Q = 1, k > Q
    check_end_to_end(make_case(3, 300, 64, 5, 3, true), o, 100);          // per-image maps
    check_end_to_end(make_case(2, 900, 256, 16, 4, false, 200), o, 100);  // -Inf padding
    check_end_to_end(make_case(2, 1000, 40, 4, 5, false), o, 1000);  // k = Q, Q not a power of 2
  }
}

TEST_CASE("GPU post-processing: Grounding DINO's cap of the best (query, phrase) pairs",
          "[cuda][postprocess]") {
  if (!test::have_cuda_device()) return;
  const auto gdino = grounding_dino_postprocess();  // pair_top_k = 300
  check_end_to_end(make_case(2, 900, 256, 16, 41, false, 200), gdino, 300, 300);
  check_end_to_end(make_case(3, 120, 32, 5, 42, true), gdino, 40, 25);  // per-image maps
  // 28 pairs: fewer than the cap.
  check_end_to_end(make_case(1, 7, 16, 4, 43, false), gdino, 40, 40);
  // Issue 19's shapes: P = 80 (72,000 pairs per image), and a cap beyond one phrase's queries.
  check_end_to_end(make_case(2, 900, 256, 80, 45, false, 100), gdino, 300, 300);
  check_end_to_end(make_case(1, 50, 64, 6, 46, false), gdino, 200, 120);
  // Equal scores across phrases: the cap breaks ties by flat index q * P + p.
  auto ties = make_case(2, 64, 16, 4, 44, false);
  std::fill(ties.logits.begin(), ties.logits.end(), 1.0f);
  check_end_to_end(ties, gdino, 50, 37);
  check_end_to_end(ties, mdetr_postprocess(), 50, 37);
}

TEST_CASE("GPU post-processing: adversarial inputs", "[cuda][postprocess]") {
  if (!test::have_cuda_device()) return;
  SECTION("ties everywhere: all logits equal, ranking by query") {
    auto c = make_case(2, 77, 16, 3, 7, false);
    std::fill(c.logits.begin(), c.logits.end(), 0.5f);
    for (const auto& o : {mdetr_postprocess(), grounding_dino_postprocess()})
      check_end_to_end(c, o, 20);
  }
  SECTION("empty phrases score 0 for every query") {
    const auto c = make_case(2, 50, 24, 6, 8, false, 0, 2);
    for (const auto& o : {mdetr_postprocess(), grounding_dino_postprocess()})
      check_end_to_end(c, o, 60);
  }
  SECTION("NaN logit flags its image only; +Inf breaks the softmax") {
    auto c = make_case(3, 40, 16, 2, 9, false);
    c.logits[1 * 40 * 16 + 5 * 16 + 3] = std::numeric_limits<float>::quiet_NaN();
    c.logits[2 * 40 * 16 + 7 * 16 + 1] = std::numeric_limits<float>::infinity();
    check_end_to_end(c, mdetr_postprocess(), 10);
    check_end_to_end(c, grounding_dino_postprocess(), 10);  // sigmoid(+Inf) = 1: image 2 is fine
    const auto g = run_gpu(c, mdetr_postprocess(), 10, false);
    CHECK(g.flags[0] == 0);
    CHECK(g.flags[1] == cuda::flag_nan_logit);
    CHECK(g.flags[2] == cuda::flag_softmax_undefined);
  }
  SECTION("score threshold, xyxy boxes") {
    auto o = grounding_dino_postprocess();
    o.score_threshold = 0.25;
    o.format = box_format::xyxy;
    check_end_to_end(make_case(2, 129, 32, 4, 10, false), o, 50);
    auto m = mdetr_postprocess();
    m.score_threshold = 0.5;  // softmax over 32 slots: most queries fall below
    check_end_to_end(make_case(2, 129, 32, 4, 11, false), m, 50);
  }
  SECTION("oversized calls are refused, not run") {
    test::device_buffer<float> x(1);
    test::device_buffer<std::uint32_t> f(1);
    CHECK_FALSE(cuda::activate_tokens(x.ptr, 1, 1, cuda::postprocess_max_tokens + 1,
                                      cuda::token_activation::sigmoid, x.ptr, f.ptr, nullptr)
                    .ok());
    cuda::postprocess_params p;
    p.top_k = 0;
    const cuda::postprocess_outputs out{nullptr, nullptr, nullptr, nullptr, nullptr};
    CHECK_FALSE(
        cuda::phrase_topk(x.ptr, nullptr, false, x.ptr, 1, 1, 1, nullptr, p, out, nullptr).ok());
  }
}

TEST_CASE("GPU post-processing stages are exact on the same intermediate values",
          "[cuda][postprocess]") {
  if (!test::have_cuda_device()) return;
  const std::size_t b = 2, q = 333, t = 64, np = 7, k = 50;
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.f, 3.f);  // continuous logits: near ties everywhere
  std::vector<float> logits(b * q * t), boxes(b * q * 4);
  for (auto& x : logits) x = nd(rng);
  for (auto& x : boxes) x = std::abs(nd(rng)) / 10;
  const positive_map pm = span_map(np, t, rng, 4);
  std::vector<cuda::token_span> spans;
  REQUIRE(cuda::contiguous_spans(pm, spans));
  for (const auto act : {token_activation::sigmoid, token_activation::softmax})
    for (const auto agg :
         {score_aggregation::max, score_aggregation::normalized_sum, score_aggregation::mean}) {
      INFO("activation " << int(act) << " aggregation " << int(agg));
      test::device_buffer<float> dl(logits), db(boxes), probs(b * q * t), scores(b * q * np);
      test::device_buffer<cuda::token_span> ds(spans);
      test::device_buffer<std::uint32_t> flags(b), counts(b * np);
      REQUIRE(
          cuda::activate_tokens(dl.ptr, b, q, t, to_gpu(act), probs.ptr, flags.ptr, nullptr).ok());
      REQUIRE(cuda::span_phrase_scores(dl.ptr, b, q, t, to_gpu(act), ds.ptr, false, np, to_gpu(agg),
                                       1e-6f, scores.ptr, flags.ptr, nullptr)
                  .ok());
      test::device_buffer<std::int32_t> oq(b * np * k);
      test::device_buffer<float> os(b * np * k);
      test::device_buffer<box_xyxy<float>> ob(b * np * k);
      cuda::postprocess_params p;
      p.top_k = k;
      p.score_threshold = 0.01f;
      REQUIRE(cuda::phrase_topk(scores.ptr, nullptr, false, db.ptr, b, q, np, nullptr, p,
                                {oq.ptr, os.ptr, ob.ptr, counts.ptr, flags.ptr}, nullptr)
                  .ok());
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      const auto gp = probs.to_host(), gs = scores.to_host(), gos = os.to_host();
      const auto goq = oq.to_host();
      const auto gob = ob.to_host();
      const auto gc = counts.to_host();
      postprocess_options o;
      o.aggregation = agg;
      for (std::size_t i = 0; i < b; ++i) {
        // Span scores == the CPU's phrase_scores on the device's own probabilities, bit for bit.
        const std::vector<float> cs =
            phrase_scores<float>(std::span<const float>(gp.data() + i * q * t, q * t), q, pm, o);
        for (std::size_t j = 0; j < q * np; ++j) {
          INFO("image " << i << " entry " << j);
          REQUIRE(bits(cs[j]) == bits(gs[i * q * np + j]));
        }
        // Top-k == the CPU's ranking rule on the same scores (score > threshold, descending,
        // ties by query ascending), boxes decoded with the shared convert.hpp math.
        for (std::size_t pp = 0; pp < np; ++pp) {
          std::vector<std::size_t> order;
          for (std::size_t qq = 0; qq < q; ++qq)
            if (cs[qq * np + pp] > p.score_threshold) order.push_back(qq);
          std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            return cs[x * np + pp] > cs[y * np + pp];
          });
          if (order.size() > k) order.resize(k);
          REQUIRE(gc[i * np + pp] == order.size());
          for (std::size_t r = 0; r < order.size(); ++r) {
            const std::size_t at = (i * np + pp) * k + r;
            REQUIRE(goq[at] == static_cast<std::int32_t>(order[r]));
            CHECK(bits(gos[at]) == bits(cs[order[r] * np + pp]));
            const float* v = boxes.data() + (i * q + order[r]) * 4;
            CHECK(gob[at] == to_xyxy(box_cxcywh<float>{v[0], v[1], v[2], v[3]}));
          }
        }
      }
    }
}

TEST_CASE("GPU post-processing: the GEMM form with TF32 opt-in stays close",
          "[cuda][postprocess]") {
  if (!test::have_cuda_device()) return;
  const auto c = make_case(2, 200, 64, 8, 31, false);
  std::vector<bool> threw;
  const auto o = grounding_dino_postprocess();
  const auto cpu = run_cpu(c, o, threw);
  const gpu_result g = run_gpu(c, o, 20, /*gemm=*/true, /*tf32=*/true);
  // TF32 keeps 10 mantissa bits of each product's inputs: scores within ~1e-3 relative.
  for (std::size_t b = 0; b < c.b; ++b)
    for (std::size_t p = 0; p < c.p; ++p)
      for (std::size_t i = 0; i < g.counts[b * c.p + p]; ++i)
        CHECK(std::abs(g.scores[(b * c.p + p) * 20 + i] - cpu[b][p].boxes[i].score) <= 2e-3);
}

// Runs without a GPU too: the host helpers and the argument checks, which return before any
// device work (the pointers below are never dereferenced).
TEST_CASE("GPU post-processing: host helpers and argument checks",
          "[cuda][postprocess][host][cuda-host]") {
  positive_map pm;
  pm.phrases = 3;
  pm.token_slots = 6;
  pm.mask = {0, 1, 1, 1, 0, 0,   // tokens 1..3
             0, 0, 0, 0, 0, 0,   // empty row
             1, 0, 0, 0, 0, 1};  // not contiguous
  std::vector<cuda::token_span> spans;
  CHECK_FALSE(cuda::contiguous_spans(pm, spans));
  pm.mask[17] = 0;
  REQUIRE(cuda::contiguous_spans(pm, spans));
  REQUIRE(spans.size() == 3);
  CHECK((spans[0].begin == 1 && spans[0].end == 4));
  CHECK((spans[1].begin == 0 && spans[1].end == 0));
  CHECK((spans[2].begin == 0 && spans[2].end == 1));
  CHECK(cuda::gemm_weights(pm, cuda::score_aggregation::normalized_sum, 1e-6f) ==
        normalized_weights<float>(pm, 1e-6f));
  const auto w01 = cuda::gemm_weights(pm, cuda::score_aggregation::mean, 1e-6f);
  CHECK(std::count(w01.begin(), w01.end(), 1.0f) == 4);
  const std::vector<std::uint32_t> counts_expected{3, 0, 1};
  CHECK(cuda::token_counts(pm) == counts_expected);
  // The span form's normalized weight is the CPU map's value.
  CHECK(detail::normalized_weight(3ull, 1e-6f) == normalized_weights<float>(pm, 1e-6f)[1]);

  CHECK(cuda::postprocess_workspace_bytes(32, 900, 256, 16, false) >= 32 * 900 * 16 * 4);
  CHECK(cuda::postprocess_workspace_bytes(32, 900, 256, 16, true) >= 32 * 900 * (16 + 256) * 4);
  float dummy[4] = {1, 2, 3, 4};
  std::uint32_t flags = 0;
  CHECK_FALSE(cuda::activate_tokens(dummy, 1, 1, cuda::postprocess_max_tokens + 1,
                                    cuda::token_activation::sigmoid, dummy, &flags, nullptr)
                  .ok());
  CHECK_FALSE(cuda::activate_tokens(dummy, 1, 1, 4, cuda::token_activation::sigmoid, nullptr,
                                    &flags, nullptr)
                  .ok());
  cuda::postprocess_params p;
  p.top_k = 0;
  std::int32_t q = 0;
  box_xyxy<float> bx{};
  const cuda::postprocess_outputs out{&q, dummy, &bx, &flags, &flags};
  CHECK_FALSE(
      cuda::phrase_topk(dummy, nullptr, false, dummy, 1, 1, 1, nullptr, p, out, nullptr).ok());
  p.top_k = 1;
  CHECK_FALSE(cuda::phrase_topk(dummy, nullptr, false, dummy, 1, cuda::postprocess_max_queries + 1,
                                1, nullptr, p, out, nullptr)
                  .ok());
  // GEMM form: max has no GEMM, mean needs counts, a too small workspace is refused.
  cuda::phrase_map map;
  map.weights = dummy;
  p.aggregation = cuda::score_aggregation::max;
  CHECK_FALSE(cuda::postprocess(dummy, dummy, 1, 1, 1, 1, map, nullptr, p, out, dummy, 1 << 20,
                                dummy, nullptr)
                  .ok());
  p.aggregation = cuda::score_aggregation::mean;
  CHECK_FALSE(cuda::postprocess(dummy, dummy, 1, 1, 1, 1, map, nullptr, p, out, dummy, 1 << 20,
                                dummy, nullptr)
                  .ok());
  p.aggregation = cuda::score_aggregation::normalized_sum;
  CHECK_FALSE(
      cuda::postprocess(dummy, dummy, 1, 1, 1, 1, map, nullptr, p, out, dummy, 4, dummy, nullptr)
          .ok());
  p.pair_top_k = 2;  // more than top_k
  CHECK_FALSE(cuda::postprocess(dummy, dummy, 1, 1, 1, 1, map, nullptr, p, out, dummy, 1 << 20,
                                dummy, nullptr)
                  .ok());
  p.pair_top_k = 0;
  // Nothing to do: no images.
  CHECK(
      cuda::postprocess(dummy, dummy, 0, 1, 1, 1, map, nullptr, p, out, nullptr, 0, dummy, nullptr)
          .ok());
}
