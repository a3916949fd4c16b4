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
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

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

  std::vector<run_record> all;
  std::map<run_key, std::pair<std::size_t, std::size_t>> where;  // key -> (shard, line)
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const fs::path pp = shards[i] / "predictions.jsonl";
    if (!fs::exists(pp)) throw error(error_kind::io, pp.string(), 0, "missing");
    auto c = read_run_file(pp, opt.key_reader, true, manifest_value(ms[i], "config_hash"));
    if (c.torn_bytes > 0)
      throw error(error_kind::invalid, pp.string(), c.torn_line,
                  "incomplete last line (an interrupted run); resume this shard before merging");
    for (std::size_t j = 0; j < c.records.size(); ++j) {
      auto& r = c.records[j];
      if (!specs[i].contains(r.key.image_id))
        throw error(error_kind::invalid, pp.string(), c.lines[j],
                    "image '" + r.key.image_id + "' belongs to shard " +
                        std::to_string(shard_hash(r.key.image_id) % n) + "/" + std::to_string(n) +
                        ", not " + specs[i].to_string());
      auto [it, fresh] = where.emplace(r.key, std::pair{i, c.lines[j]});
      if (!fresh)
        throw error(error_kind::invalid, pp.string(), c.lines[j],
                    "query " + to_string(r.key) + " is also recorded in " +
                        (shards[it->second.first] / "predictions.jsonl").string() + ":" +
                        std::to_string(it->second.second));
      all.push_back(std::move(r));
    }
  }
  if (opt.expected) {
    std::set<run_key> exp;
    for (const auto& k : *opt.expected) exp.insert(k);
    std::vector<std::string> lost, extra;
    std::size_t n_lost = 0, n_extra = 0;
    for (const auto& k : exp)
      if (!where.contains(k) && n_lost++ < 5) lost.push_back(to_string(k));
    for (const auto& [k, w] : where)
      if (!exp.contains(k) && n_extra++ < 5) extra.push_back(to_string(k));
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
  std::sort(all.begin(), all.end(),
            [](const run_record& a, const run_record& b) { return a.key < b.key; });
  std::string buf;
  for (const auto& r : all) buf += r.line + '\n';
  detail::write_file_atomically(op, buf);
  run_manifest merged = ms[static_cast<std::size_t>(owner[0])];
  merged.erase(opt.shard_key);
  merged["merged_shards"] = std::to_string(n);
  write_manifest(om, merged);
  return merge_summary{shards.size(), all.size()};
}

}  // namespace groundeval
