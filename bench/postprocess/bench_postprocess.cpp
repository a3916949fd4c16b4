// SPDX-License-Identifier: Apache-2.0
// CPU post-processing and NMS latency (Google Benchmark), each next to a NumPy-style broadcast
// formulation written in C++ in this binary (full temporaries per operation, as numpy/torch
// eager code materializes them), so ratios come from the same run on the same machine.
//   * Grounding DINO shapes: B in {1, 8, 32}, Q = 900, T = 256, P in {1, 4, 16}, top-300 pairs.
//   * MDETR shapes: B = 1, Q = 100, T = 256, P in {1, 4, 16}, all queries ranked per phrase.
//   * Greedy NMS at 1k and 10k boxes vs the classic numpy loop (IoU of the best box against all
//     remaining boxes, boolean mask, compaction).
// Inputs are synthetic random numbers (fixed seeds), not model outputs.
#include <groundeval/boxes/nms.hpp>
#include <groundeval/interop/eigen.hpp>
#include <groundeval/postprocess/pipeline.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace groundeval;

namespace {

struct gdino_case {
  std::size_t b, q, t, p;
  std::vector<float> logits, boxes;
  positive_map pm;
};

gdino_case make_case(std::size_t b, std::size_t q, std::size_t t, std::size_t p) {
  gdino_case c{b, q, t, p, {}, {}, {}};
  std::mt19937 rng(static_cast<unsigned>(b * 131 + p));
  std::normal_distribution<float> n(-4.f, 2.f);
  std::uniform_real_distribution<float> u(0.05f, 0.95f);
  c.logits.resize(b * q * t);
  for (auto& x : c.logits) x = n(rng);
  c.boxes.resize(b * q * 4);
  for (auto& x : c.boxes) x = u(rng);
  // P phrases of 3 tokens each at the start of the caption: token i covers chars [2i, 2i + 1).
  std::vector<token_offset> offs;
  for (std::size_t i = 0; i < 3 * p + 2; ++i) offs.push_back({2 * i, 2 * i + 1});
  std::vector<char_span> spans;
  for (std::size_t k = 0; k < p; ++k) spans.push_back({2 * (3 * k + 1), 2 * (3 * k + 3) + 1});
  positive_map_options o;
  o.token_slots = t;
  c.pm = build_positive_map(spans, offs, 2 * (3 * p + 2), o);
  return c;
}

// ---- NumPy-style formulation ---------------------------------------------------------------
// prob = sigmoid(logits)                         [B, Q, T]   (new array)
// w = pos / (pos.sum(-1, keepdims) + 1e-6)       [P, T]
// prod = prob[:, :, None, :] * w[None, None]     [B, Q, P, T] (new array, broadcast)
// s = prod.sum(-1)                               [B, Q, P]
// per image: order = argsort(-s.reshape(-1)) (full stable sort), take k; boxes = cxcywh->xyxy
// of all Q (new array), gather, scale.
std::vector<std::vector<float>> numpy_style_gdino(const gdino_case& c, std::size_t k) {
  const std::size_t B = c.b, Q = c.q, T = c.t, P = c.p;
  std::vector<float> prob(c.logits.size());
  for (std::size_t i = 0; i < prob.size(); ++i) prob[i] = 1.f / (1.f + std::exp(-c.logits[i]));
  const std::vector<float> w = normalized_weights<float>(c.pm, 1e-6f);
  std::vector<float> prod(B * Q * P * T);
  for (std::size_t bq = 0; bq < B * Q; ++bq)
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t t = 0; t < T; ++t)
        prod[(bq * P + p) * T + t] = prob[bq * T + t] * w[p * T + t];
  std::vector<float> s(B * Q * P, 0.f);
  for (std::size_t i = 0; i < s.size(); ++i) {
    float acc = 0.f;
    for (std::size_t t = 0; t < T; ++t) acc += prod[i * T + t];
    s[i] = acc;
  }
  std::vector<float> xyxy(B * Q * 4);
  for (std::size_t i = 0; i < B * Q; ++i) {
    const float* v = &c.boxes[i * 4];
    xyxy[i * 4 + 0] = v[0] - v[2] / 2, xyxy[i * 4 + 1] = v[1] - v[3] / 2;
    xyxy[i * 4 + 2] = v[0] + v[2] / 2, xyxy[i * 4 + 3] = v[1] + v[3] / 2;
  }
  std::vector<std::vector<float>> out(B);
  for (std::size_t b = 0; b < B; ++b) {
    const float* sb = &s[b * Q * P];
    std::vector<std::size_t> order(Q * P);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return sb[x] > sb[y]; });
    order.resize(std::min(k, order.size()));
    for (const std::size_t f : order)
      for (int j = 0; j < 4; ++j) out[b].push_back(xyxy[(b * Q + f / P) * 4 + j] * 640.f);
  }
  return out;
}

// MDETR NumPy style: softmax [Q, T]; prod = pos[None] * prob[:, None, :] [Q, P, T]; max(-1);
// per phrase argsort over Q.
std::vector<std::vector<std::size_t>> numpy_style_mdetr(const gdino_case& c) {
  const std::size_t Q = c.q, T = c.t, P = c.p;
  std::vector<float> prob(Q * T);
  for (std::size_t q = 0; q < Q; ++q) {
    const float* r = &c.logits[q * T];
    const float m = *std::max_element(r, r + T);
    float s = 0.f;
    for (std::size_t t = 0; t < T; ++t) s += (prob[q * T + t] = std::exp(r[t] - m));
    for (std::size_t t = 0; t < T; ++t) prob[q * T + t] /= s;
  }
  std::vector<float> prod(Q * P * T);
  for (std::size_t q = 0; q < Q; ++q)
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t t = 0; t < T; ++t)
        prod[(q * P + p) * T + t] = (c.pm.at(p, t) ? 1.f : 0.f) * prob[q * T + t];
  std::vector<float> s(Q * P);
  for (std::size_t i = 0; i < Q * P; ++i) s[i] = *std::max_element(&prod[i * T], &prod[i * T] + T);
  std::vector<std::vector<std::size_t>> out(P);
  for (std::size_t p = 0; p < P; ++p) {
    std::vector<std::size_t> order(Q);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return s[x * P + p] > s[y * P + p]; });
    out[p] = std::move(order);
  }
  return out;
}

template <class Gemm>
void BM_gdino(benchmark::State& st) {
  const auto c = make_case(static_cast<std::size_t>(st.range(0)), 900, 256,
                           static_cast<std::size_t>(st.range(1)));
  const auto v = make_detector_outputs_view<float>(c.logits, c.boxes, {}, c.b, c.q, c.t);
  const postprocess_options o = grounding_dino_postprocess();
  for (auto _ : st)
    for (std::size_t b = 0; b < c.b; ++b) {
      auto r =
          postprocess_image<float, Gemm>(v, b, c.pm, image_size{640, 480}, o, {}, "bench", Gemm{});
      benchmark::DoNotOptimize(r.data());
    }
  st.counters["images/s"] =
      benchmark::Counter(static_cast<double>(c.b), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_gdino_numpy_style(benchmark::State& st) {
  const auto c = make_case(static_cast<std::size_t>(st.range(0)), 900, 256,
                           static_cast<std::size_t>(st.range(1)));
  for (auto _ : st) {
    auto r = numpy_style_gdino(c, 300);
    benchmark::DoNotOptimize(r.data());
  }
  st.counters["images/s"] =
      benchmark::Counter(static_cast<double>(c.b), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_mdetr(benchmark::State& st) {
  const auto c = make_case(1, 100, 256, static_cast<std::size_t>(st.range(0)));
  const auto v = make_detector_outputs_view<float>(c.logits, c.boxes, {}, 1, c.q, c.t);
  const postprocess_options o = mdetr_postprocess();
  for (auto _ : st) {
    auto r = postprocess_image<float>(v, 0, c.pm, image_size{640, 480}, o);
    benchmark::DoNotOptimize(r.data());
  }
}

void BM_mdetr_numpy_style(benchmark::State& st) {
  const auto c = make_case(1, 100, 256, static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    auto r = numpy_style_mdetr(c);
    benchmark::DoNotOptimize(r.data());
  }
}

void gdino_args(benchmark::internal::Benchmark* b) {
  for (const int batch : {1, 8, 32})
    for (const int p : {1, 4, 16}) b->Args({batch, p});
  b->Unit(benchmark::kMillisecond);
}

// ---- NMS ---------------------------------------------------------------------------------
struct nms_case {
  std::vector<box_xyxy<float>> boxes;
  std::vector<float> scores;
};
nms_case make_nms(std::size_t n) {
  // Boxes jittered around n / 10 cluster centres (so suppression does real work).
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.f, 1000.f), j(-8.f, 8.f), wh(20.f, 60.f), s(0.f, 1.f);
  nms_case c;
  std::vector<box_xyxy<float>> centres(std::max<std::size_t>(1, n / 10));
  for (auto& b : centres) {
    const float x = u(rng), y = u(rng);
    b = {x, y, x + wh(rng), y + wh(rng)};
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& b = centres[i % centres.size()];
    c.boxes.push_back({b.x1 + j(rng), b.y1 + j(rng), b.x2 + j(rng), b.y2 + j(rng)});
    c.scores.push_back(s(rng));
  }
  return c;
}

// The classic numpy NMS: order = scores.argsort()[::-1]; while order.size: i = order[0];
// ious = iou(i, order[1:]) (vectorized, new arrays); order = order[1:][ious <= thr].
std::vector<std::size_t> numpy_style_nms(const nms_case& c, float thr) {
  const std::size_t n = c.boxes.size();
  std::vector<float> x1(n), y1(n), x2(n), y2(n), ar(n);
  for (std::size_t i = 0; i < n; ++i)
    x1[i] = c.boxes[i].x1, y1[i] = c.boxes[i].y1, x2[i] = c.boxes[i].x2, y2[i] = c.boxes[i].y2,
    ar[i] = area(c.boxes[i]);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return c.scores[a] > c.scores[b]; });
  std::vector<std::size_t> keep;
  while (!order.empty()) {
    const std::size_t i = order[0];
    keep.push_back(i);
    const std::size_t m = order.size() - 1;
    std::vector<float> xx1(m), yy1(m), xx2(m), yy2(m), inter(m), iou_v(m);
    for (std::size_t k = 0; k < m; ++k) xx1[k] = std::max(x1[i], x1[order[k + 1]]);
    for (std::size_t k = 0; k < m; ++k) yy1[k] = std::max(y1[i], y1[order[k + 1]]);
    for (std::size_t k = 0; k < m; ++k) xx2[k] = std::min(x2[i], x2[order[k + 1]]);
    for (std::size_t k = 0; k < m; ++k) yy2[k] = std::min(y2[i], y2[order[k + 1]]);
    for (std::size_t k = 0; k < m; ++k)
      inter[k] = std::max(0.f, xx2[k] - xx1[k]) * std::max(0.f, yy2[k] - yy1[k]);
    for (std::size_t k = 0; k < m; ++k) iou_v[k] = inter[k] / (ar[i] + ar[order[k + 1]] - inter[k]);
    std::vector<std::size_t> next;
    for (std::size_t k = 0; k < m; ++k)
      if (iou_v[k] <= thr) next.push_back(order[k + 1]);
    order.swap(next);
  }
  return keep;
}

void BM_nms(benchmark::State& st) {
  const auto c = make_nms(static_cast<std::size_t>(st.range(0)));
  nms_options o;
  o.iou_threshold = 0.5;
  for (auto _ : st) {
    auto k = nms<float>(c.boxes, c.scores, o);
    benchmark::DoNotOptimize(k.data());
  }
}
void BM_nms_numpy_style(benchmark::State& st) {
  const auto c = make_nms(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    auto k = numpy_style_nms(c, 0.5f);
    benchmark::DoNotOptimize(k.data());
  }
}

}  // namespace

BENCHMARK_TEMPLATE(BM_gdino, reference_gemm)->Apply(gdino_args);
BENCHMARK_TEMPLATE(BM_gdino, eigen_gemm)->Apply(gdino_args);
BENCHMARK(BM_gdino_numpy_style)->Apply(gdino_args);
BENCHMARK(BM_mdetr)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mdetr_numpy_style)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nms)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nms_numpy_style)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
