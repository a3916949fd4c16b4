// SPDX-License-Identifier: Apache-2.0
// groundeval/run/manifest.hpp — a run's manifest.json: a flat JSON object of string values (data
// set, split, grounder, version, times, ...), written atomically, compared on resume and merge.
// Target: groundeval::core (standard library plus POSIX for the durable write).
#pragma once

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/json_scan.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/detail/text_position.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/limits.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// A manifest: flat, ordered key -> value strings (data set, split, grounder spec, version, ...).
using run_manifest = std::map<std::string, std::string, std::less<>>;

/// The manifest as JSON: one member per line, keys sorted, ending with a newline.
inline std::string manifest_to_json(const run_manifest& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    detail::json_quote(out, k);
    out += ": ";
    detail::json_quote(out, v);
  }
  out += first ? "}\n" : "\n}\n";
  return out;
}

/// Parses a manifest (a JSON object whose values are strings); `source` names it in errors.
inline run_manifest parse_manifest(std::string_view text, const std::string& source) {
  std::vector<detail::json_member> ms;
  try {
    ms = detail::scan_json_object(text);
  } catch (const detail::json_scan_error& e) {
    throw error(error_kind::parse, source, detail::line_of(text, e.pos), e.what);
  }
  run_manifest m;
  for (auto& mem : ms) {
    if (mem.type != detail::json_member::kind::string)
      throw error(error_kind::parse, source, 0,
                  "manifest value of \"" + mem.key + "\" is not a string");
    if (!m.emplace(mem.key, std::move(mem.value)).second)
      throw error(error_kind::parse, source, 0, "manifest key \"" + mem.key + "\" appears twice");
  }
  return m;
}

/// Reads RUN_DIR/manifest.json-style files.
inline run_manifest read_manifest(const std::filesystem::path& file) {
  std::string text;
  if (!detail::read_whole_file(file.string(), text, max_manifest_file_bytes))
    throw error(error_kind::io, file.string(), 0,
                "cannot read the manifest" + detail::read_failure_reason(max_manifest_file_bytes));
  return parse_manifest(text, file.string());
}

/// Writes a manifest atomically: a temporary file, fsync, rename, fsync of the directory.
inline void write_manifest(const std::filesystem::path& file, const run_manifest& m) {
  detail::write_file_atomically(file, manifest_to_json(m));
}

/// Keys whose values differ between `a` and `b` (present in one only, or different), sorted,
/// leaving out the keys in `ignore`.
inline std::vector<std::string> manifest_differences(const run_manifest& a, const run_manifest& b,
                                                     std::span<const std::string> ignore = {}) {
  std::vector<std::string> out;
  auto ignored = [&](const std::string& k) {
    return std::find(ignore.begin(), ignore.end(), k) != ignore.end();
  };
  for (const auto& [k, v] : a) {
    if (ignored(k)) continue;
    auto it = b.find(k);
    if (it == b.end() || it->second != v) out.push_back(k);
  }
  for (const auto& [k, v] : b)
    if (!ignored(k) && !a.contains(k)) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

/// The value of `key`, or an empty string when the manifest has none.
inline std::string manifest_value(const run_manifest& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

/// The "config_hash" of the run a predictions file belongs to: when `predictions` is a run
/// directory's predictions.jsonl (named so, with a manifest.json beside it), that manifest's
/// value; otherwise empty (nothing to check against).
inline std::string run_config_hash_of(const std::filesystem::path& predictions) {
  if (predictions.filename() != "predictions.jsonl") return {};
  const std::filesystem::path m = predictions.parent_path() / "manifest.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(m, ec)) return {};
  return manifest_value(read_manifest(m), "config_hash");
}

}  // namespace groundeval
