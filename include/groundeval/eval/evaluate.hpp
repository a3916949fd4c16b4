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
#include <groundeval/metrics/any_metric.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/metrics/paired.hpp>
#include <groundeval/metrics/pointing.hpp>
#include <groundeval/metrics/recall.hpp>

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace groundeval {

/// Options of evaluate().
struct evaluation_options {
  gt_protocol protocol = gt_protocol::any_box;
  double iou_threshold = 0.5;
  /// iou (default) or giou (MDETR's and GLIP's RefExp rule) for Recall@k hits.
  match_criterion match = match_criterion::iou;
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
  /// Results do not depend on it: phrases are measured independently, the built-in metrics are
  /// added in data-set order in blocks of eval_block_phrases merged in order.
  unsigned threads = 0;
  /// Extra metrics (any model of Metric) computed on the same phrases; their results are in
  /// evaluation_result::metrics and in the JSON report under "metrics", by name.
  std::vector<any_metric> metrics;
};

/// Evaluated phrases per block: each block of consecutive phrases (data-set order) is added to
/// its own copy of every metric, and the blocks are merged in order.
inline constexpr std::size_t eval_block_phrases = 4096;

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
  match_criterion match = match_criterion::iou;
  std::uint64_t images = 0;     ///< images with >= 1 evaluated sentence
  std::uint64_t sentences = 0;  ///< evaluated sentences (MDETR's len(all_ids))
  std::uint64_t phrases = 0;    ///< evaluated phrase occurrences
  recall_table recall;
  localization_result localization;
  answer_counts answers;
  pointing_result pointing;  ///< the pointing game, overall ("all") and per phrase type
  latency_summary latency;
  evaluation_warnings warnings;
  std::vector<phrase_outcome> outcomes;
  std::vector<std::string> image_ids;  ///< dense image index -> id
  std::vector<any_metric> metrics;     ///< the options' extra metrics, after evaluation
};

// ---- implementation -------------------------------------------------------------------------

namespace detail {

struct eval_slot {                    // members by size: 112 bytes (one per evaluable phrase)
  const scored_box* boxes = nullptr;  ///< boxes still to be measured (see measure_pending)
  std::size_t count = 0;
  const answer_point* points = nullptr;  ///< likewise, the answer's points
  std::size_t point_count = 0;
  double latency_s = -1.0;
  const query_result* answer = nullptr;  ///< the record's whole answer, until measured
  // What measure_pending() computed from the boxes (the built-in metrics' measurements).
  localization_metric::top1_measure top1;
  answer_metric::measurement answers;
  phrase_hits hits;
  pointing_game::measurement pointing;
  query_status status = query_status::ok;
  outcome_source source = outcome_source::missing;
  bool filled = false;  ///< a per-phrase record was matched to this slot

  phrase_prediction prediction() const {
    return {std::span<const scored_box>(boxes, count),
            status,
            latency_s,
            source == outcome_source::given,
            answer,
            std::span<const answer_point>(points, point_count)};
  }
};

/// The built-in metrics, added and merged together.
struct builtin_metrics {
  recall_at_k recall;
  localization_metric localization;
  answer_metric answers;
  latency_metric latency;
  pointing_game pointing;

  void add_measured(const eval_slot& sl, const phrase_truth& t) {
    recall.add_measured(sl.hits, t);
    localization.add_measured(sl.top1, t);
    answers.add_measured(sl.answers, t);
    pointing.add_measured(sl.pointing, t);
    latency.add_measured(sl.source == outcome_source::given ? sl.latency_s : -1.0, t);
  }
  void merge(const builtin_metrics& o) {
    recall.merge(o.recall);
    localization.merge(o.localization);
    answers.merge(o.answers);
    latency.merge(o.latency);
    pointing.merge(o.pointing);
  }
};

/// Whether a data set's phrase member `R` can be viewed as a span of `T` without copying.
template <class R, class T>
inline constexpr bool viewable_as_span = std::ranges::contiguous_range<const R>&&
    std::same_as<std::remove_cv_t<std::ranges::range_value_t<const R>>, T>;

/// A fixed-size array of trivially destructible T whose elements the owner constructs itself
/// (std::construct_at), on whichever thread fills them: a std::vector value-initializes its
/// elements where it is sized, so the first touch of its fresh pages (a page fault each) happens
/// there, on one thread. Every element must be constructed before it is read.
template <class T>
class uninitialized_array {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  uninitialized_array() = default;
  explicit uninitialized_array(std::size_t n)
      : m_data(n ? std::allocator<T>().allocate(n) : nullptr), m_size(n) {}
  uninitialized_array(uninitialized_array&& o) noexcept
      : m_data(std::exchange(o.m_data, nullptr)), m_size(std::exchange(o.m_size, 0)) {}
  uninitialized_array& operator=(uninitialized_array&& o) noexcept {
    if (this != &o) {
      release();
      m_data = std::exchange(o.m_data, nullptr);
      m_size = std::exchange(o.m_size, 0);
    }
    return *this;
  }
  ~uninitialized_array() { release(); }

  std::size_t size() const noexcept { return m_size; }
  T* data() noexcept { return m_data; }
  const T* data() const noexcept { return m_data; }
  T& operator[](std::size_t i) noexcept { return m_data[i]; }
  const T& operator[](std::size_t i) const noexcept { return m_data[i]; }

 private:
  void release() noexcept {
    if (m_data) std::allocator<T>().deallocate(m_data, m_size);
  }
  T* m_data = nullptr;
  std::size_t m_size = 0;
};

/// A string -> index map for the matching step: keys in one arena, entries sorted by FNV-1a
/// hash, looked up by binary search plus a string comparison. Duplicate keys: the first added
/// wins (as with the reference's first-match list lookup).
class key_index {
 public:
  void reserve(std::size_t keys, std::size_t bytes) {
    m_entries.reserve(keys);
    m_arena.reserve(bytes);
  }
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
  /// Bytes of key text held.
  std::size_t arena_bytes() const noexcept { return m_arena.size(); }
  /// Adds the keys of `o` (values unchanged).
  void append(const key_index& o) {
    const auto base = static_cast<std::uint32_t>(m_arena.size());
    m_arena += o.m_arena;
    for (const entry& e : o.m_entries) m_entries.push_back({e.hash, base + e.off, e.len, e.value});
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

/// Asks for the cache line of `p` (a hint; nothing where the compiler has no such builtin).
inline void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

/// Asks for the cache lines of the first min(bytes, 1 KiB) bytes at `p`: enough for the next
/// item's boxes or phrases without flooding the cache with a long list.
inline void prefetch_bytes(const void* p, std::size_t bytes) noexcept {
  const char* b = static_cast<const char*>(p);
  const std::size_t n = std::min<std::size_t>(bytes, 1024);
  for (std::size_t o = 0; o < n; o += 64) prefetch(b + o);
}

/// How many items (samples, phrases, decoded entries) ahead of the one being worked on the
/// loops that meet memory written by other threads fetch: far enough to hide a cache miss
/// behind the work on the items between, near enough that the lines are still there.
inline constexpr std::size_t prefetch_distance = 4;

inline void note(evaluation_warnings& w, std::size_t max_examples, std::string msg) {
  if (w.examples.size() < max_examples) w.examples.push_back(std::move(msg));
}

}  // namespace detail

/// Evaluates a data set against predictions added one at a time, so that a predictions file of
/// any size can be streamed through it in bounded memory (io/json/predictions.hpp does that for
/// JSON Lines): add() matches an entry to its phrases and keeps a pointer to its boxes;
/// measure_pending() measures every phrase added since the last call (in parallel) and drops the
/// pointers, after which the added entries may be destroyed; finish() returns the result.
/// Memory: the data set's index plus a fixed-size record per evaluable phrase.
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
/// Metrics: the built-in ones (Recall@k, localization, answers, latency, the pointing game) are
/// MeasuredMetrics:
/// each phrase is measured when its answer is read and the measurements are added in data-set
/// order, in blocks of eval_block_phrases merged in order, so the result depends neither on the
/// thread count, nor on the order of the predictions, nor on how often measure_pending() is
/// called. The extra metrics of the options see each phrase when its answer is read (in the
/// order of the predictions, in parallel) in a copy per block of the data set; the blocks are
/// merged in data-set order at the end, and phrases without an answer are added then.
///
/// Any Dataset works: ground truth that is not stored as contiguous std::string types and
/// box_xyxy<double> boxes is copied once at construction. The data set must outlive the
/// evaluator. Throws groundeval::error for missing or malformed predictions unless the options
/// say to count them.
template <Dataset D>
class evaluator {
 public:
  /// `source` names the predictions in messages (a file name).
  explicit evaluator(const D& data, const evaluation_options& opt = {}, std::string source = {})
      : m_opt(opt),
        m_source(std::move(source)),
        m_builtin{recall_at_k(recall_options{opt.ks, opt.iou_threshold, opt.protocol, opt.match}),
                  localization_metric(opt.protocol),
                  {},
                  {},
                  pointing_game(opt.protocol)} {
    // Only the addresses here: the samples themselves are cold (other threads built them) and
    // are read by the index below, on several threads where the ground truth is viewed in place.
    m_samples.reserve(std::ranges::size(data));
    for (const auto& s : data) m_samples.push_back(&s);
    m_slot_offset.assign(m_samples.size() + 1, 0);
    m_phrase_count.assign(m_samples.size(), 0);
    if constexpr (views_only) {
      index_in_parallel();
    } else {
      index_copying();
    }
    m_key_to_sample.build();
    m_seen.assign(m_samples.size(), 0);
    m_user_blocks.resize((m_slots.size() + eval_block_phrases - 1) / eval_block_phrases);
  }

  /// Matches one sentence in MDETR's layout; its boxes must live until measure_pending().
  void add(const sentence_prediction& sp) {
    add_sentence(sp.image_id, sp.sentence_id, sp.boxes.size(),
                 [&sp](std::size_t j) { return std::span<const scored_box>(sp.boxes[j]); });
  }
  /// Matches the entries of a block in order (as add() of each); the block must live until
  /// measure_pending().
  void add(const sentence_prediction_block& b) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      const auto& e = b[i];
      add_sentence(e.image_id, e.sentence_id, e.lists,
                   [&b, &e](std::size_t j) { return b.list(e, j); });
    }
  }

  /// Matches one phrase record (JSON Lines layout); it must live until measure_pending().
  void add(const phrase_prediction_record& r) {
    layout(true);
    auto& warn = m_warn;
    const std::size_t max_ex = m_opt.max_examples;
    const auto where_fn = [&] { return line_where(r.line); };
    m_key.assign(r.image_id);
    m_key += '_';
    m_key += std::to_string(r.sentence_id);
    const std::uint32_t* it = m_key_to_sample.find(m_key);
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
      return;
    }
    const std::uint32_t si = *it;
    if (r.phrase_index >= m_phrase_count[si]) {
      ++warn.unknown_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": image " + r.image_id + " sentence " +
                       std::to_string(r.sentence_id) + " has no phrase " +
                       std::to_string(r.phrase_index));
      return;
    }
    // Slot of this phrase: its rank among the sample's evaluable phrases.
    std::size_t slot = m_slot_offset[si];
    while (slot < m_slot_offset[si + 1] && m_slot_phrase[slot] != r.phrase_index) ++slot;
    if (slot == m_slot_offset[si + 1]) {
      ++warn.non_evaluable_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": phrase " + std::to_string(r.phrase_index) +
                       " has no ground-truth box; ignored");
      return;
    }
    auto& sl = m_slots[slot];
    if (sl.filled) {
      ++warn.duplicate_phrases;
      detail::note(warn, max_ex,
                   where_fn() + ": duplicate record for image " + r.image_id + " sentence " +
                       std::to_string(r.sentence_id) + " phrase " + std::to_string(r.phrase_index) +
                       " ignored (first wins)");
      return;
    }
    sl.filled = true;
    if (!r.chain_id.empty() && m_slot_chain[slot] != r.chain_id) {
      const std::string msg = "chain id " + r.chain_id + " does not match the data set's " +
                              std::string(m_slot_chain[slot]) + " for image " + r.image_id +
                              " sentence " + std::to_string(r.sentence_id) + " phrase " +
                              std::to_string(r.phrase_index);
      if (!m_opt.count_invalid_as_miss) throw error(error_kind::invalid, where_fn(), 0, msg);
      ++warn.invalid_phrases;
      detail::note(warn, max_ex, where_fn() + ": " + msg + " (counted as a miss)");
      sl.source = outcome_source::invalid;
      return;
    }
    give(slot, r.result.boxes.data(), r.result.boxes.size(), r.result.status, r.result.latency_s,
         &r.result);
    m_slots[slot].points = r.result.points.data();
    m_slots[slot].point_count = r.result.points.size();
  }

  /// Number of phrases added and not measured yet.
  std::size_t pending() const noexcept { return m_pending.size(); }

  /// Measures every phrase added since the last call, in parallel (phrases are independent, so
  /// the values do not depend on the thread count), shows them to the extra metrics, and forgets
  /// their boxes.
  void measure_pending() {
    parallel_options popt;
    popt.threads = m_opt.threads;
    popt.min_work_per_thread = 1u << 16;
    detail::parallel_for(m_pending.size(), 16, popt, [&](std::size_t i0, std::size_t i1) {
      for (std::size_t i = i0; i < i1; ++i) {
        // The boxes were decoded on other threads and lie wherever their allocations went:
        // fetch those of a phrase a few ahead while this one is measured.
        if (i + detail::prefetch_distance < i1) {
          const auto& ahead = m_slots[m_pending[i + detail::prefetch_distance]];
          detail::prefetch_bytes(ahead.boxes, ahead.count * sizeof(scored_box));
          detail::prefetch(&m_slot_truth[m_pending[i + detail::prefetch_distance]]);
        }
        // The ground truth's boxes: their address is in a phrase_truth fetched above, so half
        // as far ahead.
        if (i + detail::prefetch_distance / 2 < i1) {
          const auto& t = m_slot_truth[m_pending[i + detail::prefetch_distance / 2]];
          detail::prefetch_bytes(t.boxes.data(), t.boxes.size_bytes());
        }
        auto& sl = m_slots[m_pending[i]];
        const phrase_truth& truth = m_slot_truth[m_pending[i]];
        const phrase_prediction pred = sl.prediction();
        sl.hits = m_builtin.recall.measure(pred, truth);
        sl.top1 = m_builtin.localization.measure(pred, truth);
        sl.answers = m_builtin.answers.measure(pred, truth);
        sl.pointing = m_builtin.pointing.measure(pred, truth);
      }
    });
    if (!m_opt.metrics.empty()) {
      // One thread per block of the data set: each block's copies see its phrases in turn.
      std::sort(m_pending.begin(), m_pending.end());
      std::vector<std::size_t> starts;  // positions in m_pending where a block begins
      for (std::size_t i = 0; i < m_pending.size(); ++i)
        if (i == 0 || m_pending[i] / eval_block_phrases != m_pending[i - 1] / eval_block_phrases) {
          starts.push_back(i);
          auto& block = m_user_blocks[m_pending[i] / eval_block_phrases];
          if (block.empty()) block = m_opt.metrics;
        }
      starts.push_back(m_pending.size());
      popt.min_work_per_thread = 1;
      detail::parallel_for(starts.size() - 1, 1, popt, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) {
          auto& block = m_user_blocks[m_pending[starts[b]] / eval_block_phrases];
          for (std::size_t i = starts[b]; i < starts[b + 1]; ++i) {
            const phrase_prediction pred = m_slots[m_pending[i]].prediction();
            for (auto& m : block) m.add(pred, m_slot_truth[m_pending[i]]);
          }
        }
      });
    }
    for (const std::size_t k : m_pending) {
      m_slots[k].boxes = nullptr;
      m_slots[k].points = nullptr;
      m_slots[k].answer = nullptr;
    }
    m_pending.clear();
  }

  /// Measures what is pending, checks for missing predictions, accumulates the metrics and
  /// lists the outcomes in data set order. Call once.
  evaluation_result finish() {
    measure_pending();
    evaluation_result res;
    res.predictions_source = m_source;
    res.protocol = m_opt.protocol;
    res.iou_threshold = m_opt.iou_threshold;
    res.match = m_opt.match;
    res.warnings = std::move(m_warn);
    check_missing(res.warnings);

    // Phrases without an answer: their measurements, and their turn with the extra metrics.
    for (std::size_t k = 0; k < m_slots.size(); ++k) {
      auto& sl = m_slots[k];
      if (sl.source == outcome_source::given) continue;
      const phrase_prediction none{{}, query_status::error, -1.0, false, nullptr};
      sl.hits = m_builtin.recall.measure(none, m_slot_truth[k]);
      sl.top1 = m_builtin.localization.measure(none, m_slot_truth[k]);
      sl.answers = m_builtin.answers.measure(none, m_slot_truth[k]);
      sl.pointing = m_builtin.pointing.measure(none, m_slot_truth[k]);
      if (!m_opt.metrics.empty()) {
        auto& block = m_user_blocks[k / eval_block_phrases];
        if (block.empty()) block = m_opt.metrics;
        for (auto& m : block) m.add(none, m_slot_truth[k]);
      }
    }
    // Dense image indices, per sample; samples of one image are usually adjacent, so only a
    // change of image costs a map lookup.
    std::vector<std::uint32_t> sample_image(m_samples.size(), 0);
    {
      std::unordered_map<std::string, std::uint32_t> image_index;
      bool have_image = false;
      std::uint32_t last_image_index = 0;
      std::string_view last_image_view;
      for (std::size_t si = 0; si < m_samples.size(); ++si) {
        if (evaluable_count(si) == 0) continue;
        ++res.sentences;
        const std::string_view img(m_samples[si]->image_id);
        if (!have_image || img != last_image_view) {
          auto [iit, inserted] = image_index.emplace(
              std::string(img), static_cast<std::uint32_t>(res.image_ids.size()));
          if (inserted) res.image_ids.emplace_back(img);
          last_image_index = iit->second;
          last_image_view = img;
          have_image = true;
        }
        sample_image[si] = last_image_index;
      }
    }
    // The built-in metrics: one copy per block of phrases, filled in parallel, merged in order;
    // the same pass lists each phrase's outcome (one per slot, in slot = data set order).
    std::vector<detail::builtin_metrics> blocks(m_user_blocks.size(), m_builtin);
    res.outcomes.resize(m_slots.size());
    parallel_options popt;
    popt.threads = m_opt.threads;
    popt.min_work_per_thread = 1;
    detail::parallel_for(blocks.size(), 1, popt, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t k0 = b * eval_block_phrases;
        const std::size_t k1 = std::min(m_slots.size(), (b + 1) * eval_block_phrases);
        // The sample of slot k0: the last whose slots start at or before it.
        std::size_t si = static_cast<std::size_t>(
            std::upper_bound(m_slot_offset.begin(), m_slot_offset.end(), k0) -
            m_slot_offset.begin() - 1);
        for (std::size_t k = k0; k < k1; ++k) {
          // A phrase's types (the recall table's categories) are strings in blocks of their
          // own in the data set, cold: a third of this loop's time waited for them.
          if (k + 2 * detail::prefetch_distance < k1)
            detail::prefetch(m_slot_truth[k + 2 * detail::prefetch_distance].types.data());
          const auto& sl = m_slots[k];
          blocks[b].add_measured(sl, m_slot_truth[k]);
          while (m_slot_offset[si + 1] <= k) ++si;
          phrase_outcome& o = res.outcomes[k];
          o.sample = static_cast<std::uint32_t>(si);
          o.phrase = m_slot_phrase[k];
          o.image = sample_image[si];
          o.source = sl.source;
          o.hit_mask = sl.hits.mask;
          o.has_nan = sl.hits.has_nan;
          o.top1_iou = sl.top1.iou;
          o.status = sl.source == outcome_source::given ? sl.status : query_status::error;
        }
      }
    });
    detail::builtin_metrics total = m_builtin;
    for (const auto& b : blocks) total.merge(b);
    res.recall = total.recall.result();
    res.localization = total.localization.result();
    res.answers = total.answers.result();
    res.latency = total.latency.result();
    res.pointing = total.pointing.result();
    res.metrics = m_opt.metrics;
    for (const auto& block : m_user_blocks)
      for (std::size_t i = 0; i < block.size(); ++i) res.metrics[i].merge(block[i]);

    res.phrases = res.outcomes.size();
    res.images = res.image_ids.size();
    return res;
  }

 private:
  using sample_type = std::ranges::range_value_t<const D>;
  static constexpr std::size_t index_run_samples = 2048;  // fewest samples a thread indexes
  static constexpr std::size_t typical_key_bytes = 24;    // "{image id}_{sentence}" (grows if more)
  using phrase_type = std::remove_cvref_t<std::ranges::range_reference_t<
      const std::remove_cvref_t<decltype(std::declval<const sample_type&>().phrases)>>>;
  /// Whether the ground truth is viewed in place (no copies into the stores).
  static constexpr bool views_only =
      detail::viewable_as_span<decltype(std::declval<const phrase_type&>().types), std::string> &&
      detail::viewable_as_span<decltype(std::declval<const phrase_type&>().boxes),
                               box_xyxy<double>>;

  /// The per-sample index and the phrase slots, ground truth viewed in place: the samples are
  /// cut into a few runs, each indexed on a thread of its own (counts and keys, then, once the
  /// slot offsets are known, the slots). The data set was built by other threads and is cold in
  /// this core's cache: a single thread spent most of its time waiting for it.
  void index_in_parallel() {
    const std::size_t ns = m_samples.size();
    const std::size_t runs =
        std::clamp<std::size_t>(ns / index_run_samples, 1, detail::thread_count(m_opt.threads));
    auto run_of = [&](std::size_t r) { return std::pair{ns * r / runs, ns * (r + 1) / runs}; };
    parallel_options popt;
    popt.threads = static_cast<unsigned>(runs);
    popt.min_work_per_thread = 1;
    std::vector<detail::key_index> keys(runs);
    detail::parallel_for(runs, 1, popt, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const auto [b, e] = run_of(r);
        keys[r].reserve(e - b, (e - b) * typical_key_bytes);
        for (std::size_t si = b; si < e; ++si) {
          if (si + detail::prefetch_distance < e)
            prefetch_phrases(*m_samples[si + detail::prefetch_distance]);
          const auto& s = *m_samples[si];
          keys[r].add_sample_key(std::string_view(s.image_id),
                                 static_cast<long long>(s.sentence_index),
                                 static_cast<std::uint32_t>(si));
          std::uint32_t pi = 0, evaluable = 0;
          for (const auto& p : s.phrases) {
            evaluable += is_evaluable(p) ? 1 : 0;
            ++pi;
          }
          m_phrase_count[si] = pi;
          m_slot_offset[si + 1] = evaluable;  // a count until the prefix sum below
        }
      }
    });
    for (std::size_t si = 0; si < ns; ++si) m_slot_offset[si + 1] += m_slot_offset[si];
    allocate_slots(m_slot_offset[ns]);  // constructed below, each run its own
    detail::parallel_for(runs, 1, popt, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const auto [b, e] = run_of(r);
        for (std::size_t si = b; si < e; ++si) {
          const auto& s = *m_samples[si];
          std::size_t k = m_slot_offset[si];
          std::uint32_t pi = 0;
          for (const auto& p : s.phrases) {
            if (is_evaluable(p))
              construct_slot(k++, pi, p.chain_id,
                             phrase_truth{std::span<const box_xyxy<double>>(p.boxes),
                                          std::span<const std::string>(p.types), s.size});
            ++pi;
          }
        }
      }
    });
    std::size_t key_bytes = 0;
    for (const auto& k : keys) key_bytes += k.arena_bytes();
    m_key_to_sample.reserve(ns, key_bytes);
    for (const auto& k : keys) m_key_to_sample.append(k);
  }

  /// The same on one thread, copying the ground truth the data set cannot show as spans of
  /// std::string types and box_xyxy<double> boxes.
  void index_copying() {
    std::size_t evaluable = 0, key_bytes = 0;  // what the stores below will hold
    for (const sample_type* s : m_samples) {
      for (const auto& p : s->phrases) evaluable += is_evaluable(p) ? 1 : 0;
      key_bytes += std::string_view(s->image_id).size() + 12;
    }
    allocate_slots(evaluable);
    m_key_to_sample.reserve(m_samples.size(), key_bytes);
    std::size_t next_slot = 0;
    // Copied ground truth (when the data set's types / boxes cannot be viewed in place): offsets
    // into the stores first, spans once the stores stop growing.
    std::vector<std::pair<std::size_t, std::size_t>> type_at, box_at;
    for (std::size_t si = 0; si < m_samples.size(); ++si) {
      const auto& s = *m_samples[si];
      if (si + detail::prefetch_distance < m_samples.size())
        prefetch_phrases(*m_samples[si + detail::prefetch_distance]);
      m_key_to_sample.add_sample_key(std::string_view(s.image_id),
                                     static_cast<long long>(s.sentence_index),
                                     static_cast<std::uint32_t>(si));
      std::uint32_t pi = 0;
      for (const auto& p : s.phrases) {
        if (is_evaluable(p)) {
          phrase_truth t{{}, {}, s.size};
          if constexpr (detail::viewable_as_span<decltype(p.types), std::string>) {
            t.types = std::span<const std::string>(p.types);
          } else {
            type_at.emplace_back(m_type_store.size(), 0);
            for (const auto& ty : p.types) m_type_store.emplace_back(std::string_view(ty));
            type_at.back().second = m_type_store.size() - type_at.back().first;
          }
          if constexpr (detail::viewable_as_span<decltype(p.boxes), box_xyxy<double>>) {
            t.boxes = std::span<const box_xyxy<double>>(p.boxes);
          } else {
            box_at.emplace_back(m_box_store.size(), 0);
            for (const auto& b : p.boxes) m_box_store.push_back(b);
            box_at.back().second = m_box_store.size() - box_at.back().first;
          }
          construct_slot(next_slot++, pi, p.chain_id, t);
        }
        ++pi;
      }
      m_phrase_count[si] = pi;
      m_slot_offset[si + 1] = next_slot;
    }
    for (std::size_t k = 0; k < type_at.size(); ++k)
      m_slot_truth[k].types =
          std::span<const std::string>(m_type_store.data() + type_at[k].first, type_at[k].second);
    for (std::size_t k = 0; k < box_at.size(); ++k)
      m_slot_truth[k].boxes =
          std::span<const box_xyxy<double>>(m_box_store.data() + box_at[k].first, box_at[k].second);
  }

  /// Asks for the first KiB of a sample's phrases (where they are contiguous).
  static void prefetch_phrases(const sample_type& s) noexcept {
    if constexpr (std::ranges::contiguous_range<decltype(s.phrases)>)
      detail::prefetch_bytes(std::ranges::data(s.phrases),
                             static_cast<std::size_t>(std::ranges::size(s.phrases)) *
                                 sizeof(*std::ranges::data(s.phrases)));
  }

  /// Storage for `n` phrase slots (eval_slot, phrase index, chain id, truth), unconstructed.
  void allocate_slots(std::size_t n) {
    m_slots = detail::uninitialized_array<detail::eval_slot>(n);
    m_slot_phrase = detail::uninitialized_array<std::uint32_t>(n);
    m_slot_chain = detail::uninitialized_array<std::string_view>(n);
    m_slot_truth = detail::uninitialized_array<phrase_truth>(n);
  }
  void construct_slot(std::size_t k, std::uint32_t phrase, std::string_view chain,
                      const phrase_truth& truth) {
    std::construct_at(&m_slots[k]);
    std::construct_at(&m_slot_phrase[k], phrase);
    std::construct_at(&m_slot_chain[k], chain);
    std::construct_at(&m_slot_truth[k], truth);
  }

  std::size_t evaluable_count(std::size_t si) const {
    return m_slot_offset[si + 1] - m_slot_offset[si];
  }
  void layout(bool per_phrase) {
    (per_phrase ? m_has_phrases : m_has_sentences) = true;
    if (m_has_phrases && m_has_sentences)
      throw error(error_kind::invalid, m_source, 0,
                  "a prediction set must hold either per-sentence or per-phrase entries, not both");
  }
  /// add() of an MDETR-layout entry: `lists` phrase lists, list(j) the j-th as a span of boxes.
  template <class ListAt>
  void add_sentence(std::string_view image_id, std::string_view sentence_id, std::size_t lists,
                    ListAt list) {
    const std::size_t item = m_items++;
    layout(false);
    auto& warn = m_warn;
    const std::size_t max_ex = m_opt.max_examples;
    m_key.assign(image_id);
    m_key += '_';
    m_key += sentence_id;
    const std::uint32_t* it = m_key_to_sample.find(m_key);
    const bool known = it && evaluable_count(*it) > 0;
    if (known && m_seen[*it]) {
      ++warn.duplicate_sentences;
      detail::note(warn, max_ex,
                   item_where(item) + ": duplicate prediction for image " + std::string(image_id) +
                       " sentence " + std::string(sentence_id) + " ignored (first wins)");
      return;
    }
    if (!known) {
      if (!known_image(image_id)) {
        ++warn.unknown_images;
        detail::note(warn, max_ex, item_where(item) + ": unknown image " + std::string(image_id));
      } else if (!it) {
        ++warn.unknown_sentences;
        detail::note(warn, max_ex,
                     item_where(item) + ": image " + std::string(image_id) + " has no sentence " +
                         std::string(sentence_id));
      } else if (lists != 0) {
        ++warn.unexpected_sentences;
        detail::note(warn, max_ex,
                     item_where(item) + ": image " + std::string(image_id) + " sentence " +
                         std::string(sentence_id) +
                         " has no evaluable phrase; its boxes are ignored");
      }
      return;
    }
    const std::uint32_t si = *it;
    m_seen[si] = 1;
    const std::size_t need = evaluable_count(si);
    if (lists != need) {
      const std::string msg = "got " + std::to_string(lists) + " phrase lists, expected " +
                              std::to_string(need) + " for sentence " + std::string(sentence_id) +
                              " in image " + std::string(image_id);
      if (!m_opt.count_invalid_as_miss) throw error(error_kind::invalid, item_where(item), 0, msg);
      ++warn.invalid_sentences;
      detail::note(warn, max_ex, item_where(item) + ": " + msg + " (counted as misses)");
      for (std::size_t e = 0; e < need; ++e)
        m_slots[m_slot_offset[si] + e].source = outcome_source::invalid;
      return;
    }
    for (std::size_t e = 0; e < need; ++e) {
      const std::span<const scored_box> l = list(e);
      give(m_slot_offset[si] + e, l.data(), l.size(),
           l.empty() ? query_status::empty : query_status::ok, -1.0, nullptr);
    }
  }
  void give(std::size_t slot, const scored_box* boxes, std::size_t count, query_status status,
            double latency_s, const query_result* answer) {
    auto& sl = m_slots[slot];
    sl.boxes = boxes;
    sl.count = count;
    sl.status = status;
    sl.latency_s = latency_s;
    sl.answer = answer;
    sl.points = nullptr;
    sl.point_count = 0;
    sl.source = outcome_source::given;
    m_pending.push_back(slot);
  }
  // Image ids, only built when a warning needs to tell an unknown image from an unknown sentence
  // (on the evaluating thread, while matching: a sample of the same image as the one before it
  // is not added again, a fifth of the entries for Flickr30k's five sentences per image).
  bool known_image(std::string_view id) {
    if (!m_image_set_built) {
      std::string_view last;
      for (std::size_t si = 0; si < m_samples.size(); ++si) {
        const std::string_view img(m_samples[si]->image_id);
        if (si > 0 && img == last) continue;
        m_image_set.add(img, static_cast<std::uint32_t>(si));
        last = img;
      }
      m_image_set.build();
      m_image_set_built = true;
    }
    return m_image_set.find(id) != nullptr;
  }
  std::string source_name() const { return m_source.empty() ? "predictions" : m_source; }
  std::string item_where(std::size_t item) const {
    return source_name() + ": entry #" + std::to_string(item);
  }
  std::string line_where(std::size_t line) const {
    std::string s = source_name();
    if (line) {
      s.push_back(':');
      s.append(std::to_string(line));
    }
    return s;
  }
  void check_missing(evaluation_warnings& warn) const {
    std::uint64_t missing = 0, missing_sent = 0;
    std::string first;
    for (std::size_t si = 0; si < m_samples.size(); ++si) {
      bool any = false;
      for (std::size_t k = m_slot_offset[si]; k < m_slot_offset[si + 1]; ++k)
        if (m_slots[k].source == outcome_source::missing) {
          ++missing;
          any = true;
          if (first.size() < 400)
            first += (first.empty() ? "" : ", ") + std::string("image ") +
                     std::string(std::string_view(m_samples[si]->image_id)) + " sentence " +
                     std::to_string(static_cast<long long>(m_samples[si]->sentence_index)) +
                     " phrase " + std::to_string(m_slot_phrase[k]);
        }
      missing_sent += any ? 1 : 0;
    }
    if (!missing) return;
    const std::string msg = "missing predictions for " + std::to_string(missing) +
                            " phrase(s) in " + std::to_string(missing_sent) +
                            " sentence(s): " + first + (first.size() >= 400 ? ", ..." : "");
    if (!m_opt.count_missing_as_miss)
      throw error(error_kind::invalid, source_name(), 0,
                  msg + " (use the missing-as-miss option to count them as misses)");
    warn.missing_phrases = missing;
    warn.missing_sentences = missing_sent;
    detail::note(warn, m_opt.max_examples, m_source + ": " + msg + " (counted as misses)");
  }

  evaluation_options m_opt;
  std::string m_source;
  detail::builtin_metrics m_builtin;  // empty prototypes (recall_at_k validates the options)
  std::vector<const sample_type*> m_samples;
  detail::key_index m_key_to_sample;  // "{image_id}_{sentence_index}" -> sample (first wins)
  detail::key_index m_image_set;
  bool m_image_set_built = false;
  std::vector<std::size_t> m_slot_offset;
  std::vector<std::uint32_t> m_phrase_count;  // phrases per sample
  // Per slot (evaluable phrase, data-set order), constructed where the index is built:
  detail::uninitialized_array<detail::eval_slot> m_slots;
  detail::uninitialized_array<std::uint32_t> m_slot_phrase;    // phrase index within its sample
  detail::uninitialized_array<std::string_view> m_slot_chain;  // chain id (into the data set)
  detail::uninitialized_array<phrase_truth> m_slot_truth;  // views into the data set or the stores
  std::vector<std::string> m_type_store;                   // types copied from the data set, if any
  std::vector<box_xyxy<double>> m_box_store;               // boxes copied from the data set, if any
  std::vector<std::vector<any_metric>> m_user_blocks;      // extra metrics, one set per block
  std::vector<std::size_t> m_pending;
  std::vector<char> m_seen;  // per sample: an MDETR-layout prediction was matched
  evaluation_warnings m_warn;
  std::string m_key;
  std::size_t m_items = 0;
  bool m_has_sentences = false, m_has_phrases = false;
};

/// Evaluates `data` against the predictions held in memory (see evaluator for the rules).
template <Dataset D>
evaluation_result evaluate(const D& data, const prediction_set& preds,
                           const evaluation_options& opt = {}) {
  if (!preds.sentences.empty() && !preds.phrases.empty())
    throw error(error_kind::invalid, preds.source, 0,
                "a prediction set must hold either per-sentence or per-phrase entries, not both");
  evaluator<D> ev(data, opt, preds.source);
  for (const sentence_prediction& sp : preds.sentences) ev.add(sp);
  for (const phrase_prediction_record& r : preds.phrases) ev.add(r);
  return ev.finish();
}

}  // namespace groundeval
