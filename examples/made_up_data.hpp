// SPDX-License-Identifier: Apache-2.0
// The two-sentence data set the examples run on: made up for illustration (not real annotations,
// no image files).
#pragma once

#include <groundeval/datasets/in_memory.hpp>

#include <utility>
#include <vector>

inline groundeval::in_memory_dataset made_up_data() {
  using namespace groundeval;
  std::vector<sample> samples(2);
  samples[0] = {"demo1", {640, 480}, 0, "A dog runs on the grass .", {}};
  samples[0].phrases.push_back({"A dog", "1", {"animals"}, {{200, 150, 420, 330}}, 0, 5, 0});
  samples[0].phrases.push_back({"the grass", "2", {"scene"}, {}, 13, 22, 4});  // no box
  samples[1] = {"demo2", {500, 500}, 0, "A man holds a red umbrella .", {}};
  samples[1].phrases.push_back({"A man", "3", {"people"}, {{20, 40, 140, 480}}, 0, 5, 0});
  samples[1].phrases.push_back(
      {"a red umbrella", "4", {"other"}, {{150, 100, 360, 380}}, 12, 26, 3});
  return in_memory_dataset("made-up demo", std::move(samples));
}
