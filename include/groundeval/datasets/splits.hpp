// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/splits.hpp — image-id lists (train/val/test.txt) and their validation.
// Target: groundeval::core (standard library only). The official Flickr30k Entities lists ship
// in the repository's data/flickr30k_entities/ folder; `<dataset>/<split>.txt` overrides them.
#pragma once

#include <groundeval/datasets/problems.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/hash.hpp>
#include <groundeval/detail/text_encoding.hpp>
#include <groundeval/io/limits.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// Path of an official split list below a data folder: `<data_dir>/flickr30k_entities/<split>.txt`.
inline std::string flickr30k_split_path(const std::string& data_dir, std::string_view split) {
  std::string p = data_dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p += "flickr30k_entities/";
  p += split;
  p += ".txt";
  return p;
}

/// Checks one image id: non-empty, no path separator, not "." or "..", no control character.
/// Returns an empty string when valid, otherwise the reason.
inline std::string image_id_problem(std::string_view id) {
  if (id.empty()) return "empty image id";
  if (id == "." || id == "..") return "image id '" + std::string(id) + "' is not a file name";
  for (const char c : id) {
    if (c == '/' || c == '\\')
      return "image id '" + std::string(id) +
             "' contains a path separator (rejected: no path traversal)";
    if (static_cast<unsigned char>(c) < 0x20) return "image id contains a control character";
  }
  return {};
}

/// Validates a list of image ids (explicit list or a parsed split file); `where` names the source
/// for messages, `lines[i]` (optional) the 1-based line of ids[i]. Duplicates and bad ids are
/// problems; lenient mode drops them.
inline std::vector<std::string> validate_image_ids(std::vector<std::string> ids,
                                                   const std::string& where,
                                                   const std::vector<std::size_t>& lines,
                                                   problem_sink& sink) {
  // Duplicates: an open-addressing table of indices into `ids` (no allocation per id; the
  // 31,783 ids of split 'all' are checked in about a millisecond).
  constexpr std::size_t empty = static_cast<std::size_t>(-1);
  std::size_t cap = 16;
  while (cap < 2 * ids.size()) cap <<= 1;
  std::vector<std::size_t> table(cap, empty);
  auto first_index = [&](std::size_t i) {  // of ids[i]'s value; inserts i when new
    for (std::size_t h = detail::fnv1a64(ids[i]) & (cap - 1);; h = (h + 1) & (cap - 1)) {
      if (table[h] == empty) return table[h] = i;
      if (ids[table[h]] == ids[i]) return table[h];
    }
  };
  std::vector<char> keep(ids.size(), 1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t line = i < lines.size() ? lines[i] : 0;
    // The item name is built only for a problem (31,783 ids: no string per valid id).
    auto item = [&] { return lines.empty() ? where + " [item " + std::to_string(i) + "]" : where; };
    if (auto why = image_id_problem(ids[i]); !why.empty()) {
      sink.report(error_kind::invalid, item(), line, why);
      keep[i] = 0;
      continue;
    }
    if (const std::size_t first = first_index(i); first != i) {
      sink.report(error_kind::invalid, item(), line,
                  "duplicate image id '" + ids[i] + "' (first at " +
                      (first < lines.size() ? "line " + std::to_string(lines[first])
                                            : "item " + std::to_string(first)) +
                      ")");
      keep[i] = 0;
    }
  }
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (keep[i]) out.push_back(std::move(ids[i]));
  return out;
}

/// Parses a split list: one id per line, surrounding whitespace stripped (Python `.strip()`),
/// universal newlines, blank lines ignored, lines starting with '#' ignored, a UTF-8 byte-order
/// mark skipped. A UTF-16 file or a list without ids is a problem.
inline std::vector<std::string> parse_split_list(std::string_view content, const std::string& file,
                                                 problem_sink& sink) {
  std::vector<std::string> ids;
  std::vector<std::size_t> lines;
  if (auto why = detail::utf16_problem(content); !why.empty()) {
    sink.report(error_kind::parse, file, 1, why);
    return ids;
  }
  detail::strip_utf8_bom(content);
  std::size_t i = 0, line_no = 0;
  const std::size_t n = content.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; };
  while (i < n) {
    std::size_t e = i;
    while (e < n && content[e] != '\n' && content[e] != '\r') ++e;
    ++line_no;
    std::size_t b = i, f = e;
    while (b < f && is_space(content[b])) ++b;
    while (f > b && is_space(content[f - 1])) --f;
    if (f > b && content[b] != '#') {
      ids.emplace_back(content.substr(b, f - b));
      lines.push_back(line_no);
    }
    if (e < n && content[e] == '\r' && e + 1 < n && content[e + 1] == '\n') ++e;
    i = e + 1;
  }
  if (ids.empty()) sink.report(error_kind::invalid, file, 0, "the split list holds no image id");
  return validate_image_ids(std::move(ids), file, lines, sink);
}

/// Reads and validates a split file; a missing file is an io error naming it.
inline std::vector<std::string> read_split_file(const std::string& path, problem_sink& sink) {
  std::string content;
  if (!detail::read_whole_file(path, content, max_list_file_bytes)) {
    sink.report(error_kind::io, path, 0,
                "cannot read split list" + detail::read_failure_reason(max_list_file_bytes));
    return {};
  }
  return parse_split_list(content, path, sink);
}

}  // namespace groundeval
