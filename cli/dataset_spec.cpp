// SPDX-License-Identifier: Apache-2.0
// cli/dataset_spec.cpp — loading the data set named by --dataset SPEC, and --sample.
#include "dataset_spec.hpp"

#include "command.hpp"

#include <groundeval/datasets/content_hash.hpp>
#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/subsample.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

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
  std::string path = colon == std::string::npos ? spec : spec.substr(colon + 1);
  // KIND:PATH?images=DIR: the image folder (COCO train2014 for RefCOCO's MDETR files).
  std::string images;
  if (const auto q = path.rfind("?images="); q != std::string::npos) {
    images = path.substr(q + 8);
    path.resize(q);
    if (images.empty())
      throw error(error_kind::config, "--dataset '" + spec + "': images= needs a folder");
    std::error_code ec;
    if (!std::filesystem::is_directory(images, ec))
      throw error(error_kind::config, images, 0,
                  "the image folder of --dataset '" + spec + "' is not a readable folder");
  }
  if (kind == "flickr30k") {
    flickr30k_options o;
    o.root = path;
    o.split = split;
    o.data_dir = default_data_dir();
    o.image_dir = images;
    out.dataset = load_flickr30k_entities(o);
    out.split = split;
    out.synthetic = detail::file_exists((std::filesystem::path(path) / "SYNTHETIC.txt").string());
    return out;
  }
  if (kind == "mdetr") {
    out.dataset = load_mdetr_annotations(path, images);
    out.split = "(from the file)";
    return out;
  }
  throw error(error_kind::config, "--dataset '" + spec +
                                      "': expected flickr30k:DIR or mdetr:FILE.json (either with "
                                      "?images=DIR for the image folder)");
}

std::string with_images(const std::string& spec, const std::string& images) {
  if (images.empty()) return spec;
  if (spec.find("?images=") != std::string::npos)
    throw error(error_kind::config,
                "--images and a data set spec with ?images= cannot be combined: '" + spec + "'");
  return spec + "?images=" + std::filesystem::absolute(images).lexically_normal().string();
}

bool dataset_option::parse(arg_reader& a) {
  if (a.is("--dataset")) {
    dataset = a.value();
  } else if (a.is("--split")) {
    split = a.value();
  } else if (takes_images && a.is("--images")) {
    images = a.value();
  } else {
    return false;
  }
  return true;
}

loaded_dataset dataset_option::load(const sample_option& sampling) const {
  loaded_dataset data = load_dataset_spec(with_images(dataset, images), split);
  if (sampling) data.dataset = sampling.apply(data.dataset);
  return data;
}

std::string dataset_option_usage(const char* images_note) {
  std::string u =
      "  --dataset SPEC   flickr30k:DIR or mdetr:FILE.json\n"
      "  --split NAME     train, val or test (default test; flickr30k only)\n";
  if (!images_note) return u;
  u += "  --images DIR     the image folder (default: flickr30k:DIR's flickr30k-images; for\n"
       "                   mdetr: RefCOCO files, COCO train2014); recorded with the data set\n";
  if (*images_note) u += std::string("                   ") + images_note + "\n";
  return u;
}

bool sample_option::parse(arg_reader& a) {
  if (a.is("--sample-by")) {
    const std::string v = a.value();
    if (v != "image" && v != "phrase")
      a.fail("--sample-by must be image or phrase, not '" + v + "'");
    by_phrase = v == "phrase";
  } else if (a.is("--sample")) {
    n = static_cast<std::size_t>(a.count());
  } else if (a.is("--seed")) {
    seed = static_cast<std::uint64_t>(a.count());
  } else {
    return false;
  }
  return true;
}

void sample_option::validate(std::string_view command, bool has_limit) const {
  if (n && has_limit)
    throw error(error_kind::config,
                std::string(command) + ": --limit and --sample cannot be combined");
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
  // "images=N seed=S" or "phrases=N seed=S"
  const auto eq = text.find('='), space = text.find(" seed=");
  if (eq == std::string::npos || space == std::string::npos || space < eq) return std::nullopt;
  const std::string what = text.substr(0, eq);
  const auto n =
      detail::parse_integer<std::size_t>(std::string_view(text).substr(eq + 1, space - eq - 1));
  const auto seed = detail::parse_integer<std::uint64_t>(std::string_view(text).substr(space + 6));
  if ((what != "images" && what != "phrases") || !n || !seed) return std::nullopt;
  o.n = *n;
  o.seed = *seed;
  if (what == "phrases") o.by_phrase = true;
  return o;
}

in_memory_dataset sample_option::apply(const in_memory_dataset& ds) const {
  if (!n) return ds;
  return by_phrase.value_or(false) ? subsample_phrases(ds, *n, seed_or_default())
                                   : subsample_images(ds, *n, seed_or_default());
}

loaded_dataset load_run_dataset(const run_manifest& manifest, const std::string& source,
                                const std::string& dataset, const std::string& split,
                                std::string* warning) {
  const std::string spec = dataset.empty() ? manifest_value(manifest, "dataset") : dataset;
  std::string sp = split.empty() ? manifest_value(manifest, "split") : split;
  if (spec.empty())
    throw error(error_kind::config, source, 0,
                "the manifest names no data set; pass --dataset SPEC (and --split S)");
  if (sp.empty() || sp == "(from the file)") sp = "test";
  loaded_dataset d = load_dataset_spec(spec, sp);
  const std::string sel = manifest_value(manifest, "selection");
  if (!sel.empty()) {
    const auto sampling = sample_option::from_description(sel);
    if (!sampling)
      throw error(error_kind::parse, source, 0, "unknown \"selection\" value '" + sel + "'");
    if (*sampling) d.dataset = sampling->apply(d.dataset);
  }
  const std::string want = manifest_value(manifest, "dataset_content_hash");
  if (warning && !want.empty()) {
    const std::string have = dataset_content_hash(d.dataset);
    // A run resumed on a reordered split list keeps the first order's content hash; the same
    // samples in another order (dataset_set_hash) are the same data.
    const std::string want_set = manifest_value(manifest, "dataset_set_hash");
    const bool same_set = !want_set.empty() && want_set == dataset_set_hash(d.dataset);
    if (have != want && !same_set)
      *warning = source + ": the run was made on data with content hash " + want +
                 ", the data loaded now (" + spec + ", " + sp + ") has " + have;
  }
  return d;
}

loaded_statistics load_statistics(const statistics_request& r) {
  const auto colon = r.spec.find(':');
  if (r.spec.empty() || colon == std::string::npos)
    throw error(error_kind::config, "--dataset must be flickr30k:DIR or mdetr:FILE.json");
  const std::string kind = r.spec.substr(0, colon), path = r.spec.substr(colon + 1);

  loaded_statistics out;
  auto& st = out.statistics;
  auto& problems = out.problems;
  auto& sampling = r.sampling;
  if (kind == "flickr30k") {
    flickr30k_options o;
    o.root = path;
    o.split = r.split;
    o.data_dir = default_data_dir();
    o.strict = !r.lenient;
    o.threads = r.threads;
    o.missing_chain_is_error = r.missing_chain_error;
    // Only a phrase sample needs the samples themselves; otherwise statistics only (every
    // image read, checked and counted, nothing held: flat memory, nothing to gather or free).
    o.keep_samples = sampling.by_phrase.value_or(false);
    problem_sink sink(!r.lenient);
    if (!r.ids_file.empty()) o.image_ids = read_split_file(r.ids_file, sink);
    bool empty_sample = false;
    if (sampling && !sampling.by_phrase.value_or(false)) {
      // Choose the images first and load only those: exact counts, and fast.
      o.image_ids = select_image_ids(resolve_flickr30k_image_ids(o, sink), *sampling.n,
                                     sampling.seed_or_default());
      empty_sample = o.image_ids.empty();
    }
    problems = sink.take();
    if (!empty_sample) {
      auto res = load_flickr30k_entities_detailed(o);
      if (sampling.by_phrase.value_or(false)) {
        st = compute_statistics(sampling.apply(res.dataset));
        out.annotation_counts = false;
      } else {
        st = std::move(res.statistics);
      }
      for (auto& p : res.problems) problems.push_back(std::move(p));
    }
  } else if (kind == "mdetr") {
    auto res = load_mdetr_annotations_detailed(path);
    if (sampling) {
      st = compute_statistics(sampling.apply(res.dataset));
      out.annotation_counts = false;
    } else {
      st = std::move(res.statistics);
    }
  } else {
    throw error(error_kind::config, "unknown data set kind '" + kind + "' (flickr30k or mdetr)");
  }
  return out;
}

loaded_runs load_runs(const std::vector<std::filesystem::path>& dirs, const std::string& dataset,
                      const std::string& split) {
  loaded_runs out;
  for (const auto& d : dirs) {
    if (!std::filesystem::exists(d / "manifest.json"))
      throw error(error_kind::io, (d / "manifest.json").string(), 0,
                  "missing (not a run directory?)");
    out.manifests.push_back(read_manifest(d / "manifest.json"));
    std::string base = d.lexically_normal().filename().string();
    if (base.empty() || base == ".")
      base = std::filesystem::absolute(d).lexically_normal().parent_path().filename().string();
    if (base.empty()) base = "run";
    std::string name = base;
    for (int n = 2; std::find(out.names.begin(), out.names.end(), name) != out.names.end(); ++n)
      name = base + "-" + std::to_string(n);
    out.names.push_back(std::move(name));
  }
  if (dirs.empty()) throw error(error_kind::config, "no run directories given");
  const std::string first = (dirs[0] / "manifest.json").string();
  out.data = load_run_dataset(out.manifests[0], first, dataset, split, &out.warning);
  for (std::size_t i = 1; i < dirs.size() && dataset.empty(); ++i)
    for (const char* k : {"dataset", "split", "selection", "dataset_content_hash"})
      if (manifest_value(out.manifests[0], k) != manifest_value(out.manifests[i], k))
        throw error(error_kind::config, (dirs[i] / "manifest.json").string(), 0,
                    std::string("\"") + k + "\" is '" + manifest_value(out.manifests[i], k) +
                        "' but '" + manifest_value(out.manifests[0], k) + "' in " + first +
                        "; a report compares runs on the same data (or pass --dataset to "
                        "evaluate all of them on one data set)");
  return out;
}

}  // namespace groundeval::cli
