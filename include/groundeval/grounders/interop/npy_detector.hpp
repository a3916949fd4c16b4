// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/interop/npy_detector.hpp — the `npy-detector` grounder: replays raw detector
// outputs dumped from Python (.npz or a folder of .npy files, one per image and caption)
// through the post-processing pipeline with any preset. Target: groundeval::interop.
//
// Manifest (UTF-8 text), one dump per line, paths relative to the manifest's folder, '#' lines
// are comments. Two forms:
//   version 1: `<image id><TAB or spaces><path>`; dumps are matched to queries by caption.
//   version 2 (what groundeval's Python exporters write): the first line is
//     `# groundeval npy-detector manifest 2`, then `<image id>TAB<sentence index>TAB<path>`;
//     dumps are matched to queries by key (image id, sentence index), one dump per key.
// Each dump holds the arrays
//   pred_logits    [Q, T] or [1, Q, T]  float32/float64 token logits
//   pred_boxes     [Q, 4] or [1, Q, 4]  boxes (cxcywh normalized for MDETR / GDINO presets)
//   token_offsets  [N, 2]               integer per-token byte offsets into `caption` (specials 0,
//   0) caption        [L] uint8            the UTF-8 bytes of the text the model read centerness
//   [Q] or [1, Q]        optional (GLIP) input_size     [2]                  optional network input
//   (width, height) for pixel boxes
// and, optionally (the exporters always write them; they make the match exact):
//   image_id       [L] uint8            the key's image id
//   sentence_id    [1] int64            the key's sentence index
//   source_caption [L] uint8            the data set's caption (cross-checked against the query)
//   phrase_index   [P] int64            phrase indices of the sentence ...
//   phrase_spans   [P, 2] int64         ... and their byte spans in `caption`, after the model's
//                                       caption mapping (lower-casing, " ." ending, truncation)
//   caption_mapping [L] uint8           that mapping in words (shown in errors)
// Without phrase_spans, a query's span is used as is when `caption` is the data set's caption,
// and moved accordingly when `caption` is its Grounding DINO form (captions.hpp).
//
// A mismatch between dumps and queries stops the run (groundeval::error naming the dump): a
// query without a dump, a dump whose source caption is not the query's, a dump without the
// queried phrase, and (check_queries) a dump that matches no query of the data set. Per-query
// failures (status error, the run goes on) are kept for a malformed dump and a span that no
// token covers. See docs/specialist.md.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/concepts/sample.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/io/limits.hpp>
#include <groundeval/postprocess/captions.hpp>
#include <groundeval/postprocess/pipeline.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// The first line of a version-2 dump manifest.
inline constexpr std::string_view npy_manifest_v2_header = "# groundeval npy-detector manifest 2";

/// One dump loaded into memory (float32 values).
struct detector_dump {
  std::string path;
  npy_array<float> logits, boxes, centerness;
  std::vector<token_offset> offsets;
  std::string caption;  ///< what the model read
  image_size input;     ///< {0, 0} when the dump has no input_size
  // Key and caption mapping (optional arrays, see the header comment).
  std::optional<std::string> image_id;
  std::optional<long long> sentence_id;
  std::optional<std::string> source_caption;
  std::map<std::size_t, char_span> phrase_spans;  ///< phrase index -> span in `caption`
  bool has_phrase_spans = false;
  std::string caption_mapping;

  detector_outputs_view<float> view() const {
    return make_detector_outputs_view<float>(logits.data, logits.shape, boxes.data, boxes.shape,
                                             centerness.data, centerness.shape, path);
  }
};

/// Loads a dump from a .npz archive or a folder of <key>.npy files; errors name the file.
inline detector_dump load_detector_dump(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  if (!is_dir && !fs::exists(path, ec))
    throw error(error_kind::io, path, 0, "dump file does not exist");
  std::optional<npz_file> npz;
  if (!is_dir) npz.emplace(path);
  const auto has = [&](const std::string& key) {
    return npz ? npz->contains(key) : fs::exists(fs::path(path) / (key + ".npy"), ec);
  };
  const auto get = [&]<class T>(const std::string& key, T) {
    if (!has(key)) throw error(error_kind::invalid, path, 0, "the dump has no array '" + key + "'");
    return npz ? npz->get<T>(key) : read_npy<T>((fs::path(path) / (key + ".npy")).string());
  };
  const auto text = [&](const std::string& key) {
    const npy_array<unsigned char> a = get(key, static_cast<unsigned char>(0));
    if (a.dim() != 1) throw error(error_kind::invalid, path, 0, key + " must be a 1-D uint8 array");
    return std::string(a.data.begin(), a.data.end());
  };
  detector_dump d;
  d.path = path;
  d.logits = get("pred_logits", 0.f);
  d.boxes = get("pred_boxes", 0.f);
  if (has("centerness")) d.centerness = get("centerness", 0.f);
  const npy_array<long long> off = get("token_offsets", 0ll);
  if (off.dim() != 2 || off.shape[1] != 2)
    throw error(error_kind::invalid, path, 0, "token_offsets must have shape [N, 2]");
  for (std::size_t i = 0; i < off.shape[0]; ++i) {
    if (off.data[2 * i] < 0 || off.data[2 * i + 1] < 0)
      throw error(error_kind::invalid, path, 0,
                  "token_offsets row " + std::to_string(i) + " is negative");
    d.offsets.push_back(
        {static_cast<std::size_t>(off.data[2 * i]), static_cast<std::size_t>(off.data[2 * i + 1])});
  }
  d.caption = text("caption");
  if (has("input_size")) {
    const npy_array<long long> in = get("input_size", 0ll);
    if (in.size() != 2 || in.data[0] <= 0 || in.data[1] <= 0)
      throw error(error_kind::invalid, path, 0, "input_size must hold a positive (width, height)");
    d.input = {static_cast<int>(in.data[0]), static_cast<int>(in.data[1])};
  }
  if (has("image_id")) d.image_id = text("image_id");
  if (has("sentence_id")) {
    const npy_array<long long> v = get("sentence_id", 0ll);
    if (v.size() != 1 || v.data[0] < 0)
      throw error(error_kind::invalid, path, 0, "sentence_id must hold one non-negative integer");
    d.sentence_id = v.data[0];
  }
  if (has("source_caption")) d.source_caption = text("source_caption");
  if (has("caption_mapping")) d.caption_mapping = text("caption_mapping");
  if (has("phrase_index") != has("phrase_spans"))
    throw error(error_kind::invalid, path, 0,
                "phrase_index and phrase_spans come together (one of them is missing)");
  if (has("phrase_index")) {
    const npy_array<long long> pi = get("phrase_index", 0ll);
    const npy_array<long long> ps = get("phrase_spans", 0ll);
    if (pi.dim() != 1 || ps.dim() != 2 || ps.shape[1] != 2 || ps.shape[0] != pi.shape[0])
      throw error(error_kind::invalid, path, 0,
                  "phrase_index must have shape [P] and phrase_spans [P, 2]");
    for (std::size_t k = 0; k < pi.size(); ++k) {
      const long long b = ps.data[2 * k], e = ps.data[2 * k + 1];
      if (pi.data[k] < 0 || b < 0 || e <= b || static_cast<std::size_t>(e) > d.caption.size())
        throw error(error_kind::invalid, path, 0,
                    "phrase_spans row " + std::to_string(k) + " [" + std::to_string(b) + ", " +
                        std::to_string(e) + ") of phrase " + std::to_string(pi.data[k]) +
                        " is not a non-empty span of the caption (" +
                        std::to_string(d.caption.size()) + " bytes)");
      if (!d.phrase_spans
               .emplace(static_cast<std::size_t>(pi.data[k]),
                        char_span{static_cast<std::size_t>(b), static_cast<std::size_t>(e)})
               .second)
        throw error(error_kind::invalid, path, 0,
                    "phrase_index " + std::to_string(pi.data[k]) + " appears twice");
    }
    d.has_phrase_spans = true;
  }
  if (d.view().batch != 1)
    throw error(error_kind::invalid, path, 0, "a dump must hold exactly one image (B = 1)");
  return d;
}

/// The npy-detector grounder; `Gemm` computes the phrase scores (reference_gemm, or
/// eigen_gemm from interop/eigen.hpp).
template <class Gemm = reference_gemm>
class basic_npy_detector_grounder {
 public:
  /// Reads the manifest and checks that every dump exists (errors name manifest:line).
  basic_npy_detector_grounder(const std::string& manifest, postprocess_options options,
                              positive_map_options map_options = {})
      : m_manifest(manifest), m_opt(std::move(options)), m_map_opt(std::move(map_options)) {
    namespace fs = std::filesystem;
    std::istringstream in(detail::read_file_bytes(manifest, max_list_file_bytes, "the manifest"));
    const fs::path base = fs::path(manifest).parent_path();
    std::string line;
    std::set<std::pair<std::string, long long>> keys;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (n == 1 && line == npy_manifest_v2_header) {
        m_keyed = true;
        continue;
      }
      const std::size_t a = line.find_first_not_of(" \t");
      if (a == std::string::npos || line[a] == '#') continue;
      entry en;
      en.line = n;
      std::string path;
      if (m_keyed) {
        const std::size_t t1 = line.find('\t');
        const std::size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        const auto sentence =
            t2 == std::string::npos ? std::nullopt : parse_index(line.substr(t1 + 1, t2 - t1 - 1));
        if (t2 == std::string::npos || t1 == 0 || !sentence || t2 + 1 >= line.size())
          throw error(error_kind::parse, manifest, n,
                      "expected '<image id>TAB<sentence index>TAB<dump path>'");
        en.image = line.substr(0, t1);
        en.sentence = *sentence;
        path = line.substr(t2 + 1);
        if (!keys.emplace(en.image, en.sentence).second)
          throw error(error_kind::invalid, manifest, n,
                      "a second dump for image " + en.image + " sentence " +
                          std::to_string(en.sentence) + " (one dump per key)");
      } else {
        const std::size_t e = line.find_first_of(" \t", a);
        const std::size_t p = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
        if (p == std::string::npos)
          throw error(error_kind::parse, manifest, n, "expected '<image id> <dump path>'");
        en.image = line.substr(a, e - a);
        path = line.substr(p);
      }
      while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.pop_back();
      const fs::path full = fs::path(path).is_absolute() ? fs::path(path) : base / path;
      std::error_code ec;
      if (!fs::exists(full, ec))
        throw error(error_kind::io, manifest, n,
                    "dump file '" + full.string() + "' does not exist");
      en.path = full.string();
      m_by_image[en.image].push_back(m_entries.size());
      m_entries.push_back(std::move(en));
    }
  }

  std::string_view name() const noexcept { return "npy-detector"; }
  std::string describe() const {
    return "npy-detector manifest=" + m_manifest + " " + m_opt.describe();
  }
  const postprocess_options& options() const noexcept { return m_opt; }
  /// True for a version-2 manifest (dumps keyed by image id and sentence index).
  bool keyed() const noexcept { return m_keyed; }

  /// Checks the manifest against the queries of `data` (its evaluable sentences) and keeps them
  /// for the checks made when an image's dumps are loaded. Throws, naming manifest:line and the
  /// dump, when no image of the manifest is in `data` (another split or data set) or when a
  /// keyed dump of an image in `data` has no evaluable sentence there. Dumps of images that are
  /// not in `data` are ignored (a --sample or another shard), as long as some image is.
  template <class D>
  void check_queries(const D& data) {
    m_sentences.clear();
    for (const auto& s : data) {
      if (!has_evaluable_phrase(s)) continue;
      m_sentences[std::string(std::string_view(s.image_id))].emplace_back(
          static_cast<long long>(s.sentence_index), std::string(std::string_view(s.sentence)));
    }
    m_checked = true;
    bool any = false;
    for (const entry& en : m_entries) {
      const auto it = m_sentences.find(en.image);
      if (it == m_sentences.end()) continue;
      any = true;
      if (m_keyed && !sentence_of(it->second, en.sentence))
        throw no_query(en, "the data set has no evaluable sentence " + std::to_string(en.sentence) +
                               " of image " + en.image);
    }
    if (!any && !m_entries.empty())
      throw no_query(m_entries.front(), "image " + m_entries.front().image +
                                            " is not in the data set, nor is any other image of "
                                            "the manifest (another split or data set?)");
  }

  std::vector<query_result> ground(const grounding_request& r) {
    std::vector<query_result> out(r.queries.size());
    if (r.queries.empty()) return out;
    const std::string image(r.image.id);
    const auto it = m_by_image.find(image);
    if (it == m_by_image.end())
      throw missing(image, r.queries.front(), "the manifest has no dump of this image");
    // A malformed dump file fails the image's queries (status error); a dump that does not fit
    // the queries throws.
    if (const std::string bad = load(image, it->second); !bad.empty()) {
      for (auto& q : out) q.status = query_status::error, q.message = bad;
      return out;
    }
    // Resolve every query to its dump and span, then run each dump's queries at once.
    std::map<std::size_t, std::pair<std::vector<std::size_t>, std::vector<char_span>>> groups;
    for (std::size_t i = 0; i < r.queries.size(); ++i) {
      const phrase_query& q = r.queries[i];
      const std::size_t k = find_dump(image, q);
      auto& g = groups[k];
      g.first.push_back(i);
      g.second.push_back(span_in(m_loaded[k], image, q));
    }
    for (const auto& [k, g] : groups) run_group(m_loaded[k], r, g.first, g.second, out);
    return out;
  }

 private:
  struct entry {
    std::string image;
    long long sentence = -1;  ///< -1 in a version-1 manifest
    std::string path;
    std::size_t line = 0;
  };
  using sentence_list = std::vector<std::pair<long long, std::string>>;

  static std::optional<long long> parse_index(const std::string& t) {
    if (t.empty() || t.size() > 12 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoll(t);
  }
  static const std::string* sentence_of(const sentence_list& l, long long index) {
    for (const auto& [i, s] : l)
      if (i == index) return &s;
    return nullptr;
  }
  /// Whether dump caption `caption` is `sentence` as some family feeds it (as is, or Grounding
  /// DINO's lower-cased, "."-terminated form).
  static bool caption_of(std::string_view caption, std::string_view sentence) {
    return caption == sentence || caption == grounding_dino_caption(sentence);
  }
  static std::string quoted(std::string_view s) {
    std::string q;
    q.reserve(s.size() + 2);
    q.push_back('"');
    q.append(s);
    q.push_back('"');
    return q;
  }

  error no_query(const entry& en, const std::string& why) const {
    return error(error_kind::invalid, m_manifest, en.line,
                 "dump '" + en.path + "' matches no query: " + why);
  }
  error missing(const std::string& image, const phrase_query& q, const std::string& why) const {
    return error(error_kind::invalid, m_manifest, 0,
                 "no dump for the query image " + image + " sentence " +
                     (q.sentence_index < 0 ? std::string("?") : std::to_string(q.sentence_index)) +
                     " phrase " + std::to_string(q.phrase_index) + " (caption " +
                     quoted(q.sentence) + "): " + why +
                     " (make the dumps from `groundeval queries` with the same --dataset, "
                     "--split and --sample options as this run)");
  }

  /// The key of loaded dump k: the manifest's (version 2) or the dump's own sentence_id.
  std::optional<long long> key_of(std::size_t k) const {
    const entry& en = m_entries[m_loaded_entries[k]];
    if (en.sentence >= 0) return en.sentence;
    return m_loaded[k].sentence_id;
  }

  /// Loads the dumps of `image` (kept until another image comes); returns the error message of
  /// a malformed dump file (empty when all loaded), throws when a dump does not fit the queries.
  std::string load(const std::string& image, const std::vector<std::size_t>& entries) {
    if (m_loaded_id == image && !m_loaded.empty()) return {};
    m_loaded.clear();
    m_loaded_entries.clear();
    m_loaded_id.clear();
    for (const std::size_t e : entries) {
      const entry& en = m_entries[e];
      detector_dump d;
      try {
        d = load_detector_dump(en.path);
      } catch (const error& ex) {
        m_loaded.clear(), m_loaded_entries.clear();
        return ex.what();
      }
      if (d.image_id && *d.image_id != image)
        throw error(error_kind::invalid, m_manifest, en.line,
                    "dump '" + en.path + "' holds image_id " + quoted(*d.image_id) +
                        ", but the manifest lists it for image " + quoted(image));
      if (en.sentence >= 0 && d.sentence_id && *d.sentence_id != en.sentence)
        throw error(error_kind::invalid, m_manifest, en.line,
                    "dump '" + en.path + "' holds sentence_id " + std::to_string(*d.sentence_id) +
                        ", but the manifest lists it for sentence " + std::to_string(en.sentence));
      m_loaded.push_back(std::move(d));
      m_loaded_entries.push_back(e);
    }
    if (m_checked) {  // every dump of the image must match one of its evaluable sentences
      const auto it = m_sentences.find(image);
      static const sentence_list none;
      const sentence_list& sl = it == m_sentences.end() ? none : it->second;
      for (std::size_t k = 0; k < m_loaded.size(); ++k) {
        const detector_dump& d = m_loaded[k];
        const entry& en = m_entries[m_loaded_entries[k]];
        if (const auto key = key_of(k)) {
          const std::string* s = sentence_of(sl, *key);
          if (!s)
            throw no_query(en, "the data set has no evaluable sentence " + std::to_string(*key) +
                                   " of image " + image);
          check_caption(d, en, *s, *key);
          continue;
        }
        const bool found = std::any_of(sl.begin(), sl.end(), [&](const auto& p) {
          return d.source_caption ? *d.source_caption == p.second : caption_of(d.caption, p.second);
        });
        if (!found)
          throw no_query(en, "its caption " + quoted(d.source_caption.value_or(d.caption)) +
                                 " is none of the evaluable captions of image " + image +
                                 " in the data set, as is or in Grounding DINO's lower-cased, "
                                 "'.'-terminated form");
      }
    }
    m_loaded_id = image;
    return {};
  }

  /// The source-caption cross-check of a keyed dump against the data set's `sentence`.
  void check_caption(const detector_dump& d, const entry& en, std::string_view sentence,
                     long long key) const {
    const bool ok = d.source_caption ? *d.source_caption == sentence
                                     : d.has_phrase_spans || caption_of(d.caption, sentence);
    if (!ok)
      throw error(error_kind::invalid, m_manifest, en.line,
                  "dump '" + en.path + "' is keyed image " + en.image + " sentence " +
                      std::to_string(key) + ", but its caption " +
                      quoted(d.source_caption.value_or(d.caption)) +
                      " is not the data set's caption " + quoted(sentence) +
                      " (dumps made from another data set or version?)");
  }

  /// Index into m_loaded of the dump answering `q`; throws when there is none.
  std::size_t find_dump(const std::string& image, const phrase_query& q) const {
    if (q.sentence_index >= 0)
      for (std::size_t k = 0; k < m_loaded.size(); ++k)
        if (const auto key = key_of(k); key && *key == q.sentence_index) {
          check_caption(m_loaded[k], m_entries[m_loaded_entries[k]], q.sentence, *key);
          return k;
        }
    // By caption: dumps without a key, or any dump when the query's sentence index is unknown.
    for (std::size_t k = 0; k < m_loaded.size(); ++k) {
      if (q.sentence_index >= 0 && key_of(k)) continue;
      const detector_dump& d = m_loaded[k];
      if (d.source_caption ? *d.source_caption == q.sentence : caption_of(d.caption, q.sentence))
        return k;
    }
    throw missing(image, q,
                  "none of the image's " + std::to_string(m_loaded.size()) +
                      " dump(s) in the manifest has this key or caption");
  }

  /// The span of query `q` in dump `d`'s caption; throws when the dump cannot place it.
  char_span span_in(const detector_dump& d, const std::string& image, const phrase_query& q) const {
    if (d.has_phrase_spans) {
      const auto it = d.phrase_spans.find(q.phrase_index);
      if (it == d.phrase_spans.end())
        throw error(error_kind::invalid, d.path, 0,
                    "no span for phrase " + std::to_string(q.phrase_index) + " " +
                        quoted(q.phrase) + " of image " + image +
                        " (the dump was made for other queries of this sentence)");
      return it->second;
    }
    if (d.caption == q.sentence) return {q.char_begin, q.char_end};
    if (q.char_begin > q.char_end || q.char_end > q.sentence.size())
      return {q.char_begin, q.char_end};  // reported per query by the positive map
    const mapped_caption m = map_caption("grounding-dino", q.sentence, q.char_begin, q.char_end);
    return {m.begin, m.end};
  }

  void run_group(const detector_dump& d, const grounding_request& r,
                 const std::vector<std::size_t>& idx, const std::vector<char_span>& all,
                 std::vector<query_result>& out) const {
    positive_map_options mo = m_map_opt;
    mo.token_slots = d.logits.shape.back();
    // Check each query's span alone first so one bad span fails only its own query.
    std::vector<char_span> spans;
    std::vector<std::size_t> ok;
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const std::size_t i = idx[j];
      const char_span s = all[j];
      mo.item = d.path + " (image " + std::string(r.image.id) + ", phrase " +
                std::to_string(r.queries[i].phrase_index) + ")";
      try {
        (void)build_positive_map(std::span<const char_span>(&s, 1), d.offsets, d.caption.size(),
                                 mo);
        spans.push_back(s), ok.push_back(i);
      } catch (const error& e) {
        out[i].status = query_status::error, out[i].message = e.what();
      }
    }
    if (ok.empty()) return;
    try {
      mo.item = d.path;
      const positive_map pm = build_positive_map(spans, d.offsets, d.caption.size(), mo);
      auto ranked = postprocess_image<float, Gemm>(d.view(), 0, pm, r.image.size, m_opt, d.input,
                                                   d.path, Gemm{});
      auto res = to_query_results(std::move(ranked));
      for (std::size_t k = 0; k < ok.size(); ++k) out[ok[k]] = std::move(res[k]);
    } catch (const error& e) {
      for (const std::size_t i : ok) out[i].status = query_status::error, out[i].message = e.what();
    }
  }

  std::string m_manifest;
  postprocess_options m_opt;
  positive_map_options m_map_opt;
  bool m_keyed = false;
  std::vector<entry> m_entries;
  std::map<std::string, std::vector<std::size_t>, std::less<>> m_by_image;
  bool m_checked = false;
  std::map<std::string, sentence_list, std::less<>> m_sentences;  ///< evaluable, per image
  std::string m_loaded_id;
  std::vector<detector_dump> m_loaded;
  std::vector<std::size_t> m_loaded_entries;  ///< m_entries index of each loaded dump
};

using npy_detector_grounder = basic_npy_detector_grounder<>;
static_assert(Grounder<npy_detector_grounder>);
static_assert(DescribedGrounder<npy_detector_grounder>);

}  // namespace groundeval
