// SPDX-License-Identifier: Apache-2.0
// groundeval demo — the whole main job offline in seconds on six real photographs (scikit-image's
// sample images from the Debian package python3-skimage, public domain / CC0) with hand-written
// Flickr30k Entities-format annotations (data/demo-photos/README.md): the baseline grounders and a
// replay of SYNTHETIC predictions run with `groundeval run`, then `groundeval report`. Part of the
// groundeval_cli target.
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/error.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace groundeval::cli {

namespace detail_demo {

inline constexpr const char* usage =
    "usage: groundeval demo [--out DIR] [--data DIR]\n"
    "\n"
    "Runs the baseline grounders (whole-image, center, random) and a replay of SYNTHETIC\n"
    "predictions over the bundled demo photographs and writes the comparison report to\n"
    "DIR/report/index.html (default DIR: ./groundeval-demo). Offline, a few seconds.\n"
    "  --out DIR   output folder: photos/ (a copy of the data set), synthetic-replay.jsonl,\n"
    "              runs/<name>/, report/\n"
    "  --data DIR  the data set (default: groundeval's data/demo-photos): six real photographs\n"
    "              from scikit-image (public domain / CC0) with a few dozen phrases and boxes\n"
    "              written by hand in the Flickr30k Entities format; not Flickr30k Entities.\n"
    "No number the demo prints is a real model's: the grounders are baselines, and the replayed\n"
    "predictions are the ground truth perturbed at random by the demo itself.\n";

/// SplitMix64 (fixed seed, so the demo prints the same numbers everywhere).
struct demo_rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

inline constexpr const char* synthetic_note =
    "SYNTHETIC: the ground truth perturbed at random by `groundeval demo`; not a model's answer";

/// Writes SYNTHETIC predictions for every evaluable phrase of `data`, 5 ranked boxes each: a
/// ground-truth box of the phrase, shifted and rescaled by a random amount (small for about
/// half the phrases, large for the rest), then four boxes at random places. What a replayed
/// predictions file looks like, with numbers between the baselines and a perfect grounder.
inline std::size_t write_synthetic_predictions(const in_memory_dataset& data,
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

inline int run(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::string out = "groundeval-demo", src;
  for (arg_reader a("demo", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (a.is("--out")) {
      out = a.value();
    } else if (a.is("--data")) {
      src = a.value();
    } else {
      a.unknown(usage);
    }
  }
  if (src.empty()) src = (fs::path(default_data_dir()) / "demo-photos").string();
  if (!fs::exists(fs::path(src) / "Annotations") || !fs::exists(fs::path(src) / "Sentences"))
    throw error(error_kind::io, src, 0,
                "the demo data set is missing (expected Annotations/ and Sentences/; it is "
                "data/demo-photos in the source tree, share/groundeval/demo-photos when "
                "installed); pass --data DIR");
  const fs::path dir(out);
  const fs::path data = dir / "photos";
  fs::create_directories(dir);
  fs::remove_all(data);
  fs::copy(src, data, fs::copy_options::recursive);
  const std::string spec = "flickr30k:" + data.string();
  const loaded_dataset ds = load_dataset_spec(spec, "test");
  std::size_t phrases = 0, images = 0;
  std::string last_image;
  for (const sample& s : ds.dataset) {
    if (images == 0 || s.image_id != last_image) ++images;
    last_image = s.image_id;
    for (const auto& p : s.phrases) phrases += p.boxes.empty() ? 0 : 1;
  }
  std::printf(
      "demo: %zu real photographs (scikit-image sample images, public domain / CC0), %zu "
      "sentences,\n      %zu phrases with boxes, annotated by hand for this demo (not Flickr30k "
      "Entities): %s\n",
      images, ds.dataset.size(), phrases, data.c_str());
  const fs::path replay = dir / "synthetic-replay.jsonl";
  const std::size_t n = write_synthetic_predictions(ds.dataset, replay);
  std::printf("demo: wrote %zu SYNTHETIC predictions (ground truth perturbed at random) to %s\n", n,
              replay.c_str());
  const std::vector<std::pair<std::string, std::string>> runs{
      {"whole-image", "whole-image"},
      {"center", "center:0.5"},
      {"random", "random:7?boxes=10"},
      {"synthetic-replay", "predictions:" + replay.string()}};
  std::vector<std::string> report_args;
  for (const auto& [name, g] : runs) {
    const std::string rd = (dir / "runs" / name).string();
    std::printf("demo: groundeval run --grounder %s --out %s\n", g.c_str(), rd.c_str());
    const int rc = call_command("run", {"--dataset", spec, "--split", "test", "--grounder", g,
                                        "--out", rd, "--start-over", "--quiet"});
    if (rc != 0) return rc;
    report_args.push_back(rd);
  }
  const fs::path report = dir / "report";
  fs::remove_all(report);
  report_args.insert(
      report_args.end(),
      {"--out", report.string(), "--title",
       "groundeval demo: baselines and a SYNTHETIC replay on 6 hand-annotated photographs",
       "--note",
       "the run synthetic-replay replays SYNTHETIC predictions (the ground truth perturbed at "
       "random by groundeval demo), and the other runs are baselines: no number here is a real "
       "model's result. The photographs are scikit-image sample images (public domain / CC0) "
       "with annotations written by hand for the demo (data/demo-photos/README.md)"});
  std::printf("demo: groundeval report ... --out %s\n\n", report.c_str());
  const int rc = call_command("report", report_args);
  std::printf(
      "\nThe grounders are baselines plus a replay of SYNTHETIC predictions: no number above is "
      "a real model's.\nOpen %s in a browser.\n",
      (report / "index.html").c_str());
  return rc;
}

}  // namespace detail_demo

namespace {
const bool registered = register_command(
    {"demo", "run the baselines on the bundled demo photographs and write the report (offline)",
     detail_demo::run});
}  // namespace

}  // namespace groundeval::cli
