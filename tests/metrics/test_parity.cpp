// SPDX-License-Identifier: Apache-2.0
// Parity with MDETR's reference evaluator: regenerates the synthetic data set and predictions
// recorded in data/parity_reference.json (python3 scripts/generate_flickr30k.py and
// scripts/generate_predictions.py, fixed seeds), evaluates them with both protocols and both
// predictions layouts, and requires every recorded fraction to be bit-identical.
// The "full" case (the whole test split) runs only when GROUNDEVAL_PARITY_FULL=1.
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace groundeval;

namespace {

nlohmann::json load_reference() {
  std::ifstream f(std::string(GROUNDEVAL_SOURCE_DIR) + "/tests/metrics/data/parity_reference.json");
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

bool have_python() { return std::system("python3 -c 'import sys' > /dev/null 2>&1") == 0; }

void run(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

void check_against(const evaluation_result& ours, const nlohmann::json& ref,
                   const std::string& what) {
  INFO(what);
  // A different data set (e.g. the generator changed) shows up here first: re-record then.
  REQUIRE(ours.phrases == ref["phrases"].get<std::uint64_t>());
  REQUIRE(ours.sentences == ref["sentences"].get<std::uint64_t>());
  std::size_t compared = 0;
  for (const auto& [klabel, cats] : ref["recall_at"].items()) {
    const int k = klabel == "upper_bound" ? k_all : std::stoi(klabel);
    CHECK(cats.size() == ours.recall.categories.size());
    for (const auto& [cat, value] : cats.items()) {
      INFO("R@" << klabel << " " << cat);
      const double expected = value.get<double>();
      const double got = ours.recall.recall(k, cat);
      CHECK(got == expected);  // bit-identical, not approximately equal
      ++compared;
    }
  }
  CHECK(compared >= 4 * 9);
}

}  // namespace

TEST_CASE("parity with MDETR flickr_eval.py on generated data (both protocols, both layouts)",
          "[parity]") {
  if (!have_python()) {
    WARN("python3 not found: the parity test needs it to regenerate the recorded inputs");
    return;
  }
  const std::string src = GROUNDEVAL_SOURCE_DIR;
  const auto ref = load_reference();
  const char* full_env = std::getenv("GROUNDEVAL_PARITY_FULL");
  const bool full = full_env && std::string(full_env) == "1";
  for (const auto& c : ref["cases"]) {
    if (!c["in_default_suite"].get<bool>() && !full) continue;
    const std::string name = c["name"].get<std::string>();
    SECTION(name) {
      const auto dir = std::filesystem::temp_directory_path() /
                       ("groundeval_parity_" + name + "_" + std::to_string(::getpid()));
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      const std::string data = (dir / "data").string();
      const std::string pj = (dir / "pred.json").string(), pl = (dir / "pred.jsonl").string();
      run("python3 '" + src + "/scripts/generate_flickr30k.py' '" + data + "' --scale " +
          std::to_string(c["scale"].get<double>()) + " --seed " +
          std::to_string(c["dataset_seed"].get<long long>()) + " > /dev/null 2>&1");
      for (const auto& [fmt, path] :
           {std::pair<std::string, std::string>{"mdetr", pj}, {"jsonl", pl}})
        run("python3 '" + src + "/scripts/generate_predictions.py' --flickr '" + data +
            "' --split test --format " + fmt + " --out '" + path + "' --boxes " +
            std::to_string(c["boxes_per_phrase"].get<int>()) + " --seed " +
            std::to_string(c["predictions_seed"].get<long long>()) + " 2> /dev/null");
      flickr30k_options o;
      o.root = data;
      o.split = c["split"].get<std::string>();
      const auto ds = load_flickr30k_entities(o);
      const auto preds_mdetr = read_predictions(pj);
      const auto preds_jsonl = read_predictions(pl);
      REQUIRE(!preds_mdetr.sentences.empty());
      REQUIRE(!preds_jsonl.phrases.empty());
      for (const auto& proto : {gt_protocol::any_box, gt_protocol::merged_box}) {
        evaluation_options eo;
        eo.protocol = proto;
        const auto& r = c["results"][std::string(to_string(proto))];
        const auto a = evaluate(ds, preds_mdetr, eo);
        check_against(a, r, name + " / " + std::string(to_string(proto)) + " / MDETR JSON");
        // The reference prints one warning per duplicate or unknown entry; we count them.
        CHECK(a.warnings.duplicate_sentences + a.warnings.unknown_images +
                  a.warnings.unknown_sentences + a.warnings.unexpected_sentences ==
              r["warnings"].get<std::uint64_t>());
        CHECK(a.recall.nan_phrases > 0);  // the generated traps are really exercised
        const auto b = evaluate(ds, preds_jsonl, eo);
        check_against(b, r, name + " / " + std::string(to_string(proto)) + " / JSON Lines");
      }
      std::filesystem::remove_all(dir);
    }
  }
}
