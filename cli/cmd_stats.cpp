// SPDX-License-Identifier: Apache-2.0
// groundeval stats — loads a data set (Flickr30k Entities folder or MDETR-format JSON) and prints
// its statistics, optionally as JSON. Needs groundeval::xml (and groundeval::json for mdetr:).
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/datasets/subsample.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/error.hpp>
#if defined(GROUNDEVAL_CLI_HAS_JSON)
#include <groundeval/datasets/json/mdetr.hpp>
#define GROUNDEVAL_CLI_HAS_MDETR 1
#endif

#include <chrono>
#include <cstdio>
#include <fstream>
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
  std::string dataset, split = "test", json_out, ids_file;
  bool lenient = false, missing_chain_error = false;
  unsigned threads = 0;
  groundeval::cli::sample_option sampling;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (sampling.parse("stats", args, i)) continue;
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw error(error_kind::config, "option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", stats_usage.c_str());
      return 0;
    } else if (a == "--dataset") {
      dataset = value();
    } else if (a == "--split") {
      split = value();
    } else if (a == "--json") {
      json_out = value();
    } else if (a == "--ids") {
      ids_file = value();
    } else if (a == "--lenient") {
      lenient = true;
    } else if (a == "--missing-chain-error") {
      missing_chain_error = true;
    } else if (a == "--threads") {
      const std::string& v = value();
      try {
        threads = static_cast<unsigned>(std::stoul(v));
      } catch (const std::exception&) {
        throw error(error_kind::config, "--threads expects a number, got '" + v + "'");
      }
    } else {
      throw error(error_kind::config, "unknown option '" + a + "'\n" + stats_usage);
    }
  }
  sampling.validate("stats");
  const auto colon = dataset.find(':');
  if (dataset.empty() || colon == std::string::npos)
    throw error(error_kind::config,
                "--dataset must be flickr30k:DIR or mdetr:FILE.json\n" + stats_usage);
  const std::string kind = dataset.substr(0, colon), path = dataset.substr(colon + 1);

  groundeval::dataset_statistics st;
  std::vector<groundeval::dataset_problem> problems;
  // Whether the annotation-level counts (boxes, chains, flags, non-evaluable phrase reasons)
  // describe the data printed: not for a phrase sample or a sample of an MDETR file.
  bool annotation_counts = true;
  const auto t0 = std::chrono::steady_clock::now();
  if (kind == "flickr30k") {
    groundeval::flickr30k_options o;
    o.root = path;
    o.split = split;
    o.data_dir = groundeval::cli::default_data_dir();
    o.strict = !lenient;
    o.threads = threads;
    o.missing_chain_is_error = missing_chain_error;
    // Only a phrase sample needs the samples themselves; otherwise statistics only (every
    // image read, checked and counted, nothing held: flat memory, nothing to gather or free).
    o.keep_samples = sampling.by_phrase.value_or(false);
    groundeval::problem_sink sink(!lenient);
    if (!ids_file.empty()) o.image_ids = groundeval::read_split_file(ids_file, sink);
    bool empty_sample = false;
    if (sampling && !sampling.by_phrase.value_or(false)) {
      // Choose the images first and load only those: exact counts, and fast.
      o.image_ids = groundeval::select_image_ids(groundeval::resolve_flickr30k_image_ids(o, sink),
                                                 *sampling.n, sampling.seed_or_default());
      empty_sample = o.image_ids.empty();
    }
    problems = sink.take();
    if (!empty_sample) {
      auto res = groundeval::load_flickr30k_entities_detailed(o);
      if (sampling.by_phrase.value_or(false)) {
        st = groundeval::compute_statistics(sampling.apply(res.dataset));
        annotation_counts = false;
      } else {
        st = std::move(res.statistics);
      }
      for (auto& p : res.problems) problems.push_back(std::move(p));
    }
  } else if (kind == "mdetr") {
#if defined(GROUNDEVAL_CLI_HAS_MDETR)
    auto res = groundeval::load_mdetr_annotations_detailed(path);
    if (sampling) {
      st = groundeval::compute_statistics(sampling.apply(res.dataset));
      annotation_counts = false;
    } else {
      st = std::move(res.statistics);
    }
#else
    throw error(error_kind::unsupported, "this build has no JSON support (groundeval::json)");
#endif
  } else {
    throw error(error_kind::config, "unknown data set kind '" + kind + "' (flickr30k or mdetr)");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

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
    std::string js = groundeval::to_json(st);
    // The selection and whether the annotation-level counts apply, first in the object.
    js.insert(2, std::string("  \"sample\": \"") + sampling.describe() +
                     "\",\n  \"annotation_counts\": " + (annotation_counts ? "true" : "false") +
                     ",\n");
    if (json_out == "-") {
      std::fwrite(js.data(), 1, js.size(), stdout);
    } else {
      std::ofstream f(json_out, std::ios::binary);
      f << js;
      if (!f) throw error(error_kind::io, json_out, 0, "cannot write statistics");
    }
  }
  return problems.empty() ? 0 : 3;
}

const bool registered = groundeval::cli::register_command(
    {"stats", "print data set statistics (Flickr30k Entities folder or MDETR JSON)", run_stats});

}  // namespace
