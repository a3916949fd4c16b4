// SPDX-License-Identifier: Apache-2.0
// groundeval/postprocess/pipeline.hpp — one configurable post-processing pipeline from raw
// detector outputs to ranked per-phrase box lists, and the presets that reproduce MDETR, GLIP
// and Grounding DINO. Target: groundeval::core (standard library only; the GEMM is a plain loop
// here, interop/eigen.hpp supplies an Eigen one with the same signature).
//
// Per image, in this order (each step optional through postprocess_options):
//  1. activation of the [Q, T] logits: softmax over the T slots (MDETR, incl. no-object) or
//     sigmoid (GLIP, Grounding DINO); a NaN logit is an error naming image, query and token.
//  2. phrase scores S[Q, P] from the positive map: max over the phrase's tokens (MDETR), the
//     product with the row-normalized map w = 1 / (n + eps) (Grounding DINO, a GEMM), or the exact
//     mean = (product with the 0/1 map) / n (GLIP's `.mean(-1)`).
//  3. candidates: every (query, phrase) pair with S > score_threshold (strict; GLIP 0.05);
//  4. x sigmoid(centerness[q]) (GLIP), keep the best pre_nms_top_n, sqrt (GLIP);
//  5. rank all candidates by score descending, ties by flat index q * P + p ascending (a
//     defined order; the references use torch.sort / topk, whose tie order is unspecified);
//  6. keep the best pair_top_k pairs (Grounding DINO: 300 over (query, phrase) pairs);
//  7. NMS per phrase (or class-agnostic) on the boxes in the model's frame (GLIP: 0.6, +1 rule);
//  8. cap detections_per_image with GLIP's kthvalue rule (keep every score >= the cap-th best);
//  9. group by phrase keeping the order, cap each list at per_phrase_top_k, append [0,0,0,0]
//     to every list when asked (GLIP);
// 10. boxes: cxcywh -> xyxy (x_c -/+ w/2), scaled to the original image: normalized boxes times
//     (W, H, W, H) (DETR convention, relative to the unpadded resized image), pixel boxes of the
//     resized network input times (W / W_in, H / H_in) (GLIP's resize_box). No clipping unless
//     clip_to_input (GLIP's clip_to_image: [0, W_in - 1] x [0, H_in - 1] before NMS).
// Arithmetic is done in the element type T of the outputs (float for real dumps), as the
// references do in float32; scores and boxes are widened to double at the end.
#pragma once

#include <groundeval/boxes/convert.hpp>
#include <groundeval/boxes/nms.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>
#include <groundeval/postprocess/detector_outputs.hpp>
#include <groundeval/postprocess/positive_map.hpp>
#include <groundeval/postprocess/score_math.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace groundeval {

enum class token_activation : std::uint8_t { softmax, sigmoid };
enum class score_aggregation : std::uint8_t {
  max,             ///< max over the phrase's tokens (MDETR)
  normalized_sum,  ///< sum of prob x mask / (n + map_eps) (Grounding DINO's normalized map GEMM)
  mean             ///< sum over the phrase's tokens / n (GLIP's MEAN)
};
enum class box_format : std::uint8_t { cxcywh, xyxy };
enum class box_units : std::uint8_t {
  normalized,   ///< [0, 1] relative to the image the model saw (without padding)
  input_pixels  ///< pixels of the resized network input (give its size per image)
};

/// Every knob of the pipeline; start from a preset (mdetr_postprocess() ...) and adjust.
struct postprocess_options {
  std::string preset = "custom";  ///< name shown in describe() strings
  token_activation activation = token_activation::sigmoid;
  score_aggregation aggregation = score_aggregation::normalized_sum;
  double map_eps = 1e-6;  ///< normalized_sum: w = 1 / (n + map_eps)
  double score_threshold = -std::numeric_limits<double>::infinity();  ///< keep S > this
  bool use_centerness = false;    ///< multiply by sigmoid(centerness) (needs centerness)
  std::size_t pre_nms_top_n = 0;  ///< after centerness: keep this many best (0: all)
  bool sqrt_scores = false;
  std::size_t pair_top_k = 0;  ///< keep the best k (query, phrase) pairs (0: all)
  bool nms = false;
  bool nms_class_agnostic = false;
  double nms_iou_threshold = 0.5;
  double nms_legacy_offset = 0.0;
  std::size_t detections_per_image = 0;  ///< GLIP kthvalue cap across phrases (0: none)
  std::size_t per_phrase_top_k = 0;      ///< cap of each phrase list (0: none)
  bool append_zero_box = false;
  box_format format = box_format::cxcywh;
  box_units units = box_units::normalized;
  bool clip_to_input = false;  ///< clip to [0, W_in - 1] x [0, H_in - 1] (input_pixels only)

  std::string describe() const;
};

/// MDETR PostProcessFlickr: softmax over all slots, max over the phrase's tokens, every query
/// ranked for every phrase (Q boxes per phrase), cxcywh normalized boxes times the image size.
inline postprocess_options mdetr_postprocess() {
  postprocess_options o;
  o.preset = "mdetr";
  o.activation = token_activation::softmax;
  o.aggregation = score_aggregation::max;
  return o;
}

/// GLIP (ATSSPostProcessor + flickr_post_process): sigmoid, mean over tokens, > 0.05, x
/// sigmoid(centerness), best 1000, sqrt, clip, class-wise NMS 0.6 (+1 rule), 100 detections per
/// image, [0,0,0,0] appended; xyxy boxes in pixels of the resized input. GLIP applies the 1000
/// cap per FPN level; dumps flattened over levels get one cap per image (set it per need).
inline postprocess_options glip_postprocess() {
  postprocess_options o;
  o.preset = "glip";
  o.activation = token_activation::sigmoid;
  o.aggregation = score_aggregation::mean;
  o.score_threshold = 0.05;
  o.use_centerness = true;
  o.pre_nms_top_n = 1000;
  o.sqrt_scores = true;
  o.nms = true;
  o.nms_iou_threshold = 0.6;
  o.nms_legacy_offset = 1.0;
  o.detections_per_image = 100;
  o.append_zero_box = true;
  o.format = box_format::xyxy;
  o.units = box_units::input_pixels;
  o.clip_to_input = true;
  return o;
}

/// Grounding DINO PostProcessCocoGrounding: sigmoid, product with the row-normalized positive
/// map (1 / (n + 1e-6)), top 300 (query, phrase) pairs, grouped by phrase in score order.
inline postprocess_options grounding_dino_postprocess() {
  postprocess_options o;
  o.preset = "grounding-dino";
  o.activation = token_activation::sigmoid;
  o.aggregation = score_aggregation::normalized_sum;
  o.map_eps = 1e-6;
  o.pair_top_k = 300;
  return o;
}

/// A preset by name: "mdetr", "glip", "grounding-dino" (alias "gdino"); throws config otherwise.
inline postprocess_options postprocess_preset(std::string_view name) {
  if (name == "mdetr") return mdetr_postprocess();
  if (name == "glip") return glip_postprocess();
  if (name == "grounding-dino" || name == "gdino") return grounding_dino_postprocess();
  throw error(error_kind::config, "unknown post-processing preset '" + std::string(name) +
                                      "' (known: mdetr, glip, grounding-dino)");
}

inline std::string postprocess_options::describe() const {
  std::string s = "preset=" + preset;
  s += activation == token_activation::softmax ? " act=softmax" : " act=sigmoid";
  s += aggregation == score_aggregation::max ? " agg=max"
       : aggregation == score_aggregation::mean
           ? " agg=mean"
           : " agg=normsum(eps=" + std::to_string(map_eps) + ")";
  s += " thr=" + std::to_string(score_threshold);
  if (use_centerness) s += " centerness";
  if (pre_nms_top_n) s += " pre_nms_top_n=" + std::to_string(pre_nms_top_n);
  if (sqrt_scores) s += " sqrt";
  if (pair_top_k) s += " pair_top_k=" + std::to_string(pair_top_k);
  if (nms)
    s += std::string(nms_class_agnostic ? " nms(agnostic)=" : " nms=") +
         std::to_string(nms_iou_threshold) + " offset=" + std::to_string(nms_legacy_offset);
  if (detections_per_image) s += " per_image=" + std::to_string(detections_per_image);
  if (per_phrase_top_k) s += " per_phrase=" + std::to_string(per_phrase_top_k);
  if (append_zero_box) s += " zero_box";
  s += format == box_format::cxcywh ? " cxcywh" : " xyxy";
  s += units == box_units::normalized ? " normalized" : " input_pixels";
  if (clip_to_input) s += " clip";
  return s;
}

/// One phrase's ranked list: boxes in original-image pixels, best first, and for each the query
/// it came from (-1 for the appended [0,0,0,0]).
struct phrase_ranking {
  std::vector<scored_box> boxes;
  std::vector<std::int64_t> queries;
};

/// C[M x N] = A[M x K] * B[N x K]^T, all row-major: the std-loop reference GEMM.
struct reference_gemm {
  template <class T>
  void operator()(const T* a, const T* b, T* c, std::size_t m, std::size_t n, std::size_t k) const {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        T acc = T(0);
        const T* ai = a + i * k;
        const T* bj = b + j * k;
        for (std::size_t t = 0; t < k; ++t) acc += ai[t] * bj[t];
        c[i * n + j] = acc;
      }
  }
};

namespace detail {

/// Step 1: probs[Q x cols.size()] = activation of the logits at the token columns `cols` (the
/// softmax still normalizes over all T slots). NaN logits anywhere are errors naming the item.
template <class T>
void activate(std::span<const T> logits, std::size_t q, std::size_t t,
              std::span<const std::size_t> cols, token_activation act, std::vector<T>& probs,
              const std::string& item) {
  const std::size_t a = cols.size();
  probs.resize(q * a);
  std::vector<T> e(act == token_activation::softmax ? t : 0);  // one row of exp(x - max)
  for (std::size_t i = 0; i < q; ++i) {
    const T* row = logits.data() + i * t;
    T* out = probs.data() + i * a;
    for (std::size_t j = 0; j < t; ++j)
      if (is_nan(row[j]))
        throw error(
            error_kind::invalid, item, 0,
            "pred_logits[query " + std::to_string(i) + ", token " + std::to_string(j) + "] is NaN");
    if (act == token_activation::sigmoid) {
      for (std::size_t c = 0; c < a; ++c) out[c] = sigmoid(row[cols[c]]);
    } else {
      T m = -std::numeric_limits<T>::infinity();
      for (std::size_t j = 0; j < t; ++j) m = running_max(m, row[j]);
      T s = T(0);
      for (std::size_t j = 0; j < t; ++j) s += (e[j] = softmax_numerator(row[j], m));
      if (!(s > T(0)) || is_nan(s))
        throw error(error_kind::invalid, item, 0,
                    "softmax of query " + std::to_string(i) +
                        " is undefined (a +Inf logit, or every logit -Inf)");
      for (std::size_t c = 0; c < a; ++c) out[c] = e[cols[c]] / s;
    }
  }
}

/// The token columns used by at least one phrase, and the map restricted to them. Columns no
/// phrase uses add exact zeros to every phrase score, so dropping them changes no bit of the
/// loop GEMM's result and saves their activations.
inline positive_map active_columns(const positive_map& pm, std::vector<std::size_t>& cols) {
  cols.clear();
  for (std::size_t t = 0; t < pm.token_slots; ++t)
    for (std::size_t p = 0; p < pm.phrases; ++p)
      if (pm.at(p, t)) {
        cols.push_back(t);
        break;
      }
  positive_map c;
  c.phrases = pm.phrases;
  c.token_slots = cols.size();
  c.mask.resize(c.phrases * c.token_slots);
  for (std::size_t p = 0; p < pm.phrases; ++p)
    for (std::size_t k = 0; k < cols.size(); ++k)
      c.mask[p * c.token_slots + k] = pm.mask[p * pm.token_slots + cols[k]];
  return c;
}

}  // namespace detail

/// Phrase scores S[Q x P] (step 2) from activated probabilities [Q x pm.token_slots].
template <class T, class Gemm = reference_gemm>
std::vector<T> phrase_scores(std::span<const T> probs, std::size_t q, const positive_map& pm,
                             const postprocess_options& opt, Gemm gemm = {}) {
  const std::size_t t = pm.token_slots, np = pm.phrases;
  std::vector<T> s(q * np, T(0));
  if (np == 0 || q == 0) return s;
  if (opt.aggregation == score_aggregation::max) {
    for (std::size_t p = 0; p < np; ++p) {
      std::vector<std::size_t> toks;
      for (std::size_t j = 0; j < t; ++j)
        if (pm.at(p, j)) toks.push_back(j);
      for (std::size_t i = 0; i < q; ++i) {
        T m = T(0);  // (pos * prob).max(-1): the zeros of the other slots take part
        for (const std::size_t j : toks) m = detail::running_max(m, probs[i * t + j]);
        s[i * np + p] = m;
      }
    }
    return s;
  }
  std::vector<T> w;
  if (opt.aggregation == score_aggregation::normalized_sum) {
    w = normalized_weights<T>(pm, static_cast<T>(opt.map_eps));
  } else {
    w.assign(pm.mask.size(), T(0));
    for (std::size_t i = 0; i < pm.mask.size(); ++i) w[i] = pm.mask[i] ? T(1) : T(0);
  }
  gemm(probs.data(), w.data(), s.data(), q, np, t);
  if (opt.aggregation == score_aggregation::mean)
    for (std::size_t p = 0; p < np; ++p) {
      const std::size_t n = pm.count(p);
      for (std::size_t i = 0; i < q; ++i) s[i * np + p] = detail::span_mean(s[i * np + p], n);
    }
  return s;
}

/// Runs the pipeline on image b of `out`. `original` is the original image size; `input` the
/// resized network input size (needed for box_units::input_pixels). `item` names the image in
/// errors. Returns pm.phrases lists, in phrase order.
template <class T, class Gemm = reference_gemm>
std::vector<phrase_ranking> postprocess_image(const detector_outputs_view<T>& out, std::size_t b,
                                              const positive_map& pm, image_size original,
                                              const postprocess_options& opt, image_size input = {},
                                              const std::string& item = {}, Gemm gemm = {}) {
  const std::string where = item.empty() ? "image " + std::to_string(b) : item;
  if (b >= out.batch)
    throw error(error_kind::invalid, where, 0,
                "batch index " + std::to_string(b) + " out of " + std::to_string(out.batch));
  if (out.tokens != pm.token_slots)
    throw error(error_kind::invalid, where, 0,
                "pred_logits has " + std::to_string(out.tokens) +
                    " token slots but the positive map has " + std::to_string(pm.token_slots));
  if (opt.use_centerness && out.centerness == nullptr)
    throw error(error_kind::invalid, where, 0, "the preset needs centerness but none was given");
  if (opt.units == box_units::input_pixels && (input.width <= 0 || input.height <= 0))
    throw error(error_kind::invalid, where, 0,
                "boxes are in input pixels but the network input size is unknown");
  if (original.width <= 0 || original.height <= 0)
    throw error(error_kind::invalid, where, 0, "original image size must be positive");
  const std::size_t nq = out.queries, np = pm.phrases;

  std::vector<T> probs;
  std::vector<std::size_t> cols;
  const positive_map active = detail::active_columns(pm, cols);
  detail::activate(out.image_logits(b), nq, out.tokens, std::span<const std::size_t>(cols),
                   opt.activation, probs, where);
  const std::vector<T> s = phrase_scores<T>(probs, nq, active, opt, gemm);

  // Steps 3-4: candidates and their scores.
  std::vector<std::size_t> cand;  // flat index q * P + p
  std::vector<T> score;           // indexed by flat index (only candidates are read)
  score.assign(s.begin(), s.end());
  const std::span<const T> cen = out.image_centerness(b);
  // Compared in T, as torch compares a float32 tensor with a Python float (0.05f, not 0.05).
  const T thr = static_cast<T>(opt.score_threshold);
  for (std::size_t f = 0; f < nq * np; ++f)
    if (s[f] > thr) cand.push_back(f);
  if (opt.use_centerness)
    for (const std::size_t f : cand) {
      const T c = cen[f / np];
      if (detail::is_nan(c))
        throw error(error_kind::invalid, where, 0,
                    "centerness[query " + std::to_string(f / np) + "] is NaN");
      score[f] = s[f] * detail::sigmoid(c);
    }
  const auto better = [&](std::size_t x, std::size_t y) {
    return score[x] > score[y] || (!(score[y] > score[x]) && x < y);
  };
  if (opt.pre_nms_top_n != 0 && cand.size() > opt.pre_nms_top_n) {
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(opt.pre_nms_top_n),
                      cand.end(), better);
    cand.resize(opt.pre_nms_top_n);
  }
  if (opt.sqrt_scores)
    for (const std::size_t f : cand) score[f] = std::sqrt(score[f]);
  // Step 5-6: rank, cap pairs.
  // `better` is a strict total order (flat index breaks ties), so a partial sort of the best k
  // gives exactly the first k of the full sort.
  if (opt.pair_top_k != 0 && cand.size() > opt.pair_top_k) {
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(opt.pair_top_k),
                      cand.end(), better);
    cand.resize(opt.pair_top_k);
  } else {
    std::sort(cand.begin(), cand.end(), better);
  }

  // Boxes in the model frame (decoded, optionally clipped), for NMS and the final scaling.
  const std::span<const T> bx = out.image_boxes(b);
  const auto model_box = [&](std::size_t qi) {
    const T* v = bx.data() + qi * 4;
    box_xyxy<T> r = opt.format == box_format::cxcywh
                        ? to_xyxy(box_cxcywh<T>{v[0], v[1], v[2], v[3]})
                        : box_xyxy<T>{v[0], v[1], v[2], v[3]};
    if (opt.clip_to_input && opt.units == box_units::input_pixels)
      r = clip(r, static_cast<T>(input.width - 1), static_cast<T>(input.height - 1));
    return r;
  };

  // Step 7: NMS.
  if (opt.nms && !cand.empty()) {
    std::vector<box_xyxy<T>> nb(cand.size());
    std::vector<T> ns(cand.size());
    std::vector<std::int64_t> nc(cand.size());
    for (std::size_t i = 0; i < cand.size(); ++i) {
      nb[i] = model_box(cand[i] / np);
      ns[i] = score[cand[i]];
      nc[i] = opt.nms_class_agnostic ? 0 : static_cast<std::int64_t>(cand[i] % np);
    }
    nms_options no;
    no.iou_threshold = opt.nms_iou_threshold;
    no.legacy_offset = opt.nms_legacy_offset;
    const std::vector<std::size_t> keep = per_class_nms<T>(nb, ns, nc, no);
    std::vector<std::size_t> kept(keep.size());
    for (std::size_t i = 0; i < keep.size(); ++i) kept[i] = cand[keep[i]];
    cand = std::move(kept);  // still in ranked order (nms keeps visiting order)
  }
  // Step 8: kthvalue cap (keep every score >= the cap-th best).
  if (opt.detections_per_image != 0 && cand.size() > opt.detections_per_image) {
    const T kth = score[cand[opt.detections_per_image - 1]];
    std::size_t n = opt.detections_per_image;
    while (n < cand.size() && score[cand[n]] >= kth) ++n;
    cand.resize(n);
  }

  // Steps 9-10: group, cap, append, decode + scale.
  const T sx = opt.units == box_units::normalized
                   ? static_cast<T>(original.width)
                   : static_cast<T>(static_cast<double>(original.width) / input.width);
  const T sy = opt.units == box_units::normalized
                   ? static_cast<T>(original.height)
                   : static_cast<T>(static_cast<double>(original.height) / input.height);
  std::vector<phrase_ranking> res(np);
  for (const std::size_t f : cand) {
    const std::size_t qi = f / np, p = f % np;
    phrase_ranking& r = res[p];
    if (opt.per_phrase_top_k != 0 && r.boxes.size() >= opt.per_phrase_top_k) continue;
    const box_xyxy<T> m = model_box(qi);
    const box_xyxy<T> px{m.x1 * sx, m.y1 * sy, m.x2 * sx, m.y2 * sy};
    r.boxes.push_back({box_cast<double>(px), static_cast<double>(score[f])});
    r.queries.push_back(static_cast<std::int64_t>(qi));
  }
  if (opt.append_zero_box)
    for (phrase_ranking& r : res) {
      r.boxes.push_back({box_xyxy<double>{0, 0, 0, 0}, 0.0});
      r.queries.push_back(-1);
    }
  return res;
}

/// Runs postprocess_image on every image of the batch, images split over threads
/// (detail::parallel_for; results do not depend on the thread count). `maps` holds one map per
/// image, or one map shared by all; `originals` one size per image; `inputs` is empty or one
/// size per image. Errors name "image b".
template <class T, class Gemm = reference_gemm>
std::vector<std::vector<phrase_ranking>> postprocess_batch(
    const detector_outputs_view<T>& out, std::span<const positive_map> maps,
    std::span<const image_size> originals, const postprocess_options& opt,
    std::span<const image_size> inputs = {}, const parallel_options& par = {}, Gemm gemm = {}) {
  if (maps.size() != 1 && maps.size() != out.batch)
    throw error(error_kind::invalid, "postprocess_batch: " + std::to_string(maps.size()) +
                                         " positive maps for " + std::to_string(out.batch) +
                                         " images");
  if (originals.size() != out.batch || (!inputs.empty() && inputs.size() != out.batch))
    throw error(error_kind::invalid, "postprocess_batch: image sizes do not match the batch of " +
                                         std::to_string(out.batch));
  std::vector<std::vector<phrase_ranking>> res(out.batch);
  detail::parallel_for(
      out.batch, out.queries * out.tokens, par, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b)
          res[b] =
              postprocess_image<T, Gemm>(out, b, maps[maps.size() == 1 ? 0 : b], originals[b], opt,
                                         inputs.empty() ? image_size{} : inputs[b], {}, gemm);
      });
  return res;
}

/// Turns rankings into query_results (status ok, or empty for an empty list).
inline std::vector<query_result> to_query_results(std::vector<phrase_ranking>&& rankings) {
  std::vector<query_result> out(rankings.size());
  for (std::size_t i = 0; i < rankings.size(); ++i) {
    out[i].boxes = std::move(rankings[i].boxes);
    out[i].status = out[i].boxes.empty() ? query_status::empty : query_status::ok;
  }
  return out;
}

}  // namespace groundeval
