// SPDX-License-Identifier: Apache-2.0
// bench_load_timeline — where the time of a Flickr30k Entities load goes, per phase and per
// worker, for several thread counts, and the parallel efficiency that follows (issue 20).
//
//   bench_load_timeline --root DIR [--split all] [--threads 1,2,4,8,16] [--repeat 5]
//                       [--mode stats|full|both] [--data-dir REPO/data] [--json OUT]
//
// For each mode (stats: statistics only, what `groundeval stats` loads; full: the data set kept,
// what `evaluate` loads) and thread count it loads `--repeat` times and prints the median wall
// time of the load, of its serial phases (split lists, merge) and of its parallel phase, the CPU
// seconds the workers used (sum and busiest worker), and three efficiencies at N workers:
//   measured   T(1) / (N * T(N)), wall times                     (needs N idle cores)
//   amdahl     from the 1-thread run's CPU times: serial S (split lists + merge on the calling
//              thread), parallel P (the workers): (S + P) / (N * (S + P / N))
//   simulated  from the N-worker run's CPU times: (S + P) of the 1-thread run over
//              N * (S_N + the busiest worker's CPU), i.e. the load on N cores if each worker
//              had a core of its own; runs on any machine (2 cores here) and includes the
//              imbalance of the dynamic schedule.
// CPU times keep the estimates independent of other work on the machine.
// Kernel-side contention between real cores (many threads opening files in one folder) is only
// seen by `measured`. Plain program (no Google Benchmark) so it runs on machines without it.
#include <groundeval/datasets/xml/flickr30k_entities.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct run {
  double wall = 0, split = 0, images = 0, merge = 0, cpu_sum = 0, cpu_max = 0, serial_cpu = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

run median_run(const std::vector<run>& runs) {
  auto field = [&](double run::*f) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*f);
    return median(v);
  };
  return {field(&run::wall),    field(&run::split),   field(&run::images),    field(&run::merge),
          field(&run::cpu_sum), field(&run::cpu_max), field(&run::serial_cpu)};
}

std::vector<unsigned> parse_list(const std::string& s) {
  std::vector<unsigned> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(static_cast<unsigned>(std::stoul(item)));
  return out;
}

[[noreturn]] void usage() {
  std::fputs(
      "usage: bench_load_timeline --root DIR [--split all] [--threads 1,2,4,8,16] [--repeat 5]\n"
      "                           [--mode stats|full|both] [--data-dir REPO/data] [--json OUT]\n",
      stderr);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  groundeval::flickr30k_options base;
  base.split = "all";
  std::vector<unsigned> threads{1, 2, 4, 8, 16};
  int repeat = 5;
  std::string mode = "both", json_out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--root")
      base.root = value();
    else if (a == "--split")
      base.split = value();
    else if (a == "--threads")
      threads = parse_list(value());
    else if (a == "--repeat")
      repeat = std::max(1, std::atoi(value().c_str()));
    else if (a == "--mode")
      mode = value();
    else if (a == "--data-dir")
      base.data_dir = value();
    else if (a == "--json")
      json_out = value();
    else
      usage();
  }
  if (base.root.empty() || threads.empty() || (mode != "stats" && mode != "full" && mode != "both"))
    usage();
  std::vector<bool> keeps;
  if (mode != "full") keeps.push_back(false);
  if (mode != "stats") keeps.push_back(true);

  std::string json = "[";
  std::printf("%-5s %7s %9s %8s %8s %8s %9s %9s %8s | %-28s\n", "mode", "threads", "wall_ms",
              "split", "images", "merge", "cpu_sum", "cpu_max", "serial",
              "efficiency: measured amdahl simulated");
  for (const bool keep : keeps) {
    double t1 = 0, serial1 = 0, cpu1 = 0;
    for (const unsigned t : threads) {
      std::vector<run> runs;
      std::size_t sentences = 0;
      for (int r = 0; r < repeat; ++r) {
        groundeval::flickr30k_options o = base;
        o.threads = t;
        o.keep_samples = keep;
        const auto t0 = std::chrono::steady_clock::now();
        auto res = groundeval::load_flickr30k_entities_detailed(o);
        run x;
        x.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto& tl = res.timeline;
        x.split = tl.split_lists;
        x.images = tl.images;
        x.merge = tl.merge;
        x.serial_cpu = tl.split_lists_cpu + tl.merge_cpu;
        for (const double c : tl.worker_cpu) {
          x.cpu_sum += c;
          x.cpu_max = std::max(x.cpu_max, c);
        }
        sentences = res.statistics.sentences;
        runs.push_back(x);
      }
      const run m = median_run(runs);
      if (t == threads.front()) {
        t1 = m.wall;
        serial1 = m.serial_cpu;
        cpu1 = m.cpu_sum;
      }
      const double measured = t1 / (t * m.wall);
      const double amdahl = (serial1 + cpu1) / (t * (serial1 + cpu1 / t));
      const double simulated = (serial1 + cpu1) / (t * (m.serial_cpu + m.cpu_max));
      std::printf("%-5s %7u %9.1f %8.1f %8.1f %8.1f %9.1f %9.1f %8.3f | %8.2f %6.2f %9.2f\n",
                  keep ? "full" : "stats", t, m.wall * 1e3, m.split * 1e3, m.images * 1e3,
                  m.merge * 1e3, m.cpu_sum * 1e3, m.cpu_max * 1e3,
                  m.serial_cpu / (m.serial_cpu + m.cpu_sum), measured, amdahl, simulated);
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "%s{\"mode\": \"%s\", \"threads\": %u, \"sentences\": %zu, \"wall_s\": %.6f, "
                    "\"split_lists_s\": %.6f, \"images_s\": %.6f, \"merge_s\": %.6f, "
                    "\"serial_cpu_s\": %.6f, "
                    "\"worker_cpu_sum_s\": %.6f, \"worker_cpu_max_s\": %.6f, "
                    "\"efficiency_measured\": %.4f, \"efficiency_amdahl\": %.4f, "
                    "\"efficiency_simulated\": %.4f}",
                    json.size() > 1 ? ", " : "", keep ? "full" : "stats", t, sentences, m.wall,
                    m.split, m.images, m.merge, m.serial_cpu, m.cpu_sum, m.cpu_max, measured,
                    amdahl, simulated);
      json += buf;
    }
  }
  json += "]\n";
  std::printf(
      "(medians of %d loads of split '%s'; times in ms; serial = CPU of split + merge over all "
      "CPU; efficiencies relative to %u thread(s))\n",
      repeat, base.split.c_str(), threads.front());
  if (!json_out.empty()) std::ofstream(json_out) << json;
  return 0;
}
