// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_entities.hpp — the Flickr30k Entities loader
// (Annotations/<id>.xml with TinyXML2 + Sentences/<id>.txt). Target: groundeval::xml.
// One sample per non-empty sentence line; ground truth as MDETR's flickr_eval.py sees it.
// The parts, one concern each: flickr30k_options.hpp (what is asked, what is returned),
// flickr30k_annotation.hpp (an Annotations file in memory), flickr30k_xml_scanner.hpp (the fast
// XML scanner), flickr30k_tinyxml.hpp (the TinyXML2 path and its messages), flickr30k_files.hpp
// (reading the small files), flickr30k_image.hpp (one image into samples and counts),
// detail/parallel.hpp (parallel_for_dynamic: the worker threads); this file resolves the image ids
// and merges.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/datasets/xml/flickr30k_annotation.hpp>
#include <groundeval/datasets/xml/flickr30k_files.hpp>
#include <groundeval/datasets/xml/flickr30k_image.hpp>
#include <groundeval/datasets/xml/flickr30k_options.hpp>
#include <groundeval/datasets/xml/flickr30k_tinyxml.hpp>
#include <groundeval/datasets/xml/flickr30k_xml_scanner.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/parallel.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace groundeval {

/// Resolves the image ids to load (explicit list, `<root>/<split>.txt`, or the official list).
inline std::vector<std::string> resolve_flickr30k_image_ids(const flickr30k_options& opt,
                                                            problem_sink& sink) {
  if (!opt.image_ids.empty()) return validate_image_ids(opt.image_ids, "image id list", {}, sink);
  if (opt.split.empty()) throw error(error_kind::config, "flickr30k: no split and no image ids");
  if (opt.split == "all") {
    std::vector<std::string> all;
    for (const char* s : {"train", "val", "test"}) {
      flickr30k_options o = opt;
      o.split = s;
      for (auto& id : resolve_flickr30k_image_ids(o, sink)) all.push_back(std::move(id));
    }
    return validate_image_ids(std::move(all), "split 'all' (train + val + test)", {}, sink);
  }
  const std::string own = detail::path_join(opt.root, opt.split + ".txt");
  if (detail::file_exists(own)) return read_split_file(own, sink);
  if (!opt.data_dir.empty()) {
    const std::string official = flickr30k_split_path(opt.data_dir, opt.split);
    if (detail::file_exists(official)) return read_split_file(official, sink);
  }
  throw error(
      error_kind::config, own, 0,
      "no split list for '" + opt.split + "' (looked here" +
          (opt.data_dir.empty() ? std::string()
                                : " and in " + flickr30k_split_path(opt.data_dir, opt.split)) +
          ")");
}

/// Loads Flickr30k Entities with statistics and, in lenient mode, the problems report.
inline flickr30k_load_result load_flickr30k_entities_detailed(const flickr30k_options& opt) {
  using clock = std::chrono::steady_clock;
  const auto since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };
  problem_sink sink(opt.strict);
  flickr30k_load_result res;
  flickr30k_load_timeline& tl = res.timeline;
  auto t = clock::now();
  double cpu = detail::thread_cpu_seconds();
  res.image_ids = resolve_flickr30k_image_ids(opt, sink);
  const auto& ids = res.image_ids;
  tl.split_lists = since(t);
  tl.split_lists_cpu = detail::thread_cpu_seconds() - cpu;

  // The parallel phase: each block of images appends its samples, problems and examples to its
  // own result in image order; each worker counts into its own counters.
  t = clock::now();
  std::vector<detail::flickr30k_block_result> blocks((ids.size() + detail::dynamic_block - 1) /
                                                     detail::dynamic_block);
  const detail::flickr30k_folder annotations(detail::path_join(opt.root, "Annotations"));
  const detail::flickr30k_folder sentences(detail::path_join(opt.root, "Sentences"));
  std::vector<detail::flickr30k_worker> workers(
      detail::dynamic_worker_count(ids.size(), opt.threads));
  detail::worker_usage usage;
  detail::parallel_for_dynamic(
      ids.size(), opt.threads,
      [&](std::size_t i, unsigned w) {
        detail::load_flickr30k_image(opt, ids[i], annotations, sentences, workers[w],
                                     blocks[i / detail::dynamic_block]);
      },
      &usage);
  tl.images = since(t);
  tl.worker_cpu = std::move(usage.cpu);
  tl.worker_images = std::move(usage.done);

  // The merge: samples move into one vector in image order on the worker threads (offsets
  // from a prefix sum over the blocks); problems, examples and counts are added up in order.
  t = clock::now();
  cpu = detail::thread_cpu_seconds();
  std::vector<sample> samples;
  if (opt.keep_samples) {
    std::vector<std::size_t> offset(blocks.size() + 1, 0);
    for (std::size_t b = 0; b < blocks.size(); ++b)
      offset[b + 1] = offset[b] + blocks[b].samples.size();
    samples.resize(offset.back());
    detail::parallel_for_dynamic(blocks.size(), opt.threads, [&](std::size_t b, unsigned) {
      std::move(blocks[b].samples.begin(), blocks[b].samples.end(),
                samples.begin() + static_cast<std::ptrdiff_t>(offset[b]));
      blocks[b].samples = {};
    });
  }
  dataset_statistics& st = res.statistics;
  for (auto& r : blocks) {
    for (auto& m : r.missing_chain_examples)
      if (st.missing_chain_examples.size() < 20) st.missing_chain_examples.push_back(std::move(m));
    sink.append(std::move(r.problems));
  }
  blocks.clear();
  for (const auto& w : workers) {
    const auto& a = w.annotations;
    st.boxes += a.boxes;
    st.shared_boxes += a.shared_boxes;
    st.chains += a.chains;
    st.multi_box_chains += a.multi_box_chains;
    st.scene_objects += a.scene_objects;
    st.nobox_objects += a.nobox_objects;
    st.degenerate_boxes += a.degenerate_boxes;
    st.missing_chain_phrases += a.missing_chain_phrases;
    st.scene_phrases += a.scene_phrases;
    st.nobox_phrases += a.nobox_phrases;
    w.samples.add_to(st);
  }
  std::string image_dir = opt.image_dir;
  if (image_dir.empty()) {
    const std::string d = detail::path_join(opt.root, "flickr30k-images");
    if (detail::file_exists(d)) image_dir = d;
  }
  res.dataset = in_memory_dataset(
      "flickr30k_entities:" + (opt.image_ids.empty() ? opt.split : std::string("custom")),
      std::move(samples), std::move(image_dir));
  res.problems = sink.take();
  tl.merge = since(t);
  tl.merge_cpu = detail::thread_cpu_seconds() - cpu;
  return res;
}

/// Loads Flickr30k Entities (strict by default: the first problem throws groundeval::error
/// naming the file and line). In lenient mode problems are dropped; use the lenient variant to
/// see them.
inline in_memory_dataset load_flickr30k_entities(const flickr30k_options& opt) {
  return std::move(load_flickr30k_entities_detailed(opt).dataset);
}

/// Lenient load: never throws for bad input files (only for a bad configuration, e.g. no split
/// list); every problem is in the returned report.
inline flickr30k_load_result load_flickr30k_entities_lenient(flickr30k_options opt) {
  opt.strict = false;
  return load_flickr30k_entities_detailed(opt);
}

}  // namespace groundeval
