// SPDX-License-Identifier: Apache-2.0
// Fuzzes the predictions readers (io/json/predictions.hpp): the format is picked from the first
// non-blank character as read_predictions does ('[' MDETR JSON list, '{' JSON Lines, streamed
// with jsonl_prediction_reader); both options for non-finite coordinates. groundeval::error is
// the documented outcome for bad input. What was read is written back with the library's writer
// and must read back (a file groundeval writes must always be readable by groundeval).
#include "fuzz_util.hpp"

#include <groundeval/io/json/predictions.hpp>

#include <cstdlib>
#include <sstream>

namespace {

void read_jsonl(std::string_view text, const groundeval::predictions_read_options& opt) {
  std::istringstream in{std::string(text)};
  groundeval::jsonl_prediction_reader reader(in, "fuzz.jsonl", opt);
  groundeval::phrase_prediction_record r;
  groundeval::prediction_set set;
  try {
    while (reader.next(r)) set.phrases.push_back(r);
  } catch (const groundeval::error&) {
    if (set.phrases.empty()) return;
  }
  std::ostringstream out;
  groundeval::write_jsonl_predictions(out, set);
  std::istringstream back(out.str());
  groundeval::jsonl_prediction_reader again(back, "written.jsonl", {true});
  std::size_t n = 0;
  try {
    while (again.next(r)) ++n;
  } catch (const groundeval::error&) {
    std::abort();  // our own output does not read back
  }
  if (n != set.phrases.size()) std::abort();
}

void read_mdetr(std::string_view text, const groundeval::predictions_read_options& opt) {
  groundeval::prediction_set set;
  try {
    set = groundeval::parse_mdetr_predictions(text, "fuzz.json", opt);
  } catch (const groundeval::error&) {
    return;
  }
  std::ostringstream out;
  groundeval::write_mdetr_predictions(out, set);
  try {
    const auto back = groundeval::parse_mdetr_predictions(out.str(), "written.json", {true});
    if (back.sentences.size() != set.sentences.size()) std::abort();
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
