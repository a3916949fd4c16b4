// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/rescore.hpp — decodes the raw model text of prediction records again with a
// family's parser and geometry contract, so a run of another harness (lmms-eval, VLMEvalKit,
// converted by python -m groundeval.convert) is scored in the frame the model used
// (docs/generalist.md, "Rescoring other harnesses' outputs").
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/boxes/box.hpp>
#include <groundeval/concepts/dataset.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/grounders/families.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/parsers.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace groundeval {

/// Rescoring: replaces the boxes of prediction records by what their `raw_text` says when read
/// with one family's parser and geometry (`--geometry KEY=VALUE` options), for the size of each
/// record's image in the data set. Rules, per record:
/// * an image the data set does not have: left as is (the evaluator counts it as unknown);
/// * status `error` (no answer): left as is;
/// * an empty `raw_text` on a record that has boxes or points: error_kind::invalid naming the
///   line (boxes without the text they came from cannot be rescored: the file was not written
///   with raw answers);
/// * otherwise the record's result becomes decoded_answer(family, raw_text, geometry) (its
///   latency kept); an empty text decodes to status `empty`.
/// The geometry recorded says nothing was sent by groundeval (`send` original): the harness
/// sent the images. An image whose size the data set does not give is an error naming it.
class raw_text_rescorer {
 public:
  using geometry_options = std::vector<std::pair<std::string, std::string>>;

  /// Throws error_kind::config for an unknown family or geometry key (checked on a 1000x1000
  /// image; a contract that cannot hold for some image size fails on that image's record).
  template <Dataset D>
  raw_text_rescorer(const D& data, std::string family, geometry_options options = {})
      : m_family(std::move(family)), m_options(std::move(options)) {
    (void)family_geometry(m_family, image_size{1000, 1000}, m_options);
    for (const auto& s : data) m_size.emplace(std::string(std::string_view(s.image_id)), s.size);
  }

  const std::string& family() const noexcept { return m_family; }
  const geometry_options& options() const noexcept { return m_options; }
  /// Records decoded so far.
  std::size_t rescored() const noexcept { return m_rescored; }

  /// The contract for an image of `size` (send: original).
  geometry geometry_for(image_size size) const {
    geometry g = family_geometry(m_family, size, m_options);
    g.send = client_preprocess{};
    return g;
  }

  /// Decodes `r` again (see the class comment); `source` names the file in errors.
  void operator()(phrase_prediction_record& r, const std::string& source = {}) {
    const auto it = m_size.find(r.image_id);
    if (it == m_size.end() || r.result.status == query_status::error) return;
    if (r.result.raw_text.empty() && (!r.result.boxes.empty() || !r.result.points.empty()))
      throw error(error_kind::invalid, source, r.line,
                  "the record of image " + r.image_id + " sentence " +
                      std::to_string(r.sentence_id) + " phrase " + std::to_string(r.phrase_index) +
                      " has boxes but no raw_text: rescoring with --family decodes the model's "
                      "raw answer, and this file does not carry it");
    if (it->second.width <= 0 || it->second.height <= 0)
      throw error(error_kind::invalid, source, r.line,
                  "the data set gives no size for image " + r.image_id +
                      ": decoding a raw answer needs the original image size");
    geometry g;
    try {
      g = geometry_for(it->second);
    } catch (const error& e) {
      throw error(error_kind::config, source, r.line,
                  "image " + r.image_id + " (" + std::to_string(it->second.width) + "x" +
                      std::to_string(it->second.height) + "): " + e.what());
    }
    const double latency = r.result.latency_s;
    r.result = decoded_answer(m_family, std::move(r.result.raw_text), g);
    r.result.latency_s = latency;
    ++m_rescored;
  }

 private:
  std::string m_family;
  geometry_options m_options;
  std::unordered_map<std::string, image_size> m_size;
  std::size_t m_rescored = 0;
};

}  // namespace groundeval
