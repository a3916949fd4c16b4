// SPDX-License-Identifier: Apache-2.0
// groundeval/run/records.hpp — the records of a run's predictions.jsonl as the run layer sees
// them: each line's key (image id, sentence index, phrase index) and its text, which stays
// opaque here. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/detail/config_hash.hpp>
#include <groundeval/detail/json_scan.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/limits.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// Identifies one phrase query of a run.
struct run_key {
  std::string image_id;
  long long sentence_index = 0;
  std::size_t phrase_index = 0;
  friend auto operator<=>(const run_key&, const run_key&) = default;
  friend bool operator==(const run_key&, const run_key&) = default;
};

/// "image/sentence/phrase", for messages.
inline std::string to_string(const run_key& k) {
  return k.image_id + '/' + std::to_string(k.sentence_index) + '/' + std::to_string(k.phrase_index);
}

/// One record of predictions.jsonl: its key and its line (JSON text without the newline).
struct run_record {
  run_key key;
  std::string line;
};

/// Reads the key of one record line; throws groundeval::error (without a location: the caller
/// adds file and line) when the key cannot be read.
using run_key_reader = std::function<run_key(std::string_view line)>;

/// The default key reader: the top-level members "image_id" (string or integer),
/// "sentence_id" (or "sentence_index") and "phrase_index" of a JSON object line.
inline run_key read_run_key_json(std::string_view line) {
  using kind = detail::json_member::kind;
  std::vector<detail::json_member> ms;
  try {
    ms = detail::scan_json_object(line);
  } catch (const detail::json_scan_error& e) {
    throw error(error_kind::parse,
                "not a JSON object (column " + std::to_string(e.pos + 1) + ": " + e.what + ")");
  }
  run_key k;
  bool have_image = false, have_sentence = false, have_phrase = false;
  auto index = [](const detail::json_member& m) {
    const auto v = detail::parse_integer<long long>(m.value);
    if (m.type != kind::number || !v || *v < 0)
      throw error(error_kind::parse, "\"" + m.key + "\" must be a non-negative integer");
    return *v;
  };
  for (const auto& m : ms) {
    if (m.key == "image_id") {
      if (m.type != kind::string && m.type != kind::number)
        throw error(error_kind::parse, "\"image_id\" must be a string or an integer");
      k.image_id = m.value;
      have_image = true;
    } else if (m.key == "sentence_id" || m.key == "sentence_index") {
      k.sentence_index = index(m);
      have_sentence = true;
    } else if (m.key == "phrase_index") {
      k.phrase_index = static_cast<std::size_t>(index(m));
      have_phrase = true;
    }
  }
  if (!have_image) throw error(error_kind::parse, "missing \"image_id\"");
  if (!have_sentence) throw error(error_kind::parse, "missing \"sentence_id\"");
  if (!have_phrase) throw error(error_kind::parse, "missing \"phrase_index\"");
  return k;
}

/// The string value of the top-level member `key` of a record line; empty when the line has no
/// such string member or is not a JSON object (the key reader reports those).
inline std::string read_record_string(std::string_view line, std::string_view key) {
  try {
    for (auto& m : detail::scan_json_object(line))
      if (m.key == key && m.type == detail::json_member::kind::string) return std::move(m.value);
  } catch (const detail::json_scan_error&) {
  }
  return {};
}

/// detail::check_config_hash() of the record `line`'s "config_hash" against `expected`.
inline void check_record_config_hash(std::string_view line, std::string_view expected,
                                     const std::string& file, std::size_t line_no) {
  if (!expected.empty())
    detail::check_config_hash(read_record_string(line, "config_hash"), expected, file, line_no);
}

/// The records of a predictions.jsonl file (blank lines skipped), with their 1-based lines.
struct run_file_contents {
  std::vector<run_record> records;
  std::vector<std::size_t> lines;
  std::uint64_t complete_bytes = 0;  ///< bytes up to the end of the last complete line
  std::uint64_t torn_bytes = 0;      ///< bytes after it (a torn last line), 0 normally
  std::size_t torn_line = 0;         ///< the torn line's number, 0 when none
};

/// Where the complete lines of a run file end, from scan_run_file().
struct run_file_scan {
  std::uint64_t complete_bytes = 0;  ///< bytes up to the end of the last complete line
  std::uint64_t torn_bytes = 0;      ///< bytes after it (a torn last line), 0 normally
  std::size_t torn_line = 0;         ///< the torn line's number, 0 when none
};

/// Calls fn(line, line_number, offset) for every complete line of `file` (without its '\n'; the
/// view is valid during the call; `offset` is the byte offset of the line), in bounded memory:
/// a line longer than max_jsonl_line_bytes is an error naming the file and line (a run never
/// writes one). A last line without '\n' (torn by a crash) is reported, not passed to fn.
template <class Fn>
run_file_scan scan_run_file(const std::filesystem::path& file, Fn&& fn) {
  std::ifstream is(file, std::ios::binary);
  if (!is) throw error(error_kind::io, file.string(), 0, "cannot open");
  run_file_scan s;
  std::string carry;  // the start of a line that continues in the next chunk
  std::vector<char> buf(std::size_t{1} << 20);
  std::size_t n = 0;
  std::uint64_t offset = 0;
  auto too_long = [&] {
    return error(error_kind::parse, file.string(), n + 1,
                 "a line longer than the " + std::to_string(max_jsonl_line_bytes >> 20) +
                     " MiB limit of a JSON Lines record");
  };
  while (is.read(buf.data(), static_cast<std::streamsize>(buf.size())) || is.gcount() > 0) {
    const std::string_view chunk(buf.data(), static_cast<std::size_t>(is.gcount()));
    for (std::size_t p = 0; p < chunk.size();) {
      const std::size_t nl = chunk.find('\n', p);
      const std::string_view piece =
          chunk.substr(p, nl == std::string_view::npos ? std::string_view::npos : nl - p);
      if (carry.size() + piece.size() > max_jsonl_line_bytes) throw too_long();
      if (nl == std::string_view::npos) {
        carry.append(piece);
        break;
      }
      std::string_view line = piece;
      if (!carry.empty()) line = carry.append(piece);
      ++n;
      fn(line, n, offset);
      offset += line.size() + 1;
      s.complete_bytes = offset;
      carry.clear();
      p = nl + 1;
    }
  }
  if (is.bad()) throw error(error_kind::io, file.string(), 0, "read error");
  if (!carry.empty()) {
    s.torn_bytes = carry.size();
    s.torn_line = n + 1;
  }
  return s;
}

/// True for a line of blanks only (skipped by the readers).
inline bool is_blank_run_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// The key of the record `line` (line `n` of `file`), read with `rd`, its config_hash checked
/// against `config_hash` (when not empty); errors name FILE:LINE.
inline run_key read_checked_run_key(std::string_view line, const run_key_reader& rd,
                                    const std::filesystem::path& file, std::size_t n,
                                    std::string_view config_hash) {
  run_key k;
  try {
    k = rd(line);
  } catch (const error& e) {
    throw error(e.kind(), file.string(), n, e.what());
  }
  check_record_config_hash(line, config_hash, file.string(), n);
  return k;
}

/// Reads a predictions file. Keys are read with `reader`; a line whose key cannot be read throws
/// error_kind::parse naming FILE:LINE. A torn last line is reported, not read. `keep_lines` = false
/// keeps only the keys (record lines left empty). A non-empty `config_hash` checks every record
/// with check_record_config_hash().
inline run_file_contents read_run_file(const std::filesystem::path& file,
                                       const run_key_reader& reader = read_run_key_json,
                                       bool keep_lines = true, std::string_view config_hash = {}) {
  run_file_contents c;
  const run_key_reader& rd = reader ? reader : run_key_reader(read_run_key_json);
  const run_file_scan s =
      scan_run_file(file, [&](std::string_view line, std::size_t n, std::uint64_t) {
        if (is_blank_run_line(line)) return;
        run_record r;
        r.key = read_checked_run_key(line, rd, file, n, config_hash);
        if (keep_lines) r.line = line;
        c.records.push_back(std::move(r));
        c.lines.push_back(n);
      });
  c.complete_bytes = s.complete_bytes;
  c.torn_bytes = s.torn_bytes;
  c.torn_line = s.torn_line;
  return c;
}

}  // namespace groundeval
