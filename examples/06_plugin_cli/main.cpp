// SPDX-License-Identifier: Apache-2.0
// Example 06: a grounder of your own with the whole groundeval command line: run (with resume,
// shards, --grounder @FILE config files), merge, evaluate, report, ... exactly like the built-in
// kinds. `example_06_plugin_cli run --grounder 'corner:0.5' ...`. The model is made up.
#include <groundeval/cli/app.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

struct corner_grounder {  // the top-left FRACTION of the image; ?delay_ms=N slows it (tests)
  double fraction = 0.5;
  long delay_ms = 0;
  std::string_view name() const { return "corner"; }
  std::string describe() const { return "corner fraction=" + std::to_string(fraction); }
  std::size_t batch_size() const { return 1; }  // hand over one sentence at a time
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request& r) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    const double w = r.image.size.width * fraction, h = r.image.size.height * fraction;
    std::vector<groundeval::query_result> out(r.queries.size());
    for (auto& a : out) a.boxes = {{{0, 0, w, h}, 1.0}};
    return out;
  }
};

int main(int argc, char** argv) {
  auto kinds = groundeval::cli::builtin_grounders();
  kinds.add({.name = "corner",
             .usage = "  corner[:FRACTION][?delay_ms=N]   the top-left part of the image",
             .arg_key = "fraction",
             .keys = {"delay_ms"},
             .make = [](const groundeval::cli::grounder_spec& s, const auto&) {
               corner_grounder g;
               if (!s.arg.empty()) g.fraction = s.number("fraction", s.arg);
               if (auto v = s.param("delay_ms")) g.delay_ms = long(s.count("delay_ms", *v));
               return groundeval::any_grounder(g);
             }});
  return groundeval::cli::main(argc, argv, kinds);
}
