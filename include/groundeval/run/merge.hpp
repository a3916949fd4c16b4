// SPDX-License-Identifier: Apache-2.0
// groundeval/run/merge.hpp — joining the shard run directories of one run (`groundeval merge`).
// Target: groundeval::core (standard library plus POSIX for the durable writes).
#pragma once

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/detail/strings.hpp>
#include <groundeval/error.hpp>
#include <groundeval/run/lock.hpp>
#include <groundeval/run/manifest.hpp>
#include <groundeval/run/records.hpp>
#include <groundeval/run/shard.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace groundeval {

struct merge_options {
  /// The manifest key holding "i/n".
  std::string shard_key = "shard";
  /// Keys allowed to differ between shards (the merged manifest takes shard 0's value).
  std::vector<std::string> volatile_keys;
  run_key_reader key_reader;
  /// When given, every expected query must be present exactly once and nothing else.
  std::optional<std::vector<run_key>> expected;
  /// What the lock of `out` records about this writer (the command line).
  std::string lock_command = "groundeval merge";
};

struct merge_summary {
  std::size_t shards = 0;
  std::size_t records = 0;
};

namespace detail {

/// Writes `count` record lines to `file` atomically and durably (FILE.tmp, fsync, rename, as
/// write_file_atomically), the k-th being bytes [offset, offset + size) of
/// SHARD/predictions.jsonl, where (shard, offset, size) = where(k), followed by '\n'. Memory: a
/// buffer of a few MiB whatever the size of the files.
template <class Where>
void merge_copy_records(std::span<const std::filesystem::path> shards,
                        const std::filesystem::path& file, std::size_t count, Where where) {
  struct fds {
    std::vector<int> v;
    ~fds() {
      for (int fd : v)
        if (fd >= 0) ::close(fd);
    }
  } in;
  for (const auto& d : shards) {
    const std::string p = (d / "predictions.jsonl").string();
    in.v.push_back(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.v.back() < 0) throw error(error_kind::io, p, 0, "cannot open: " + errno_text());
  }
  write_file_atomically_by(file, [&](int out, const std::string& tmp) {
    constexpr std::size_t flush_at = std::size_t{4} << 20;
    std::string buf;
    buf.reserve(flush_at + 1024);
    for (std::size_t k = 0; k < count; ++k) {
      const auto [shard, offset, size] = where(k);
      const std::size_t at = buf.size();
      buf.resize(at + size + 1);
      for (std::size_t got = 0; got < size;) {
        const auto r = ::pread(in.v[shard], buf.data() + at + got, size - got,
                               static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
          throw error(error_kind::io, (shards[shard] / "predictions.jsonl").string(), 0,
                      r < 0 ? "read error: " + errno_text() : "changed while being merged");
        got += static_cast<std::size_t>(r);
      }
      buf[at + size] = '\n';
      if (buf.size() >= flush_at) {
        write_all(out, buf, tmp);
        buf.clear();
      }
    }
    write_all(out, buf, tmp);
  });
}

}  // namespace detail

/// Merges shard run directories into `out` (which must not hold a manifest or predictions yet).
/// Checks: every shard has the shard key, all have the same n and together cover 0..n-1 once;
/// manifests equal apart from the shard key and volatile keys; no torn or foreign record (an image
/// outside its shard); no query in two shards; every record carries its manifest's config_hash
/// (or none); no shard is locked by a run still writing it; with `expected`, nothing missing or
/// extra. `out` is locked (dir_lock) while it is written.
/// Output: predictions.jsonl sorted by key; manifest without the shard key plus
/// "merged_shards" = n.
inline merge_summary merge_runs(std::span<const std::filesystem::path> shards,
                                const std::filesystem::path& out, const merge_options& opt = {}) {
  namespace fs = std::filesystem;
  if (shards.empty()) throw error(error_kind::config, "merge: no shard directories given");
  std::vector<run_manifest> ms;
  std::vector<shard_spec> specs;
  for (const auto& d : shards) {
    check_dir_not_locked(d);
    const fs::path mp = d / "manifest.json";
    if (!fs::exists(mp))
      throw error(error_kind::io, mp.string(), 0, "missing (not a run directory?)");
    ms.push_back(read_manifest(mp));
    auto it = ms.back().find(opt.shard_key);
    if (it == ms.back().end())
      throw error(error_kind::invalid, mp.string(), 0,
                  "no \"" + opt.shard_key + "\" key: this run is not a shard");
    try {
      specs.push_back(parse_shard(it->second));
    } catch (const error& e) {
      throw error(error_kind::invalid, mp.string(), 0,
                  "bad \"" + opt.shard_key + "\" value: " + e.what());
    }
  }
  const std::uint32_t n = specs[0].count;
  std::vector<int> owner(n, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string mp = (shards[i] / "manifest.json").string();
    if (specs[i].count != n)
      throw error(error_kind::invalid, mp, 0,
                  "shard " + specs[i].to_string() + " does not match " + specs[0].to_string() +
                      " of " + (shards[0] / "manifest.json").string() + " (different n)");
    int& o = owner[specs[i].index];
    if (o >= 0)
      throw error(error_kind::invalid, mp, 0,
                  "shard " + specs[i].to_string() + " is also given as " +
                      shards[static_cast<std::size_t>(o)].string());
    o = static_cast<int>(i);
  }
  std::vector<std::string> missing;
  for (std::uint32_t i = 0; i < n; ++i)
    if (owner[i] < 0) missing.push_back(std::to_string(i) + "/" + std::to_string(n));
  if (!missing.empty())
    throw error(error_kind::invalid, "merge", 0, "missing shard(s): " + detail::join(missing));
  std::vector<std::string> ignore = opt.volatile_keys;
  ignore.push_back(opt.shard_key);
  for (std::size_t i = 1; i < shards.size(); ++i) {
    const auto diff = manifest_differences(ms[0], ms[i], ignore);
    if (!diff.empty())
      throw error(error_kind::invalid, (shards[i] / "manifest.json").string(), 0,
                  "differs from " + (shards[0] / "manifest.json").string() + " in " +
                      detail::join(diff) + "; these shards are not parts of one run");
  }

  // Streamed: only the keys and where each record lies are held (about 80 bytes a record); the
  // records are copied from the shard files to the output at the end, in key order.
  struct entry {
    run_key key;
    std::uint64_t offset = 0;  // of the record's line in its shard's predictions.jsonl
    std::size_t line = 0;
    std::uint32_t shard = 0;
    std::uint32_t size = 0;  // bytes of the line, without '\n' (at most max_jsonl_line_bytes)
  };
  auto by_key = [](const entry& a, const entry& b) { return a.key < b.key; };
  std::vector<entry> all;  // sorted by key over the shards read so far
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const fs::path pp = shards[i] / "predictions.jsonl";
    if (!fs::exists(pp)) throw error(error_kind::io, pp.string(), 0, "missing");
    const std::string hash = manifest_value(ms[i], "config_hash");
    const run_key_reader& rd = opt.key_reader ? opt.key_reader : run_key_reader(read_run_key_json);
    const std::size_t b = all.size();
    std::size_t foreign = 0;  // the first line with an image of another shard
    const run_file_scan scan =
        scan_run_file(pp, [&](std::string_view line, std::size_t ln, std::uint64_t offset) {
          if (is_blank_run_line(line)) return;
          entry e;
          e.key = read_checked_run_key(line, rd, pp, ln, hash);
          if (!foreign && !specs[i].contains(e.key.image_id)) foreign = ln;
          e.offset = offset;
          e.line = ln;
          e.shard = static_cast<std::uint32_t>(i);
          e.size = static_cast<std::uint32_t>(line.size());
          all.push_back(std::move(e));
        });
    if (scan.torn_bytes > 0)
      throw error(error_kind::invalid, pp.string(), scan.torn_line,
                  "incomplete last line (an interrupted run); resume this shard before merging");
    // The first problem in line order: an image of another shard, or a query already recorded
    // (in an earlier shard, or earlier in this one).
    std::sort(all.begin() + static_cast<std::ptrdiff_t>(b), all.end(),
              [](const entry& x, const entry& y) {
                return x.key < y.key || (x.key == y.key && x.line < y.line);
              });
    const entry* dup = nullptr;  // the later record of the first duplicate
    const entry* first = nullptr;
    for (std::size_t j = b; j < all.size(); ++j) {
      const entry* before = nullptr;
      if (j > b && all[j - 1].key == all[j].key) {
        before = &all[j - 1];
        while (before > &all[b] && (before - 1)->key == all[j].key) --before;
      }
      auto it = std::lower_bound(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(b), all[j],
                                 by_key);
      if (it != all.begin() + static_cast<std::ptrdiff_t>(b) && it->key == all[j].key)
        before = &*it;
      if (before && (!dup || all[j].line < dup->line)) {
        dup = &all[j];
        first = before;
      }
    }
    if (foreign && (!dup || foreign <= dup->line)) {  // the same line: foreign first
      const auto it = std::find_if(all.begin() + static_cast<std::ptrdiff_t>(b), all.end(),
                                   [&](const entry& e) { return e.line == foreign; });
      const std::string& image = it->key.image_id;
      throw error(error_kind::invalid, pp.string(), foreign,
                  "image '" + image + "' belongs to shard " +
                      std::to_string(shard_hash(image) % n) + "/" + std::to_string(n) + ", not " +
                      specs[i].to_string());
    }
    if (dup)
      throw error(error_kind::invalid, pp.string(), dup->line,
                  "query " + to_string(dup->key) + " is also recorded in " +
                      (shards[first->shard] / "predictions.jsonl").string() + ":" +
                      std::to_string(first->line));
    std::inplace_merge(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(b), all.end(),
                       by_key);
  }
  if (opt.expected) {
    std::vector<run_key> exp = *opt.expected;
    std::sort(exp.begin(), exp.end());
    exp.erase(std::unique(exp.begin(), exp.end()), exp.end());
    auto has = [&](const run_key& k) {
      auto it = std::lower_bound(all.begin(), all.end(), k,
                                 [](const entry& e, const run_key& key) { return e.key < key; });
      return it != all.end() && it->key == k;
    };
    std::vector<std::string> lost, extra;
    std::size_t n_lost = 0, n_extra = 0;
    for (const auto& k : exp)
      if (!has(k) && n_lost++ < 5) lost.push_back(to_string(k));
    for (const auto& e : all)
      if (!std::binary_search(exp.begin(), exp.end(), e.key) && n_extra++ < 5)
        extra.push_back(to_string(e.key));
    if (n_lost > 0)
      throw error(error_kind::invalid, "merge", 0,
                  std::to_string(n_lost) + " expected quer" + (n_lost == 1 ? "y is" : "ies are") +
                      " missing from every shard, e.g. " + detail::join(lost));
    if (n_extra > 0)
      throw error(error_kind::invalid, "merge", 0,
                  std::to_string(n_extra) + " recorded quer" + (n_extra == 1 ? "y is" : "ies are") +
                      " not expected, e.g. " + detail::join(extra));
  }

  const dir_lock lock = dir_lock::acquire(out, opt.lock_command);  // creates `out`
  const fs::path op = out / "predictions.jsonl", om = out / "manifest.json";
  if (fs::exists(op) || fs::exists(om))
    throw error(
        error_kind::io, out.string(), 0,
        "already holds a run (manifest.json or predictions.jsonl); choose an empty directory");
  detail::merge_copy_records(shards, op, all.size(), [&](std::size_t k) {
    return std::tuple{all[k].shard, all[k].offset, all[k].size};
  });
  run_manifest merged = ms[static_cast<std::size_t>(owner[0])];
  merged.erase(opt.shard_key);
  merged["merged_shards"] = std::to_string(n);
  write_manifest(om, merged);
  return merge_summary{shards.size(), all.size()};
}

}  // namespace groundeval
