// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/evaluate.hpp — evaluates a data set against a run's predictions exactly as
// MDETR's datasets/flickr_eval.py does, plus the other metrics (docs/metrics.md).
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/metrics/answers.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/metrics/paired.hpp>
#include <groundeval/metrics/recall.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace groundeval {

/// Options of evaluate().
struct evaluation_options {
  gt_protocol protocol = gt_protocol::any_box;
  double iou_threshold = 0.5;
  std::vector<int> ks{1, 5, 10, k_all};
  /// Missing predictions: false (default) throws error_kind::invalid naming them, as the
  /// reference does; true counts each missing phrase as a miss (warnings.missing_phrases).
  bool count_missing_as_miss = false;
  /// Malformed entries (wrong number of phrase lists, chain id mismatch): false (default) throws
  /// naming the item or line; true counts the affected phrases as misses (warnings.invalid_*).
  bool count_invalid_as_miss = false;
  /// How many example messages to keep in evaluation_warnings::examples.
  std::size_t max_examples = 20;
  /// Threads for the per-phrase IoU work (0: hardware concurrency; small inputs stay serial).
  /// Results do not depend on it: phrases are measured independently and added in order.
  unsigned threads = 0;
};

/// Everything the reference ignores or dies on, counted.
struct evaluation_warnings {
  std::uint64_t duplicate_sentences = 0;  ///< second and later predictions of a sentence
  std::uint64_t duplicate_phrases = 0;    ///< second and later records of a phrase (JSON Lines)
  std::uint64_t unknown_images = 0;       ///< entries naming an image not in the data set
  std::uint64_t unknown_sentences = 0;    ///< known image, no such sentence
  std::uint64_t unknown_phrases = 0;      ///< phrase index beyond the sentence's phrases
  std::uint64_t unexpected_sentences =
      0;  ///< non-empty lists for a sentence with nothing to evaluate
  std::uint64_t non_evaluable_phrases = 0;  ///< records for phrases without GT box (JSON Lines)
  std::uint64_t invalid_sentences = 0;      ///< wrong number of phrase lists (counted as misses)
  std::uint64_t invalid_phrases = 0;        ///< chain id mismatches (counted as misses)
  std::uint64_t missing_sentences = 0;      ///< evaluable sentences with no prediction at all
  std::uint64_t missing_phrases = 0;        ///< evaluable phrases with no prediction (misses)
  std::vector<std::string> examples;        ///< the first few messages, "where: what"

  std::uint64_t total() const {
    return duplicate_sentences + duplicate_phrases + unknown_images + unknown_sentences +
           unknown_phrases + unexpected_sentences + non_evaluable_phrases + invalid_sentences +
           invalid_phrases + missing_sentences + missing_phrases;
  }
};

/// How an evaluable phrase's prediction was found.
enum class outcome_source : std::uint8_t { given, missing, invalid };

/// Per evaluated phrase, in data set order (for paired comparison and case selection).
struct phrase_outcome {
  std::uint32_t sample = 0;    ///< index of the sample in the data set
  std::uint32_t phrase = 0;    ///< index of the phrase in the sample's phrases
  std::uint32_t image = 0;     ///< dense image index (order of first appearance)
  std::uint32_t hit_mask = 0;  ///< bit i: Recall@ks[i] hit
  double top1_iou = 0.0;       ///< defined IoU of the top-1 box (0 when none)
  query_status status = query_status::ok;
  outcome_source source = outcome_source::given;
  bool has_nan = false;
};

/// The result of evaluate().
struct evaluation_result {
  std::string predictions_source;
  gt_protocol protocol = gt_protocol::any_box;
  double iou_threshold = 0.5;
  std::uint64_t images = 0;     ///< images with >= 1 evaluated sentence
  std::uint64_t sentences = 0;  ///< evaluated sentences (MDETR's len(all_ids))
  std::uint64_t phrases = 0;    ///< evaluated phrase occurrences
  recall_table recall;
  localization_result localization;
  answer_counts answers;
  latency_summary latency;
  evaluation_warnings warnings;
  std::vector<phrase_outcome> outcomes;
  std::vector<std::string> image_ids;  ///< dense image index -> id
};

// ---- implementation -------------------------------------------------------------------------

namespace detail {

struct eval_slot {
  const scored_box* boxes = nullptr;
  std::size_t count = 0;
  query_status status = query_status::ok;
  double latency_s = -1.0;
  outcome_source source = outcome_source::missing;
};

/// A string -> index map for the matching step: keys in one arena, entries sorted by FNV-1a
/// hash, looked up by binary search plus a string comparison. Duplicate keys: the first added
/// wins (as with the reference's first-match list lookup).
class key_index {
 public:
  void add(std::string_view key, std::uint32_t value) {
    m_entries.push_back({fnv1a64(key), static_cast<std::uint32_t>(m_arena.size()),
                         static_cast<std::uint32_t>(key.size()), value});
    m_arena.append(key);
  }
  /// Adds "{image}_{sentence}" without a temporary string.
  void add_sample_key(std::string_view image, long long sentence, std::uint32_t value) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, sentence);
    const auto off = static_cast<std::uint32_t>(m_arena.size());
    m_arena.append(image);
    m_arena.push_back('_');
    m_arena.append(buf, r.ptr);
    const std::string_view key(m_arena.data() + off, m_arena.size() - off);
    m_entries.push_back({fnv1a64(key), off, static_cast<std::uint32_t>(key.size()), value});
  }
  void build() {
    // Values are added in increasing order, so (hash, value) order keeps the first-added first.
    std::sort(m_entries.begin(), m_entries.end(), [](const entry& a, const entry& b) {
      return a.hash < b.hash || (a.hash == b.hash && a.value < b.value);
    });
  }
  /// The value of `key`, or nullptr.
  const std::uint32_t* find(std::string_view key) const {
    const std::uint64_t h = fnv1a64(key);
    auto it = std::lower_bound(m_entries.begin(), m_entries.end(), h,
                               [](const entry& e, std::uint64_t v) { return e.hash < v; });
    for (; it != m_entries.end() && it->hash == h; ++it)
      if (std::string_view(m_arena.data() + it->off, it->len) == key) return &it->value;
    return nullptr;
  }

 private:
  struct entry {
    std::uint64_t hash;
    std::uint32_t off, len, value;
  };
  std::string m_arena;
  std::vector<entry> m_entries;
};

inline void note(evaluation_warnings& w, std::size_t max_examples, std::string msg) {
  if (w.examples.size() < max_examples) w.examples.push_back(std::move(msg));
}

inline std::string item_where(const prediction_set& p, std::size_t item) {
  std::string s = p.source.empty() ? std::string("predictions") : p.source;
  s.append(": entry #");
  s.append(std::to_string(item));
  return s;
}
inline std::string line_where(const prediction_set& p, std::size_t line) {
  std::string s = p.source.empty() ? std::string("predictions") : p.source;
  if (line) {
    s.push_back(':');
    s.append(std::to_string(line));
  }
  return s;
}

}  // namespace detail

/// Evaluates `data` against `preds`.
///
/// Selection: a phrase is evaluated when its chain has >= 1 GT box; a sentence when it has >= 1
/// such phrase; every occurrence counts once in "all" and once per listed type.
/// Matching (MDETR layout): key "{image_id}_{sentence_id}"; the first prediction of a key wins,
/// later ones are counted as duplicates; predictions for keys without evaluable phrases are
/// skipped and counted (unknown image / unknown sentence / nothing to evaluate); a wrong number of
/// phrase lists is an error. Matching (JSON Lines layout): key + phrase index, first wins.
/// Where the reference crashes or is silent the evaluator is explicit: an empty candidate list is
/// a miss (counted), missing predictions are an error unless count_missing_as_miss is set.
///
/// The data set's phrases must expose `types` and `boxes` as contiguous ranges of std::string
/// and box_xyxy<double> (groundeval::phrase does). Throws groundeval::error for missing or
/// malformed predictions unless the options say to count them.
template <Dataset D>
evaluation_result evaluate(const D& data, const prediction_set& preds,
                           const evaluation_options& opt = {}) {
  recall_options ropt{opt.ks, opt.iou_threshold, opt.protocol};
  recall_at_k recall(ropt);
  localization_metric loc(opt.protocol);
  answer_metric answers;
  latency_metric latency;

  evaluation_result res;
  res.predictions_source = preds.source;
  res.protocol = opt.protocol;
  res.iou_threshold = opt.iou_threshold;
  auto& warn = res.warnings;
  const std::size_t max_ex = opt.max_examples;

  if (!preds.sentences.empty() && !preds.phrases.empty())
    throw error(error_kind::invalid, preds.source, 0,
                "a prediction set must hold either per-sentence or per-phrase entries, not both");

  // ---- index the data set ----
  using sample_t = std::ranges::range_value_t<const D>;
  std::vector<const sample_t*> samples;
  samples.reserve(std::ranges::size(data));
  for (const auto& s : data) samples.push_back(&s);

  detail::key_index key_to_sample;  // "{image_id}_{sentence_index}" -> sample (first wins)
  std::unordered_map<std::string, std::uint32_t> image_index;
  std::vector<std::size_t> slot_offset(samples.size() + 1, 0);
  std::vector<std::uint32_t> slot_phrase;  // phrase index within its sample, per slot
  std::vector<phrase_truth> slot_truth;    // views into the data set, read once here
  slot_phrase.reserve(samples.size() * 4);
  slot_truth.reserve(samples.size() * 4);
  for (std::size_t si = 0; si < samples.size(); ++si) {
    const auto& s = *samples[si];
    key_to_sample.add_sample_key(std::string_view(s.image_id),
                                 static_cast<long long>(s.sentence_index),
                                 static_cast<std::uint32_t>(si));
    std::uint32_t pi = 0;
    for (const auto& p : s.phrases) {
      if (is_evaluable(p)) {
        slot_phrase.push_back(pi);
        slot_truth.push_back({std::span<const box_xyxy<double>>(p.boxes),
                              std::span<const std::string>(p.types), s.size});
      }
      ++pi;
    }
    slot_offset[si + 1] = slot_phrase.size();
  }
  key_to_sample.build();
  // Image ids, only built when a warning needs to tell an unknown image from an unknown sentence.
  detail::key_index image_set;
  bool image_set_built = false;
  auto known_image = [&](std::string_view id) {
    if (!image_set_built) {
      for (std::size_t si = 0; si < samples.size(); ++si)
        image_set.add(std::string_view(samples[si]->image_id), static_cast<std::uint32_t>(si));
      image_set.build();
      image_set_built = true;
    }
    return image_set.find(id) != nullptr;
  };
  std::vector<detail::eval_slot> slots(slot_phrase.size());
  auto evaluable_count = [&](std::size_t si) { return slot_offset[si + 1] - slot_offset[si]; };

  // ---- match per-sentence predictions (MDETR layout) ----
  std::vector<char> seen(samples.size(), 0);
  std::string key;
  for (std::size_t item = 0; item < preds.sentences.size(); ++item) {
    const sentence_prediction& sp = preds.sentences[item];
    key.assign(sp.image_id);
    key += '_';
    key += sp.sentence_id;
    const std::uint32_t* it = key_to_sample.find(key);
    const bool known = it && evaluable_count(*it) > 0;
    if (known && seen[*it]) {
      ++warn.duplicate_sentences;
      detail::note(warn, max_ex,
                   detail::item_where(preds, item) + ": duplicate prediction for image " +
                       sp.image_id + " sentence " + sp.sentence_id + " ignored (first wins)");
      continue;
    }
    if (!known) {
      if (!known_image(sp.image_id)) {
        ++warn.unknown_images;
        detail::note(warn, max_ex,
                     detail::item_where(preds, item) + ": unknown image " + sp.image_id);
      } else if (!it) {
        ++warn.unknown_sentences;
        detail::note(warn, max_ex,
                     detail::item_where(preds, item) + ": image " + sp.image_id +
                         " has no sentence " + sp.sentence_id);
      } else if (!sp.boxes.empty()) {
        ++warn.unexpected_sentences;
        detail::note(warn, max_ex,
                     detail::item_where(preds, item) + ": image " + sp.image_id + " sentence " +
                         sp.sentence_id + " has no evaluable phrase; its boxes are ignored");
      }
      continue;
    }
    const std::uint32_t si = *it;
    seen[si] = 1;
    const std::size_t need = evaluable_count(si);
    if (sp.boxes.size() != need) {
      const std::string msg = "got " + std::to_string(sp.boxes.size()) +
                              " phrase lists, expected " + std::to_string(need) + " for sentence " +
                              sp.sentence_id + " in image " + sp.image_id;
      if (!opt.count_invalid_as_miss)
        throw error(error_kind::invalid, detail::item_where(preds, item), 0, msg);
      ++warn.invalid_sentences;
      detail::note(warn, max_ex,
                   detail::item_where(preds, item) + ": " + msg + " (counted as misses)");
      for (std::size_t e = 0; e < need; ++e)
        slots[slot_offset[si] + e].source = outcome_source::invalid;
      continue;
    }
    for (std::size_t e = 0; e < need; ++e) {
      auto& sl = slots[slot_offset[si] + e];
      sl.boxes = sp.boxes[e].data();
      sl.count = sp.boxes[e].size();
      sl.status = sl.count ? query_status::ok : query_status::empty;
      sl.source = outcome_source::given;
    }
  }

  // ---- match per-phrase records (JSON Lines layout) ----
  std::vector<char> filled(slots.size(), 0);
  for (const phrase_prediction_record& r : preds.phrases) {
    const auto where_fn = [&] { return detail::line_where(preds, r.line); };
    key.assign(r.image_id);
    key += '_';
    key += std::to_string(r.sentence_id);
    const std::uint32_t* it = key_to_sample.find(key);
    if (!it) {
      if (!known_image(r.image_id)) {
        ++warn.unknown_images;
        detail::note(warn, max_ex, where_fn() + ": unknown image " + r.image_id);
      } else {
        ++warn.unknown_sentences;
        detail::note(warn, max_ex,
                     where_fn() + ": image " + r.image_id + " has no sentence " +
                         std::to_string(r.sentence_id));
      }
      continue;
    }
    const std::uint32_t si = *it;
    const auto& s = *samples[si];
    if (r.phrase_index >= std::ranges::size(s.phrases)) {
      ++warn.unknown_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": image " + r.image_id + " sentence " +
                       std::to_string(r.sentence_id) + " has no phrase " +
                       std::to_string(r.phrase_index));
      continue;
    }
    const auto& ph = *(std::ranges::begin(s.phrases) + static_cast<std::ptrdiff_t>(r.phrase_index));
    if (!is_evaluable(ph)) {
      ++warn.non_evaluable_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": phrase " + std::to_string(r.phrase_index) +
                       " has no ground-truth box; ignored");
      continue;
    }
    // Slot of this phrase: its rank among the sample's evaluable phrases.
    std::size_t slot = slot_offset[si];
    while (slot_phrase[slot] != r.phrase_index) ++slot;
    if (filled[slot]) {
      ++warn.duplicate_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": duplicate record for image " + r.image_id + " sentence " +
                       std::to_string(r.sentence_id) + " phrase " + std::to_string(r.phrase_index) +
                       " ignored (first wins)");
      continue;
    }
    filled[slot] = 1;
    auto& sl = slots[slot];
    if (!r.chain_id.empty() && std::string_view(ph.chain_id) != r.chain_id) {
      const std::string msg = "chain id " + r.chain_id + " does not match the data set's " +
                              std::string(std::string_view(ph.chain_id)) + " for image " +
                              r.image_id + " sentence " + std::to_string(r.sentence_id) +
                              " phrase " + std::to_string(r.phrase_index);
      if (!opt.count_invalid_as_miss) throw error(error_kind::invalid, where_fn(), 0, msg);
      ++warn.invalid_phrases;
      detail::note(warn, max_ex, where_fn() + ": " + msg + " (counted as a miss)");
      sl.source = outcome_source::invalid;
      continue;
    }
    sl.boxes = r.result.boxes.data();
    sl.count = r.result.boxes.size();
    sl.status = r.result.status;
    sl.latency_s = r.result.latency_s;
    sl.source = outcome_source::given;
  }

  // ---- missing predictions ----
  {
    std::uint64_t missing = 0, missing_sent = 0;
    std::string first;
    for (std::size_t si = 0; si < samples.size(); ++si) {
      bool any = false;
      for (std::size_t k = slot_offset[si]; k < slot_offset[si + 1]; ++k)
        if (slots[k].source == outcome_source::missing) {
          ++missing;
          any = true;
          if (first.size() < 400)
            first += (first.empty() ? "" : ", ") + std::string("image ") +
                     std::string(std::string_view(samples[si]->image_id)) + " sentence " +
                     std::to_string(static_cast<long long>(samples[si]->sentence_index)) +
                     " phrase " + std::to_string(slot_phrase[k]);
        }
      missing_sent += any ? 1 : 0;
    }
    if (missing) {
      const std::string msg = "missing predictions for " + std::to_string(missing) +
                              " phrase(s) in " + std::to_string(missing_sent) +
                              " sentence(s): " + first + (first.size() >= 400 ? ", ..." : "");
      if (!opt.count_missing_as_miss)
        throw error(error_kind::invalid, preds.source.empty() ? "predictions" : preds.source, 0,
                    msg + " (use the missing-as-miss option to count them as misses)");
      warn.missing_phrases = missing;
      warn.missing_sentences = missing_sent;
      detail::note(warn, max_ex, preds.source + ": " + msg + " (counted as misses)");
    }
  }

  // ---- measure every phrase (independent work, parallel), then accumulate in data set order
  // (serial, so every sum is the same whatever the thread count) ----
  struct measured {
    phrase_hits hits;
    localization_metric::top1_measure top1;
    std::size_t non_finite = 0;
  };
  std::vector<measured> meas(slots.size());
  auto truth_of = [&](std::size_t k) -> const phrase_truth& { return slot_truth[k]; };
  parallel_options popt;
  popt.threads = opt.threads;
  popt.min_work_per_thread = 1u << 16;
  detail::parallel_for(slots.size(), 16, popt, [&](std::size_t k0, std::size_t k1) {
    for (std::size_t k = k0; k < k1; ++k) {
      const auto& sl = slots[k];
      if (sl.source != outcome_source::given) continue;
      const phrase_truth& truth = truth_of(k);
      const phrase_prediction pred{std::span<const scored_box>(sl.boxes, sl.count), sl.status,
                                   sl.latency_s};
      meas[k].hits = reference_phrase_hits(pred.boxes, truth.boxes, opt.protocol, recall.plan(),
                                           opt.iou_threshold);
      meas[k].top1 = localization_metric::measure(pred, truth, opt.protocol);
      meas[k].non_finite = answer_metric::count_non_finite(pred.boxes);
    }
  });
  res.outcomes.reserve(slots.size());
  // Dense image indices; samples of one image are usually adjacent, so only a change of image
  // costs a map lookup.
  bool have_image = false;
  std::uint32_t last_image_index = 0;
  std::string_view last_image_view;
  for (std::size_t si = 0; si < samples.size(); ++si) {
    if (evaluable_count(si) == 0) continue;
    const auto& s = *samples[si];
    ++res.sentences;
    const std::string_view img(s.image_id);
    if (!have_image || img != last_image_view) {
      auto [iit, inserted] =
          image_index.emplace(std::string(img), static_cast<std::uint32_t>(res.image_ids.size()));
      if (inserted) res.image_ids.emplace_back(img);
      last_image_index = iit->second;
      last_image_view = img;
      have_image = true;
    }
    for (std::size_t k = slot_offset[si]; k < slot_offset[si + 1]; ++k) {
      const auto& sl = slots[k];
      const phrase_truth& truth = truth_of(k);
      phrase_outcome o;
      o.sample = static_cast<std::uint32_t>(si);
      o.phrase = slot_phrase[k];
      o.image = last_image_index;
      o.source = sl.source;
      if (sl.source == outcome_source::given) {
        const phrase_prediction pred{std::span<const scored_box>(sl.boxes, sl.count), sl.status,
                                     sl.latency_s};
        recall.add(meas[k].hits, truth.types);
        loc.add(meas[k].top1);
        o.hit_mask = meas[k].hits.mask;
        o.has_nan = meas[k].hits.has_nan;
        o.top1_iou = meas[k].top1.iou;
        o.status = sl.status;
        answers.add(sl.status, sl.count, meas[k].non_finite);
        latency.update(pred, truth);
      } else {
        recall.add(phrase_hits{}, truth.types);
        loc.add({0.0, false, classify_size(truth.boxes, truth.size)});
        o.status = query_status::error;
      }
      res.outcomes.push_back(o);
    }
  }
  res.phrases = res.outcomes.size();
  res.images = res.image_ids.size();
  res.recall = recall.result();
  res.localization = loc.result();
  res.answers = answers.result();
  res.latency = latency.result();
  return res;
}

}  // namespace groundeval
