// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/compare.hpp — paired comparison of two runs evaluated on the same data set:
// McNemar's exact test on top-1 hits, image-level bootstrap intervals of each Recall@k and of the
// difference, per-type deltas, and a deterministic selection of qualitative cases.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/metrics/paired.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace groundeval {

struct compare_options {
  std::size_t bootstrap_samples = 1000;
  std::uint64_t seed = 20240601;
  double confidence = 0.95;
  std::size_t cases_per_kind = 5;
  double success_iou = 0.7;  ///< "succeeds": top-1 IoU > success_iou
  double failure_iou = 0.2;  ///< "fails": top-1 IoU < failure_iou
};

/// Bootstrap intervals of one Recall@k.
struct recall_comparison {
  int k = 1;
  bootstrap_result ci;
};

/// Recall@1 of both runs on one phrase type.
struct type_delta {
  std::string type;
  std::uint64_t phrases = 0;
  double a = 0, b = 0, delta = 0;  ///< delta = b - a
};

/// Kinds of qualitative cases.
enum class case_kind : std::uint8_t {
  both_succeed,
  a_wins,
  b_wins,
  both_fail,
  a_format_failure,
  b_format_failure
};
inline constexpr std::size_t case_kind_count = 6;
constexpr std::string_view to_string(case_kind k) noexcept {
  switch (k) {
    case case_kind::both_succeed:
      return "both_succeed";
    case case_kind::a_wins:
      return "a_wins";
    case case_kind::b_wins:
      return "b_wins";
    case case_kind::both_fail:
      return "both_fail";
    case case_kind::a_format_failure:
      return "a_format_failure";
    case case_kind::b_format_failure:
      return "b_format_failure";
  }
  return "unknown";
}

/// One selected phrase.
struct qualitative_case {
  case_kind kind = case_kind::both_succeed;
  std::size_t outcome = 0;  ///< index into the evaluation outcomes
  std::string image_id;
  long long sentence_index = 0;
  std::uint32_t phrase_index = 0;
  std::string phrase;
  double iou_a = 0, iou_b = 0;
};

struct comparison_result {
  std::uint64_t phrases = 0, images = 0;
  mcnemar_result mcnemar;  ///< on Recall@1 hits
  std::vector<recall_comparison> recall;
  std::vector<type_delta> types;
  std::array<std::uint64_t, case_kind_count> case_counts{};  ///< candidates of each kind
  std::vector<qualitative_case> cases;                       ///< per kind, at most cases_per_kind
  compare_options options;
};

/// Compares two results of evaluate() on the same data set `data` (same options). Case selection:
/// each candidate gets the key splitmix64(seed ^ fnv1a64("image/sentence/phrase")); the
/// cases_per_kind smallest keys are kept, in key order, so the choice depends only on the seed
/// and the phrases, not on the order of evaluation.
template <Dataset D>
comparison_result compare_runs(const D& data, const evaluation_result& a,
                               const evaluation_result& b, const compare_options& opt = {}) {
  if (a.outcomes.size() != b.outcomes.size() || a.recall.ks != b.recall.ks ||
      a.protocol != b.protocol)
    throw error(
        error_kind::invalid,
        "compare: the two runs were not evaluated on the same phrases with the same options");
  for (std::size_t i = 0; i < a.outcomes.size(); ++i)
    if (a.outcomes[i].sample != b.outcomes[i].sample ||
        a.outcomes[i].phrase != b.outcomes[i].phrase)
      throw error(error_kind::invalid,
                  "compare: outcome " + std::to_string(i) + " refers to different phrases");
  using sample_t = std::ranges::range_value_t<const D>;
  std::vector<const sample_t*> samples;
  for (const auto& s : data) samples.push_back(&s);

  comparison_result r;
  r.options = opt;
  r.phrases = a.outcomes.size();
  r.images = a.image_ids.size();
  const auto& ks = a.recall.ks;
  std::size_t k1 = ks.size();
  for (std::size_t i = 0; i < ks.size(); ++i)
    if (ks[i] == 1) k1 = i;
  if (k1 == ks.size())
    throw error(error_kind::config, "compare: Recall@1 must be among the tracked k");

  auto hit = [](const phrase_outcome& o, std::size_t i) { return ((o.hit_mask >> i) & 1u) != 0; };
  std::vector<std::uint8_t> ha(r.phrases), hb(r.phrases);
  for (std::size_t i = 0; i < r.phrases; ++i)
    ha[i] = hit(a.outcomes[i], k1), hb[i] = hit(b.outcomes[i], k1);
  r.mcnemar = mcnemar_exact(ha, hb);

  for (std::size_t ki = 0; ki < ks.size(); ++ki) {
    std::vector<image_counts> per_image(r.images);
    for (std::size_t i = 0; i < r.phrases; ++i) {
      auto& im = per_image[a.outcomes[i].image];
      ++im.phrases;
      im.hits_a += hit(a.outcomes[i], ki) ? 1 : 0;
      im.hits_b += hit(b.outcomes[i], ki) ? 1 : 0;
    }
    // The same seed for every k: each k sees the same resampled image sets, so the intervals of
    // different k are computed on identical replicates.
    r.recall.push_back(
        {ks[ki], paired_bootstrap(per_image, opt.bootstrap_samples, opt.seed, opt.confidence)});
  }

  std::map<std::string, std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, std::less<>>
      per_type;
  std::vector<std::tuple<std::uint64_t, std::size_t, case_kind>> candidates;
  for (std::size_t i = 0; i < r.phrases; ++i) {
    const auto& oa = a.outcomes[i];
    const auto& ob = b.outcomes[i];
    const auto& s = *samples[oa.sample];
    const auto& ph = *(std::ranges::begin(s.phrases) + static_cast<std::ptrdiff_t>(oa.phrase));
    for (const auto& t : ph.types) {
      auto& [n, x, y] = per_type[std::string(std::string_view(t))];
      ++n, x += ha[i] ? 1 : 0, y += hb[i] ? 1 : 0;
    }
    std::vector<case_kind> kinds;
    const double ia = oa.top1_iou, ib = ob.top1_iou;
    if (ia > opt.success_iou && ib > opt.success_iou) kinds.push_back(case_kind::both_succeed);
    if (ia > opt.success_iou && ib < opt.failure_iou) kinds.push_back(case_kind::a_wins);
    if (ib > opt.success_iou && ia < opt.failure_iou) kinds.push_back(case_kind::b_wins);
    if (ia < opt.failure_iou && ib < opt.failure_iou) kinds.push_back(case_kind::both_fail);
    if (oa.status == query_status::format_failure) kinds.push_back(case_kind::a_format_failure);
    if (ob.status == query_status::format_failure) kinds.push_back(case_kind::b_format_failure);
    if (kinds.empty()) continue;
    const std::string key = std::string(std::string_view(s.image_id)) + "/" +
                            std::to_string(static_cast<long long>(s.sentence_index)) + "/" +
                            std::to_string(oa.phrase);
    std::uint64_t st = opt.seed ^ fnv1a64(key);
    const std::uint64_t h = splitmix64(st);
    for (case_kind k : kinds) {
      ++r.case_counts[static_cast<std::size_t>(k)];
      candidates.emplace_back(h, i, k);
    }
  }
  for (const auto& [t, c] : per_type) {
    const auto& [n, x, y] = c;
    type_delta d;
    d.type = t;
    d.phrases = n;
    d.a = static_cast<double>(x) / static_cast<double>(n);
    d.b = static_cast<double>(y) / static_cast<double>(n);
    d.delta = d.b - d.a;
    r.types.push_back(std::move(d));
  }
  std::sort(candidates.begin(), candidates.end());
  std::array<std::size_t, case_kind_count> taken{};
  for (std::size_t kk = 0; kk < case_kind_count; ++kk)
    for (const auto& [h, i, k] : candidates) {
      if (static_cast<std::size_t>(k) != kk || taken[kk] >= opt.cases_per_kind) continue;
      ++taken[kk];
      const auto& oa = a.outcomes[i];
      const auto& s = *samples[oa.sample];
      const auto& ph = *(std::ranges::begin(s.phrases) + static_cast<std::ptrdiff_t>(oa.phrase));
      qualitative_case q;
      q.kind = k;
      q.outcome = i;
      q.image_id = std::string(std::string_view(s.image_id));
      q.sentence_index = static_cast<long long>(s.sentence_index);
      q.phrase_index = oa.phrase;
      q.phrase = std::string(std::string_view(ph.text));
      q.iou_a = oa.top1_iou;
      q.iou_b = b.outcomes[i].top1_iou;
      r.cases.push_back(std::move(q));
    }
  return r;
}

/// The comparison as JSON (docs/metrics.md): run names, McNemar, intervals per k, per-type
/// deltas, case counts and the selected cases.
inline std::string comparison_json(const comparison_result& c, const std::string& name_a,
                                   const std::string& name_b, const report_meta& meta = {}) {
  detail::json_writer w;
  w.begin_object();
  w.value("groundeval_version", std::string_view(version_string));
  for (const auto& [k, v] : meta) w.value(k, v);
  w.value("run_a", name_a);
  w.value("run_b", name_b);
  w.value("phrases", c.phrases);
  w.value("images", c.images);
  w.begin_object("mcnemar_recall_at_1");
  w.value("both", c.mcnemar.both);
  w.value("a_only", c.mcnemar.a_only);
  w.value("b_only", c.mcnemar.b_only);
  w.value("neither", c.mcnemar.neither);
  w.value("p_value", c.mcnemar.p_value);
  w.end_object();
  w.begin_object("bootstrap");
  w.value("samples", static_cast<std::uint64_t>(c.options.bootstrap_samples));
  w.value("seed", static_cast<std::uint64_t>(c.options.seed));
  w.value("confidence", c.options.confidence);
  w.value("resampling_unit", std::string_view("image"));
  w.end_object();
  w.begin_object("recall_at");
  for (const auto& rc : c.recall) {
    w.begin_object(k_label(rc.k));
    for (auto [name, iv] : {std::pair<const char*, const interval*>{"a", &rc.ci.a},
                            {"b", &rc.ci.b},
                            {"b_minus_a", &rc.ci.diff}}) {
      w.begin_object(name);
      w.value("estimate", iv->estimate);
      w.value("lower", iv->lower);
      w.value("upper", iv->upper);
      w.end_object();
    }
    w.end_object();
  }
  w.end_object();
  w.begin_object("types_recall_at_1");
  for (const auto& t : c.types) {
    w.begin_object(t.type);
    w.value("phrases", t.phrases);
    w.value("a", t.a);
    w.value("b", t.b);
    w.value("b_minus_a", t.delta);
    w.end_object();
  }
  w.end_object();
  w.begin_object("case_counts");
  for (std::size_t k = 0; k < case_kind_count; ++k)
    w.value(to_string(static_cast<case_kind>(k)), c.case_counts[k]);
  w.end_object();
  w.begin_array("cases");
  for (const auto& q : c.cases) {
    w.begin_object();
    w.value("kind", to_string(q.kind));
    w.value("image_id", q.image_id);
    w.value("sentence_index", static_cast<std::uint64_t>(q.sentence_index));
    w.value("phrase_index", static_cast<std::uint64_t>(q.phrase_index));
    w.value("phrase", q.phrase);
    w.value("iou_a", q.iou_a);
    w.value("iou_b", q.iou_b);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  w.out += '\n';
  return std::move(w.out);
}

/// The comparison as a readable table.
inline std::string format_comparison_table(const comparison_result& c, const std::string& name_a,
                                           const std::string& name_b) {
  using detail::fmt_double;
  const int pct = static_cast<int>(c.options.confidence * 100 + 0.5);
  std::string o = "A: " + name_a + "\nB: " + name_b + "\n" + std::to_string(c.phrases) +
                  " phrases in " + std::to_string(c.images) + " images; " + std::to_string(pct) +
                  "% bootstrap intervals over images (" +
                  std::to_string(c.options.bootstrap_samples) + " samples, seed " +
                  std::to_string(c.options.seed) + ")\n\n";
  o += "Recall@k (%)  A                       B                       B - A\n";
  auto iv = [&](const interval& i) {
    std::string s = fmt_double("%6.2f", 100 * i.estimate) + " [" +
                    fmt_double("%6.2f", 100 * i.lower) + ", " + fmt_double("%6.2f", 100 * i.upper) +
                    "]";
    s.resize(24, ' ');
    return s;
  };
  for (const auto& rc : c.recall) {
    std::string label = rc.k == k_all ? "Upper bound" : "R@" + std::to_string(rc.k);
    label.resize(14, ' ');
    o += label + iv(rc.ci.a) + iv(rc.ci.b) + iv(rc.ci.diff) + "\n";
  }
  o += "\nMcNemar exact test on R@1: both right " + std::to_string(c.mcnemar.both) + ", A only " +
       std::to_string(c.mcnemar.a_only) + ", B only " + std::to_string(c.mcnemar.b_only) +
       ", neither " + std::to_string(c.mcnemar.neither) +
       ", p = " + fmt_double("%.3g", c.mcnemar.p_value) +
       "\n\nR@1 per type (%)   phrases       A       B   B - A\n";
  for (const auto& t : c.types) {
    std::string name = t.type;
    name.resize(18, ' ');
    o += name + fmt_double("%8.0f", double(t.phrases)) + fmt_double("%8.2f", 100 * t.a) +
         fmt_double("%8.2f", 100 * t.b) + fmt_double("%+8.2f", 100 * t.delta) + "\n";
  }
  o += "\ncases (top-1 IoU; succeed > " + fmt_double("%g", c.options.success_iou) + ", fail < " +
       fmt_double("%g", c.options.failure_iou) + "):";
  for (std::size_t k = 0; k < case_kind_count; ++k)
    o += std::string(" ") + std::string(to_string(static_cast<case_kind>(k))) + " " +
         std::to_string(c.case_counts[k]) + (k + 1 < case_kind_count ? "," : "\n");
  for (const auto& q : c.cases)
    o += "  " + std::string(to_string(q.kind)) + ": image " + q.image_id + " sentence " +
         std::to_string(q.sentence_index) + " phrase " + std::to_string(q.phrase_index) + " \"" +
         q.phrase + "\" IoU A " + fmt_double("%.3f", q.iou_a) + ", B " +
         fmt_double("%.3f", q.iou_b) + "\n";
  return o;
}

}  // namespace groundeval
