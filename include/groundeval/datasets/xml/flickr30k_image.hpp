// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_image.hpp — loading one image of Flickr30k Entities
// (its annotation and sentence files) into samples, and counting it on the worker's thread.
// Target: groundeval::xml.
#pragma once

#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/datasets/xml/flickr30k_annotation.hpp>
#include <groundeval/datasets/xml/flickr30k_files.hpp>
#include <groundeval/datasets/xml/flickr30k_options.hpp>
#include <groundeval/datasets/xml/flickr30k_tinyxml.hpp>
#include <groundeval/datasets/xml/flickr30k_xml_scanner.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::detail {

/// Per-image result of the parallel load (counts go to the worker's flickr30k_counts).
struct flickr30k_image_result {
  std::vector<sample> samples;
  std::vector<std::string> missing_chain_examples;  // first 20 of this image
  std::vector<dataset_problem> problems;
};

/// What one worker thread counts over the images it loads (added up after the load).
struct flickr30k_counts {
  dataset_statistics annotations;  // annotation-level and non-evaluable phrase counts
  sample_counter samples;          // sample-derived counts
  flickr30k_scratch scratch;       // reused per image
};

inline void load_flickr30k_image(const flickr30k_options& opt, const std::string& id,
                                 const flickr30k_folder& annotations,
                                 const flickr30k_folder& sentences_dir, flickr30k_counts& counts,
                                 flickr30k_image_result& r) {
  problem_sink sink(opt.strict);
  std::string_view xml, txt;
  std::string name;  // "<id>.xml", then "<id>.txt"
  name.reserve(id.size() + 4);
  name.append(id).append(".xml");
  auto path = [&](const char* folder, const char* ext) {
    std::string p = opt.root;
    if (!p.empty() && p.back() != '/') p += '/';
    return p.append(folder).append(id).append(ext);
  };
  const std::string xml_path = path("Annotations/", ".xml");
  if (!read_flickr30k_file(annotations, name, xml_path, flickr30k_max_file_bytes, xml, 0)) {
    sink.report(error_kind::io, xml_path, 0,
                "cannot read annotation file" + read_failure_reason(flickr30k_max_file_bytes));
    r.problems = sink.take();
    return;
  }
  // The fast scanner fills the scratch annotation, whose chain ids view `xml`; any other file
  // goes through TinyXML2 (which also reports every problem) into `fallback`.
  flickr30k_scratch& ann = counts.scratch;
  ann.clear();
  flickr30k_annotation fallback;
  if (!(opt.fast_xml && fast_parse_flickr30k_annotation(xml, ann))) {
    fallback = parse_flickr30k_annotation(xml, xml_path, sink, false);
    ann.assign(fallback);
  }
  name.replace(name.size() - 3, 3, "txt");
  const std::string txt_path = path("Sentences/", ".txt");
  if (!read_flickr30k_file(sentences_dir, name, txt_path, flickr30k_max_file_bytes, txt, 1)) {
    sink.report(error_kind::io, txt_path, 0,
                "cannot read sentence file" + read_failure_reason(flickr30k_max_file_bytes));
    r.problems = sink.take();
    return;
  }
  std::vector<flickr30k_sentence> sentences = parse_flickr30k_sentences(txt, txt_path, sink);

  auto& c = counts.annotations;
  c.boxes += ann.box_objects;
  c.shared_boxes += ann.shared_boxes;
  c.scene_objects += ann.scene_objects;
  c.nobox_objects += ann.nobox_objects;
  c.degenerate_boxes += ann.degenerate_boxes;
  c.chains += ann.chains.size();
  for (const auto& ch : ann.chains)
    if (ch.count >= 2) ++c.multi_box_chains;

  r.samples.resize(sentences.size());
  for (std::size_t k = 0; k < sentences.size(); ++k) {
    flickr30k_sentence& s = sentences[k];
    sample& smp = r.samples[k];
    smp.image_id = id;
    smp.size = ann.size;
    smp.sentence_index = static_cast<int>(k);
    smp.sentence = std::move(s.text);
    smp.phrases = std::move(s.phrases);
    for (phrase& p : smp.phrases) {
      const flickr30k_scratch::chain* ch = ann.find(p.chain_id);
      if (ch && ch->count > 0) {
        ann.copy_boxes(*ch, p.boxes);
      } else if (p.chain_id == "0") {
        // notvisual: counted by sample_counter
      } else if (!ch) {
        ++c.missing_chain_phrases;
        if (r.missing_chain_examples.size() < 20)
          r.missing_chain_examples.push_back(txt_path + ":" + std::to_string(s.line) + ": chain " +
                                             p.chain_id);
        if (opt.missing_chain_is_error)
          sink.report(error_kind::invalid, txt_path, s.line,
                      "chain id " + p.chain_id + " is absent from " + xml_path);
      } else if (ch->scene) {
        ++c.scene_phrases;
      } else {
        ++c.nobox_phrases;
      }
    }
    counts.samples.add(smp);
  }
  if (!r.samples.empty()) counts.samples.count_image();
  r.problems = sink.take();
}

}  // namespace groundeval::detail
