// SPDX-License-Identifier: Apache-2.0
// cli/dataset_spec.cpp — loading the data set named by --dataset SPEC, and --sample.
#include "dataset_spec.hpp"

#include "command.hpp"

#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/subsample.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/error.hpp>

#include <cstdio>
#include <cstdlib>

namespace groundeval::cli {

std::string default_data_dir() {
  // A relocated install (the Python package's copy of the CLI) names its lists' folder.
  if (const char* env = std::getenv("GROUNDEVAL_DATA_DIR"); env && *env) return env;
  const std::string src = GROUNDEVAL_SOURCE_DATA_DIR;
  if (groundeval::detail::file_exists(flickr30k_split_path(src, "test"))) return src;
  return GROUNDEVAL_INSTALL_DATA_DIR;
}

loaded_dataset load_dataset_spec(const std::string& spec, const std::string& split) {
  loaded_dataset out;
  out.description = spec;
  const auto colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? std::string() : spec.substr(0, colon);
  const std::string path = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (kind == "flickr30k") {
    flickr30k_options o;
    o.root = path;
    o.split = split;
    o.data_dir = default_data_dir();
    out.dataset = load_flickr30k_entities(o);
    out.split = split;
    return out;
  }
  if (kind == "mdetr") {
    out.dataset = load_mdetr_annotations(path);
    out.split = "(from the file)";
    return out;
  }
  throw error(error_kind::config,
              "--dataset '" + spec + "': expected flickr30k:DIR or mdetr:FILE.json");
}

bool sample_option::parse(std::string_view command, const std::vector<std::string>& args,
                          std::size_t& i) {
  const std::string& a = args[i];
  if (a != "--sample" && a != "--seed" && a != "--sample-by") return false;
  const std::string v = option_value(command, args, i);
  if (a == "--sample-by") {
    if (v != "image" && v != "phrase")
      throw error(error_kind::config,
                  std::string(command) + ": --sample-by must be image or phrase, not '" + v + "'");
    by_phrase = v == "phrase";
    return true;
  }
  const auto x = parse_non_negative(v);
  if (!x)
    throw error(error_kind::config,
                std::string(command) + ": " + a + " '" + v + "' is not a non-negative integer");
  if (a == "--sample")
    n = static_cast<std::size_t>(*x);
  else
    seed = static_cast<std::uint64_t>(*x);
  return true;
}

void sample_option::validate(std::string_view command) const {
  if (n) return;
  if (seed) throw error(error_kind::config, std::string(command) + ": --seed needs --sample");
  if (by_phrase)
    throw error(error_kind::config, std::string(command) + ": --sample-by needs --sample");
}

std::string sample_option::describe() const {
  if (!n) return "all";
  return std::string(by_phrase.value_or(false) ? "phrases=" : "images=") + std::to_string(*n) +
         " seed=" + std::to_string(seed_or_default());
}

std::optional<sample_option> sample_option::from_description(const std::string& text) {
  sample_option o;
  if (text == "all") return o;
  for (const bool phrases : {false, true}) {
    unsigned long long n = 0, seed = 0;
    if (std::sscanf(text.c_str(), phrases ? "phrases=%llu seed=%llu" : "images=%llu seed=%llu", &n,
                    &seed) != 2)
      continue;
    o.n = static_cast<std::size_t>(n);
    o.seed = static_cast<std::uint64_t>(seed);
    if (phrases) o.by_phrase = true;
    return o;
  }
  return std::nullopt;
}

in_memory_dataset sample_option::apply(const in_memory_dataset& ds) const {
  if (!n) return ds;
  return by_phrase.value_or(false) ? subsample_phrases(ds, *n, seed_or_default())
                                   : subsample_images(ds, *n, seed_or_default());
}

}  // namespace groundeval::cli
