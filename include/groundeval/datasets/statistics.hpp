// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/statistics.hpp — counts that describe a loaded data set, and their text /
// JSON rendering (used by `groundeval stats`). Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/detail/json_text.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace groundeval {

/// Statistics of a data set. Sentence/phrase counts are derived from the samples
/// (compute_statistics); annotation-level counts (boxes, chains, flags) are filled by the loader
/// that saw the annotation files and stay 0 where a format has no such notion.
///
/// Every phrase falls into exactly one of: evaluable (its chain has >= 1 box), notvisual (chain
/// id "0"), missing_chain (id not in the annotation file), scene (chain has only scene flags),
/// nobox (any other chain without a box). So phrases = evaluable_phrases + notvisual_phrases +
/// missing_chain_phrases + scene_phrases + nobox_phrases for a Flickr30k Entities load.
struct dataset_statistics {
  std::size_t images = 0;               ///< distinct image ids
  std::size_t sentences = 0;            ///< samples
  std::size_t evaluable_sentences = 0;  ///< samples with >= 1 evaluable phrase
  std::size_t phrases = 0;              ///< all phrase occurrences
  std::size_t evaluable_phrases = 0;    ///< phrase occurrences with >= 1 ground-truth box
  std::size_t gt_boxes = 0;             ///< sum over evaluable phrases of their box count
  // Annotation level (loader-filled).
  std::size_t boxes = 0;             ///< physical boxes (<bndbox> objects / JSON annotations)
  std::size_t shared_boxes = 0;      ///< boxes listed under >= 2 chain ids
  std::size_t chains = 0;            ///< distinct (image, chain id) pairs in the annotations
  std::size_t multi_box_chains = 0;  ///< chains with >= 2 boxes
  std::size_t scene_objects = 0;     ///< box-less objects with scene = 1
  std::size_t nobox_objects = 0;     ///< box-less objects with nobndbox = 1
  std::size_t degenerate_boxes = 0;  ///< boxes with zero width or height (NaN IoU in the reference)
  std::size_t notvisual_phrases = 0;      ///< chain id "0"
  std::size_t missing_chain_phrases = 0;  ///< chain id used in a sentence, absent from the XML
  std::size_t scene_phrases = 0;
  std::size_t nobox_phrases = 0;
  std::map<std::string, std::size_t> phrases_by_type;            ///< each phrase once per type
  std::map<std::string, std::size_t> evaluable_phrases_by_type;  ///< the evaluator's denominators
  /// Up to 20 "FILE:LINE: chain ID" locations of missing chain ids.
  std::vector<std::string> missing_chain_examples;
};

/// Counts the sample-derived statistics (images .. gt_boxes, notvisual_phrases and the two
/// per-type maps) one sample at a time. Loaders keep one per worker thread and add them up, so the
/// counting rules exist once (add_sample_statistics uses it too).
class sample_counter {
 public:
  /// Counts one sample (a sentence) and its phrases; images are counted by count_image().
  void add(const sample& s) {
    for (const phrase& p : s.phrases) add_phrase(p.chain_id, p.types, p.boxes.size());
    end_sample();
  }
  /// Counts one phrase of the current sample from its chain id, types and number of ground-truth
  /// boxes (a loader that does not build the sample counts this way); end_sample() closes it.
  template <class Types>
  void add_phrase(std::string_view chain_id, const Types& types, std::size_t boxes) {
    ++m_phrases;
    const bool evaluable = boxes > 0;
    if (chain_id == "0" && !evaluable) ++m_notvisual;
    for (const auto& t : types) {
      bump(m_all, t);
      if (evaluable) bump(m_evaluable, t);
    }
    if (evaluable) {
      m_any = true;
      ++m_evaluable_phrases;
      m_gt_boxes += boxes;
    }
  }
  /// Ends the current sample (a sentence).
  void end_sample() noexcept {
    ++m_sentences;
    if (m_any) ++m_evaluable_sentences;
    m_any = false;
  }
  void count_image() noexcept { ++m_images; }

  /// Adds the counts to `st` (which may hold other counts already).
  void add_to(dataset_statistics& st) const {
    st.images += m_images;
    st.sentences += m_sentences;
    st.evaluable_sentences += m_evaluable_sentences;
    st.phrases += m_phrases;
    st.evaluable_phrases += m_evaluable_phrases;
    st.gt_boxes += m_gt_boxes;
    st.notvisual_phrases += m_notvisual;
    for (const auto& [t, n] : m_all) st.phrases_by_type[t] += n;
    for (const auto& [t, n] : m_evaluable) st.evaluable_phrases_by_type[t] += n;
  }

 private:
  // Flat counters while scanning (a handful of type names), merged into the maps by add_to.
  using type_counts = std::vector<std::pair<std::string, std::size_t>>;
  static void bump(type_counts& v, std::string_view t) {
    for (auto& e : v)
      if (e.first == t) {
        ++e.second;
        return;
      }
    v.emplace_back(std::string(t), 1);
  }
  std::size_t m_images = 0, m_sentences = 0, m_evaluable_sentences = 0, m_phrases = 0;
  std::size_t m_evaluable_phrases = 0, m_gt_boxes = 0, m_notvisual = 0;
  bool m_any = false;  // the current sample has an evaluable phrase
  type_counts m_all, m_evaluable;
};

/// Fills the sample-derived counts (images .. gt_boxes, phrases_by_type,
/// evaluable_phrases_by_type, notvisual_phrases) of `st` from a data set.
inline void add_sample_statistics(const in_memory_dataset& ds, dataset_statistics& st) {
  sample_counter counter;
  std::unordered_set<std::string_view> images;
  std::string_view last_image;
  bool first = true;
  for (const sample& s : ds) {
    if ((first || s.image_id != last_image) && images.insert(s.image_id).second)
      counter.count_image();  // loaders group by image: one lookup per image
    first = false;
    last_image = s.image_id;
    counter.add(s);
  }
  counter.add_to(st);
}

/// Sample-derived statistics of any in-memory data set.
inline dataset_statistics compute_statistics(const in_memory_dataset& ds) {
  dataset_statistics st;
  add_sample_statistics(ds, st);
  return st;
}

/// The counts as (name, value) pairs in a fixed order (text and JSON output share it).
inline std::vector<std::pair<std::string_view, std::size_t>> statistics_fields(
    const dataset_statistics& s) {
  return {{"images", s.images},
          {"sentences", s.sentences},
          {"evaluable_sentences", s.evaluable_sentences},
          {"phrases", s.phrases},
          {"evaluable_phrases", s.evaluable_phrases},
          {"gt_boxes", s.gt_boxes},
          {"boxes", s.boxes},
          {"shared_boxes", s.shared_boxes},
          {"chains", s.chains},
          {"multi_box_chains", s.multi_box_chains},
          {"scene_objects", s.scene_objects},
          {"nobox_objects", s.nobox_objects},
          {"degenerate_boxes", s.degenerate_boxes},
          {"notvisual_phrases", s.notvisual_phrases},
          {"missing_chain_phrases", s.missing_chain_phrases},
          {"scene_phrases", s.scene_phrases},
          {"nobox_phrases", s.nobox_phrases}};
}

/// Writes every count as an integer member, `phrases_by_type`, `evaluable_phrases_by_type` and
/// `missing_chain_examples` into the object `w` is writing.
inline void write_json_members(detail::json_writer& w, const dataset_statistics& s) {
  for (const auto& [k, v] : statistics_fields(s)) w.value(k, static_cast<std::uint64_t>(v));
  for (const auto& [key, m] :
       {std::pair{"phrases_by_type", &s.phrases_by_type},
        std::pair{"evaluable_phrases_by_type", &s.evaluable_phrases_by_type}}) {
    w.begin_object(key, true);
    for (const auto& [t, n] : *m) w.value(t, static_cast<std::uint64_t>(n));
    w.end_object();
  }
  w.begin_array("missing_chain_examples", true);
  for (const auto& e : s.missing_chain_examples) w.value({}, e);
  w.end_array();
}

/// The statistics as one JSON object (write_json_members).
inline std::string to_json(const dataset_statistics& s) {
  detail::json_writer w;
  w.begin_object();
  write_json_members(w, s);
  w.end_object();
  return std::move(w.out) + "\n";
}

/// A human-readable table of the counts.
inline std::string to_text(const dataset_statistics& s) {
  std::string out;
  char buf[128];
  for (const auto& [k, v] : statistics_fields(s)) {
    std::snprintf(buf, sizeof buf, "%-24.*s %zu\n", static_cast<int>(k.size()), k.data(), v);
    out += buf;
  }
  out += "phrases by type (all / evaluable):\n";
  for (const auto& [t, n] : s.phrases_by_type) {
    const auto it = s.evaluable_phrases_by_type.find(t);
    const std::size_t e = it == s.evaluable_phrases_by_type.end() ? 0 : it->second;
    std::snprintf(buf, sizeof buf, "  %-22.*s %zu / %zu\n", static_cast<int>(t.size()), t.data(), n,
                  e);
    out += buf;
  }
  for (const auto& m : s.missing_chain_examples) out += "missing chain: " + m + "\n";
  return out;
}

}  // namespace groundeval
