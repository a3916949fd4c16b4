// SPDX-License-Identifier: Apache-2.0
// tests/metrics/fixtures.hpp — small hand-built data sets and predictions for the metric tests.
// Everything here is synthetic and written for the tests; nothing is model output.
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/eval/predictions.hpp>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <unistd.h>

namespace groundeval::test {

using bx = box_xyxy<double>;

inline phrase make_phrase(std::string chain, std::vector<std::string> types, std::vector<bx> boxes,
                          std::string text = "a thing") {
  phrase p;
  p.text = std::move(text);
  p.chain_id = std::move(chain);
  p.types = std::move(types);
  p.boxes = std::move(boxes);
  p.char_end = p.text.size();
  return p;
}

inline sample make_sample(std::string image, int sentence, std::vector<phrase> phrases,
                          image_size size = {500, 400}) {
  sample s;
  s.image_id = std::move(image);
  s.sentence_index = sentence;
  s.size = size;
  s.sentence = "a synthetic test sentence";
  s.phrases = std::move(phrases);
  return s;
}

inline std::vector<scored_box> ranked(std::initializer_list<bx> boxes) {
  std::vector<scored_box> out;
  double score = 1.0;
  for (const auto& b : boxes) out.push_back({b, score}), score *= 0.5;
  return out;
}

inline sentence_prediction sent(std::string image, std::string sentence,
                                std::vector<std::vector<scored_box>> lists) {
  sentence_prediction p;
  p.image_id = std::move(image);
  p.sentence_id = std::move(sentence);
  p.boxes = std::move(lists);
  return p;
}

/// Writes `text` to a scratch file named after `name` and this process; returns its path.
inline std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string path =
      std::string(P_tmpdir) + "/groundeval_test_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace groundeval::test
