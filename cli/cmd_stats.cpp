// SPDX-License-Identifier: Apache-2.0
// groundeval stats — loads a data set (Flickr30k Entities folder or MDETR-format JSON) and prints
// its statistics, optionally as JSON. Needs groundeval::xml (and groundeval::json for mdetr:).
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/datasets/statistics.hpp>
#include <groundeval/detail/durable_file.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const std::string stats_usage =
    std::string(
        "usage: groundeval stats --dataset flickr30k:DIR|mdetr:FILE.json [--split NAME]\n"
        "                        [--ids FILE] [--sample N [--sample-by image|phrase] [--seed S]]\n"
        "                        [--json OUT|-] [--lenient] [--threads N] [--missing-chain-error]\n"
        "  --split      train, val, test (default) or all; Flickr30k only. The list is read from\n"
        "               DIR/<split>.txt if present, else from the official lists shipped with "
        "groundeval\n"
        "  --ids        explicit image id list (one per line) instead of --split\n") +
    groundeval::cli::sample_option_usage +
    "                   (an image sample is the one `groundeval run --sample N --seed S` "
    "evaluates;\n"
    "                   Flickr30k image samples load only the chosen images, so every count is\n"
    "                   exact; otherwise the annotation-level counts are not computed: 0)\n"
    "  --json       also write the statistics as JSON to OUT ('-' = stdout, text output then goes\n"
    "               to stderr)\n"
    "  --lenient    collect problems in bad files instead of stopping at the first one\n";

int run_stats(const std::vector<std::string>& args) {
  using groundeval::error;
  using groundeval::error_kind;
  groundeval::cli::dataset_option data_opt;
  data_opt.takes_images = false;
  std::string json_out, ids_file;
  bool lenient = false, missing_chain_error = false;
  unsigned threads = 0;
  groundeval::cli::sample_option sampling;
  for (groundeval::cli::arg_reader a("stats", args); a.next();) {
    if (a.help()) {
      std::printf("%s", stats_usage.c_str());
      return 0;
    } else if (sampling.parse(a) || data_opt.parse(a)) {
    } else if (a.is("--json")) {
      json_out = a.value();
    } else if (a.is("--ids")) {
      ids_file = a.value();
    } else if (a.flag("--lenient")) {
      lenient = true;
    } else if (a.flag("--missing-chain-error")) {
      missing_chain_error = true;
    } else if (a.is("--threads")) {
      threads = static_cast<unsigned>(std::min<unsigned long long>(a.count(), 4096));
    } else {
      a.unknown(stats_usage);
    }
  }
  sampling.validate("stats");
  const auto t0 = std::chrono::steady_clock::now();
  const auto [st, problems, annotation_counts] =
      groundeval::cli::load_statistics({data_opt.dataset, data_opt.split, ids_file, lenient,
                                        missing_chain_error, threads, sampling});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string &dataset = data_opt.dataset, &split = data_opt.split;
  const std::string kind = dataset.substr(0, dataset.find(':'));

  std::FILE* text_out = json_out == "-" ? stderr : stdout;
  std::fprintf(text_out, "%s (split %s%s%s), loaded in %.3f s\n%s", dataset.c_str(),
               kind == "flickr30k" ? (ids_file.empty() ? split.c_str() : ids_file.c_str()) : "file",
               sampling ? ", sample " : "", sampling ? sampling.describe().c_str() : "", secs,
               groundeval::to_text(st).c_str());
  if (!annotation_counts)
    std::fprintf(text_out,
                 "note: annotation-level counts (boxes .. nobox_phrases, except "
                 "notvisual_phrases) are not computed for this sample and read 0\n");
  for (const auto& p : problems) std::fprintf(stderr, "problem: %s\n", p.to_string().c_str());
  if (!problems.empty()) std::fprintf(stderr, "%zu problem(s)\n", problems.size());
  if (!json_out.empty()) {
    groundeval::detail::json_writer w;  // the selection first, then the counts
    w.begin_object();
    w.value("sample", sampling.describe());
    w.boolean("annotation_counts", annotation_counts);
    groundeval::write_json_members(w, st);
    w.end_object();
    w.out += '\n';
    if (json_out == "-")
      std::fwrite(w.out.data(), 1, w.out.size(), stdout);
    else
      groundeval::detail::write_file_atomically(  // derived: atomic, not fsync'ed
          json_out, w.out, groundeval::detail::durability::atomic_only);
  }
  return problems.empty() ? 0 : 3;
}

const bool registered = groundeval::cli::register_command(
    {"stats", "print data set statistics (Flickr30k Entities folder or MDETR JSON)", run_stats});

}  // namespace
