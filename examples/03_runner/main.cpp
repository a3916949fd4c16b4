// SPDX-License-Identifier: Apache-2.0
// Example 03: a custom grounder through the runner: answers recorded in a run directory (crash-
// safe, resumable), then evaluated from it. Made-up data (examples/made_up_data.hpp).
#include "../made_up_data.hpp"

#include <groundeval/io/json/predictions.hpp>  // reads the run back (groundeval::json)
#include <groundeval/run/runner.hpp>

#include <cstdio>
#include <vector>

struct corner_grounder {  // a made-up model: "it is in the top-left quarter"
  std::string_view name() const { return "corner"; }
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request& r) const {
    const double w = r.image.size.width, h = r.image.size.height;
    std::vector<groundeval::query_result> out(r.queries.size());
    for (auto& a : out) a.boxes = {{{0, 0, w / 2, h / 2}, 1.0}};
    return out;
  }
};

int main(int argc, char** argv) {
  using namespace groundeval;
  const in_memory_dataset data = made_up_data();
  corner_grounder g;
  run_options opt;
  opt.out = argc > 1 ? argv[1] : "example03-run";
  opt.start_over = true;
  opt.selection.limit = 1;  // the first sentence only, as if the run had been stopped there
  run_grounder(g, data, opt);
  opt.start_over = false;
  opt.selection.limit.reset();
  const run_result r = run_grounder(g, data, opt);  // resumes: only the rest is asked
  const evaluation_result e = evaluate_predictions_file(data, r.predictions.string());
  std::printf("%s: %llu queries resumed, %llu asked now; R@1 = %.2f\n", r.predictions.c_str(),
              static_cast<unsigned long long>(r.already),
              static_cast<unsigned long long>(r.recorded), e.recall.recall(1));
  return r.already == 1 && r.recorded == 2 && e.phrases == 3 ? 0 : 1;
}
