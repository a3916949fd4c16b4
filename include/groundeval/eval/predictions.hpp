// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/predictions.hpp — predictions held in memory, in either of the two layouts the
// evaluator accepts: MDETR's per-sentence lists and the project's per-phrase records.
// Target: groundeval::core (standard library only). Reading and writing files:
// io/json/predictions.hpp.
#pragma once

#include <groundeval/concepts/grounder.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace groundeval {

/// One sentence in MDETR's predictions format: {image_id, sentence_id, boxes}, where boxes[i] is
/// the ranked candidate list of the i-th *evaluable* phrase of the sentence (sentence order).
struct sentence_prediction {
  std::string image_id;     ///< as Python's str() renders the JSON value (integer or string)
  std::string sentence_id;  ///< likewise ("3" for 3 and for "3"); matched as "{image}_{sentence}"
  std::vector<std::vector<scored_box>> boxes;  ///< one ranked list per evaluable phrase
  std::size_t item = 0;                        ///< 0-based position in its file (for messages)
};

/// One phrase query in the project's JSON Lines format (docs/metrics.md has the schema).
struct phrase_prediction_record {
  std::string image_id;
  long long sentence_id = 0;     ///< 0-based non-empty-line index, as in MDETR
  std::size_t phrase_index = 0;  ///< index among *all* annotated phrases of the sentence
  std::string chain_id;          ///< checked against the data set when not empty
  std::string phrase;            ///< the phrase text (informational)
  query_result result;           ///< ranked boxes in original pixels, status, raw text, latency
  std::string config_hash;       ///< the grounder's configuration hash
  std::size_t line = 0;          ///< 1-based line in its file (for messages), 0 = not from a file
};

/// A run's predictions: one of the two layouts is filled (both may be empty).
struct prediction_set {
  std::string source;                             ///< file name, for messages
  std::vector<sentence_prediction> sentences;     ///< MDETR layout
  std::vector<phrase_prediction_record> phrases;  ///< JSON Lines layout
};

}  // namespace groundeval
