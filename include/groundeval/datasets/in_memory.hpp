// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/in_memory.hpp — the library's concrete phrase, sample and data set types,
// which every loader produces. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/boxes/convert.hpp>
#include <groundeval/concepts/dataset.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace groundeval {

/// One annotated phrase of a sentence (a model of Phrase).
struct phrase {
  std::string text;                     ///< the phrase words joined by single spaces
  std::string chain_id;                 ///< entity id as written in the data ("0" = notvisual)
  std::vector<std::string> types;       ///< one or more types
  std::vector<box_xyxy<double>> boxes;  ///< ground truth in original pixels; empty: not evaluable
  std::size_t char_begin = 0;           ///< span in the sentence, [begin, end)
  std::size_t char_end = 0;
  int first_word_index = 0;  ///< index of the first word in the sentence's words
};

/// One sentence of one image (a model of Sample).
struct sample {
  std::string image_id;
  image_size size;
  int sentence_index = 0;  ///< 0-based, as in MDETR's predictions format
  std::string sentence;
  std::vector<phrase> phrases;
};

/// The enclosing box of a phrase's ground truth (the MERGED-box protocol); the phrase must be
/// evaluable.
inline box_xyxy<double> merged_box(const phrase& p) {
  return enclose(p.boxes.data(), p.boxes.size());
}

/// A sample for grounding free phrases on one image, without ground truth: its sentence is the
/// phrases joined by single spaces, each phrase spanning its own text.
inline sample phrases_sample(std::string image_id, image_size size,
                             const std::vector<std::string>& texts) {
  sample s{std::move(image_id), size, 0, {}, {}};
  int words = 0;  // words of the sentence so far (the phrases' texts split at spaces)
  for (const auto& t : texts) {
    if (!s.sentence.empty()) s.sentence += ' ';
    phrase p;
    p.text = t;
    p.char_begin = s.sentence.size();
    p.char_end = p.char_begin + t.size();
    p.first_word_index = words;
    for (std::size_t i = 0; i < t.size(); ++i) words += t[i] != ' ' && (i == 0 || t[i - 1] == ' ');
    s.sentence += t;
    s.phrases.push_back(std::move(p));
  }
  return s;
}

/// A data set held in memory: a vector of samples plus a name and an optional image folder.
class in_memory_dataset {
 public:
  in_memory_dataset() = default;
  in_memory_dataset(std::string name, std::vector<sample> samples, std::string image_dir = {})
      : m_name(std::move(name)), m_samples(std::move(samples)), m_image_dir(std::move(image_dir)) {}

  auto begin() const noexcept { return m_samples.begin(); }
  auto end() const noexcept { return m_samples.end(); }
  std::size_t size() const noexcept { return m_samples.size(); }
  const sample& operator[](std::size_t i) const noexcept { return m_samples[i]; }
  const std::string& name() const noexcept { return m_name; }
  /// `<image_dir>/<image_id>.jpg`, or empty when no image folder is known.
  std::string image_path(const sample& s) const {
    return m_image_dir.empty() ? std::string{} : m_image_dir + "/" + s.image_id + ".jpg";
  }
  /// The image folder given at construction (may be empty).
  const std::string& image_dir() const noexcept { return m_image_dir; }
  std::vector<sample>& samples() noexcept { return m_samples; }
  const std::vector<sample>& samples() const noexcept { return m_samples; }

 private:
  std::string m_name;
  std::vector<sample> m_samples;
  std::string m_image_dir;
};

static_assert(Phrase<phrase>);
static_assert(Sample<sample>);
static_assert(Dataset<in_memory_dataset>);
static_assert(NamedDataset<in_memory_dataset>);
static_assert(ImageDataset<in_memory_dataset>);

}  // namespace groundeval
