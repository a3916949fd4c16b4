// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/recall.hpp — Recall@k under the ANY-box and MERGED-box protocols, overall
// and per phrase type, with the arithmetic of MDETR's datasets/flickr_eval.py reproduced to the
// last bit. Target: groundeval::core (standard library only).
//
// The reference rule for one phrase with ranked predictions P (N rows) and ground truth G (M
// columns): ious = reference_iou(P[i], G[j]) (numpy float64, may be NaN); for each k the phrase is
// a hit when max(ious[:k]) >= threshold, where numpy's max propagates NaN (so a NaN in the first
// k rows makes the phrase a miss at that k) and k = -1 means all rows. MERGED replaces G by its
// enclosing box. An empty candidate list (the reference crashes) is a miss and is counted.
#pragma once

#include <groundeval/boxes/iou.hpp>
#include <groundeval/concepts/metric.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// How the ground truth of a phrase with several boxes is used.
enum class gt_protocol : std::uint8_t {
  any_box,    ///< a prediction is right if it matches any one GT box ("separateGT")
  merged_box  ///< all GT boxes are replaced by their enclosing box ("mergedGT")
};

constexpr std::string_view to_string(gt_protocol p) noexcept {
  return p == gt_protocol::any_box ? "any" : "merged";
}

/// What decides a hit: IoU (the Flickr30k protocol, and what model papers report on RefCOCO) or
/// generalized IoU (MDETR's and GLIP's RefExp evaluators: GIoU >= threshold).
enum class match_criterion : std::uint8_t { iou, giou };

constexpr std::string_view to_string(match_criterion m) noexcept {
  return m == match_criterion::iou ? "iou" : "giou";
}

/// The criterion named `name` ("iou" or "giou"); error_kind::config otherwise.
inline match_criterion parse_match_criterion(std::string_view name) {
  if (name == "iou") return match_criterion::iou;
  if (name == "giou") return match_criterion::giou;
  throw error(error_kind::config,
              "unknown match criterion '" + std::string(name) + "' (valid: iou, giou)");
}

/// Generalized IoU with the operation order of MDETR's util/box_ops.py generalized_box_iou:
/// iou - (C - union) / C, C the enclosing box's area (torch computes it in float32 there; here
/// in double, so a decision can differ only when the GIoU lies within float32 rounding of the
/// threshold). NaN when a coordinate is NaN or both boxes and their enclosure have zero area.
inline double reference_giou(const box_xyxy<double>& a, const box_xyxy<double>& b) noexcept {
  const double area_a = (a.x2 - a.x1) * (a.y2 - a.y1), area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  const double iw = detail::np_clip0(std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const double ih = detail::np_clip0(std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double inter = iw * ih;
  const double uni = area_a + area_b - inter;
  const double iou = inter / uni;
  const double cw = detail::np_clip0(std::max(a.x2, b.x2) - std::min(a.x1, b.x1));
  const double ch = detail::np_clip0(std::max(a.y2, b.y2) - std::min(a.y1, b.y1));
  const double c = cw * ch;
  return iou - (c - uni) / c;
}

/// The k that means "all predictions" (MDETR's -1, reported as "upper_bound").
inline constexpr int k_all = -1;

/// Options of Recall@k.
struct recall_options {
  std::vector<int> ks{1, 5, 10, k_all};  ///< each >= 1, or k_all; at most 32 values
  double iou_threshold = 0.5;            ///< hit when IoU >= threshold (inclusive)
  gt_protocol protocol = gt_protocol::any_box;
  match_criterion match = match_criterion::iou;  ///< giou: hit when GIoU >= threshold
};

/// Validates recall_options; throws error_kind::config naming the bad value.
inline void validate(const recall_options& o) {
  if (o.ks.empty() || o.ks.size() > 32)
    throw error(error_kind::config, "recall options: between 1 and 32 values of k are needed");
  for (int k : o.ks)
    if (k < 1 && k != k_all)
      throw error(error_kind::config,
                  "recall options: k = " + std::to_string(k) + " (must be >= 1, or -1 for all)");
  if (!(o.iou_threshold == o.iou_threshold))
    throw error(error_kind::config, "recall options: the IoU threshold is NaN");
}

/// Report label of a k: "1", "5", ... or "upper_bound" for k_all.
inline std::string k_label(int k) { return k == k_all ? "upper_bound" : std::to_string(k); }

/// What the reference rule says about one phrase.
struct phrase_hits {
  std::uint32_t mask = 0;   ///< bit i set: hit at ks[i]
  bool has_nan = false;     ///< a NaN IoU occurred in the rows looked at for some k
  bool empty_list = false;  ///< no candidate box (the reference would crash)
};

/// The ks of recall_options in the order the rows are scanned (increasing row count), computed
/// once per evaluation so the per-phrase work does no sorting.
struct k_plan {
  struct step {
    int k;              ///< the k (k_all for all rows)
    std::uint32_t bit;  ///< its position in recall_options::ks
  };
  std::vector<step> steps;  ///< finite ks ascending, then k_all

  explicit k_plan(std::span<const int> ks) {
    for (std::size_t i = 0; i < ks.size() && i < 32; ++i)
      steps.push_back({ks[i], static_cast<std::uint32_t>(i)});
    std::stable_sort(steps.begin(), steps.end(), [](const step& a, const step& b) {
      const auto key = [](int k) { return k == k_all ? std::numeric_limits<long long>::max() : k; };
      return key(a.k) < key(b.k);
    });
  }
};

/// The reference decision for one phrase (see the header comment). `gt` must be non-empty for a
/// meaningful answer (an empty `gt` gives a miss). No allocation.
inline phrase_hits reference_phrase_hits(std::span<const scored_box> preds,
                                         std::span<const box_xyxy<double>> gt, gt_protocol protocol,
                                         const k_plan& plan, double threshold,
                                         match_criterion match = match_criterion::iou) noexcept {
  phrase_hits out;
  const std::size_t n = preds.size();
  if (n == 0 || gt.empty()) {
    out.empty_list = n == 0;
    return out;
  }
  box_xyxy<double> merged{};
  std::span<const box_xyxy<double>> g = gt;
  if (protocol == gt_protocol::merged_box) {
    merged = enclose(gt.data(), gt.size());
    g = std::span<const box_xyxy<double>>(&merged, 1);
  }
  // Running numpy max over the rows seen so far (NaN-propagating, tracked as a flag); rows are
  // scanned once, and the state is read off after each k's row count.
  double running = -std::numeric_limits<double>::infinity();
  bool nan_seen = false;
  std::size_t done = 0;
  bool gt_finite = true;
  for (const auto& gb : g)
    gt_finite = gt_finite && !detail::is_nan(gb.x1) && !detail::is_nan(gb.y1) &&
                !detail::is_nan(gb.x2) && !detail::is_nan(gb.y2);
  for (const auto& st : plan.steps) {
    const std::size_t rows = st.k == k_all ? n : std::min<std::size_t>(n, std::size_t(st.k));
    for (; done < rows; ++done) {
      const box_xyxy<double>& pb = preds[done].box;
      if (match == match_criterion::giou) {
        for (const auto& gb : g) {
          const double v = reference_giou(pb, gb);
          if (detail::is_nan(v))
            nan_seen = true;
          else if (v > running)
            running = v;
        }
      } else if (gt_finite && !detail::is_nan(pb.x1) && !detail::is_nan(pb.y1) &&
                 !detail::is_nan(pb.x2) && !detail::is_nan(pb.y2)) {
        // No NaN operand: numpy's NaN-propagating max/min reduce to these selections, so this
        // is reference_iou operation for operation (same values, fewer branches).
        const double area_a = (pb.x2 - pb.x1) * (pb.y2 - pb.y1);
        for (const auto& gb : g) {
          const double area_b = (gb.x2 - gb.x1) * (gb.y2 - gb.y1);
          const double ltx = pb.x1 >= gb.x1 ? pb.x1 : gb.x1, lty = pb.y1 >= gb.y1 ? pb.y1 : gb.y1;
          const double rbx = pb.x2 <= gb.x2 ? pb.x2 : gb.x2, rby = pb.y2 <= gb.y2 ? pb.y2 : gb.y2;
          const double w = detail::np_clip0(rbx - ltx), h = detail::np_clip0(rby - lty);
          const double inter = w * h;
          const double v = inter / (area_a + area_b - inter);
          nan_seen = nan_seen || detail::is_nan(v);
          running = v > running ? v : running;
        }
      } else {
        for (const auto& gb : g) {
          const double v = reference_iou(pb, gb);
          if (detail::is_nan(v))
            nan_seen = true;
          else if (v > running)
            running = v;
        }
      }
    }
    if (nan_seen) {
      out.has_nan = true;
      continue;  // numpy max is NaN; NaN >= threshold is false
    }
    if (running >= threshold) out.mask |= (std::uint32_t{1} << st.bit);
  }
  return out;
}

/// Convenience overload planning `ks` on the fly.
inline phrase_hits reference_phrase_hits(std::span<const scored_box> preds,
                                         std::span<const box_xyxy<double>> gt, gt_protocol protocol,
                                         std::span<const int> ks, double threshold) {
  return reference_phrase_hits(preds, gt, protocol, k_plan(ks), threshold);
}

/// Hits and totals of one category, per k (same order as recall_options::ks).
struct recall_counts {
  std::uint64_t total = 0;
  std::vector<std::uint64_t> hits;
};

/// The result of Recall@k: counts per category ("all" plus each phrase type).
struct recall_table {
  std::vector<int> ks;
  gt_protocol protocol = gt_protocol::any_box;
  double iou_threshold = 0.5;
  match_criterion match = match_criterion::iou;
  std::map<std::string, recall_counts, std::less<>> categories;  ///< sorted by name
  std::uint64_t nan_phrases = 0;  ///< phrases with a NaN IoU in the rows looked at
  std::uint64_t empty_lists = 0;  ///< phrases with no candidate box (counted as misses)

  /// Index of k in ks; throws error_kind::config when k was not tracked.
  std::size_t k_index(int k) const {
    for (std::size_t i = 0; i < ks.size(); ++i)
      if (ks[i] == k) return i;
    throw error(error_kind::config, "recall@" + k_label(k) + " was not tracked");
  }
  /// Recall (a fraction in [0, 1]) = hits / total, exactly as Python's int / int; NaN for an
  /// unknown category or a zero total.
  double recall(int k, std::string_view category = "all") const {
    const std::size_t i = k_index(k);
    auto it = categories.find(category);
    if (it == categories.end() || it->second.total == 0)
      return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>(it->second.hits[i]) / static_cast<double>(it->second.total);
  }
  /// Number of phrases counted under "all".
  std::uint64_t phrases() const {
    auto it = categories.find("all");
    return it == categories.end() ? 0 : it->second.total;
  }
};

/// Recall@k, a model of MeasuredMetric. Each phrase counts in "all" and in each of its types (a
/// type listed twice counts twice, as in the reference); a phrase without an answer is a miss.
class recall_at_k {
 public:
  using measurement = phrase_hits;

  explicit recall_at_k(recall_options opt = {})
      : m_opt(std::move(opt)), m_plan((validate(m_opt), m_opt.ks)) {
    m_table.ks = m_opt.ks;
    m_table.protocol = m_opt.protocol;
    m_table.iou_threshold = m_opt.iou_threshold;
    m_table.match = m_opt.match;
  }

  /// The reference decision for one phrase (no hit for a phrase without an answer).
  phrase_hits measure(const phrase_prediction& p, const phrase_truth& t) const noexcept {
    if (!p.answered) return {};
    return reference_phrase_hits(p.boxes, t.boxes, m_opt.protocol, m_plan, m_opt.iou_threshold,
                                 m_opt.match);
  }
  void add_measured(const phrase_hits& h, const phrase_truth& t) { add_hits(h, t.types); }
  /// Adds one phrase; returns the reference decision for it.
  phrase_hits add(const phrase_prediction& p, const phrase_truth& t) {
    const phrase_hits h = measure(p, t);
    add_measured(h, t);
    return h;
  }

  /// Adds a decision for a phrase of the given types (any range of string-like names).
  template <class TypeRange>
  void add_hits(const phrase_hits& h, const TypeRange& types) {
    if (!m_cache.all) m_cache.all = &slot("all");
    add_to(*m_cache.all, h.mask);
    for (const auto& ty : types) add_to(slot(std::string_view(ty)), h.mask);
    m_table.nan_phrases += h.has_nan ? 1 : 0;
    m_table.empty_lists += h.empty_list ? 1 : 0;
  }

  void merge(const recall_at_k& o) {
    if (o.m_opt.ks != m_opt.ks || o.m_opt.protocol != m_opt.protocol ||
        o.m_opt.match != m_opt.match || !(o.m_opt.iou_threshold == m_opt.iou_threshold))
      throw error(error_kind::config, "recall@k: cannot merge results computed with other options");
    for (const auto& [name, c] : o.m_table.categories) {
      recall_counts& mine = slot(name);
      mine.total += c.total;
      for (std::size_t i = 0; i < c.hits.size(); ++i) mine.hits[i] += c.hits[i];
    }
    m_table.nan_phrases += o.m_table.nan_phrases;
    m_table.empty_lists += o.m_table.empty_lists;
  }

  const recall_table& result() const noexcept { return m_table; }
  const recall_options& options() const noexcept { return m_opt; }
  const k_plan& plan() const noexcept { return m_plan; }
  std::string_view name() const noexcept { return "recall@k"; }

 private:
  /// The categories last looked up ("all", and the last type): consecutive phrases often share
  /// a type, and a map lookup is a few string comparisons (a third of `finish`'s time). They
  /// point into this object's map (its nodes stay put); a copy starts empty.
  struct category_cache {
    recall_counts* all = nullptr;
    std::string_view last_name;
    recall_counts* last = nullptr;

    category_cache() = default;
    category_cache(const category_cache&) noexcept {}
    category_cache& operator=(const category_cache&) noexcept {
      all = last = nullptr;
      last_name = {};
      return *this;
    }
  };

  recall_counts& slot(std::string_view cat) {
    if (m_cache.last && cat == m_cache.last_name) return *m_cache.last;
    auto it = m_table.categories.find(cat);
    if (it == m_table.categories.end()) {
      recall_counts c;
      c.hits.assign(m_opt.ks.size(), 0);
      it = m_table.categories.emplace(std::string(cat), std::move(c)).first;
    }
    m_cache.last_name = it->first;
    m_cache.last = &it->second;
    return it->second;
  }
  void add_to(recall_counts& c, std::uint32_t mask) {
    ++c.total;
    for (std::size_t i = 0; i < c.hits.size(); ++i) c.hits[i] += (mask >> i) & 1u;
  }

  recall_options m_opt;
  k_plan m_plan;
  recall_table m_table;
  category_cache m_cache;
};

static_assert(MeasuredMetric<recall_at_k>);

}  // namespace groundeval
