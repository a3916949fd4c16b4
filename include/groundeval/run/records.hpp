// SPDX-License-Identifier: Apache-2.0
// groundeval/run/records.hpp — the records of a run's predictions.jsonl as the run layer sees
// them: each line's key (image id, sentence index, phrase index) and its text, which stays
// opaque here. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/detail/config_hash.hpp>
#include <groundeval/detail/json_scan.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/error.hpp>

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

/// Reads a predictions file. Keys are read with `reader`; a line whose key cannot be read throws
/// error_kind::parse naming FILE:LINE. A torn last line is reported, not read. `keep_lines` = false
/// keeps only the keys (record lines left empty). A non-empty `config_hash` checks every record
/// with check_record_config_hash().
inline run_file_contents read_run_file(const std::filesystem::path& file,
                                       const run_key_reader& reader = read_run_key_json,
                                       bool keep_lines = true, std::string_view config_hash = {}) {
  run_file_contents c;
  std::ifstream is(file, std::ios::binary);
  if (!is) throw error(error_kind::io, file.string(), 0, "cannot open");
  const run_key_reader& rd = reader ? reader : run_key_reader(read_run_key_json);
  std::string line;
  std::size_t n = 0;
  std::uint64_t offset = 0;
  while (std::getline(is, line)) {
    ++n;
    if (is.eof()) {  // no newline after this line: torn by a crash
      c.torn_bytes = line.size();
      c.torn_line = line.empty() ? 0 : n;
      break;
    }
    offset += line.size() + 1;
    c.complete_bytes = offset;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    run_record r;
    try {
      r.key = rd(line);
    } catch (const error& e) {
      throw error(e.kind(), file.string(), n, e.what());
    }
    check_record_config_hash(line, config_hash, file.string(), n);
    if (keep_lines) r.line = std::move(line);
    c.records.push_back(std::move(r));
    c.lines.push_back(n);
  }
  return c;
}

}  // namespace groundeval
