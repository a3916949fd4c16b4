// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_options.hpp — what a Flickr30k Entities load is asked for
// (flickr30k_options) and what it returns (flickr30k_load_result). Target: groundeval::xml.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/statistics.hpp>

#include <string>
#include <vector>

namespace groundeval {

/// How to load Flickr30k Entities.
struct flickr30k_options {
  std::string root;  ///< folder with Annotations/ and Sentences/ (the unpacked annotations.zip)
  /// "train", "val", "test" or "all" (= train, val, test in that order). The list is read from
  /// `<root>/<split>.txt` when present, else from `<data_dir>/flickr30k_entities/<split>.txt`.
  std::string split = "test";
  std::vector<std::string> image_ids;  ///< explicit image ids; when non-empty, `split` is ignored
  std::string data_dir;                ///< folder with the official lists (the repository's data/)
  /// Image folder for image_path(); empty: <root>/flickr30k-images when that exists.
  std::string image_dir;
  bool strict = true;  ///< strict: first problem throws; lenient: problems are collected
  /// A chain id used in a sentence but absent from the XML happens in the real data and is only
  /// counted in the statistics; set this to make it an error (strict) / a problem (lenient).
  bool missing_chain_is_error = false;
  unsigned threads = 0;  ///< 0: hardware concurrency
  /// Read Annotations files with a minimal scanner for the documented layout, falling back to
  /// TinyXML2 for any other file and for every error (same results; about 3.5x faster than
  /// TinyXML2 alone, see docs/datasets.md §6). false: TinyXML2 only.
  bool fast_xml = true;
  /// false: statistics only. Every image is read, checked and counted exactly as in a full
  /// load, but its samples are dropped once counted, so memory stays flat and nothing is left
  /// to gather or free (`groundeval stats` loads this way); the data set is then empty.
  bool keep_samples = true;
};

/// Where the time of one load went (docs/datasets.md, parallel efficiency): wall and CPU seconds
/// of the serial phases on the calling thread, the wall time of the parallel phase, and the CPU
/// seconds and images of each worker in it.
struct flickr30k_load_timeline {
  double split_lists = 0, split_lists_cpu = 0;  ///< resolving and validating the image ids
  double images = 0;  ///< the parallel phase: reading, parsing and counting every image (wall)
  double merge = 0, merge_cpu = 0;  ///< samples into one vector in image order, problems, counts
  std::vector<double> worker_cpu;   ///< per worker: CPU seconds in the parallel phase
  std::vector<std::size_t> worker_images;  ///< per worker: images loaded
  /// CPU seconds of the serial phases over the load's total CPU seconds: the fraction that does
  /// not run in parallel.
  double serial_fraction() const noexcept {
    double cpu = split_lists_cpu + merge_cpu;
    for (const double c : worker_cpu) cpu += c;
    return cpu > 0 ? (split_lists_cpu + merge_cpu) / cpu : 0.0;
  }
};

/// Everything a load produces.
struct flickr30k_load_result {
  in_memory_dataset dataset;
  dataset_statistics statistics;
  std::vector<dataset_problem> problems;  ///< empty in strict mode
  std::vector<std::string> image_ids;     ///< the requested image ids after validation, in order
  flickr30k_load_timeline timeline;       ///< where the time went
};

}  // namespace groundeval
