// SPDX-License-Identifier: Apache-2.0
// Fuzzes the Flickr30k Entities Sentences/<id>.txt markup parser (datasets/flickr30k_sentences.hpp)
// in strict mode (groundeval::error is the documented outcome for bad markup) and in lenient
// mode (must never throw), and checks the invariants every returned phrase must satisfy.
#include "fuzz_util.hpp"

#include <groundeval/datasets/flickr30k_sentences.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = groundeval_fuzz::as_text(data, size);
  const std::string file = "Sentences/fuzz.txt";
  try {
    groundeval::problem_sink strict(true);
    (void)groundeval::parse_flickr30k_sentences(text, file, strict);
  } catch (const groundeval::error&) {
  }
  groundeval::problem_sink lenient(false);
  const auto sentences = groundeval::parse_flickr30k_sentences(text, file, lenient);
  for (const auto& s : sentences) {
    if (s.line == 0) std::abort();
    for (const auto& p : s.phrases) {
      // Every phrase is a span of the cleaned sentence whose text is that span.
      if (p.char_begin > p.char_end || p.char_end > s.text.size()) std::abort();
      if (s.text.compare(p.char_begin, p.char_end - p.char_begin, p.text) != 0) std::abort();
      if (p.first_word_index < 0) std::abort();
    }
  }
  return 0;
}
