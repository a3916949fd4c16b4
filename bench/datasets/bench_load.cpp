// SPDX-License-Identifier: Apache-2.0
// Loading Flickr30k Entities: the full loader (all threads / one thread), its parts (file reads
// only = the I/O floor used as the in-run baseline, XML parse, sentence parse) and, when built
// with groundeval::json, the MDETR-format loader on the same split.
//
// Data: $GROUNDEVAL_BENCH_FLICKR_DIR (a Flickr30k Entities folder, real or generated), split
// $GROUNDEVAL_BENCH_SPLIT (default "all" = 31,783 images). Without the variable a synthetic set
// is generated once at /tmp/groundeval_bench_flickr30k with scripts/generate_flickr30k.py
// (full scale, ~30 s). See docs/datasets.md for the recorded numbers and the comparison with the
// reference Python parsers (scripts/bench_reference_parsers.py).
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/detail/parallel.hpp>
#if __has_include(<nlohmann/json.hpp>) && __has_include(<simdjson.h>)
#include <groundeval/datasets/json/mdetr.hpp>
#define GROUNDEVAL_BENCH_HAS_JSON 1
#endif

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

const std::string& data_dir() {
  static const std::string dir = [] {
    if (const char* d = std::getenv("GROUNDEVAL_BENCH_FLICKR_DIR")) return std::string(d);
    const std::string gen = "/tmp/groundeval_bench_flickr30k";
    if (!groundeval::detail::file_exists(gen + "/expected_stats.json")) {
      const std::string cmd = std::string(GROUNDEVAL_BENCH_PYTHON) + " " +
                              GROUNDEVAL_BENCH_SOURCE_DIR + "/scripts/generate_flickr30k.py " +
                              gen + " --scale 1.0";
      std::fprintf(stderr, "generating the benchmark data set: %s\n", cmd.c_str());
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "generation failed\n");
    }
    return gen;
  }();
  return dir;
}

std::string split() {
  const char* s = std::getenv("GROUNDEVAL_BENCH_SPLIT");
  return s ? s : "all";
}

groundeval::flickr30k_options options(unsigned threads, bool fast_xml = true) {
  groundeval::flickr30k_options o;
  o.fast_xml = fast_xml;
  o.root = data_dir();
  o.split = split();
  o.data_dir = std::string(GROUNDEVAL_BENCH_SOURCE_DIR) + "/data";
  o.threads = threads;
  return o;
}

const std::vector<std::string>& ids() {
  static const std::vector<std::string> v = [] {
    groundeval::problem_sink sink;
    return groundeval::resolve_flickr30k_image_ids(options(0), sink);
  }();
  return v;
}

void set_counters(benchmark::State& st, std::size_t sentences) {
  st.counters["images"] = static_cast<double>(ids().size());
  st.counters["sentences"] = static_cast<double>(sentences);
  st.counters["images_per_s"] = benchmark::Counter(static_cast<double>(ids().size()),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

/// Args: threads (0 = all), fast XML scanner (1) or TinyXML2 only (0). Freeing the data set is
/// not timed.
void BM_load_flickr30k(benchmark::State& st) {
  const auto o = options(static_cast<unsigned>(st.range(0)), st.range(1) != 0);
  std::size_t n = 0;
  for (auto _ : st) {
    auto ds = groundeval::load_flickr30k_entities(o);
    n = ds.size();
    benchmark::DoNotOptimize(ds);
    st.PauseTiming();
    ds = {};
    st.ResumeTiming();
  }
  set_counters(st, n);
}
BENCHMARK(BM_load_flickr30k)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// Baseline: read every Annotations and Sentences file into memory the way the loader does
/// (openat relative to the two folders, one read each; same threads).
void BM_read_files_only(benchmark::State& st) {
  const auto& v = ids();
  const auto o = options(static_cast<unsigned>(st.range(0)));
  groundeval::parallel_options po;
  po.threads = o.threads;
  po.min_work_per_thread = 64;
  using groundeval::detail::flickr30k_folder;
  const flickr30k_folder ann(o.root + "/Annotations"), sen(o.root + "/Sentences");
  for (auto _ : st) {
    std::vector<std::size_t> bytes(v.size());
    groundeval::detail::parallel_for(v.size(), 1, po, [&](std::size_t b, std::size_t e) {
      std::string_view buf;
      for (std::size_t i = b; i < e; ++i) {
        groundeval::detail::read_flickr30k_file(ann, v[i] + ".xml", {}, std::size_t(-1), buf);
        bytes[i] = buf.size();
        groundeval::detail::read_flickr30k_file(sen, v[i] + ".txt", {}, std::size_t(-1), buf);
        bytes[i] += buf.size();
      }
    });
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(st, 0);
}
BENCHMARK(BM_read_files_only)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Parsing only, one thread, files preloaded: TinyXML2 annotations vs. the sentence parser.
struct preloaded {
  std::vector<std::string> xml, txt;
  preloaded() {
    for (const auto& id : ids()) {
      std::string b;
      groundeval::detail::read_whole_file(data_dir() + "/Annotations/" + id + ".xml", b);
      xml.push_back(b);
      groundeval::detail::read_whole_file(data_dir() + "/Sentences/" + id + ".txt", b);
      txt.push_back(b);
    }
  }
};
const preloaded& files() {
  static const preloaded p;
  return p;
}

/// Arg: fast scanner (1) or TinyXML2 only (0).
void BM_parse_xml_only(benchmark::State& st) {
  const auto& f = files();
  const std::string name = "mem.xml";
  const bool fast = st.range(0) != 0;
  for (auto _ : st) {
    groundeval::problem_sink sink;
    std::size_t boxes = 0;
    for (const auto& x : f.xml)
      boxes += groundeval::parse_flickr30k_annotation(x, name, sink, fast).box_objects;
    benchmark::DoNotOptimize(boxes);
  }
  set_counters(st, 0);
}
BENCHMARK(BM_parse_xml_only)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_parse_sentences_only(benchmark::State& st) {
  const auto& f = files();
  const std::string name = "mem.txt";
  std::size_t n = 0;
  for (auto _ : st) {
    groundeval::problem_sink sink;
    n = 0;
    for (const auto& t : f.txt) n += groundeval::parse_flickr30k_sentences(t, name, sink).size();
    benchmark::DoNotOptimize(n);
  }
  set_counters(st, n);
}
BENCHMARK(BM_parse_sentences_only)->Unit(benchmark::kMillisecond)->UseRealTime();

#if defined(GROUNDEVAL_BENCH_HAS_JSON)
/// MDETR-format JSON of the same split, when $GROUNDEVAL_BENCH_MDETR_JSON names one.
void BM_load_mdetr_json(benchmark::State& st) {
  const char* path = std::getenv("GROUNDEVAL_BENCH_MDETR_JSON");
  if (!path) {
    st.SkipWithError("set GROUNDEVAL_BENCH_MDETR_JSON to an MDETR-format file");
    return;
  }
  std::size_t n = 0;
  for (auto _ : st) {
    auto ds = groundeval::load_mdetr_annotations(path);
    n = ds.size();
    benchmark::DoNotOptimize(ds);
  }
  st.counters["sentences"] = static_cast<double>(n);
}
BENCHMARK(BM_load_mdetr_json)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Parse only (no data set built) of the same file: Arg 0 = nlohmann/json (what the loader used
/// before), 1 = simdjson DOM (what it uses now). The file is read once outside the timing.
void BM_parse_mdetr_json(benchmark::State& st) {
  const char* path = std::getenv("GROUNDEVAL_BENCH_MDETR_JSON");
  if (!path) {
    st.SkipWithError("set GROUNDEVAL_BENCH_MDETR_JSON to an MDETR-format file");
    return;
  }
  const simdjson::padded_string text = simdjson::padded_string::load(path).value();
  simdjson::dom::parser parser;
  std::size_t n = 0;
  for (auto _ : st) {
    if (st.range(0) == 0) {
      const auto doc = nlohmann::json::parse(text.data(), text.data() + text.size());
      n = doc["images"].size();
    } else {
      const simdjson::dom::element doc = parser.parse(text).value();
      n = simdjson::dom::array(doc["images"]).size();
    }
    benchmark::DoNotOptimize(n);
  }
  st.counters["images"] = static_cast<double>(n);
  st.counters["MB_per_s"] = benchmark::Counter(static_cast<double>(text.size()) / 1e6,
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_parse_mdetr_json)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
