// SPDX-License-Identifier: Apache-2.0
// Example 05: a metric of your own next to the built-in ones: the mean number of boxes per
// answered phrase, computed by evaluate() and written into its JSON report under "metrics".
// Made-up data (examples/made_up_data.hpp), the random baseline with 3 boxes per phrase.
#include "../made_up_data.hpp"

#include <groundeval/groundeval.hpp>

#include <cstdio>

struct mean_boxes {  // add one phrase, merge a partial state, give the result, and a name
  long phrases = 0, boxes = 0;
  void add(const groundeval::phrase_prediction& p, const groundeval::phrase_truth&) {
    if (!p.answered) return;  // no answer in the run
    ++phrases;
    boxes += static_cast<long>(p.boxes.size());
  }
  void merge(const mean_boxes& o) { phrases += o.phrases, boxes += o.boxes; }
  double result() const { return phrases ? double(boxes) / double(phrases) : 0.0; }
  std::string_view name() const { return "mean_boxes"; }
};
static_assert(groundeval::Metric<mean_boxes>);

int main() {
  using namespace groundeval;
  const in_memory_dataset data = made_up_data();
  random_grounder g;
  g.boxes_per_query = 3;
  evaluation_options opt;
  opt.metrics.push_back(mean_boxes{});
  const evaluation_result r = evaluate(data, predict(g, data), opt);
  std::fputs(report_json(r).c_str(), stdout);  // ... "metrics": {"mean_boxes": 3}
  return r.metrics.at(0).target<mean_boxes>()->result() == 3.0 ? 0 : 1;
}
