// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/rescore.hpp — evaluates a JSON Lines predictions file after decoding each
// record's raw_text again with raw_text_rescorer (eval/rescore.hpp): `groundeval evaluate
// --family F [--geometry K=V ...]`.
// Target: groundeval::json.
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/rescore.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <cstddef>
#include <ostream>
#include <string>

namespace groundeval {

/// Streams the JSON Lines file `path` (bounded memory, as evaluate_predictions_file), rescoring
/// every record with `rescore` before evaluating it; when `rescored_out` is given, each
/// rescored record is also written there as a line (the rescored predictions file, for
/// `report` / `compare`). MDETR JSON (no raw text) is an error_kind::config. Errors of the
/// file and of the rescorer name the line.
template <Dataset D>
evaluation_result evaluate_rescored_predictions_file(const D& data, const std::string& path,
                                                     raw_text_rescorer& rescore,
                                                     const evaluation_options& eopt = {},
                                                     const predictions_read_options& ropt = {},
                                                     std::ostream* rescored_out = nullptr,
                                                     std::size_t batch = 8192) {
  auto opened = detail::open_predictions(path);  // a pipe of JSON Lines is read as a stream
  std::istream& f = *opened.in;
  if (opened.format == predictions_format::mdetr_json)
    throw error(error_kind::config, path, 0,
                "an MDETR JSON predictions file carries no raw text to decode with --family; "
                "rescoring needs groundeval JSON Lines with raw_text");
  predictions_read_options opt = ropt;
  if (!opt.threads) opt.threads = eopt.threads;
  evaluator<D> ev(data, eopt, path);
  detail::jsonl_batch_reader reader(f, path, opt);
  while (const std::size_t n = reader.next(batch)) {
    for (std::size_t i = 0; i < n; ++i) {
      phrase_prediction_record& r = reader.records()[i];
      rescore(r, path);
      if (rescored_out) write_jsonl_record(*rescored_out, r);
      ev.add(r);
    }
    ev.measure_pending();  // the records may be overwritten from here on
  }
  if (rescored_out && !rescored_out->flush())
    throw error(error_kind::io, path, 0, "cannot write the rescored predictions");
  return ev.finish();
}

}  // namespace groundeval
