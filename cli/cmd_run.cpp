// SPDX-License-Identifier: Apache-2.0
// groundeval run — runs a grounder over a data set into a run directory (predictions.jsonl +
// manifest.json), incrementally and crash-safely, with resume, sharding, progress and a clean
// stop on SIGINT. Part of the groundeval_cli target.
#include "command.hpp"

#include "dataset_spec.hpp"
#include "grounder_spec.hpp"

#include <groundeval/config.hpp>
#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/progress.hpp>
#include <groundeval/eval/run_dir.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace groundeval::cli {

namespace detail_run {

inline constexpr const char* usage =
    "usage: groundeval run --dataset SPEC --grounder SPEC --out RUN_DIR [--split S]\n"
    "                      [--limit N | --sample N [--sample-by image|phrase] [--seed S]]\n"
    "                      [--shard i/n] [--start-over] [--concurrency C] [--quiet]\n"
    "\n"
    "Runs a grounder over every evaluable phrase of a data set (one request per sentence, all\n"
    "its evaluable phrases as queries) and appends the answers to RUN_DIR/predictions.jsonl as\n"
    "they arrive (fsync after each batch). RUN_DIR/manifest.json records what was run. Running\n"
    "the same command again resumes: finished queries are skipped. Ctrl-C finishes the batch in\n"
    "flight, records it and stops. Options:\n"
    "  --dataset SPEC   flickr30k:DIR or mdetr:FILE.json\n"
    "  --split NAME     train, val or test (default test; flickr30k only)\n"
    "  --grounder SPEC  see below; @FILE reads the spec from a config file\n"
    "  --out RUN_DIR    the run directory (created if needed)\n"
    "  --limit N        only the first N sentences (of this shard), in data set order; running\n"
    "                   again with a larger or no limit continues the same run\n"
    "  --sample N       only the sentences of N images chosen by --seed (default seed 0); part\n"
    "                   of the run's identity (evaluate then needs --missing-as-miss)\n"
    "  --sample-by K    image (default) or phrase: N evaluable phrases instead of N images\n"
    "                   (only they are queried; the other phrases of their sentences are not)\n"
    "  --seed S         the sampling seed (a non-negative integer; needs --sample)\n"
    "  --shard i/n      only the images of shard i of n (by FNV-1a of the image id); join the\n"
    "                   shards with `groundeval merge`\n"
    "  --concurrency C  requests in flight for the openai grounder (overrides its spec key;\n"
    "                   not part of the run's identity)\n"
    "  --start-over     discard an existing run in RUN_DIR instead of refusing a different one\n"
    "  --quiet          no progress output\n"
    "\n";

inline std::atomic<bool> interrupted{false};

extern "C" inline void on_sigint(int) { interrupted.store(true); }

inline std::string utc_now() { return utc_time("%Y-%m-%dT%H:%M:%SZ"); }

inline std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

inline std::size_t parse_count(const std::string& option, const std::string& text) {
  const auto v = parse_non_negative(text);
  if (!v)
    throw error(error_kind::config,
                "run: " + option + " '" + text + "' is not a non-negative integer");
  return static_cast<std::size_t>(*v);
}

/// The manifest keys that may differ when a run is resumed.
inline std::vector<std::string> volatile_keys() {
  // "latency" follows from the grounder kind (part of grounder_spec); volatile so that runs made
  // before the key existed resume (and get it).
  return {"start_time", "end_time",    "last_start_time", "hostname",        "status", "limit",
          "command",    "concurrency", "server_model",    "grounder_config", "latency"};
}

inline int run(const std::vector<std::string>& args) {
  std::string dataset, split = "test", grounder, out;
  std::optional<std::size_t> limit;
  sample_option sampling;
  std::optional<shard_spec> shard;
  std::optional<std::size_t> concurrency;
  bool start_over = false, quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (sampling.parse("run", args, i)) continue;
    const std::string& a = args[i];
    auto value = [&] { return option_value("run", args, i); };
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      std::fputs(grounder_spec_help(), stdout);
      return 0;
    } else if (a == "--dataset") {
      dataset = value();
    } else if (a == "--split") {
      split = value();
    } else if (a == "--grounder") {
      grounder = value();
    } else if (a == "--out") {
      out = value();
    } else if (a == "--limit") {
      limit = parse_count(a, value());
    } else if (a == "--shard") {
      shard = parse_shard(value());
    } else if (a == "--start-over") {
      start_over = true;
    } else if (a == "--concurrency") {
      concurrency = parse_count(a, value());
      if (*concurrency < 1 || *concurrency > 4096)
        throw error(error_kind::config, "run: --concurrency must be in 1..4096");
    } else if (a == "--quiet") {
      quiet = true;
    } else {
      throw error(error_kind::config, "run: unknown option '" + a + "'\n" + usage);
    }
  }
  if (dataset.empty() || grounder.empty() || out.empty())
    throw error(error_kind::config,
                std::string("run: --dataset, --grounder and --out are required\n") + usage);
  if (limit && sampling)
    throw error(error_kind::config, "run: --limit and --sample cannot be combined");
  sampling.validate("run");

  grounder_spec gspec = parse_grounder_spec(grounder);  // spec errors before loading data
  // Concurrency changes how fast answers come, not which: it is kept out of the run's identity.
  // A config file (--grounder @FILE) is recorded as the spec it resolves to, so the same run can
  // be resumed from either form.
  const std::string identity_spec = spec_string(gspec, "concurrency");
  if (concurrency) {
    if (gspec.kind != "openai")
      throw error(error_kind::config, "run: --concurrency applies to the openai grounder only (" +
                                          gspec.kind + " answers in-process)");
    std::erase_if(gspec.params, [](const auto& kv) { return kv.first == "concurrency"; });
    gspec.params.emplace_back("concurrency", std::to_string(*concurrency));
  }
  loaded_dataset data = load_dataset_spec(dataset, split);
  if (sampling) data.dataset = sampling.apply(data.dataset);
  std::unique_ptr<spec_grounder> g = make_grounder(gspec, data.dataset);
  const std::string description = g->describe();
  const std::string config_hash = hex64(groundeval::detail::fnv1a64(description));

  run_manifest m;
  m["dataset"] = data.description;
  m["split"] = data.split;
  m["dataset_name"] = data.dataset.name();
  m["selection"] = sampling.describe();
  m["dataset_content_hash"] = dataset_content_hash(data.dataset);
  m["grounder_spec"] = identity_spec;
  if (!gspec.file.empty()) m["grounder_config"] = gspec.file;
  for (const auto& [k, v] : gspec.params)
    if (k == "concurrency") m["concurrency"] = v;
  {
    std::string cmd = "groundeval run";
    for (const auto& a : args) cmd += " " + a;
    m["command"] = cmd;
  }
  m["grounder"] = description;
  m["grounder_name"] = g->name();
  m["latency"] = g->measures_latency() ? "measured" : "in-process";
  m["config_hash"] = config_hash;
  m["groundeval_version"] = version_string;
#ifdef GROUNDEVAL_GIT_HASH
  m["groundeval_git"] = GROUNDEVAL_GIT_HASH;  // source revision at configure time
#else
  m["groundeval_git"] = "unknown";
#endif
  m["start_time"] = utc_now();
  m["hostname"] = hostname();
  m["status"] = "running";
  m["limit"] = limit ? std::to_string(*limit) : "none";
  if (shard) m["shard"] = shard->to_string();

  run_open_options ropt;
  ropt.start_over = start_over;
  ropt.volatile_keys = volatile_keys();
  run_directory rd = [&] {
    try {
      return run_directory::open(out, m, ropt);
    } catch (const error& e) {
      if (e.kind() != error_kind::config) throw;
      throw error(error_kind::config, std::string(e.what()) +
                                          "\n(pass --start-over to discard the stored run, or "
                                          "choose another --out directory)");
    }
  }();
  {
    run_manifest cur = rd.manifest();
    cur["last_start_time"] = m["start_time"];
    cur["hostname"] = m["hostname"];
    cur["limit"] = m["limit"];
    cur["command"] = m["command"];
    cur["latency"] = m["latency"];
    if (m.contains("concurrency")) cur["concurrency"] = m["concurrency"];
    if (m.contains("grounder_config"))
      cur["grounder_config"] = m["grounder_config"];
    else
      cur.erase("grounder_config");
    cur["status"] = "running";
    rd.update_manifest(cur);
  }

  // The work: one request per sentence of this shard (within the limit) with its unfinished
  // evaluable phrases.
  struct pending {
    const sample* s;
    std::vector<std::size_t> phrases;
  };
  std::vector<pending> todo;
  std::uint64_t total = 0, already = 0;
  std::size_t sentences = 0;
  for (const sample& s : data.dataset) {
    if (shard && !shard->contains(s.image_id)) continue;
    bool any = false;
    for (const auto& p : s.phrases) any = any || !p.boxes.empty();
    if (!any) continue;
    if (limit && sentences >= *limit) break;
    ++sentences;
    pending pd{&s, {}};
    for (std::size_t k = 0; k < s.phrases.size(); ++k) {
      if (s.phrases[k].boxes.empty()) continue;
      ++total;
      if (rd.is_finished(run_key{s.image_id, s.sentence_index, k}))
        ++already;
      else
        pd.phrases.push_back(k);
    }
    if (!pd.phrases.empty()) todo.push_back(std::move(pd));
  }

  progress_options popt;
  popt.mode = quiet ? progress_mode::quiet : progress_mode::automatic;
  progress_reporter progress(std::cerr, is_terminal(STDERR_FILENO), total, popt, steady_seconds,
                             already);
  if (!quiet && rd.resumed_records() > 0)
    std::fprintf(stderr, "run: resuming %s: %zu queries already recorded\n", out.c_str(),
                 rd.resumed_records());

  interrupted.store(false);
  struct sigaction sa {
  }, old_sa{};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  struct restore_handler {
    struct sigaction* old;
    ~restore_handler() { sigaction(SIGINT, old, nullptr); }
  } restore{&old_sa};

  const std::size_t batch = std::max<std::size_t>(1, g->batch_size());
  std::uint64_t recorded = 0, failures = 0;
  for (std::size_t b = 0; b < todo.size() && !interrupted.load(); b += batch) {
    const std::size_t e = std::min(todo.size(), b + batch);
    std::vector<std::vector<phrase_query>> queries(e - b);
    std::vector<runner_request> reqs(e - b);
    std::size_t nq = 0;
    for (std::size_t j = b; j < e; ++j) {
      const sample& s = *todo[j].s;
      auto& qs = queries[j - b];
      for (const std::size_t k : todo[j].phrases) {
        const phrase& p = s.phrases[k];
        qs.push_back(
            phrase_query{p.text, s.sentence, p.char_begin, p.char_end, k, s.sentence_index});
      }
      nq += qs.size();
      reqs[j - b].source = &s;
      reqs[j - b].request =
          grounding_request{image_ref{s.image_id, {}, s.size}, std::span<const phrase_query>(qs)};
    }
    // Image paths: kept alive in `paths` for the call.
    std::vector<std::string> paths(e - b);
    for (std::size_t j = b; j < e; ++j) {
      paths[j - b] = data.dataset.image_path(*todo[j].s);
      reqs[j - b].request.image.path = paths[j - b];
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<query_result>> res = g->ground_many(reqs);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (res.size() != reqs.size())
      throw error(error_kind::invalid, "run: grounder " + g->name() + " answered " +
                                           std::to_string(res.size()) + " requests of " +
                                           std::to_string(reqs.size()));
    std::vector<run_record> records;
    records.reserve(nq);
    std::uint64_t batch_failures = 0;
    for (std::size_t j = 0; j < reqs.size(); ++j) {
      const sample& s = *reqs[j].source;
      if (res[j].size() != queries[j].size())
        throw error(error_kind::invalid, "run: grounder " + g->name() + " answered " +
                                             std::to_string(res[j].size()) + " queries of " +
                                             std::to_string(queries[j].size()) + " for image " +
                                             s.image_id);
      for (std::size_t i = 0; i < queries[j].size(); ++i) {
        const std::size_t k = queries[j][i].phrase_index;
        phrase_prediction_record r;
        r.image_id = s.image_id;
        r.sentence_id = s.sentence_index;
        r.phrase_index = k;
        r.chain_id = s.phrases[k].chain_id;
        r.phrase = s.phrases[k].text;
        r.result = std::move(res[j][i]);
        // Grounders that do not time their queries: the batch's wall time per query.
        if (r.result.latency_s < 0 && nq > 0) r.result.latency_s = secs / static_cast<double>(nq);
        r.config_hash = config_hash;
        if (r.result.status == query_status::format_failure ||
            r.result.status == query_status::error)
          ++batch_failures;
        std::ostringstream os;
        write_jsonl_record(os, r);
        std::string line = os.str();
        if (!line.empty() && line.back() == '\n') line.pop_back();
        records.push_back(run_record{run_key{s.image_id, s.sentence_index, k}, std::move(line)});
      }
    }
    rd.append(records);
    recorded += records.size();
    failures += batch_failures;
    progress.advance(records.size(), batch_failures);
  }
  progress.finish();

  const bool stopped = interrupted.load();
  const bool complete = !stopped && !limit;
  run_manifest cur = rd.manifest();
  cur["end_time"] = utc_now();
  if (const std::string sm = g->server_model(); !sm.empty()) cur["server_model"] = sm;
  cur["status"] = stopped ? "interrupted" : limit ? "partial (--limit)" : "complete";
  rd.update_manifest(cur);
  if (stopped) {
    std::fprintf(stderr,
                 "run: interrupted; %llu of %llu queries are recorded in %s (the batch in flight "
                 "was finished). Run the same command again to resume.\n",
                 static_cast<unsigned long long>(already + recorded),
                 static_cast<unsigned long long>(total), rd.predictions_path().c_str());
    return 130;
  }
  if (!quiet) {
    std::printf(
        "run: %llu queries run now, %llu already recorded, %llu in all (%llu failures "
        "now)%s\n",
        static_cast<unsigned long long>(recorded), static_cast<unsigned long long>(already),
        static_cast<unsigned long long>(already + recorded),
        static_cast<unsigned long long>(failures), complete ? "" : " — partial run (--limit)");
    std::printf("predictions: %s\nmanifest: %s\n", rd.predictions_path().c_str(),
                rd.manifest_path().c_str());
  }
  return 0;
}

}  // namespace detail_run

namespace {
const bool registered = register_command(
    {"run", "run a grounder over a data set into a resumable run directory", detail_run::run});
}  // namespace

}  // namespace groundeval::cli
