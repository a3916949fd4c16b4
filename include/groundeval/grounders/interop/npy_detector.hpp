// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/interop/npy_detector.hpp — the `npy-detector` grounder: replays raw detector
// outputs dumped from Python (.npz or a folder of .npy files, one per image and caption)
// through the post-processing pipeline with any preset. Target: groundeval::interop.
//
// Manifest (UTF-8 text): one dump per line, `<image id><TAB or spaces><path>`, the path relative
// to the manifest's folder; '#' starts a comment line; an image may have several lines (one per
// caption). Each dump holds the arrays
//   pred_logits   [Q, T] or [1, Q, T]   float32/float64 token logits
//   pred_boxes    [Q, 4] or [1, Q, 4]   boxes (cxcywh normalized for MDETR / GDINO presets)
//   token_offsets [N, 2]                integer per-token character offsets (specials: 0, 0)
//   caption       [L]                   uint8, the caption's UTF-8 bytes (matched to queries)
//   centerness    [Q] or [1, Q]         optional (GLIP)
//   input_size    [2]                   optional network input (width, height) for pixel boxes
// See docs/specialist.md for a Python snippet that writes such dumps.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/postprocess/pipeline.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// One dump loaded into memory (float32 values).
struct detector_dump {
  std::string path;
  npy_array<float> logits, boxes, centerness;
  std::vector<token_offset> offsets;
  std::string caption;
  image_size input;  ///< {0, 0} when the dump has no input_size

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
  const npy_array<unsigned char> cap = get("caption", static_cast<unsigned char>(0));
  if (cap.dim() != 1)
    throw error(error_kind::invalid, path, 0, "caption must be a 1-D uint8 array");
  d.caption.assign(cap.data.begin(), cap.data.end());
  if (has("input_size")) {
    const npy_array<long long> in = get("input_size", 0ll);
    if (in.size() != 2 || in.data[0] <= 0 || in.data[1] <= 0)
      throw error(error_kind::invalid, path, 0, "input_size must hold a positive (width, height)");
    d.input = {static_cast<int>(in.data[0]), static_cast<int>(in.data[1])};
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
    std::ifstream in(manifest);
    if (!in) throw error(error_kind::io, manifest, 0, "cannot open the manifest");
    const fs::path base = fs::path(manifest).parent_path();
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::size_t a = line.find_first_not_of(" \t");
      if (a == std::string::npos || line[a] == '#') continue;
      const std::size_t e = line.find_first_of(" \t", a);
      const std::size_t p = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
      if (p == std::string::npos)
        throw error(error_kind::parse, manifest, n, "expected '<image id> <dump path>'");
      std::string path = line.substr(p);
      while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.pop_back();
      const fs::path full = fs::path(path).is_absolute() ? fs::path(path) : base / path;
      std::error_code ec;
      if (!fs::exists(full, ec))
        throw error(error_kind::io, manifest, n,
                    "dump file '" + full.string() + "' does not exist");
      m_dumps[line.substr(a, e - a)].push_back(full.string());
    }
  }

  std::string_view name() const noexcept { return "npy-detector"; }
  std::string describe() const {
    return "npy-detector manifest=" + m_manifest + " " + m_opt.describe();
  }
  const postprocess_options& options() const noexcept { return m_opt; }

  std::vector<query_result> ground(const grounding_request& r) {
    std::vector<query_result> out(r.queries.size());
    const auto fail_all = [&](const std::string& msg) {
      for (auto& q : out) q.status = query_status::error, q.message = msg;
      return out;
    };
    const auto it = m_dumps.find(std::string(r.image.id));
    if (it == m_dumps.end())
      return fail_all(m_manifest + ": no dump for image " + std::string(r.image.id));
    try {
      load(r.image.id, it->second);
    } catch (const error& e) {
      return fail_all(e.what());
    }
    // Group the queries by caption; each group runs through the pipeline once.
    std::map<std::string_view, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < r.queries.size(); ++i) groups[r.queries[i].sentence].push_back(i);
    for (const auto& [sentence, idx] : groups) {
      const detector_dump* d = nullptr;
      for (const auto& cand : m_loaded)
        if (cand.caption == sentence) d = &cand;
      if (!d) {
        for (const std::size_t i : idx)
          out[i].status = query_status::error,
          out[i].message = "npy-detector: no dump of image " + std::string(r.image.id) +
                           " has the caption \"" + std::string(sentence) + "\"";
        continue;
      }
      run_group(*d, r, idx, out);
    }
    return out;
  }

 private:
  void load(std::string_view image, const std::vector<std::string>& paths) {
    if (m_loaded_id == image && !m_loaded.empty()) return;
    m_loaded.clear();
    m_loaded_id.clear();
    for (const auto& p : paths) m_loaded.push_back(load_detector_dump(p));
    m_loaded_id = image;
  }

  void run_group(const detector_dump& d, const grounding_request& r,
                 const std::vector<std::size_t>& idx, std::vector<query_result>& out) const {
    positive_map_options mo = m_map_opt;
    mo.token_slots = d.logits.shape.back();
    // Check each query's span alone first so one bad span fails only its own query.
    std::vector<char_span> spans;
    std::vector<std::size_t> ok;
    for (const std::size_t i : idx) {
      const char_span s{r.queries[i].char_begin, r.queries[i].char_end};
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
  std::map<std::string, std::vector<std::string>, std::less<>> m_dumps;
  std::string m_loaded_id;
  std::vector<detector_dump> m_loaded;
};

using npy_detector_grounder = basic_npy_detector_grounder<>;
static_assert(Grounder<npy_detector_grounder>);
static_assert(DescribedGrounder<npy_detector_grounder>);

}  // namespace groundeval
