// SPDX-License-Identifier: Apache-2.0
// Example 01: write a grounder adapter in a few lines and run it over a data set.
// The two-sentence data set below is made up for illustration (not real annotations), and the
// "model" is the centre-prior baseline: a box of fixed relative size at the image centre.
#include <groundeval/groundeval.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

// ---- the adapter: any type with ground() and name() is a Grounder -------------------------
struct center_grounder {
  double fraction = 0.5;  // box side relative to the image side
  std::string_view name() const { return "center"; }
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request& r) const {
    const double w = r.image.size.width, h = r.image.size.height;
    const groundeval::box_xyxy<double> box{w * (1 - fraction) / 2, h * (1 - fraction) / 2,
                                           w * (1 + fraction) / 2, h * (1 + fraction) / 2};
    std::vector<groundeval::query_result> out(r.queries.size());
    for (auto& res : out) res.boxes = {{box, 1.0}};
    return out;
  }
};
static_assert(groundeval::Grounder<center_grounder>);

int main() {
  using namespace groundeval;
  std::vector<sample> samples(2);
  samples[0] = {"demo1", {640, 480}, 0, "A dog runs on the grass .", {}};
  samples[0].phrases.push_back({"A dog", "1", {"animals"}, {{200, 150, 420, 330}}, 0, 5, 0});
  samples[0].phrases.push_back(
      {"the grass", "2", {"scene"}, {}, 13, 22, 4});  // no box: not evaluated
  samples[1] = {"demo2", {500, 500}, 0, "A man holds a red umbrella .", {}};
  samples[1].phrases.push_back({"A man", "3", {"people"}, {{20, 40, 140, 480}}, 0, 5, 0});
  samples[1].phrases.push_back(
      {"a red umbrella", "4", {"other"}, {{150, 100, 360, 380}}, 12, 26, 3});
  const in_memory_dataset data("made-up demo", std::move(samples));
  static_assert(Dataset<in_memory_dataset>);

  center_grounder model;
  int hits = 0, total = 0;
  for (const sample& s : data) {
    std::vector<phrase_query> queries;
    for (const phrase& p : s.phrases)
      queries.push_back({p.text, s.sentence, p.char_begin, p.char_end, queries.size()});
    const auto results = model.ground({{s.image_id, {}, s.size}, queries});
    for (std::size_t i = 0; i < s.phrases.size(); ++i) {
      const phrase& p = s.phrases[i];
      if (!is_evaluable(p)) continue;
      double best = 0;  // ANY-box protocol: the top box against every ground-truth box
      for (const auto& gt : p.boxes) best = std::max(best, iou(results[i].boxes.front().box, gt));
      std::printf("%-8s %-16s IoU %.3f %s\n", s.image_id.c_str(), p.text.c_str(), best,
                  iou_hit(best, 0.5) ? "hit" : "miss");
      hits += iou_hit(best, 0.5), ++total;
    }
  }
  std::printf("%s on %s: Recall@1 = %d/%d\n", std::string(model.name()).c_str(),
              data.name().c_str(), hits, total);
  return total == 3 ? 0 : 1;
}
