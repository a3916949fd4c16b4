// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/baselines.hpp — grounders that need no model, one row each in every
// comparison table: whole image, centre prior, seeded random, and the oracle upper bound of a
// proposal set. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/boxes/iou.hpp>
#include <groundeval/concepts/dataset.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <ranges>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace groundeval {

// ---- whole image -------------------------------------------------------------------------

/// Answers every phrase with the whole image [0, 0, W, H] (score 1).
struct whole_image_grounder {
  std::string_view name() const noexcept { return "whole-image"; }
  std::string describe() const { return "whole-image"; }
  std::vector<query_result> ground(const grounding_request& r) const {
    const auto& sz = r.image.size;
    std::vector<query_result> out(r.queries.size());
    for (auto& q : out)
      q.boxes.push_back({box_xyxy<double>{0.0, 0.0, static_cast<double>(sz.width),
                                          static_cast<double>(sz.height)},
                         1.0});
    return out;
  }
};
static_assert(Grounder<whole_image_grounder>);
static_assert(DescribedGrounder<whole_image_grounder>);

// ---- centre prior ------------------------------------------------------------------------

/// Answers every phrase with one centred box covering `fraction` of the image width and of its
/// height: [W (1 - f) / 2, H (1 - f) / 2, W (1 + f) / 2, H (1 + f) / 2], score 1.
struct center_prior_grounder {
  double fraction = 0.5;  ///< in (0, 1]

  std::string_view name() const noexcept { return "center-prior"; }
  std::string describe() const { return "center-prior fraction=" + std::to_string(fraction); }
  std::vector<query_result> ground(const grounding_request& r) const {
    if (!(fraction > 0.0 && fraction <= 1.0))
      throw error(error_kind::config, "center-prior", 0,
                  "fraction must be in (0, 1], got " + std::to_string(fraction));
    const double w = r.image.size.width, h = r.image.size.height;
    const box_xyxy<double> b{w * (1.0 - fraction) / 2.0, h * (1.0 - fraction) / 2.0,
                             w * (1.0 + fraction) / 2.0, h * (1.0 + fraction) / 2.0};
    std::vector<query_result> out(r.queries.size());
    for (auto& q : out) q.boxes.push_back({b, 1.0});
    return out;
  }
};
static_assert(Grounder<center_prior_grounder>);
static_assert(DescribedGrounder<center_prior_grounder>);

// ---- seeded random -----------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014), written out so every platform draws the same numbers:
///   state += 0x9E3779B97F4A7C15; z = state;
///   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
///   return z ^ (z >> 31);
struct splitmix64_engine {
  std::uint64_t state = 0;
  constexpr std::uint64_t next() noexcept { return detail::splitmix64_next(state); }
  /// Uniform in [0, 1): the top 53 bits times 2^-53.
  constexpr double uniform() noexcept {
    return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  }
};

/// Answers each phrase with `boxes_per_query` uniformly random boxes. The stream of a query
/// depends only on (seed, image id, sentence, phrase span), never on the evaluation order:
///   g.state = seed; then for v in (fnv1a64(image id), fnv1a64(sentence), char_begin,
///   char_end): g.state = g.next() ^ v.
/// Each box draws x_a, x_b, y_a, y_b = W u, W u, H u, H u (u = g.uniform(), in this order) and
/// is [min(x_a, x_b), min(y_a, y_b), max(x_a, x_b), max(y_a, y_b)]; the k-th box (0-based) has
/// score 1 / (k + 1).
struct random_grounder {
  std::uint64_t seed = 0;
  std::size_t boxes_per_query = 1;

  std::string_view name() const noexcept { return "random"; }
  std::string describe() const {
    return "random seed=" + std::to_string(seed) + " boxes=" + std::to_string(boxes_per_query) +
           " prng=splitmix64";
  }
  /// The generator of one query (exposed for tests and reproductions in other languages).
  splitmix64_engine stream(std::string_view image_id, const phrase_query& q) const noexcept {
    splitmix64_engine g{seed};
    for (const std::uint64_t v :
         {detail::fnv1a64(image_id), detail::fnv1a64(q.sentence),
          static_cast<std::uint64_t>(q.char_begin), static_cast<std::uint64_t>(q.char_end)})
      g.state = g.next() ^ v;
    return g;
  }
  std::vector<query_result> ground(const grounding_request& r) const {
    const double w = r.image.size.width, h = r.image.size.height;
    std::vector<query_result> out(r.queries.size());
    for (std::size_t i = 0; i < r.queries.size(); ++i) {
      splitmix64_engine g = stream(r.image.id, r.queries[i]);
      for (std::size_t k = 0; k < boxes_per_query; ++k) {
        const double xa = w * g.uniform(), xb = w * g.uniform();
        const double ya = h * g.uniform(), yb = h * g.uniform();
        out[i].boxes.push_back({box_xyxy<double>{std::min(xa, xb), std::min(ya, yb),
                                                 std::max(xa, xb), std::max(ya, yb)},
                                1.0 / static_cast<double>(k + 1)});
      }
      if (out[i].boxes.empty()) out[i].status = query_status::empty;
    }
    return out;
  }
};
static_assert(Grounder<random_grounder>);
static_assert(DescribedGrounder<random_grounder>);

// ---- oracle over proposals ---------------------------------------------------------------

/// The upper bound of a ranker over fixed proposals: for each phrase, every proposal of the
/// image ranked by its best IoU (groundeval::iou) with the phrase's ground truth, descending,
/// ties by proposal index; score = that IoU. With `merged`, the ground truth is the enclosing
/// box of the chain (MERGED protocol), else any box counts (ANY-box). A phrase that is not in
/// the ground truth gets status error; an image without proposals gets status empty.
class oracle_grounder {
 public:
  using proposal_map = std::unordered_map<std::string, std::vector<box_xyxy<double>>>;

  /// Indexes the ground truth of `data` by (image id, sentence, phrase span).
  template <Dataset D>
  oracle_grounder(const D& data, proposal_map proposals, bool merged = false)
      : m_proposals(std::move(proposals)), m_merged(merged) {
    for (const auto& s : data)
      for (const auto& p : s.phrases) {
        std::vector<box_xyxy<double>> gt(std::ranges::begin(p.boxes), std::ranges::end(p.boxes));
        if (merged && !gt.empty()) gt = {enclose(gt.data(), gt.size())};
        m_truth[key(s.image_id, s.sentence, p.char_begin, p.char_end)] = std::move(gt);
      }
  }

  std::string_view name() const noexcept { return "oracle"; }
  std::string describe() const {
    return std::string("oracle proposals=") + std::to_string(m_proposals.size()) +
           (m_merged ? " merged" : " any-box");
  }

  std::vector<query_result> ground(const grounding_request& r) const {
    std::vector<query_result> out(r.queries.size());
    const auto pit = m_proposals.find(std::string(r.image.id));
    for (std::size_t i = 0; i < r.queries.size(); ++i) {
      const phrase_query& q = r.queries[i];
      const auto tit = m_truth.find(key(r.image.id, q.sentence, q.char_begin, q.char_end));
      if (tit == m_truth.end()) {
        out[i].status = query_status::error;
        out[i].message = "oracle: no ground truth for image " + std::string(r.image.id) +
                         " phrase [" + std::to_string(q.char_begin) + ", " +
                         std::to_string(q.char_end) + ")";
        continue;
      }
      if (pit == m_proposals.end() || pit->second.empty()) {
        out[i].status = query_status::empty;
        continue;
      }
      const auto& props = pit->second;
      std::vector<double> best(props.size(), 0.0);
      for (std::size_t k = 0; k < props.size(); ++k)
        for (const auto& g : tit->second) best[k] = std::max(best[k], iou(props[k], g));
      std::vector<std::size_t> order(props.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return best[a] > best[b]; });
      for (const std::size_t k : order) out[i].boxes.push_back({props[k], best[k]});
    }
    return out;
  }

 private:
  static std::string key(std::string_view image, std::string_view sentence, std::size_t b,
                         std::size_t e) {
    std::string k(image);
    k += '\x1f';
    k += sentence;
    k += '\x1f' + std::to_string(b) + ':' + std::to_string(e);
    return k;
  }
  proposal_map m_proposals;
  std::unordered_map<std::string, std::vector<box_xyxy<double>>> m_truth;
  bool m_merged = false;
};
static_assert(Grounder<oracle_grounder>);
static_assert(DescribedGrounder<oracle_grounder>);

}  // namespace groundeval
