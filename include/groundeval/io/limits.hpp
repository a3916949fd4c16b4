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
// * max_*_file_bytes: the largest file of each kind that is read whole into memory. A larger
//   file (or /dev/zero, a device read up to the limit) is refused with an error naming the file
//   and the limit, before more than the limit is held (detail::read_whole_file).
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

/// Largest split list (an image id per line; Flickr30k's test.txt is 11 KiB).
inline constexpr std::size_t max_list_file_bytes = std::size_t{64} << 20;
/// Largest image file (a 100-megapixel JPEG is about 50 MiB).
inline constexpr std::size_t max_image_file_bytes = std::size_t{256} << 20;
/// Largest configuration file (`--grounder @FILE`; a few hundred bytes in practice).
inline constexpr std::size_t max_config_file_bytes = std::size_t{1} << 20;
/// Largest run manifest (RUN_DIR/manifest.json; a few KiB in practice).
inline constexpr std::size_t max_manifest_file_bytes = std::size_t{16} << 20;
/// Largest box-proposals file of the oracle grounder (JSON; 100 boxes for each of the 1,000
/// test images is about 4 MiB).
inline constexpr std::size_t max_proposals_file_bytes = std::size_t{256} << 20;
/// Largest MDETR JSON annotation file (read whole and parsed in place; MDETR's Flickr30k train
/// file is a few hundred MiB).
inline constexpr std::size_t max_annotation_file_bytes = std::size_t{2} << 30;
/// Largest .npy / .npz detector dump (one image's outputs; MDETR's are under 1 MiB).
inline constexpr std::size_t max_array_file_bytes = std::size_t{1} << 30;

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
