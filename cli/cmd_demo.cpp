// SPDX-License-Identifier: Apache-2.0
// groundeval demo — the whole main job offline in seconds on six real photographs (scikit-image's
// sample images from the Debian package python3-skimage, public domain / CC0) with hand-written
// Flickr30k Entities-format annotations (data/demo-photos/README.md): the baseline grounders and a
// replay of SYNTHETIC predictions run with `groundeval run`, then `groundeval report`. Part of the
// groundeval_cli target.
#include "command.hpp"
#include "dataset_spec.hpp"
#include "demo_predictions.hpp"

#include <groundeval/error.hpp>
#include <groundeval/run/lock.hpp>

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
    "              runs/<name>/, report/; new, empty, or an earlier demo's (marked by its\n"
    "              .groundeval-demo file), which the demo then replaces. Nothing else is\n"
    "              deleted: another non-empty folder is refused.\n"
    "  --data DIR  the data set (default: groundeval's data/demo-photos): six real photographs\n"
    "              from scikit-image (public domain / CC0) with a few dozen phrases and boxes\n"
    "              written by hand in the Flickr30k Entities format; not Flickr30k Entities.\n"
    "No number the demo prints is a real model's: the grounders are baselines, and the replayed\n"
    "predictions are the ground truth perturbed at random by the demo itself.\n";

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
  std::string cmd = "groundeval demo";
  for (const auto& a : args) cmd += " " + a;
  const dir_lock lock = claim_output_directory(dir, ".groundeval-demo", "groundeval demo", cmd);
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
