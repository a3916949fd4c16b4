// SPDX-License-Identifier: Apache-2.0
// Example 02: batched IoU on the CPU — a pairwise matrix into your own buffer, and the fused
// "best ground truth for each prediction" that never builds the matrix. Boxes are made up.
#include <groundeval/boxes/batched.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using groundeval::box_xyxy;
  const std::vector<box_xyxy<float>> predictions{{10, 10, 50, 50}, {60, 20, 90, 80}, {0, 0, 5, 5}};
  const std::vector<box_xyxy<float>> truth{{12, 8, 48, 52}, {55, 25, 95, 75}};

  std::vector<float> matrix(predictions.size() * truth.size());
  groundeval::pairwise_iou<float>(predictions, truth, matrix);
  for (std::size_t i = 0; i < predictions.size(); ++i)
    std::printf("prediction %zu: IoU %.3f %.3f\n", i, matrix[i * 2], matrix[i * 2 + 1]);

  std::vector<float> best(predictions.size());
  std::vector<std::int64_t> which(predictions.size());
  groundeval::max_iou_per_row<float>(predictions, truth, best, which);
  for (std::size_t i = 0; i < predictions.size(); ++i)
    std::printf("prediction %zu: best ground truth %lld (IoU %.3f)\n", i,
                static_cast<long long>(which[i]), best[i]);
  return which[0] == 0 && which[1] == 1 ? 0 : 1;
}
