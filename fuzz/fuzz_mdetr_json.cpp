// SPDX-License-Identifier: Apache-2.0
// Fuzzes the MDETR-format annotation loader (datasets/json/mdetr.hpp) through its public entry
// point load_mdetr_annotations_detailed(path): the input is written to a scratch file first (the
// loader takes a path; the file write is the harness's own cost). groundeval::error is the
// documented outcome for bad input; on success every phrase span must lie inside its sentence.
#include "fuzz_util.hpp"

#include <groundeval/datasets/json/mdetr.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      groundeval_fuzz::scratch().write("mdetr.json", groundeval_fuzz::as_text(data, size));
  try {
    const auto res = groundeval::load_mdetr_annotations_detailed(path);
    for (const auto& s : res.dataset.samples()) {
      for (const auto& p : s.phrases) {
        if (p.char_begin > p.char_end || p.char_end > s.sentence.size()) std::abort();
        if (s.sentence.compare(p.char_begin, p.char_end - p.char_begin, p.text) != 0) std::abort();
      }
    }
  } catch (const groundeval::error&) {
  }
  return 0;
}
