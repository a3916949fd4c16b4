// SPDX-License-Identifier: Apache-2.0
// Example 01: write a grounder adapter in a few lines and evaluate it on a data set.
// The data set is made up (examples/made_up_data.hpp) and the "model" is the centre prior: a box
// of fixed relative size at the image centre.
#include "../made_up_data.hpp"

#include <groundeval/groundeval.hpp>

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
  const in_memory_dataset data = made_up_data();
  center_grounder model;
  const prediction_set answers = predict(model, data);  // one request per sentence, in memory
  const evaluation_result r = evaluate(data, answers);  // MDETR-exact Recall@k and the rest
  std::fputs(format_report_table(r).c_str(), stdout);
  return r.phrases == 3 ? 0 : 1;
}
