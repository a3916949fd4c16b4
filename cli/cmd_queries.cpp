// SPDX-License-Identifier: Apache-2.0
// groundeval queries — writes the queries `run` asks and `evaluate` scores (one JSON line per
// evaluable phrase, in run order) with the caption each specialist family feeds its model, so an
// external pipeline (the Python exporters in python/groundeval/exporters/) loops over exactly
// the same queries. Part of the groundeval_cli target.
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/detail/json_text.hpp>
#include <groundeval/error.hpp>
#include <groundeval/postprocess/captions.hpp>
#include <groundeval/run/queries.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

namespace detail_queries {

inline constexpr const char* usage =
    "usage: groundeval queries --dataset SPEC [--split S] [--out FILE]\n"
    "                          [--limit N | --sample N [--sample-by image|phrase] [--seed S]]\n"
    "                          [--shard i/n]\n"
    "\n"
    "Writes one JSON line per evaluable phrase query, exactly the queries `groundeval run` with\n"
    "the same options asks (same order) and `groundeval evaluate` scores. Each line holds the\n"
    "query key, the image, the sentence, the phrase and its span, and the caption each\n"
    "specialist family feeds its model with the phrase's span in it (docs/specialist.md).\n"
    "Options:\n"
    "  --dataset SPEC   flickr30k:DIR or mdetr:FILE.json\n"
    "  --split NAME     train, val or test (default test; flickr30k only)\n"
    "  --out FILE       write to FILE instead of standard output\n"
    "  --limit N        only the first N sentences (of this shard), as `run --limit N`\n"
    "  --sample N, --sample-by K, --seed S   as for `groundeval run`\n"
    "  --shard i/n      only the images of shard i of n, as `run --shard i/n`\n";

/// Appends `"name": [begin, end]`.
inline void span_field(std::string& o, const char* name, std::size_t b, std::size_t e) {
  o += ",\"";
  o += name;
  o += "\":[" + std::to_string(b) + "," + std::to_string(e) + "]";
}

/// One query as a JSON line (the schema is in docs/specialist.md).
inline std::string query_line(const sample& s, std::size_t k, const std::string& image_path) {
  using groundeval::detail::json_quote;
  const phrase& p = s.phrases[k];
  std::string o = "{\"key\":";
  json_quote(o, s.image_id + "/" + std::to_string(s.sentence_index) + "/" + std::to_string(k));
  o += ",\"image_id\":";
  json_quote(o, s.image_id);
  o += ",\"sentence_id\":" + std::to_string(s.sentence_index);
  o += ",\"phrase_index\":" + std::to_string(k);
  o += ",\"chain_id\":";
  json_quote(o, p.chain_id);
  o += ",\"phrase_types\":[";
  for (std::size_t t = 0; t < p.types.size(); ++t) {
    if (t) o += ',';
    json_quote(o, p.types[t]);
  }
  o += "],\"image_path\":";
  if (image_path.empty())
    o += "null";
  else
    json_quote(o, image_path);
  o += ",\"image_size\":[" + std::to_string(s.size.width) + "," + std::to_string(s.size.height) +
       "]";
  o += ",\"sentence\":";
  json_quote(o, s.sentence);
  o += ",\"phrase\":";
  json_quote(o, p.text);
  // Python str indices (code points) and UTF-8 byte offsets of the phrase in the sentence.
  span_field(o, "span", code_point_index(s.sentence, p.char_begin),
             code_point_index(s.sentence, p.char_end));
  span_field(o, "span_utf8", p.char_begin, p.char_end);
  o += ",\"captions\":{";
  bool first = true;
  for (const std::string_view family : caption_families) {
    const mapped_caption m = map_caption(family, s.sentence, p.char_begin, p.char_end);
    if (!first) o += ',';
    first = false;
    json_quote(o, family);
    o += ":{\"caption\":";
    json_quote(o, m.text);
    span_field(o, "span", code_point_index(m.text, m.begin), code_point_index(m.text, m.end));
    o += m.exact ? ",\"exact\":true}" : ",\"exact\":false}";
  }
  o += "}}\n";
  return o;
}

inline int run(const std::vector<std::string>& args) {
  std::string dataset, split = "test", out;
  query_selection selection;
  sample_option sampling;
  for (arg_reader a("queries", args); a.next();) {
    if (a.help()) {
      std::fputs(usage, stdout);
      return 0;
    } else if (sampling.parse(a)) {
    } else if (a.is("--dataset")) {
      dataset = a.value();
    } else if (a.is("--split")) {
      split = a.value();
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
  if (dataset.empty())
    throw error(error_kind::config, std::string("queries: --dataset is required\n") + usage);
  if (selection.limit && sampling)
    throw error(error_kind::config, "queries: --limit and --sample cannot be combined");
  sampling.validate("queries");

  loaded_dataset data = load_dataset_spec(dataset, split);
  if (sampling) data.dataset = sampling.apply(data.dataset);

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
                            for (const std::size_t k : phrases) os << query_line(s, k, path);
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
