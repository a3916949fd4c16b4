// SPDX-License-Identifier: Apache-2.0
// groundeval/run/runner.hpp — the run layer: run_grounder() asks any Grounder every query of any
// Dataset (one request per sentence) and records the answers in a run directory, crash-safely
// and resumably, with sharding, a sentence limit, batching, concurrency for grounders that can
// take it, progress callbacks and cooperative interruption; grounders that can check readiness or
// halt (run/halting.hpp) are checked before the first batch and stopped with the run. `groundeval
// run` is option parsing plus one call of it. Target: groundeval::core (standard library plus
// POSIX).
//
// The result is a run directory: RUN_DIR/predictions.jsonl (the JSON Lines format that
// evaluate_predictions_file() and `groundeval evaluate` / `report` read) and RUN_DIR/manifest.json
// (docs/runner.md lists its keys).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/config.hpp>
#include <groundeval/datasets/content_hash.hpp>
#include <groundeval/detail/hash.hpp>
#include <groundeval/detail/system.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/run/any_grounder.hpp>
#include <groundeval/run/halting.hpp>
#include <groundeval/run/queries.hpp>
#include <groundeval/run/run_dir.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace groundeval {

/// How a call of run_grounder() ended.
enum class run_status : std::uint8_t {
  complete,     ///< every selected query is recorded
  partial,      ///< stopped at the sentence limit
  interrupted,  ///< stop_requested() said so; the batch in flight was recorded first
  failed        ///< the grounder halted (HaltingGrounder: run_result::halt_reason says why)
};

/// The manifest's "status" value: "complete", "partial (--limit)", "interrupted" or "failed" (also
/// written, with the reason in "error", when the run ends with an exception).
constexpr std::string_view to_string(run_status s) noexcept {
  switch (s) {
    case run_status::complete:
      return "complete";
    case run_status::partial:
      return "partial (--limit)";
    case run_status::interrupted:
      return "interrupted";
    case run_status::failed:
      return "failed";
  }
  return "unknown";
}

/// Where a run stands; given to run_options::on_progress before the first batch and after each.
struct run_progress {
  std::uint64_t total = 0;           ///< queries of the selection
  std::uint64_t already = 0;         ///< recorded before this call
  std::uint64_t done = 0;            ///< recorded by this call so far
  std::uint64_t failures = 0;        ///< format failures and errors among `done`
  std::uint64_t batch = 0;           ///< queries of the batch just recorded (0 at the start)
  std::uint64_t batch_failures = 0;  ///< failures among them
  std::size_t resumed_records = 0;   ///< records the run directory held when it was opened
};

/// Options of run_grounder().
struct run_options {
  std::filesystem::path out;  ///< the run directory (created when needed)
  query_selection selection;  ///< shard and sentence limit
  /// Requests (sentences) per batch: 0 takes the grounder's batch_size() (BatchSizeGrounder)
  /// when it gives one, else 64. Each batch is appended and fsync'ed before the next starts.
  std::size_t batch_size = 0;
  /// Threads calling a ConcurrentGrounder's ground() at once (at most its max_concurrency()).
  std::size_t concurrency = 1;
  /// Discard an existing run in `out` instead of refusing a different one.
  bool start_over = false;
  /// Ask again the queries recorded with status "error" (run_open_options::retry_errors).
  bool retry_errors = false;
  /// Keys naming what is run beyond what the runner records itself (e.g. the data set spec, the
  /// split, the selection, the grounder spec): a resume must give the same values.
  run_manifest identity;
  /// Keys describing this start only (e.g. the command line): written on every start, never
  /// compared; an empty value removes the key.
  run_manifest session;
  /// Further manifest keys allowed to differ on resume (besides run_volatile_keys() and the
  /// session keys).
  std::vector<std::string> volatile_keys;
  /// Polled between batches; true stops the run after the batch in flight (status interrupted).
  std::function<bool()> stop_requested;
  /// Progress, before the first batch and after each batch.
  std::function<void(const run_progress&)> on_progress;
  /// Warnings (a torn last line dropped on resume); default: stderr.
  std::function<void(const std::string&)> warn;
};

/// What run_grounder() did.
struct run_result {
  run_status status = run_status::complete;
  std::filesystem::path predictions;  ///< RUN_DIR/predictions.jsonl
  std::filesystem::path manifest;     ///< RUN_DIR/manifest.json
  std::uint64_t total = 0;            ///< queries of the selection
  std::uint64_t already = 0;          ///< recorded before this call
  std::uint64_t recorded = 0;         ///< recorded by this call
  std::uint64_t retried = 0;          ///< error records taken out to be asked again
  std::uint64_t failures = 0;         ///< format failures and errors among `recorded`
  std::string halt_reason;            ///< why the grounder halted (status failed / interrupted)
};

/// Manifest keys run_grounder() writes on every start, allowed to differ on resume.
inline std::vector<std::string> run_volatile_keys() {
  // "latency" follows from the grounder; volatile so that runs made before the key existed
  // resume (and get it).
  // "dataset_set_hash" is compared by run_directory::open: the same data in another order
  // resumes (runs made before the key existed resume too).
  return {"start_time", "end_time",     "last_start_time", "hostname", "status",
          "limit",      "server_model", "latency",         "error",    "dataset_set_hash"};
}

/// The full configuration of a grounder as the manifest records it: describe() when it has one
/// (DescribedGrounder), else its name.
template <Grounder G>
std::string grounder_description(const G& g) {
  if constexpr (DescribedGrounder<G>)
    return std::string(g.describe());
  else
    return std::string(std::string_view(g.name()));
}

namespace detail {

/// What ask_queries() needs besides the grounder and the data set.
struct ask_options {
  query_selection selection;
  std::size_t batch_size = 0;  ///< 0: the grounder's batch_size() when it gives one, else 64
  std::size_t concurrency = 1;
  std::function<bool()> stop_requested;
  std::string config_hash;  ///< copied into every record
};

/// Returns f(); while it runs, a thread polls `stop_requested` (when set) every 20 ms and, once
/// it says so, calls g.request_stop(), so a grounder in the middle of a slow batch stops within
/// its own limits instead of at the end of the batch.
template <HaltingGrounder G, class F>
auto with_stop_forwarded(G& g, const std::function<bool()>& stop_requested, F&& f) {
  if (!stop_requested) return f();
  std::jthread watcher([&](std::stop_token done) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    while (!done.stop_requested()) {
      if (stop_requested()) {
        g.request_stop();
        return;
      }
      cv.wait_for(lock, done, std::chrono::milliseconds(20), [] { return false; });
    }
  });
  return f();  // the watcher is stopped and joined on the way out
}

/// The one loop that asks a grounder: builds one request per selected sentence with the queries
/// `done(key)` rejects, asks them batch by batch with ground_batch(), checks the answers' counts,
/// fills the records (a query without a measured latency gets the batch's wall time divided by
/// its queries) and hands each batch to emit(records, failures). start(total, already) is called
/// once before the first batch, then the grounder's check_ready() when there is something to ask
/// (ReadyGrounder; its error propagates). Stops early when opt.stop_requested() says so — a
/// HaltingGrounder is told at once (request_stop) — or when a HaltingGrounder halts: the batch's
/// queries it did not ask are not emitted, and its halt_reason() is returned ("" otherwise).
template <Grounder G, Dataset D, class Done, class Start, class Emit>
std::string ask_queries(G& grounder, const D& data, const ask_options& opt, Done done, Start start,
                        Emit emit) {
  using sample_type = std::ranges::range_value_t<const D>;
  using phrase_type = std::ranges::range_value_t<
      const std::remove_cvref_t<decltype(std::declval<const sample_type&>().phrases)>>;
  struct pending {
    const sample_type* s;
    std::vector<std::pair<std::size_t, const phrase_type*>> phrases;
  };
  const std::string name(std::string_view(std::as_const(grounder).name()));
  std::vector<pending> todo;
  std::uint64_t total = 0, already = 0;
  for_each_query_sentence(data, opt.selection,
                          [&](const sample_type& s, const std::vector<std::size_t>& idx) {
                            pending pd{&s, {}};
                            run_key key{std::string(std::string_view(s.image_id)),
                                        static_cast<long long>(s.sentence_index), 0};
                            std::size_t k = 0, j = 0;
                            for (const auto& p : s.phrases) {
                              if (j < idx.size() && idx[j] == k) {
                                ++j;
                                ++total;
                                key.phrase_index = k;
                                if (done(std::as_const(key)))
                                  ++already;
                                else
                                  pd.phrases.emplace_back(k, &p);
                              }
                              ++k;
                            }
                            if (!pd.phrases.empty()) todo.push_back(std::move(pd));
                          });
  start(total, already);
  if constexpr (ReadyGrounder<G>)
    if (!todo.empty()) (void)grounder.check_ready();  // e.g. the server is up and has the model

  std::size_t batch = opt.batch_size;
  if constexpr (BatchSizeGrounder<G>)
    if (batch == 0) batch = std::as_const(grounder).batch_size();
  if (batch == 0) batch = 64;
  for (std::size_t b = 0; b < todo.size() && !(opt.stop_requested && opt.stop_requested());
       b += batch) {
    const std::size_t e = std::min(todo.size(), b + batch);
    std::vector<std::vector<phrase_query>> queries(e - b);
    std::vector<std::string> paths(e - b);
    std::vector<grounding_request> reqs(e - b);
    std::size_t nq = 0;
    for (std::size_t j = b; j < e; ++j) {
      const sample_type& s = *todo[j].s;
      auto& qs = queries[j - b];
      for (const auto& [k, p] : todo[j].phrases)
        qs.push_back(phrase_query{std::string_view(p->text), std::string_view(s.sentence),
                                  static_cast<std::size_t>(p->char_begin),
                                  static_cast<std::size_t>(p->char_end), k,
                                  static_cast<long long>(s.sentence_index)});
      nq += qs.size();
      if constexpr (ImageDataset<D>)
        paths[j - b] = std::string(std::string_view(data.image_path(s)));
      reqs[j - b] = grounding_request{image_ref{std::string_view(s.image_id), paths[j - b], s.size},
                                      std::span<const phrase_query>(qs),
                                      static_cast<long long>(s.sentence_index)};
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<query_result>> res;
    std::string halted;
    if constexpr (HaltingGrounder<G>) {
      res = with_stop_forwarded(grounder, opt.stop_requested, [&] {
        return ground_batch(grounder, std::span<const grounding_request>(reqs), opt.concurrency);
      });
      halted = std::string(std::as_const(grounder).halt_reason());
    } else {
      res = ground_batch(grounder, std::span<const grounding_request>(reqs), opt.concurrency);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // A grounder interrupted mid-batch (stop_requested() already true) may answer a prefix of
    // it: the prefix is recorded, the rest is asked again on resume.
    if (res.size() != reqs.size() &&
        !(res.size() < reqs.size() && opt.stop_requested && opt.stop_requested()))
      throw error(error_kind::invalid, "grounder " + name + " answered " +
                                           std::to_string(res.size()) + " requests of " +
                                           std::to_string(reqs.size()));
    if (res.size() < reqs.size()) {
      nq = 0;  // the batch's time went to the answered queries
      for (std::size_t j = 0; j < res.size(); ++j) nq += queries[j].size();
    }
    std::vector<phrase_prediction_record> records;
    records.reserve(nq);
    std::uint64_t failures = 0;
    for (std::size_t j = 0; j < res.size(); ++j) {
      const sample_type& s = *todo[b + j].s;
      if (res[j].size() != queries[j].size())
        throw error(error_kind::invalid, "grounder " + name + " answered " +
                                             std::to_string(res[j].size()) + " queries of " +
                                             std::to_string(queries[j].size()) + " for image " +
                                             std::string(std::string_view(s.image_id)));
      for (std::size_t i = 0; i < queries[j].size(); ++i) {
        if (!halted.empty() && is_not_asked(res[j][i])) continue;  // asked by a later run
        const auto& [k, p] = todo[b + j].phrases[i];
        phrase_prediction_record r;
        r.image_id = std::string(std::string_view(s.image_id));
        r.sentence_id = static_cast<long long>(s.sentence_index);
        r.phrase_index = k;
        r.chain_id = std::string(std::string_view(p->chain_id));
        r.phrase = std::string(std::string_view(p->text));
        r.result = std::move(res[j][i]);
        if (r.result.latency_s < 0 && nq > 0) r.result.latency_s = secs / static_cast<double>(nq);
        r.config_hash = opt.config_hash;
        if (r.result.status == query_status::format_failure ||
            r.result.status == query_status::error)
          ++failures;
        records.push_back(std::move(r));
      }
    }
    if (!records.empty()) emit(records, failures);
    if (!halted.empty()) return halted;
  }
  return {};
}

}  // namespace detail

/// Options of predict().
struct predict_options {
  query_selection selection;    ///< shard and sentence limit
  std::size_t batch_size = 0;   ///< as run_options::batch_size
  std::size_t concurrency = 1;  ///< as run_options::concurrency
};

/// Asks `grounder` every selected query of `data` (as run_grounder() does, without a run
/// directory) and returns the answers in memory, ready for evaluate(data, predictions). Records
/// carry the grounder's config hash; `source` of the result is the grounder's name.
template <Grounder G, Dataset D>
prediction_set predict(G& grounder, const D& data, const predict_options& opt = {}) {
  prediction_set out;
  out.source = std::string(std::string_view(std::as_const(grounder).name()));
  detail::ask_options ask;
  ask.selection = opt.selection;
  ask.batch_size = opt.batch_size;
  ask.concurrency = opt.concurrency;
  ask.config_hash = hex64(detail::fnv1a64(grounder_description(std::as_const(grounder))));
  detail::ask_queries(
      grounder, data, ask, [](const run_key&) { return false; },
      [](std::uint64_t, std::uint64_t) {},
      [&](std::vector<phrase_prediction_record>& batch, std::uint64_t) {
        for (auto& r : batch) out.phrases.push_back(std::move(r));
      });
  return out;
}

namespace detail {
template <Grounder G, Dataset D>
run_result run_in_directory(G& grounder, const D& data, const run_options& opt, run_directory& rd,
                            const std::string& start, const std::string& host,
                            const std::string& limit, const std::string& latency,
                            const std::string& config_hash);
}  // namespace detail

/// Runs `grounder` over the queries of `data` (run/queries.hpp: every evaluable phrase, one
/// request per sentence, restricted by opt.selection) and appends the answers to
/// opt.out/predictions.jsonl, one batch at a time, each batch written with one write and fsync.
/// Queries already recorded there are skipped (resume); a directory holding another run (its
/// manifest differs outside the volatile keys) is refused with error_kind::config unless
/// opt.start_over. Per-query failures are recorded in each result's status; an exception from
/// the grounder (its check_ready() included: ReadyGrounder, before the first batch), or a
/// grounder answering the wrong number of requests or queries, stops the run (what was recorded
/// stays); a grounder that answers only the first requests of a batch once opt.stop_requested()
/// is true gets those recorded and the run stops as interrupted. A HaltingGrounder that halts
/// ends the run with status failed and its halt_reason(); the queries it did not ask are not
/// recorded (a later run asks them); opt.stop_requested is forwarded to its request_stop()
/// during a batch. The grounder is asked with ground_batch(): its ground_many, ground_async or
/// concurrent ground() when it has them. Queries without a measured latency get the batch's wall
/// time divided by its queries.
///
/// Manifest keys written by the runner (besides opt.identity and opt.session): dataset_name
/// (NamedDataset), dataset_content_hash, grounder (grounder_description), grounder_name,
/// config_hash (FNV-1a of the description; also in every record), groundeval_version, shard,
/// latency ("measured", or "in-process" for a LatencyGrounder saying false), start_time,
/// last_start_time, end_time, hostname, limit, server_model (ServerGrounder), status ("running"
/// while it runs, then run_status's string, or "failed" with the exception's text in "error"
/// when an exception ends the run after the directory was opened).
///
/// The directory is locked for the call (run_directory::open; the lock records opt.session's
/// "command"). A data set without any evaluable phrase (before shard and limit) throws
/// error_kind::invalid (require_evaluable_phrases) before the directory is touched.
template <Grounder G, Dataset D>
run_result run_grounder(G& grounder, const D& data, const run_options& opt) {
  {
    const std::string ds = manifest_value(opt.identity, "dataset");
    require_evaluable_phrases(data, ds.empty() ? std::string("run_grounder") : ds);
  }
  const std::string description = grounder_description(std::as_const(grounder));
  const std::string name(std::string_view(std::as_const(grounder).name()));
  const std::string config_hash = hex64(detail::fnv1a64(description));
  bool measured = true;
  if constexpr (LatencyGrounder<G>) measured = std::as_const(grounder).measures_latency();
  const std::string latency = measured ? "measured" : "in-process";
  const std::string start = detail::utc_time("%Y-%m-%dT%H:%M:%SZ");
  const std::string host = detail::host_name();
  const std::string limit =
      opt.selection.limit ? std::to_string(*opt.selection.limit) : std::string("none");

  run_manifest m = opt.identity;
  if constexpr (NamedDataset<D>) m["dataset_name"] = std::string(std::string_view(data.name()));
  m["dataset_content_hash"] = dataset_content_hash(data);
  m["dataset_set_hash"] = dataset_set_hash(data);
  m["grounder"] = description;
  m["grounder_name"] = name;
  m["config_hash"] = config_hash;
  m["groundeval_version"] = version_string;
  if (opt.selection.shard) m["shard"] = opt.selection.shard->to_string();
  m["latency"] = latency;
  m["start_time"] = start;
  m["hostname"] = host;
  m["status"] = "running";
  m["limit"] = limit;
  for (const auto& [k, v] : opt.session)
    if (!v.empty()) m[k] = v;

  run_open_options ropt;
  ropt.start_over = opt.start_over;
  ropt.volatile_keys = run_volatile_keys();
  for (const auto& [k, v] : opt.session) ropt.volatile_keys.push_back(k);
  ropt.volatile_keys.insert(ropt.volatile_keys.end(), opt.volatile_keys.begin(),
                            opt.volatile_keys.end());
  ropt.warn = opt.warn;
  ropt.retry_errors = opt.retry_errors;
  if (auto c = opt.session.find("command"); c != opt.session.end() && !c->second.empty())
    ropt.lock_command = c->second;
  run_directory rd = run_directory::open(opt.out, m, ropt);
  try {
    return detail::run_in_directory(grounder, data, opt, rd, start, host, limit, latency,
                                    config_hash);
  } catch (const std::exception& e) {
    try {  // the manifest says how the run ended; the first error is the one reported
      run_manifest cur = rd.manifest();
      cur["status"] = "failed";
      cur["error"] = e.what();
      cur["end_time"] = detail::utc_time("%Y-%m-%dT%H:%M:%SZ");
      rd.update_manifest(cur);
    } catch (...) {
    }
    throw;
  }
}

namespace detail {

/// The part of run_grounder() after the directory is open.
template <Grounder G, Dataset D>
run_result run_in_directory(G& grounder, const D& data, const run_options& opt, run_directory& rd,
                            const std::string& start, const std::string& host,
                            const std::string& limit, const std::string& latency,
                            const std::string& config_hash) {
  {
    run_manifest cur = rd.manifest();
    cur["last_start_time"] = start;
    cur["hostname"] = host;
    cur["limit"] = limit;
    cur["latency"] = latency;
    for (const auto& [k, v] : opt.session) {
      if (v.empty())
        cur.erase(k);
      else
        cur[k] = v;
    }
    cur["status"] = "running";
    cur.erase("error");
    rd.update_manifest(cur);
  }

  run_result out;
  out.retried = rd.retried_errors();
  out.predictions = rd.predictions_path();
  out.manifest = rd.manifest_path();
  run_progress progress;
  progress.resumed_records = rd.resumed_records();
  detail::ask_options ask;
  ask.selection = opt.selection;
  ask.batch_size = opt.batch_size;
  ask.concurrency = opt.concurrency;
  ask.stop_requested = opt.stop_requested;
  ask.config_hash = config_hash;
  auto stop = [&] { return opt.stop_requested && opt.stop_requested(); };
  const std::string halted = detail::ask_queries(
      grounder, data, ask, [&](const run_key& k) { return rd.is_finished(k); },
      [&](std::uint64_t total, std::uint64_t already) {
        out.total = progress.total = total;
        out.already = progress.already = already;
        if (opt.on_progress) opt.on_progress(progress);
      },
      [&](std::vector<phrase_prediction_record>& batch, std::uint64_t failures) {
        std::vector<run_record> records;
        records.reserve(batch.size());
        for (const auto& r : batch)
          records.push_back(run_record{run_key{r.image_id, r.sentence_id, r.phrase_index},
                                       format_jsonl_record(r)});
        rd.append(records);
        out.recorded += records.size();
        out.failures += failures;
        if (opt.on_progress) {
          progress.done = out.recorded;
          progress.failures = out.failures;
          progress.batch = records.size();
          progress.batch_failures = failures;
          opt.on_progress(progress);
        }
      });

  out.halt_reason = halted;
  out.status = stop()                ? run_status::interrupted
               : !halted.empty()     ? run_status::failed
               : opt.selection.limit ? run_status::partial
                                     : run_status::complete;
  run_manifest cur = rd.manifest();
  cur["end_time"] = detail::utc_time("%Y-%m-%dT%H:%M:%SZ");
  if constexpr (ServerGrounder<G>)
    if (std::string sm(std::as_const(grounder).server_model()); !sm.empty())
      cur["server_model"] = sm;
  cur["status"] = std::string(to_string(out.status));
  if (out.status == run_status::failed) cur["error"] = halted;  // as for an exception
  rd.update_manifest(cur);
  return out;
}

}  // namespace detail

}  // namespace groundeval
