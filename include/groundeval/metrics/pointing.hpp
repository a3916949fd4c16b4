// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/pointing.hpp — the pointing game, overall and per phrase type: a phrase is a
// hit when the answer's top point lies inside (edges inclusive) a ground-truth box of the phrase.
// The top point is the first point of a point answer (Molmo's <point>), else the centre of the
// top-1 box, so point-answer and box-answer models are scored on the same footing.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/boxes/convert.hpp>
#include <groundeval/concepts/metric.hpp>
#include <groundeval/metrics/recall.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>

namespace groundeval {

/// Where a phrase's top point came from.
enum class point_source : std::uint8_t {
  none,       ///< no point and no box (or no answer)
  point,      ///< the answer's first point
  box_center  ///< the centre of the answer's top-1 box (the answer has boxes)
};

/// The top point of an answer (see the header comment): boxes first — an answer with a box is
/// scored on its box — then the first point.
inline point_source top_point(const phrase_prediction& p, double& x, double& y) noexcept {
  if (!p.answered) return point_source::none;
  if (!p.boxes.empty()) {
    center(p.boxes.front().box, x, y);
    return point_source::box_center;
  }
  if (!p.points.empty()) {
    x = p.points.front().x;
    y = p.points.front().y;
    return point_source::point;
  }
  return point_source::none;
}

/// Whether (x, y) lies inside (edges inclusive) a ground-truth box under `protocol` (MERGED: the
/// enclosing box). A non-finite point is never inside.
inline bool point_in_truth(double x, double y, std::span<const box_xyxy<double>> gt,
                           gt_protocol protocol) noexcept {
  if (gt.empty() || !std::isfinite(x) || !std::isfinite(y)) return false;
  if (protocol == gt_protocol::merged_box) return contains(enclose(gt.data(), gt.size()), x, y);
  for (const auto& g : gt)
    if (contains(g, x, y)) return true;
  return false;
}

/// Counts of one category ("all" or a phrase type).
struct pointing_counts {
  std::uint64_t phrases = 0;        ///< evaluated phrases (answered or not)
  std::uint64_t hits = 0;           ///< top point inside a ground-truth box
  std::uint64_t point_answers = 0;  ///< phrases whose top point is a point of the answer
  std::uint64_t box_answers = 0;    ///< phrases whose top point is a box centre
  std::uint64_t point_hits = 0;     ///< hits among point_answers
  double accuracy() const {
    return phrases ? static_cast<double>(hits) / static_cast<double>(phrases)
                   : std::numeric_limits<double>::quiet_NaN();
  }
};

/// The pointing game's result: counts per category, sorted by name ("all" among them).
struct pointing_result {
  std::map<std::string, pointing_counts, std::less<>> categories;
  /// Accuracy of a category (NaN when unknown or empty).
  double accuracy(std::string_view category = "all") const {
    auto it = categories.find(category);
    return it == categories.end() ? std::numeric_limits<double>::quiet_NaN()
                                  : it->second.accuracy();
  }
  const pointing_counts* find(std::string_view category) const {
    auto it = categories.find(category);
    return it == categories.end() ? nullptr : &it->second;
  }
};

/// The pointing game, a model of MeasuredMetric. Each phrase counts in "all" and in each of its
/// types (as Recall@k does); a phrase without an answer, or whose answer has neither box nor
/// point, is a miss.
class pointing_game {
 public:
  struct measurement {
    point_source source = point_source::none;
    bool hit = false;
  };

  explicit pointing_game(gt_protocol protocol = gt_protocol::any_box) : m_protocol(protocol) {}

  measurement measure(const phrase_prediction& p, const phrase_truth& t) const noexcept {
    double x = 0, y = 0;
    const point_source s = top_point(p, x, y);
    return {s, s != point_source::none && point_in_truth(x, y, t.boxes, m_protocol)};
  }
  void add_measured(const measurement& m, const phrase_truth& t) {
    add_to("all", m);
    for (const auto& ty : t.types) add_to(std::string_view(ty), m);
  }
  void add(const phrase_prediction& p, const phrase_truth& t) { add_measured(measure(p, t), t); }
  void merge(const pointing_game& o) {
    if (o.m_protocol != m_protocol)
      throw error(error_kind::config, "pointing game: cannot merge results of another protocol");
    for (const auto& [name, c] : o.m_result.categories) {
      pointing_counts& mine = slot(name);
      mine.phrases += c.phrases;
      mine.hits += c.hits;
      mine.point_answers += c.point_answers;
      mine.box_answers += c.box_answers;
      mine.point_hits += c.point_hits;
    }
  }
  const pointing_result& result() const noexcept { return m_result; }
  std::string_view name() const noexcept { return "pointing_game"; }
  gt_protocol protocol() const noexcept { return m_protocol; }

 private:
  pointing_counts& slot(std::string_view cat) {
    auto it = m_result.categories.find(cat);
    if (it == m_result.categories.end())
      it = m_result.categories.emplace(std::string(cat), pointing_counts{}).first;
    return it->second;
  }
  void add_to(std::string_view cat, const measurement& m) {
    pointing_counts& c = slot(cat);
    ++c.phrases;
    c.hits += m.hit ? 1 : 0;
    c.point_answers += m.source == point_source::point ? 1 : 0;
    c.box_answers += m.source == point_source::box_center ? 1 : 0;
    c.point_hits += m.source == point_source::point && m.hit ? 1 : 0;
  }

  gt_protocol m_protocol;
  pointing_result m_result;
};

static_assert(MeasuredMetric<pointing_game>);

}  // namespace groundeval
