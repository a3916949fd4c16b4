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

/// What the images of one block (consecutive images, loaded in order by one worker) produce.
struct flickr30k_block_result {
  std::vector<sample> samples;                      ///< empty unless samples are kept
  std::vector<std::string> missing_chain_examples;  ///< the block's first 20
  std::vector<dataset_problem> problems;            ///< lenient mode
};

/// What one worker thread counts and reuses over the images it loads (added up after the load).
struct flickr30k_worker {
  dataset_statistics annotations;        ///< annotation-level and non-evaluable phrase counts
  sample_counter samples;                ///< sample-derived counts
  flickr30k_scratch scratch;             ///< the annotation being read, reused per image
  std::string name, xml_path, txt_path;  ///< reused per image
};

/// Loads image `id`: its samples are appended to r.samples when opt.keep_samples (else only
/// counted), its counts go to `w`. Problems: strict mode throws the first one; lenient mode
/// appends them to r.problems (a missing or unreadable file drops the image).
inline void load_flickr30k_image(const flickr30k_options& opt, const std::string& id,
                                 const flickr30k_folder& annotations,
                                 const flickr30k_folder& sentences_dir, flickr30k_worker& w,
                                 flickr30k_block_result& r) {
  problem_sink sink(opt.strict);  // lenient: the image's problems go to r.problems at the end
  auto done = [&] {
    for (auto& p : sink.take()) r.problems.push_back(std::move(p));
  };
  // "<id>.xml" opened relative to Annotations/ (the full path only names it in messages), then
  // "<id>.txt" relative to Sentences/.
  auto read = [&](const flickr30k_folder& dir, const char* folder, const char* ext,
                  std::string& path, std::string_view& out, int slot, const char* what) {
    w.name.assign(id).append(ext);
    path.assign(opt.root);
    if (!path.empty() && path.back() != '/') path += '/';
    path.append(folder).append(id).append(ext);
    if (read_flickr30k_file(dir, w.name, path, flickr30k_max_file_bytes, out, slot)) return true;
    sink.report(error_kind::io, path, 0,
                std::string("cannot read ") + what + read_failure_reason(flickr30k_max_file_bytes));
    return false;
  };
  std::string_view xml, txt;
  if (!read(annotations, "Annotations/", ".xml", w.xml_path, xml, 0, "annotation file"))
    return done();
  // The fast scanner fills the scratch annotation, whose chain ids view `xml`; any other file
  // goes through TinyXML2 (which also reports every problem) into `fallback`.
  flickr30k_scratch& ann = w.scratch;
  ann.clear();
  flickr30k_annotation fallback;
  if (!(opt.fast_xml && fast_parse_flickr30k_annotation(xml, ann))) {
    fallback = parse_flickr30k_annotation(xml, w.xml_path, sink, false);
    ann.assign(fallback);
  }
  if (!read(sentences_dir, "Sentences/", ".txt", w.txt_path, txt, 1, "sentence file"))
    return done();
  std::vector<flickr30k_sentence> sentences = parse_flickr30k_sentences(txt, w.txt_path, sink);

  auto& c = w.annotations;
  c.boxes += ann.box_objects;
  c.shared_boxes += ann.shared_boxes;
  c.scene_objects += ann.scene_objects;
  c.nobox_objects += ann.nobox_objects;
  c.degenerate_boxes += ann.degenerate_boxes;
  c.chains += ann.chains.size();
  for (const auto& ch : ann.chains)
    if (ch.count >= 2) ++c.multi_box_chains;

  // Each phrase is counted from its chain (the same rule whether or not the sample is kept);
  // a kept sample takes the sentence's text and phrases, with the chain's boxes copied in.
  for (std::size_t k = 0; k < sentences.size(); ++k) {
    flickr30k_sentence& s = sentences[k];
    for (phrase& p : s.phrases) {
      const flickr30k_scratch::chain* ch = ann.find(p.chain_id);
      const std::size_t boxes = ch ? ch->count : 0;
      if (boxes > 0) {
        if (opt.keep_samples) ann.copy_boxes(*ch, p.boxes);
      } else if (p.chain_id == "0") {
        // notvisual: counted by sample_counter
      } else if (!ch) {
        ++c.missing_chain_phrases;
        if (r.missing_chain_examples.size() < 20)
          r.missing_chain_examples.push_back(w.txt_path + ":" + std::to_string(s.line) +
                                             ": chain " + p.chain_id);
        if (opt.missing_chain_is_error)
          sink.report(error_kind::invalid, w.txt_path, s.line,
                      "chain id " + p.chain_id + " is absent from " + w.xml_path);
      } else if (ch->scene) {
        ++c.scene_phrases;
      } else {
        ++c.nobox_phrases;
      }
      w.samples.add_phrase(p.chain_id, p.types, boxes);
    }
    w.samples.end_sample();
    if (!opt.keep_samples) continue;
    sample& smp = r.samples.emplace_back();
    smp.image_id = id;
    smp.size = ann.size;
    smp.sentence_index = static_cast<int>(k);
    smp.sentence = std::move(s.text);
    smp.phrases = std::move(s.phrases);
  }
  if (!sentences.empty()) w.samples.count_image();
  done();
}

}  // namespace groundeval::detail
