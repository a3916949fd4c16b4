// SPDX-License-Identifier: Apache-2.0
// groundeval stats — loads a data set (Flickr30k Entities folder or MDETR-format JSON) and prints
// its statistics, optionally as JSON. Needs groundeval::xml (and groundeval::json for mdetr:).
#include "command.hpp"

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

constexpr const char* stats_usage =
    "usage: groundeval stats --dataset flickr30k:DIR|mdetr:FILE.json [--split NAME]\n"
    "                        [--ids FILE] [--json OUT|-] [--lenient] [--threads N]\n"
    "                        [--missing-chain-error]\n"
    "  --split      train, val, test (default) or all; Flickr30k only. The list is read from\n"
    "               DIR/<split>.txt if present, else from the official lists shipped with "
    "groundeval\n"
    "  --ids        explicit image id list (one per line) instead of --split\n"
    "  --json       also write the statistics as JSON to OUT ('-' = stdout, text output then goes\n"
    "               to stderr)\n"
    "  --lenient    collect problems in bad files instead of stopping at the first one\n";

/// The folder holding flickr30k_entities/<split>.txt: the source tree's data/ when it exists
/// (build tree), else the installed share/groundeval.
std::string default_data_dir() {
  const std::string src = GROUNDEVAL_SOURCE_DATA_DIR;
  if (groundeval::detail::file_exists(groundeval::flickr30k_split_path(src, "test"))) return src;
  return GROUNDEVAL_INSTALL_DATA_DIR;
}

int run_stats(const std::vector<std::string>& args) {
  using groundeval::error;
  using groundeval::error_kind;
  std::string dataset, split = "test", json_out, ids_file;
  bool lenient = false, missing_chain_error = false;
  unsigned threads = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw error(error_kind::config, "option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", stats_usage);
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
  const auto colon = dataset.find(':');
  if (dataset.empty() || colon == std::string::npos)
    throw error(error_kind::config,
                "--dataset must be flickr30k:DIR or mdetr:FILE.json\n" + std::string(stats_usage));
  const std::string kind = dataset.substr(0, colon), path = dataset.substr(colon + 1);

  groundeval::dataset_statistics st;
  std::vector<groundeval::dataset_problem> problems;
  const auto t0 = std::chrono::steady_clock::now();
  if (kind == "flickr30k") {
    groundeval::flickr30k_options o;
    o.root = path;
    o.split = split;
    o.data_dir = default_data_dir();
    o.strict = !lenient;
    o.threads = threads;
    o.missing_chain_is_error = missing_chain_error;
    if (!ids_file.empty()) {
      groundeval::problem_sink sink(true);
      o.image_ids = groundeval::read_split_file(ids_file, sink);
    }
    auto res = groundeval::load_flickr30k_entities_detailed(o);
    st = std::move(res.statistics);
    problems = std::move(res.problems);
  } else if (kind == "mdetr") {
#if defined(GROUNDEVAL_CLI_HAS_MDETR)
    st = groundeval::load_mdetr_annotations_detailed(path).statistics;
#else
    throw error(error_kind::unsupported, "this build has no JSON support (groundeval::json)");
#endif
  } else {
    throw error(error_kind::config, "unknown data set kind '" + kind + "' (flickr30k or mdetr)");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::FILE* text_out = json_out == "-" ? stderr : stdout;
  std::fprintf(text_out, "%s (split %s), loaded in %.3f s\n%s", dataset.c_str(),
               kind == "flickr30k" ? (ids_file.empty() ? split.c_str() : ids_file.c_str()) : "file",
               secs, groundeval::to_text(st).c_str());
  for (const auto& p : problems) std::fprintf(stderr, "problem: %s\n", p.to_string().c_str());
  if (!problems.empty()) std::fprintf(stderr, "%zu problem(s)\n", problems.size());
  if (!json_out.empty()) {
    const std::string js = groundeval::to_json(st);
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
