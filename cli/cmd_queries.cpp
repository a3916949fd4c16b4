// SPDX-License-Identifier: Apache-2.0
// groundeval queries — writes the queries `run` asks and `evaluate` scores (one JSON line per
// evaluable phrase, in run order) with the caption each specialist family feeds its model, so an
// external pipeline (the Python exporters in python/groundeval/exporters/) loops over exactly
// the same queries. Part of the groundeval_cli target.
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/error.hpp>
#include <groundeval/run/queries.hpp>
#include <groundeval/run/query_json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

namespace detail_queries {

inline const std::string usage =
    std::string(
        "usage: groundeval queries --dataset SPEC [--split S] [--images DIR] [--out FILE]\n"
        "                          [--limit N | --sample N [--sample-by image|phrase] [--seed S]]\n"
        "                          [--shard i/n]\n"
        "\n"
        "Writes one JSON line per evaluable phrase query, exactly the queries `groundeval run` "
        "with\n"
        "the same options asks (same order) and `groundeval evaluate` scores. Each line holds the\n"
        "query key, the image, the sentence, the phrase and its span, and the caption each\n"
        "specialist family feeds its model with the phrase's span in it (docs/specialist.md).\n"
        "Options:\n") +
    dataset_option_usage("(the image_path fields name its files)") +
    "  --out FILE       write to FILE instead of standard output\n"
    "  --limit N        only the first N sentences (of this shard), as `run --limit N`\n"
    "  --sample N, --sample-by K, --seed S   as for `groundeval run`\n"
    "  --shard i/n      only the images of shard i of n, as `run --shard i/n`\n";

inline int run(const std::vector<std::string>& args) {
  std::string out;
  dataset_option data_opt;
  query_selection selection;
  sample_option sampling;
  for (arg_reader a("queries", args); a.next();) {
    if (a.help()) {
      std::fputs(usage.c_str(), stdout);
      return 0;
    } else if (sampling.parse(a) || data_opt.parse(a)) {
    } else if (a.is("--out")) {
      out = a.value();
    } else if (a.is("--limit")) {
      selection.limit = static_cast<std::size_t>(a.count());
    } else if (a.is("--shard")) {
      selection.shard = parse_shard(a.value());
    } else {
      a.unknown(usage);
    }
  }
  if (!data_opt) throw error(error_kind::config, "queries: --dataset is required\n" + usage);
  sampling.validate("queries", selection.limit.has_value());

  const loaded_dataset data = data_opt.load(sampling);

  std::ofstream file;
  if (!out.empty()) {
    file.open(out, std::ios::binary);
    if (!file) throw error(error_kind::io, out, 0, "cannot write the queries file");
  }
  std::ostream& os = out.empty() ? std::cout : file;
  // Exactly the queries `groundeval run` asks (run/queries.hpp): data set order, this shard's
  // images, sentences with an evaluable phrase, the first --limit of them, their evaluable phrases.
  std::size_t sentences = 0, queries = 0;
  for_each_query_sentence(data.dataset, selection,
                          [&](const sample& s, const std::vector<std::size_t>& phrases) {
                            ++sentences;
                            const std::string path = data.dataset.image_path(s);
                            for (const std::size_t k : phrases) os << query_json_line(s, k, path);
                            queries += phrases.size();
                          });
  os.flush();
  if (!os) throw error(error_kind::io, out.empty() ? "<stdout>" : out, 0, "write error");
  if (!out.empty())
    std::fprintf(stderr, "queries: %zu queries of %zu sentences written to %s\n", queries,
                 sentences, out.c_str());
  return 0;
}

}  // namespace detail_queries

namespace {
const bool registered = register_command(
    {"queries", "write the evaluable queries (JSON Lines) for an external model pipeline",
     detail_queries::run});
}  // namespace

}  // namespace groundeval::cli
