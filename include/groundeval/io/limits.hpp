// SPDX-License-Identifier: Apache-2.0
// groundeval/io/limits.hpp — size limits shared by the writers and the readers of groundeval's
// files, so that whatever a run writes, `evaluate`, `report` and `merge` can read back.
// Target: groundeval::core (standard library only).
//
// * max_jsonl_line_bytes: the longest JSON Lines record (one phrase query of predictions.jsonl).
//   Readers refuse a longer line with an error naming the file and line; writers must never
//   write one.
// * max_answer_text_bytes / max_query_message_bytes: what a grounder may hand over for storing
//   in one record (query_result::raw_text and ::message). Grounders that receive text from
//   elsewhere (a server's answer) cut it here, with a reason, so a record always fits: JSON
//   escaping writes at most 6 bytes per input byte (\u00XX), and the rest of a record (ids,
//   phrase, boxes, geometry) is small next to the margin left.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval {

/// Longest JSON Lines record read or written (64 MiB; a record of 100 boxes is about 10 KiB).
inline constexpr std::size_t max_jsonl_line_bytes = std::size_t{64} << 20;
/// Longest model answer (raw_text) a grounder stores for one query (1 MiB; a grounding answer is
/// usually under 1 KiB, and max_tokens bounds it at a few KiB per thousand tokens).
inline constexpr std::size_t max_answer_text_bytes = std::size_t{1} << 20;
/// Longest per-query message (failure reason) a grounder stores for one query (64 KiB).
inline constexpr std::size_t max_query_message_bytes = std::size_t{64} << 10;

static_assert(6 * (max_answer_text_bytes + max_query_message_bytes) + (std::size_t{16} << 20) <
                  max_jsonl_line_bytes,
              "a record holding the longest answer and message, JSON-escaped, must fit a line "
              "with 16 MiB to spare for its other fields");

/// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8
/// sequence (a cut string stays valid UTF-8 when `s` was).
constexpr std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  // back over continuation bytes (10xxxxxx, at most 3 in a sequence) to the start of the
  // sequence that was cut
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++k) --n;
  return s.substr(0, n);
}

/// Cuts `s` to at most `max_bytes` bytes (at a UTF-8 boundary); true when it was cut.
inline bool cut_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return false;
  s.resize(utf8_prefix(s, max_bytes).size());
  return true;
}

}  // namespace groundeval
