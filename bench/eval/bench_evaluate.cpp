// SPDX-License-Identifier: Apache-2.0
// bench_evaluate — the evaluate step (predictions already in memory, data set loaded) on a full
// test split with 10 boxes per phrase, side by side with MDETR's reference evaluator.
//
// Data: set GROUNDEVAL_BENCH_FLICKR=DIR (a Flickr30k Entities-format folder, e.g. the output of
// scripts/generate_flickr30k.py) and GROUNDEVAL_BENCH_PREDICTIONS=FILE (MDETR JSON, e.g. from
// scripts/generate_predictions.py). Without them a synthetic in-memory split of the same size is
// built (1,000 images x 5 sentences x 3 evaluable phrases, 10 boxes each; seeded).
// Reference: set GROUNDEVAL_MDETR_FLICKR_EVAL=PATH/TO/flickr_eval.py (needs python3 + numpy and
// the file data above); BM_reference_mdetr then runs scripts/reference_eval.py once and reports
// the reference's evaluate() time as its manual time, so both rows come from the same run.
// Reading predictions files (bytes per second of file): BM_read_predictions/<format>/<threads>
// is the fast reader (format 0 = the MDETR JSON of GROUNDEVAL_BENCH_PREDICTIONS, 1 = the JSON
// Lines of GROUNDEVAL_BENCH_PREDICTIONS_JSONL, e.g. from generate_predictions.py --format jsonl;
// threads 0 = all), BM_read_predictions_reference/<format> the reference parser on nlohmann/json
// (what groundeval used before), BM_evaluate_file/<format> the whole streamed read + evaluate.
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/metrics/paired.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace groundeval;

const char* env(const char* n) {
  const char* v = std::getenv(n);
  return v && *v ? v : nullptr;
}

struct bench_data {
  in_memory_dataset data;
  prediction_set preds;
  std::string origin;
};

bench_data synthetic() {
  bench_data b;
  b.origin = "synthetic in-memory split";
  pcg32 rng(2024);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * (rng.next() / 4294967296.0); };
  std::vector<sample> samples;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = std::to_string(1000000 + i);
    std::vector<std::vector<box_xyxy<double>>> chains;
    for (int c = 0; c < 6; ++c) {
      std::vector<box_xyxy<double>> boxes;
      const int nb = 1 + static_cast<int>(rng.below(3)) / 2;
      for (int k = 0; k < nb; ++k) {
        const double x = std::floor(u(1, 400)), y = std::floor(u(1, 300));
        boxes.push_back({x, y, x + std::floor(u(5, 100)), y + std::floor(u(5, 100))});
      }
      chains.push_back(boxes);
    }
    static const char* types[] = {"people", "clothing", "other", "scene", "animals"};
    for (int s = 0; s < 5; ++s) {
      sample smp;
      smp.image_id = id;
      smp.sentence_index = s;
      smp.size = {500, 400};
      sentence_prediction sp;
      sp.image_id = id;
      sp.sentence_id = std::to_string(s);
      for (int p = 0; p < 3; ++p) {
        phrase ph;
        const auto c = rng.below(6);
        ph.chain_id = std::to_string(c + 1);
        ph.types = {types[rng.below(5)]};
        ph.boxes = chains[c];
        std::vector<scored_box> list;
        for (int k = 0; k < 10; ++k) {
          const auto& g = ph.boxes[rng.below(static_cast<std::uint32_t>(ph.boxes.size()))];
          const double j = u(0, 20);
          list.push_back({{g.x1 + u(-j, j), g.y1 + u(-j, j), g.x2 + u(-j, j), g.y2 + u(-j, j)},
                          1.0 - k * 0.05});
        }
        sp.boxes.push_back(std::move(list));
        smp.phrases.push_back(std::move(ph));
      }
      samples.push_back(std::move(smp));
      b.preds.sentences.push_back(std::move(sp));
    }
  }
  b.data = in_memory_dataset("synthetic", std::move(samples));
  return b;
}

const bench_data& data() {
  static const bench_data d = [] {
    const char* dir = env("GROUNDEVAL_BENCH_FLICKR");
    const char* preds = env("GROUNDEVAL_BENCH_PREDICTIONS");
    if (!dir || !preds) return synthetic();
    bench_data b;
    flickr30k_options o;
    o.root = dir;
    o.split = "test";
    b.data = load_flickr30k_entities(o);
    b.preds = read_predictions(preds);
    b.origin = std::string(dir) + " + " + preds;
    return b;
  }();
  return d;
}

void run_evaluate(benchmark::State& st, gt_protocol proto) {
  const auto& d = data();
  evaluation_options o;
  o.protocol = proto;
  o.threads = static_cast<unsigned>(st.range(0));
  std::size_t phrases = 0;
  for (auto _ : st) {
    auto r = evaluate(d.data, d.preds, o);
    phrases = r.phrases;
    benchmark::DoNotOptimize(r);
  }
  st.counters["phrases"] = static_cast<double>(phrases);
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * phrases));
  st.SetLabel(d.origin);
}

void BM_evaluate_any(benchmark::State& st) { run_evaluate(st, gt_protocol::any_box); }
void BM_evaluate_merged(benchmark::State& st) { run_evaluate(st, gt_protocol::merged_box); }
// Argument: threads (1 = serial; 2 = both cores of the reference machine).
BENCHMARK(BM_evaluate_any)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_evaluate_merged)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond);

// MDETR's evaluator, timed inside Python by scripts/reference_eval.py (evaluate() only, ANY-box,
// best of 3), reported as manual time so the ratio to BM_evaluate_any is read off one output.
void BM_reference_mdetr(benchmark::State& st) {
  const char* ref = env("GROUNDEVAL_MDETR_FLICKR_EVAL");
  const char* dir = env("GROUNDEVAL_BENCH_FLICKR");
  const char* preds = env("GROUNDEVAL_BENCH_PREDICTIONS");
  if (!ref || !dir || !preds) {
    st.SkipWithError(
        "set GROUNDEVAL_MDETR_FLICKR_EVAL, GROUNDEVAL_BENCH_FLICKR, GROUNDEVAL_BENCH_PREDICTIONS");
    for (auto _ : st) {
    }
    return;
  }
  const std::string out = std::string(P_tmpdir) + "/groundeval_bench_reference.json";
  const std::string cmd = std::string("python3 ") + GROUNDEVAL_SOURCE_DIR +
                          "/scripts/reference_eval.py --flickr-eval '" + ref + "' --flickr '" +
                          dir + "' --predictions '" + preds +
                          "' --protocol any --repeat 3 --out '" + out + "' 2>/dev/null";
  double best = -1;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out);
    std::stringstream ss;
    ss << f.rdbuf();
    const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!j.is_discarded())
      for (const auto& t : j["results"]["any"]["timing_s"]["evaluate"])
        if (best < 0 || t.get<double>() < best) best = t.get<double>();
  }
  if (best < 0) {
    st.SkipWithError("scripts/reference_eval.py failed");
    for (auto _ : st) {
    }
    return;
  }
  for (auto _ : st) st.SetIterationTime(best);
}
BENCHMARK(BM_reference_mdetr)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

/// The predictions file of `format` (0 MDETR JSON, 1 JSON Lines), or nullptr (skips `st`).
const char* predictions_file(benchmark::State& st, std::int64_t format) {
  const char* var =
      format == 0 ? "GROUNDEVAL_BENCH_PREDICTIONS" : "GROUNDEVAL_BENCH_PREDICTIONS_JSONL";
  const char* path = env(var);
  if (!path) {
    st.SkipWithError((std::string("set ") + var).c_str());
    for (auto _ : st) {
    }
  }
  return path;
}

void set_bytes(benchmark::State& st, const char* path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(f.tellg()));
  st.SetLabel(path);
}

void BM_read_predictions(benchmark::State& st) {
  const char* path = predictions_file(st, st.range(0));
  if (!path) return;
  predictions_read_options o;
  o.threads = static_cast<unsigned>(st.range(1));
  for (auto _ : st) {
    auto p = read_predictions(path, o);
    benchmark::DoNotOptimize(p);
  }
  set_bytes(st, path);
}
// Args: format (0 MDETR JSON, 1 JSON Lines), threads (0 = all).
BENCHMARK(BM_read_predictions)
    ->ArgsProduct({{0, 1}, {1, 0}})
    ->ArgNames({"format", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_read_predictions_reference(benchmark::State& st) {
  const char* path = predictions_file(st, st.range(0));
  if (!path) return;
  namespace ref = groundeval::detail::reference_predictions;
  for (auto _ : st) {
    const std::string text = groundeval::detail::read_text_file(path);
    prediction_set p;
    if (st.range(0) == 0) {
      p = ref::parse_mdetr_predictions(text, path, {});
    } else {
      std::istringstream in(text);
      std::string line;
      for (std::size_t n = 1; std::getline(in, line); ++n)
        if (line.find_first_not_of(" \t\r") != std::string::npos)
          p.phrases.push_back(ref::parse_jsonl_record(line, path, n, {}));
    }
    benchmark::DoNotOptimize(p);
  }
  set_bytes(st, path);
}
BENCHMARK(BM_read_predictions_reference)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("format")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_evaluate_file(benchmark::State& st) {
  const char* path = predictions_file(st, st.range(0));
  if (!path) return;
  const auto& d = data();
  evaluation_options o;
  o.count_missing_as_miss = true;
  for (auto _ : st) {
    auto r = evaluate_predictions_file(d.data, path, o);
    benchmark::DoNotOptimize(r);
  }
  set_bytes(st, path);
}
BENCHMARK(BM_evaluate_file)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("format")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
