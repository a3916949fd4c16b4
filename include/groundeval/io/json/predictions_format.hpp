// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions_format.hpp — what every predictions reader shares: the two file
// formats, the read options and the limits that keep a corrupt file from exhausting memory.
// Target: groundeval::json (standard library only, plus the core's query_status). The readers:
// io/json/predictions.hpp.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/io/limits.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

/// The two predictions file formats.
enum class predictions_format {
  mdetr_json,  ///< a JSON list of {image_id, sentence_id, boxes}
  jsonl        ///< JSON Lines, one phrase query per line
};

// max_jsonl_line_bytes (io/limits.hpp), shared with the writers: the longest JSON Lines record
// read (a longer line is an error naming the file and line, so a corrupt file cannot exhaust
// memory).
/// Deepest JSON nesting of a JSON Lines record (a deeper one is an error naming file and line).
inline constexpr std::size_t max_jsonl_nesting = 64;

struct predictions_read_options {
  /// Read a JSON null coordinate as NaN (and let the evaluator count it) instead of failing.
  bool allow_non_finite = false;
  /// Threads that parse a predictions file (0: hardware concurrency; small inputs stay on the
  /// calling thread). Results and errors do not depend on it.
  unsigned threads = 0;
  /// When not empty, a JSON Lines record whose "config_hash" is another one is an error naming
  /// the file and line (detail::check_config_hash): the run's manifest's hash, so that results
  /// of another configuration are never credited to the run.
  std::string config_hash;
};

namespace detail {

/// The status named `s` in a JSON Lines record ("ok", "empty", "format_failure", "error").
inline bool query_status_from(std::string_view s, query_status& out) noexcept {
  for (const query_status q :
       {query_status::ok, query_status::empty, query_status::format_failure, query_status::error})
    if (s == to_string(q)) {
      out = q;
      return true;
    }
  return false;
}

}  // namespace detail
}  // namespace groundeval
