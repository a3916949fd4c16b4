// SPDX-License-Identifier: Apache-2.0
// groundeval/run/run_dir.hpp — the run directory: crash-safe incremental JSON Lines records and
// resume. Target: groundeval::core (standard library plus POSIX open/write/fsync/truncate).
//
// RUN_DIR/manifest.json      a flat JSON object of string values (run/manifest.hpp)
// RUN_DIR/predictions.jsonl  one record per line; the payload is opaque here, only its key
//                            (image_id, sentence index, phrase index), its config_hash and its
//                            status are read back on resume.
// RUN_DIR/.lock              the writer's exclusive lock (run/lock.hpp), held while open.
// RUN_DIR/retried-errors.jsonl  records of status "error" taken out by retry_errors.
// docs/runner.md describes the layout and the crash-safety guarantees.
#pragma once

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/detail/strings.hpp>
#include <groundeval/error.hpp>
#include <groundeval/run/lock.hpp>
#include <groundeval/run/manifest.hpp>
#include <groundeval/run/records.hpp>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace groundeval {

/// The file of a run directory that `retry_errors` moves the records of status "error" to.
inline constexpr std::string_view retried_errors_file_name = "retried-errors.jsonl";

struct run_open_options {
  /// Discard an existing manifest.json and predictions.jsonl instead of refusing to mix.
  bool start_over = false;
  /// Manifest keys allowed to differ on resume (start time, machine, ...); the stored value is
  /// kept.
  std::vector<std::string> volatile_keys;
  /// Reads the key of each existing record (default: read_run_key_json).
  run_key_reader key_reader;
  /// Receives warnings (a dropped torn line); default: printed to stderr.
  std::function<void(const std::string&)> warn;
  /// Take the records of status "error" out of predictions.jsonl (moved to
  /// retried-errors.jsonl), so that their queries are asked again.
  bool retry_errors = false;
  /// What the lock file records about this writer (the command line), for the error another
  /// writer gets.
  std::string lock_command = "groundeval";
};

/// An open run directory. Appending is not thread-safe: one writer collects results and calls
/// append() per batch. Each append is one write(2) of whole lines followed by fsync(2), so after a
/// crash predictions.jsonl holds every acknowledged batch plus at most one torn last line, which
/// open() detects, truncates and reports.
class run_directory {
 public:
  /// Opens or creates `dir`, first taking its exclusive lock (dir_lock: another process writing
  /// it throws error_kind::config naming that process, start_over or not; the lock is held until
  /// the run_directory is destroyed). With an existing manifest.json: the same manifest (apart
  /// from volatile_keys) resumes; a different one throws error_kind::config naming the differing
  /// keys, unless start_over. predictions.jsonl without manifest.json is refused likewise. On
  /// resume every record must carry the manifest's config_hash (or none): a record of another
  /// configuration throws error_kind::config naming its line.
  static run_directory open(const std::filesystem::path& dir, const run_manifest& manifest,
                            run_open_options opt = {});

  run_directory(run_directory&&) noexcept = default;
  run_directory& operator=(run_directory&&) noexcept = default;
  run_directory(const run_directory&) = delete;
  run_directory& operator=(const run_directory&) = delete;

  const std::filesystem::path& path() const noexcept { return m_dir; }
  std::filesystem::path predictions_path() const { return m_dir / "predictions.jsonl"; }
  std::filesystem::path manifest_path() const { return m_dir / "manifest.json"; }
  /// The manifest on disk (on resume, the stored one: its volatile keys keep their old values).
  const run_manifest& manifest() const noexcept { return m_manifest; }
  /// Keys already recorded (loaded on open, plus everything appended since).
  const std::set<run_key>& finished() const noexcept { return m_finished; }
  bool is_finished(const run_key& k) const { return m_finished.contains(k); }
  /// Records found when the directory was opened (after retry_errors took its records out).
  std::size_t resumed_records() const noexcept { return m_resumed; }
  /// Records of status "error" that retry_errors took out.
  std::size_t retried_errors() const noexcept { return m_retried; }
  /// Bytes of a torn last line dropped on open (0 when the file ended cleanly).
  std::size_t dropped_bytes() const noexcept { return m_dropped; }

  /// Appends whole records durably (write + fsync). Throws error_kind::invalid for a key already
  /// recorded (in the file or twice in the batch) or a line containing a newline; nothing of the
  /// batch is written then.
  void append(std::span<const run_record> batch);
  void append(const run_record& r) { append(std::span<const run_record>(&r, 1)); }
  /// Rewrites manifest.json atomically (e.g. to add an end time). Keys outside volatile_keys must
  /// keep their values.
  void update_manifest(const run_manifest& m);

 private:
  run_directory() = default;
  std::filesystem::path m_dir;
  run_manifest m_manifest;
  std::vector<std::string> m_volatile;
  std::set<run_key> m_finished;
  std::size_t m_resumed = 0;
  std::size_t m_dropped = 0;
  std::size_t m_retried = 0;
  dir_lock m_lock;  // declared before m_out: released after the file is closed
  detail::append_only_file m_out;
};

// ---- implementation -------------------------------------------------------------------------

namespace detail {

/// Moves the records of status "error" of `file` to the end of `side` (appended and fsync'ed
/// first), then replaces `file` atomically by the other records and its torn tail, if any (left
/// for open() to report and truncate). A crash in between leaves the errors in both files: the
/// next retry moves them again. Returns the records moved.
inline std::size_t take_out_errors(const std::filesystem::path& file,
                                   const std::filesystem::path& side, const run_key_reader& reader,
                                   std::string_view config_hash) {
  const auto c = read_run_file(file, reader, true, config_hash);
  std::string keep, moved;
  std::size_t n = 0;
  for (const auto& r : c.records) {
    std::string& to = read_record_string(r.line, "status") == "error" ? moved : keep;
    n += &to == &moved ? 1 : 0;
    to += r.line;
    to += '\n';
  }
  if (n == 0) return 0;
  if (c.torn_bytes > 0) {
    std::ifstream is(file, std::ios::binary);
    is.seekg(static_cast<std::streamoff>(c.complete_bytes));
    std::string tail(static_cast<std::size_t>(c.torn_bytes), '\0');
    is.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    keep += tail.substr(0, static_cast<std::size_t>(is.gcount()));
  }
  append_only_file(side).append(moved);
  write_file_atomically(file, keep);
  return n;
}

}  // namespace detail

inline run_directory run_directory::open(const std::filesystem::path& dir,
                                         const run_manifest& manifest, run_open_options opt) {
  namespace fs = std::filesystem;
  auto warn = opt.warn ? opt.warn : [](const std::string& s) {
    std::fprintf(stderr, "groundeval: warning: %s\n", s.c_str());
  };
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw error(error_kind::io, dir.string(), 0, "exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::io, dir.string(), 0,
                "cannot create the run directory: " + ec.message());

  run_directory r;
  r.m_lock = dir_lock::acquire(dir, opt.lock_command);  // before anything is read or removed
  r.m_dir = dir;
  r.m_volatile = opt.volatile_keys;
  const fs::path mpath = r.manifest_path(), ppath = r.predictions_path();
  const bool have_manifest = fs::exists(mpath), have_predictions = fs::exists(ppath);
  if (opt.start_over) {
    fs::remove(ppath, ec);
    fs::remove(mpath, ec);
  } else if (have_manifest) {
    const run_manifest old = read_manifest(mpath);
    auto diff = manifest_differences(old, manifest, r.m_volatile);
    // The same data in another order (a reordered split list) resumes: records are matched by
    // key, not by position. Both manifests must say so (dataset_set_hash, see runner.hpp).
    if (diff == std::vector<std::string>{"dataset_content_hash"} &&
        !manifest_value(old, "dataset_set_hash").empty() &&
        manifest_value(old, "dataset_set_hash") == manifest_value(manifest, "dataset_set_hash"))
      diff.clear();
    if (!diff.empty()) {
      std::string detail;
      for (const auto& k : diff) {
        auto a = old.find(k);
        auto b = manifest.find(k);
        detail += "\n  " + k + ": stored " + (a == old.end() ? "(absent)" : "'" + a->second + "'") +
                  ", now " + (b == manifest.end() ? "(absent)" : "'" + b->second + "'");
      }
      throw error(error_kind::config, mpath.string(), 0,
                  "this run differs from the stored one in " + detail::join(diff) +
                      "; refusing to mix results (start over to discard them, or use another "
                      "directory):" +
                      detail);
    }
    r.m_manifest = old;
  } else if (have_predictions) {
    throw error(error_kind::config, ppath.string(), 0,
                "predictions.jsonl exists but manifest.json does not; refusing to mix results "
                "(start over to discard them)");
  }
  if (r.m_manifest.empty()) {
    r.m_manifest = manifest;
    write_manifest(mpath, r.m_manifest);
  }

  if (!opt.start_over && have_predictions) {
    const std::string hash = manifest_value(r.m_manifest, "config_hash");
    if (opt.retry_errors)
      r.m_retried =
          detail::take_out_errors(ppath, dir / retried_errors_file_name, opt.key_reader, hash);
    const auto c = read_run_file(ppath, opt.key_reader, false, hash);
    std::map<run_key, std::size_t> seen;
    for (std::size_t i = 0; i < c.records.size(); ++i) {
      auto [it, fresh] = seen.emplace(c.records[i].key, c.lines[i]);
      if (!fresh)
        throw error(error_kind::invalid, ppath.string(), c.lines[i],
                    "query " + to_string(c.records[i].key) + " is already recorded at line " +
                        std::to_string(it->second));
    }
    for (auto& [k, line] : seen) r.m_finished.insert(k);
    r.m_resumed = c.records.size();
    if (c.torn_bytes > 0) {
      if (::truncate(ppath.c_str(), static_cast<off_t>(c.complete_bytes)) != 0)
        throw error(error_kind::io, ppath.string(), c.torn_line,
                    "cannot truncate the torn last line: " + detail::errno_text());
      r.m_dropped = static_cast<std::size_t>(c.torn_bytes);
      warn(ppath.string() + ":" + std::to_string(c.torn_line) + ": incomplete last line (" +
           std::to_string(c.torn_bytes) +
           " bytes, left by an interrupted run) dropped; that query will be run again");
    }
  }
  r.m_out = detail::append_only_file(ppath);
  if (!have_predictions || opt.start_over) detail::fsync_directory(dir);
  return r;
}

inline void run_directory::append(std::span<const run_record> batch) {
  const std::string where = predictions_path().string();
  if (!m_out.is_open()) throw error(error_kind::invalid, where, 0, "the run directory is closed");
  std::set<run_key> in_batch;
  std::size_t bytes = 0;
  for (const auto& r : batch) {
    if (r.line.find('\n') != std::string::npos || r.line.find('\r') != std::string::npos)
      throw error(error_kind::invalid, where, 0,
                  "record " + to_string(r.key) + " contains a line break");
    if (m_finished.contains(r.key) || !in_batch.insert(r.key).second)
      throw error(error_kind::invalid, where, 0,
                  "query " + to_string(r.key) + " is already recorded");
    bytes += r.line.size() + 1;
  }
  std::string buf;
  buf.reserve(bytes);
  for (const auto& r : batch) {
    buf += r.line;
    buf += '\n';
  }
  m_out.append(buf);
  m_finished.merge(in_batch);
}

inline void run_directory::update_manifest(const run_manifest& m) {
  const auto diff = manifest_differences(m_manifest, m, m_volatile);
  if (!diff.empty())
    throw error(error_kind::invalid, manifest_path().string(), 0,
                "update_manifest may change only volatile keys; changed: " + detail::join(diff));
  write_manifest(manifest_path(), m);
  m_manifest = m;
}

}  // namespace groundeval
