// SPDX-License-Identifier: Apache-2.0
// cli/dataset_spec.hpp — the --dataset SPEC argument shared by the subcommands:
// "flickr30k:DIR" (Annotations/ and Sentences/, split lists from DIR or the bundled official ones)
// or "mdetr:FILE.json" (MDETR-format annotations); and the seeded sub-sampling options
// --sample N [--sample-by image|phrase] [--seed S].
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/run/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

class arg_reader;

/// A data set loaded from a command-line spec.
struct loaded_dataset {
  in_memory_dataset dataset;
  std::string description;  ///< the spec as given
  std::string split;
  bool synthetic = false;  ///< a flickr30k:DIR whose DIR/SYNTHETIC.txt says it is made up
};

/// Loads "flickr30k:DIR" (split from `split`) or "mdetr:FILE.json"; throws groundeval::error.
loaded_dataset load_dataset_spec(const std::string& spec, const std::string& split);

/// `spec` with the image folder of --images DIR (KIND:PATH?images=ABSOLUTE_DIR, the form run
/// manifests record so report and resume find the same images); `spec` when `images` is empty.
std::string with_images(const std::string& spec, const std::string& images);

/// The data set of a run as its manifest records it ("dataset", "split", "selection"), or as
/// given by `dataset`/`split` when those are not empty. A run made on a sample gets the same
/// sample. When the loaded samples' content hash differs from the manifest's
/// "dataset_content_hash", `warning` receives a message. `source` names the manifest in errors.
loaded_dataset load_run_dataset(const run_manifest& manifest, const std::string& source,
                                const std::string& dataset, const std::string& split,
                                std::string* warning);

/// Run directories' manifests and the one data set they were made on.
struct loaded_runs {
  std::vector<run_manifest> manifests;  ///< one per directory
  std::vector<std::string> names;       ///< each run's folder name, made unique ("-2", "-3")
  loaded_dataset data;
  std::string warning;  ///< the data loaded now differs from the first run's (content hash)
};

/// Reads each DIR/manifest.json and loads the data set of the first (or `dataset`/`split` when
/// given); without `dataset`, runs that name other data (spec, split, selection or content hash)
/// are a config error naming both manifests.
loaded_runs load_runs(const std::vector<std::filesystem::path>& dirs, const std::string& dataset,
                      const std::string& split);

/// The folder holding flickr30k_entities/<split>.txt: the source tree's data/ when it holds the
/// lists (build tree), else the installed share/groundeval.
std::string default_data_dir();

/// `--sample N [--sample-by image|phrase] [--seed S]`: keep N images (default) or N evaluable
/// phrases chosen by the seed (default 0), with groundeval::subsample_images / subsample_phrases.
struct sample_option {
  std::optional<std::size_t> n;
  std::optional<std::uint64_t> seed;
  std::optional<bool> by_phrase;  ///< set by --sample-by

  explicit operator bool() const noexcept { return n.has_value(); }
  std::uint64_t seed_or_default() const noexcept { return seed.value_or(0); }
  /// If the reader is at --sample, --seed or --sample-by, reads its value and returns true.
  bool parse(arg_reader& a);
  /// --seed or --sample-by without --sample, or --sample with --limit (`has_limit`), is a
  /// config error naming `command`.
  void validate(std::string_view command, bool has_limit = false) const;
  /// "images=N seed=S" / "phrases=N seed=S" (the form run manifests record); "all" without N.
  std::string describe() const;
  /// The option describe() wrote `text` for; nullopt when `text` is not such a description.
  static std::optional<sample_option> from_description(const std::string& text);
  /// The sub-sampled data set (the data set itself when no --sample was given).
  in_memory_dataset apply(const in_memory_dataset& ds) const;
};

/// `--dataset SPEC [--split S] [--images DIR]`: the data set options of run, queries and probe
/// (stats, merge, evaluate, compare and report take no --images: `takes_images = false`).
struct dataset_option {
  std::string dataset;         ///< --dataset SPEC (empty when not given)
  std::string split = "test";  ///< --split NAME
  std::string images;
  bool takes_images = true;

  explicit operator bool() const noexcept { return !dataset.empty(); }
  /// If the reader is at --dataset, --split or (when taken) --images, reads its value and
  /// returns true.
  bool parse(arg_reader& a);
  /// The data set (with the --images folder in its description, as run manifests record it),
  /// sub-sampled by `sampling` when it was given.
  loaded_dataset load(const sample_option& sampling) const;
};

/// Usage lines for --dataset and --split, and for --images unless `images_note` is null; a
/// non-empty `images_note` is one more line of the --images text.
std::string dataset_option_usage(const char* images_note);

/// Usage lines for the sampling options (for a command's --help).
inline constexpr const char* sample_option_usage =
    "  --sample N       only N images (or N evaluable phrases with --sample-by phrase), chosen\n"
    "                   by --seed (default 0) the same way on every machine and version\n"
    "  --sample-by K    image (default: all sentences of the chosen images) or phrase (the\n"
    "                   chosen phrases keep their boxes, the sentences' other phrases lose them,\n"
    "                   sentences without a chosen phrase are dropped)\n"
    "  --seed S         the sampling seed (a non-negative integer; needs --sample)\n";

/// What `groundeval stats` loads: a --dataset spec with its split (or an id list) and sampling.
struct statistics_request {
  std::string spec, split, ids_file;
  bool lenient = false, missing_chain_error = false;
  unsigned threads = 0;
  sample_option sampling;
};

/// The statistics of a request, the problems met (lenient mode), and whether the annotation-level
/// counts (boxes, chains, flags, non-evaluable phrase reasons) describe the data: not for a
/// phrase sample or a sample of an MDETR file.
struct loaded_statistics {
  dataset_statistics statistics;
  std::vector<dataset_problem> problems;
  bool annotation_counts = true;
};

/// Loads for `stats`: a Flickr30k image sample loads only the chosen images (exact counts).
loaded_statistics load_statistics(const statistics_request& r);

}  // namespace groundeval::cli
