// SPDX-License-Identifier: Apache-2.0
// Fuzzes the predictions readers (io/json/predictions.hpp): the format is picked from the first
// non-blank character as read_predictions does ('[' MDETR JSON list, '{' JSON Lines); both
// options for non-finite coordinates. Differential: the fast readers (simdjson, batches, several
// threads, here with tiny batches and reads so every border is crossed) must give exactly the
// records or entries of the reference parser (nlohmann/json), or exactly its error message.
// groundeval::error is the documented outcome for bad input. What was read is written back with
// the library's writer and must read back (a file groundeval writes must always be readable).
#include "fuzz_util.hpp"

#include <groundeval/io/json/predictions.hpp>

#include <cstdlib>
#include <memory>
#include <sstream>

namespace {

namespace ref = groundeval::detail::reference_predictions;

using ref::identical;

groundeval::detail::predictions_stream_sizes tiny_sizes(std::size_t size) {
  groundeval::detail::predictions_stream_sizes s;
  s.bytes_per_thread = 1 + size % 97;
  s.piece_bytes = 1 + size % 59;
  s.first_read = 1 + size % 31;
  s.max_read = s.first_read + size % 67;
  s.jsonl_batch_bytes = 1 + size % 211;
  s.mdetr_batch_bytes = 1 + size % 173;
  return s;
}

/// Read options that accept null coordinates (what the writer writes for NaN).
groundeval::predictions_read_options lenient() {
  groundeval::predictions_read_options o;
  o.allow_non_finite = true;
  return o;
}

void read_jsonl(std::string_view text, groundeval::predictions_read_options opt) {
  std::vector<groundeval::phrase_prediction_record> want;
  std::string want_error;
  try {
    ref::parse_jsonl_text(text, "fuzz.jsonl", opt, want);
  } catch (const groundeval::error& x) {
    want_error = x.what();
  }
  opt.threads = 3;
  groundeval::detail::memory_istream in(text);
  groundeval::detail::jsonl_batch_reader reader(in, "fuzz.jsonl", opt, tiny_sizes(text.size()));
  groundeval::prediction_set set;
  std::string error;
  try {
    while (const std::size_t n = reader.next(1 + text.size() % 5, true))
      for (std::size_t i = 0; i < n; ++i) set.phrases.push_back(reader.records()[i]);
  } catch (const groundeval::error& x) {
    error = x.what();
  }
  if (error != want_error || set.phrases.size() != want.size()) std::abort();
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!identical(set.phrases[i], want[i])) std::abort();
  if (set.phrases.empty()) return;
  std::ostringstream out;
  groundeval::write_jsonl_predictions(out, set);
  std::istringstream back(out.str());
  groundeval::jsonl_prediction_reader again(back, "written.jsonl", lenient());
  groundeval::phrase_prediction_record r;
  std::size_t n = 0;
  try {
    while (again.next(r)) ++n;
  } catch (const groundeval::error&) {
    std::abort();  // our own output does not read back
  }
  if (n != set.phrases.size()) std::abort();
}

void read_mdetr(std::string_view text, groundeval::predictions_read_options opt) {
  groundeval::prediction_set want;
  std::string want_error;
  try {
    want = ref::parse_mdetr_predictions(text, "fuzz.json", opt);
  } catch (const groundeval::error& e) {
    want_error = e.what();
  }
  opt.threads = 3;
  std::vector<groundeval::sentence_prediction> got;
  std::string error;
  bool reference = false;
  try {
    groundeval::detail::memory_istream in(text);
    groundeval::detail::stream_mdetr_predictions(
        in, "fuzz.json", opt,
        [text]() -> std::unique_ptr<std::istream> {
          return std::make_unique<groundeval::detail::memory_istream>(text);
        },
        [&](groundeval::sentence_prediction& sp) { got.push_back(sp); }, [] {},
        tiny_sizes(text.size()));
  } catch (const groundeval::error& e) {
    error = e.what();
  } catch (const groundeval::detail::use_reference_parser&) {
    reference = true;  // the reference decides then: equal by construction
  }
  if (!reference) {
    if (error != want_error) std::abort();
    if (error.empty()) {
      if (got.size() != want.sentences.size()) std::abort();
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (!identical(got[i], want.sentences[i])) std::abort();
      }
    }
  }
  if (!want_error.empty()) return;
  std::ostringstream out;
  groundeval::write_mdetr_predictions(out, want);
  try {
    const auto back = groundeval::parse_mdetr_predictions(out.str(), "written.json", lenient());
    if (back.sentences.size() != want.sentences.size()) std::abort();
  } catch (const groundeval::error&) {
    std::abort();  // our own output does not read back
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = groundeval_fuzz::as_text(data, size);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  const bool mdetr = first != std::string_view::npos && text[first] == '[';
  for (const bool allow : {false, true}) {
    groundeval::predictions_read_options opt;
    opt.allow_non_finite = allow;
    if (mdetr)
      read_mdetr(text, opt);
    else
      read_jsonl(text, opt);
  }
  return 0;
}
