// SPDX-License-Identifier: Apache-2.0
// cli/demo_predictions.cpp — the SYNTHETIC predictions `groundeval demo` replays: the ground
// truth perturbed at random with a fixed seed. Part of the CLI library.
#include "demo_predictions.hpp"

#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>

namespace groundeval::cli {

namespace {

/// SplitMix64 with a fixed seed, so the demo prints the same numbers everywhere.
struct demo_rng {
  std::uint64_t state;
  std::uint64_t next() { return groundeval::detail::splitmix64_next(state); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

}  // namespace

constexpr const char* synthetic_note =
    "SYNTHETIC: the ground truth perturbed at random by `groundeval demo`; not a model's answer";

/// Writes SYNTHETIC predictions for every evaluable phrase of `data`, 5 ranked boxes each: a
/// ground-truth box of the phrase, shifted and rescaled by a random amount (small for about
/// half the phrases, large for the rest), then four boxes at random places. What a replayed
/// predictions file looks like, with numbers between the baselines and a perfect grounder.
std::size_t write_synthetic_predictions(const in_memory_dataset& data,
                                        const std::filesystem::path& file) {
  std::ofstream f(file, std::ios::binary);
  if (!f) throw error(error_kind::io, file.string(), 0, "cannot write");
  demo_rng rng{20240601};
  std::size_t n = 0;
  for (const sample& s : data) {
    const double w = s.size.width, h = s.size.height;
    for (std::size_t k = 0; k < s.phrases.size(); ++k) {
      const phrase& p = s.phrases[k];
      if (p.boxes.empty()) continue;
      phrase_prediction_record r;
      r.image_id = s.image_id;
      r.sentence_id = s.sentence_index;
      r.phrase_index = k;
      r.chain_id = p.chain_id;
      r.phrase = p.text;
      r.result.raw_text = synthetic_note;
      r.config_hash = "synthetic";
      const auto& g = p.boxes[static_cast<std::size_t>(rng.next() % p.boxes.size())];
      const double noise = rng.uniform() < 0.5 ? 0.12 : 0.7;
      const double gw = g.x2 - g.x1, gh = g.y2 - g.y1;
      auto jitter = [&](double v, double scale) {
        return v + (2 * rng.uniform() - 1) * noise * scale;
      };
      box_xyxy<double> b{jitter(g.x1, gw), jitter(g.y1, gh), jitter(g.x2, gw), jitter(g.y2, gh)};
      b = {std::clamp(std::min(b.x1, b.x2), 0.0, w), std::clamp(std::min(b.y1, b.y2), 0.0, h),
           std::clamp(std::max(b.x1, b.x2), 0.0, w), std::clamp(std::max(b.y1, b.y2), 0.0, h)};
      r.result.boxes.push_back({b, 0.9});
      for (int j = 0; j < 4; ++j) {
        const double bw = (0.1 + 0.5 * rng.uniform()) * w, bh = (0.1 + 0.5 * rng.uniform()) * h;
        const double x = rng.uniform() * (w - bw), y = rng.uniform() * (h - bh);
        r.result.boxes.push_back({{x, y, x + bw, y + bh}, 0.5 - 0.1 * j});
      }
      write_jsonl_record(f, r);
      ++n;
    }
  }
  if (!f) throw error(error_kind::io, file.string(), 0, "write error");
  return n;
}

}  // namespace groundeval::cli
