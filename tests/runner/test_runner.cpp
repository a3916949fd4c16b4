// SPDX-License-Identifier: Apache-2.0
// The run layer (run/runner.hpp, run/any_grounder.hpp, run/queries.hpp) on a made-up data set:
// capability dispatch, any_grounder from a function, stop / limit / resume / shards, predict(),
// readiness and halting (run/halting.hpp).
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/run/merge.hpp>
#include <groundeval/run/runner.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;

namespace {

in_memory_dataset made_up(int images) {
  std::vector<sample> ss;
  for (int i = 0; i < images; ++i)
    for (int k = 0; k < 2; ++k) {
      sample s{"img" + std::to_string(i), {100, 80}, k, "a b c", {}};
      s.phrases.push_back({"a", "1", {"people"}, {{0, 0, 10, 10}}, 0, 1, 0});
      s.phrases.push_back({"b", "0", {"notvisual"}, {}, 2, 3, 1});  // not asked
      s.phrases.push_back({"c", "2", {"other"}, {{5, 5, 50, 50}}, 4, 5, 2});
      ss.push_back(std::move(s));
    }
  return in_memory_dataset("made-up", std::move(ss));
}

std::vector<query_result> corner(const grounding_request& r) {
  std::vector<query_result> out(r.queries.size());
  for (auto& a : out) a.boxes = {{{0, 0, 10, 10}, 1.0}};
  return out;
}

struct async_grounder {
  int calls = 0;
  std::string_view name() const { return "async"; }
  std::vector<query_result> ground(const grounding_request&) { throw std::logic_error("sync"); }
  std::future<std::vector<query_result>> ground_async(const grounding_request& r) {
    ++calls;
    return std::async(std::launch::async, [res = corner(r)] { return res; });
  }
};
static_assert(AsyncGrounder<async_grounder> && !BatchGrounder<async_grounder>);

struct threaded_grounder {
  std::atomic<int> in_flight{0}, most{0};
  std::string_view name() const { return "threaded"; }
  std::size_t max_concurrency() const { return 4; }
  std::vector<query_result> ground(const grounding_request& r) {
    const int now = ++in_flight;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --in_flight;
    return corner(r);
  }
};

std::filesystem::path fresh_dir(const char* name) {
  const auto d = std::filesystem::temp_directory_path() / "groundeval_test_runner" / name;
  std::filesystem::remove_all(d);
  return d;
}

}  // namespace

TEST_CASE("the queries are the evaluable phrases, by shard and limit", "[runner]") {
  const auto data = made_up(5);
  const auto all = list_queries(data);
  CHECK(all.size() == 20);  // 5 images x 2 sentences x 2 evaluable phrases
  std::set<run_key> joined;
  for (std::uint32_t i = 0; i < 3; ++i)
    for (auto& k : list_queries(data, {shard_spec{i, 3}, std::nullopt}))
      CHECK(joined.insert(k).second);
  CHECK(joined == std::set<run_key>(all.begin(), all.end()));
  CHECK(list_queries(data, {std::nullopt, 3}).size() == 6);
}

TEST_CASE("ground_batch uses async and concurrent capabilities", "[runner]") {
  const auto data = made_up(3);
  async_grounder a;
  auto p = predict(a, data);
  CHECK(p.phrases.size() == 12);
  CHECK(a.calls == 6);
  threaded_grounder t;
  predict_options o;
  o.concurrency = 3;
  o.batch_size = 6;
  CHECK(predict(t, data, o).phrases.size() == 12);
  CHECK(t.most.load() >= 2);
  CHECK(t.most.load() <= 3);
}

TEST_CASE("any_grounder holds a function; the runner stops, limits and resumes", "[runner]") {
  const auto data = made_up(4);
  any_grounder g(
      corner,
      grounder_function_info{
          .name = "fn", .description = "fn v1", .measures_latency = false, .batch_size = 1});
  CHECK(g.name() == "fn");
  CHECK(g.describe() == "fn v1");
  run_options opt;
  opt.out = fresh_dir("stop");
  int batches = 0;
  opt.on_progress = [&](const run_progress& p) { batches += p.batch > 0; };
  opt.stop_requested = [&] { return batches >= 2; };  // stop after two batches (sentences)
  auto r = run_grounder(g, data, opt);
  CHECK(r.status == run_status::interrupted);
  CHECK(r.recorded == 4);
  CHECK(read_manifest(r.manifest).at("status") == "interrupted");
  CHECK(read_manifest(r.manifest).at("latency") == "in-process");
  opt.stop_requested = nullptr;
  opt.selection.limit = 5;
  r = run_grounder(g, data, opt);
  CHECK(r.status == run_status::partial);
  CHECK(r.already == 4);
  CHECK(r.recorded == 6);
  opt.selection.limit.reset();
  r = run_grounder(g, data, opt);
  CHECK(r.status == run_status::complete);
  CHECK(r.already + r.recorded == 16);
  // What was recorded is exactly what predict() answers, keys and lines alike.
  const auto file = read_run_file(r.predictions);
  const auto p = predict(g, data);
  REQUIRE(file.records.size() == p.phrases.size());
  std::map<run_key, std::string> lines;
  for (const auto& rec : file.records) lines[rec.key] = rec.line;
  for (auto rec : p.phrases) {
    const run_key k{rec.image_id, rec.sentence_id, rec.phrase_index};
    REQUIRE(lines.count(k));
    rec.result.latency_s = -1;  // timings differ
    auto stored = lines[k];
    stored = stored.substr(0, stored.find("\"latency_s\":")) + "\"latency_s\":null" +
             stored.substr(stored.find(",\"config_hash\""));
    CHECK(format_jsonl_record(rec) == stored);
  }
  // Another grounder in the same directory is refused, naming what differs.
  any_grounder other(corner, grounder_function_info{.name = "fn", .description = "fn v2"});
  CHECK_THROWS_WITH(run_grounder(other, data, opt), Catch::Contains("grounder"));
}

TEST_CASE("a run directory is locked while open; the lock dies with its holder", "[runner]") {
  const auto data = made_up(2);
  const auto dir = fresh_dir("lock");
  run_manifest m{{"config_hash", "h1"}};
  run_open_options o;
  o.lock_command = "groundeval run --out first";
  {
    run_directory first = run_directory::open(dir, m, o);
    // A second writer (flock conflicts between open files, in one process too) fails at once,
    // naming the holder, with --start-over as well; nothing of the first run is touched.
    run_record rec;
    rec.key = run_key{"img0", 0, 0};
    rec.line = R"({"image_id":"img0","sentence_id":0,"phrase_index":0,"config_hash":"h1"})";
    first.append(rec);
    for (bool start_over : {false, true}) {
      run_open_options o2;
      o2.start_over = start_over;
      CHECK_THROWS_WITH(run_directory::open(dir, m, o2),
                        Catch::Contains("is in use by another groundeval process (pid ") &&
                            Catch::Contains("groundeval run --out first"));
    }
    CHECK_THROWS_WITH(check_dir_not_locked(dir), Catch::Contains("is in use"));
    any_grounder g(corner, grounder_function_info{.name = "fn", .description = "fn v1"});
    run_options ro;
    ro.out = dir;
    ro.start_over = true;
    CHECK_THROWS_WITH(run_grounder(g, data, ro), Catch::Contains("is in use"));
    CHECK(read_run_file(dir / "predictions.jsonl").records.size() == 1);
  }
  // Released: the lock file stays (with the old holder's text) and blocks nothing.
  CHECK(std::filesystem::exists(dir / ".lock"));
  CHECK_NOTHROW(check_dir_not_locked(dir));
  CHECK(run_directory::open(dir, m).resumed_records() == 1);
}

TEST_CASE("records of another configuration are refused on resume and merge", "[runner]") {
  const auto dir = fresh_dir("config_hash");
  const run_manifest m{{"config_hash", "h1"}};
  std::vector<run_record> recs;
  for (const char* hash : {R"(,"config_hash":"h1")", R"(,"config_hash":"h2")", ""}) {
    const auto i = recs.size();
    run_record rec;
    rec.key = run_key{"img" + std::to_string(i), 0, 0};
    rec.line = R"({"image_id":")" + rec.key.image_id + R"(","sentence_id":0,"phrase_index":0)" +
               hash + "}";
    recs.push_back(std::move(rec));
  }
  run_directory::open(dir, m).append(recs);
  const std::string file = (dir / "predictions.jsonl").string();
  CHECK_THROWS_WITH(run_directory::open(dir, m),
                    file +
                        ":2: this record was made by another configuration (config_hash "
                        "'h2', the run's manifest.json says 'h1'): the directory mixes two "
                        "runs; start over or move the record out");
  // Without a hash to check against (a manifest without the key), nothing is checked.
  CHECK(read_run_file(file).records.size() == 3);
  CHECK_THROWS_WITH(read_run_file(file, read_run_key_json, false, "h1"), Catch::Contains(":2: "));
}

TEST_CASE("a run ended by an exception says failed; retry_errors asks the errors again",
          "[runner]") {
  const auto data = made_up(2);
  int calls = 0;
  bool fail_now = true;
  any_grounder g(
      [&](const grounding_request& r) {
        ++calls;
        auto out = corner(r);
        if (fail_now && calls == 2) throw std::runtime_error("the server went away");
        if (fail_now && calls == 1)
          for (auto& a : out) {
            a = query_result{};
            a.status = query_status::error;
            a.message = "HTTP 503";
          }
        return out;
      },
      grounder_function_info{.name = "fn", .description = "fn v1", .batch_size = 1});
  run_options opt;
  opt.out = fresh_dir("failed");
  CHECK_THROWS_WITH(run_grounder(g, data, opt), "the server went away");
  auto m = read_manifest(opt.out / "manifest.json");
  CHECK(m.at("status") == "failed");
  CHECK(m.at("error") == "the server went away");
  fail_now = false;
  auto r = run_grounder(g, data, opt);  // resumes: the 2 error records stay
  CHECK(r.status == run_status::complete);
  CHECK(r.already == 2);
  CHECK(!read_manifest(r.manifest).contains("error"));
  auto errors = [&] {
    std::size_t n = 0;
    for (const auto& rec : read_run_file(r.predictions).records)
      n += read_record_string(rec.line, "status") == "error";
    return n;
  };
  CHECK(errors() == 2);
  opt.retry_errors = true;
  r = run_grounder(g, data, opt);
  CHECK(r.retried == 2);
  CHECK(r.recorded == 2);
  CHECK(r.already == 6);
  CHECK(errors() == 0);
  CHECK(read_run_file(r.predictions).records.size() == 8);  // one record per query, no duplicate
  CHECK(read_run_file(opt.out / "retried-errors.jsonl").records.size() == 2);
  r = run_grounder(g, data, opt);  // nothing left to retry
  CHECK(r.retried == 0);
  CHECK(r.recorded == 0);
}

TEST_CASE("a data set without evaluable phrases is refused before anything is written",
          "[runner]") {
  std::vector<sample> ss{{"img0", {100, 80}, 0, "a b", {}}};
  ss[0].phrases.push_back({"a", "0", {"notvisual"}, {}, 0, 1, 0});
  const in_memory_dataset data("empty", std::move(ss));
  any_grounder g(corner, grounder_function_info{.name = "fn"});
  run_options opt;
  opt.out = fresh_dir("no_phrases");
  opt.identity = {{"dataset", "flickr30k:x"}};
  CHECK_THROWS_WITH(run_grounder(g, data, opt),
                    "flickr30k:x: the data set has no evaluable phrase (no phrase whose chain "
                    "has a ground-truth box): nothing to run or evaluate");
  CHECK(!std::filesystem::exists(opt.out));
}

namespace {
/// Answers batches of sentences, but "is interrupted" after the first two requests of its second
/// batch: it answers only those and says stop (as the Python binding does on KeyboardInterrupt).
struct interrupted_grounder {
  int batches = 0;
  bool stop = false;
  std::string_view name() const { return "interrupted"; }
  std::vector<query_result> ground(const grounding_request& r) { return corner(r); }
  std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs) {
    std::vector<std::vector<query_result>> out;
    for (const auto& r : rs) {
      if (batches == 1 && out.size() == 2) {
        stop = true;
        break;
      }
      out.push_back(corner(r));
    }
    ++batches;
    return out;
  }
};
}  // namespace

TEST_CASE("a batch answered in part when a stop is requested is recorded in part", "[runner]") {
  const auto data = made_up(4);  // 8 sentences, 2 queries each
  interrupted_grounder g;
  run_options opt;
  opt.out = fresh_dir("prefix");
  opt.batch_size = 3;
  // Without a stop request a short answer is an error (nothing of that batch is recorded).
  CHECK_THROWS_WITH(run_grounder(g, data, opt), Catch::Contains("answered 2 requests of 3"));
  CHECK(read_run_file(opt.out / "predictions.jsonl").records.size() == 6);
  g = {};
  opt.start_over = true;
  opt.stop_requested = [&] { return g.stop; };
  auto r = run_grounder(g, data, opt);
  CHECK(r.status == run_status::interrupted);
  CHECK(r.recorded == 10);  // the first batch (3 sentences) and two sentences of the second
  CHECK(read_manifest(r.manifest).at("status") == "interrupted");
  g = {};
  opt.start_over = false;
  r = run_grounder(g, data, opt);
  CHECK(r.status == run_status::complete);
  CHECK(r.already == 10);
  CHECK(r.recorded == 6);
}

namespace {

/// A grounder with the run layer's readiness and halting capabilities (run/halting.hpp): not
/// ready while `up` is false; halts after `answers_left` answers (the rest not asked); with
/// `block`, each request waits (up to 5 s) until request_stop() is called.
struct halting_grounder {
  bool up = true;
  int answers_left = 1000;
  bool block = false;
  std::atomic<bool> stop{false};
  std::string why;
  std::string_view name() const { return "halting"; }
  std::string check_ready() {
    if (!up) throw error(error_kind::backend, "the server is not ready");
    return "ready";
  }
  std::string halt_reason() const { return why; }
  void request_stop() { stop = true; }
  std::vector<query_result> ground(const grounding_request& r) {
    for (int i = 0; block && !stop && i < 500; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (stop) why = "the run was asked to stop";
    std::vector<query_result> out = corner(r);
    for (auto& a : out) {
      if (!why.empty() || answers_left-- <= 0) {
        if (why.empty()) why = "no answers left";
        a = query_result{};
        a.status = query_status::error;
        a.message = std::string(not_asked_prefix) + why;
      }
    }
    return out;
  }
};
static_assert(ReadyGrounder<halting_grounder> && HaltingGrounder<halting_grounder>);

}  // namespace

TEST_CASE("readiness and halting: nothing unasked is recorded, a stop reaches the grounder",
          "[runner]") {
  const auto data = made_up(3);  // 6 sentences, 12 queries
  run_options opt;
  opt.out = fresh_dir("halting");
  opt.batch_size = 2;
  {  // not ready: an error before the first batch, nothing recorded, the manifest says failed
    auto g = std::make_unique<halting_grounder>();
    g->up = false;
    any_grounder a(std::move(g));  // forwarded through any_grounder as the CLI uses it
    CHECK_THROWS_WITH(run_grounder(a, data, opt), "the server is not ready");
    const auto preds = opt.out / "predictions.jsonl";
    CHECK((!std::filesystem::exists(preds) || std::filesystem::file_size(preds) == 0));
    CHECK(read_manifest(opt.out / "manifest.json").at("status") == "failed");
  }
  {  // halts after 5 answers: those are recorded, the 7 queries it did not ask are not
    halting_grounder g;
    g.answers_left = 5;
    const auto r = run_grounder(g, data, opt);
    CHECK(r.status == run_status::failed);
    CHECK(r.halt_reason == "no answers left");
    CHECK(r.recorded == 5);
    CHECK(read_run_file(r.predictions).records.size() == 5);
    CHECK(read_manifest(r.manifest).at("status") == "failed");
  }
  {  // the next run asks exactly the rest
    halting_grounder g;
    const auto r = run_grounder(g, data, opt);
    CHECK(r.status == run_status::complete);
    CHECK(r.already == 5);
    CHECK(r.recorded == 7);
    for (const auto& rec : read_run_file(r.predictions).records)
      CHECK(rec.line.find("not asked") == std::string::npos);
  }
  {  // a stop while a batch is in flight is forwarded to request_stop(): no 5 s wait
    auto g = std::make_unique<halting_grounder>();
    g->block = true;
    any_grounder a(std::move(g));
    run_options o2 = opt;
    o2.out = fresh_dir("halting_stop");
    const auto t0 = std::chrono::steady_clock::now();
    o2.stop_requested = [&] {
      return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(100);
    };
    const auto r = run_grounder(a, data, o2);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(r.status == run_status::interrupted);
    CHECK(r.halt_reason == "the run was asked to stop");
    CHECK(r.recorded == 0);
    CHECK(read_manifest(r.manifest).at("status") == "interrupted");
  }
}

namespace {

// A shard directory of a 3-shard run holding `lines` (written as given, '\n' after each).
void write_shard(const std::filesystem::path& d, int i, const std::vector<std::string>& lines) {
  std::filesystem::create_directories(d);
  std::ofstream(d / "manifest.json")
      << R"({"config_hash": "h1", "shard": ")" << i << R"(/3", "grounder": "g"})"
      << "\n";
  std::ofstream f(d / "predictions.jsonl", std::ios::binary);
  for (const auto& l : lines) f << l << '\n';
}

std::string merge_record(const std::string& image, int sentence, int phrase,
                         std::size_t raw_bytes = 0) {
  return R"({"image_id":")" + image + R"(","sentence_id":)" + std::to_string(sentence) +
         R"(,"phrase_index":)" + std::to_string(phrase) + R"(,"raw_text":")" +
         std::string(raw_bytes, 'x') + R"(","config_hash":"h1"})";
}

std::string file_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("merge streams the shards: the records sorted by key, byte for byte", "[runner]") {
  // Records spread over 3 shards in scrambled order, with blank lines, a CRLF line and records
  // of 1 MiB (the output is written through a buffer of a few MiB): the merged file must be
  // exactly the records' lines sorted by key (what merge wrote when it held every record).
  const auto root = fresh_dir("merge_stream");
  std::vector<std::vector<std::string>> shard_lines(3);
  std::vector<std::pair<run_key, std::string>> want;
  for (int img = 40; img >= 0; --img) {
    const std::string image = "img" + std::to_string(img);
    const auto s = static_cast<std::size_t>(shard_hash(image) % 3);
    for (int sentence : {1, 0})
      for (int phrase : {2, 0, 10}) {
        std::string line =
            merge_record(image, sentence, phrase, img % 7 == 0 && phrase == 2 ? (1u << 20) : 0);
        if (img == 5 && phrase == 10) line += '\r';  // CRLF: the '\r' is kept, as before
        shard_lines[s].push_back(line);
        if (img % 9 == 0) shard_lines[s].push_back("  ");  // blank lines are dropped
        want.emplace_back(run_key{image, sentence, static_cast<std::size_t>(phrase)}, line);
      }
  }
  std::vector<std::filesystem::path> dirs;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(!shard_lines[static_cast<std::size_t>(i)].empty());
    dirs.push_back(root / ("s" + std::to_string(i)));
    write_shard(dirs.back(), i, shard_lines[static_cast<std::size_t>(i)]);
  }
  std::sort(want.begin(), want.end());
  std::string expected;
  for (const auto& [k, line] : want) expected += line + '\n';
  REQUIRE(expected.size() > (std::size_t{8} << 20));  // more than one output buffer
  const auto summary = merge_runs(dirs, root / "out");
  CHECK(summary.records == want.size());
  CHECK(file_text(root / "out" / "predictions.jsonl") == expected);
  CHECK(!std::filesystem::exists(root / "out" / "predictions.jsonl.tmp"));
  // The same from the shards given in another order.
  const std::vector<std::filesystem::path> reversed{dirs[2], dirs[0], dirs[1]};
  merge_runs(reversed, root / "out2");
  CHECK(file_text(root / "out2" / "predictions.jsonl") == expected);
}

TEST_CASE("merge reports the first duplicate or foreign record in file order", "[runner]") {
  const auto root = fresh_dir("merge_errors");
  // images of each shard
  std::vector<std::vector<std::string>> of(3);
  for (int img = 0; of[0].size() < 3 || of[1].size() < 3 || of[2].size() < 3; ++img) {
    const std::string image = "img" + std::to_string(img);
    of[static_cast<std::size_t>(shard_hash(image) % 3)].push_back(image);
  }
  auto dirs_with = [&](const char* name, std::vector<std::string> s0, std::vector<std::string> s1,
                       std::vector<std::string> s2) {
    std::vector<std::filesystem::path> dirs;
    int i = 0;
    for (auto* lines : {&s0, &s1, &s2}) {
      dirs.push_back(root / name / ("s" + std::to_string(i)));
      write_shard(dirs.back(), i++, *lines);
    }
    return dirs;
  };
  const std::string a = merge_record(of[0][0], 0, 0), b = merge_record(of[0][1], 0, 0);
  const std::string c = merge_record(of[1][0], 0, 0), d = merge_record(of[1][1], 0, 0);
  const std::string foreign = merge_record(of[2][0], 0, 0);
  {  // a duplicate within shard 1 (line 3) before a foreign image (line 4)
    const auto dirs = dirs_with("dup_first", {a}, {c, d, c, foreign}, {});
    CHECK_THROWS_WITH(merge_runs(dirs, root / "o1"),
                      (dirs[1] / "predictions.jsonl").string() + ":3: query " + of[1][0] +
                          "/0/0 is also recorded in " + (dirs[1] / "predictions.jsonl").string() +
                          ":1");
  }
  {  // a foreign image (line 1) before a query of shard 0 repeated (line 2)
    const auto dirs = dirs_with("foreign_first", {a}, {foreign, a}, {});
    CHECK_THROWS_WITH(merge_runs(dirs, root / "o2"),
                      Catch::StartsWith((dirs[1] / "predictions.jsonl").string() + ":1: image '" +
                                        of[2][0] + "' belongs to shard 2/3, not 1/3"));
  }
  {  // a query of shard 0 repeated in shard 1 (line 2): its image is foreign there, said first
    const auto dirs = dirs_with("dup_across", {b, a}, {c, a}, {});
    CHECK_THROWS_WITH(merge_runs(dirs, root / "o3"),
                      Catch::StartsWith((dirs[1] / "predictions.jsonl").string() + ":2: image '" +
                                        of[0][0] + "' belongs to shard 0/3, not 1/3"));
  }
  CHECK(!std::filesystem::exists(root / "o1" / "predictions.jsonl"));
}

TEST_CASE("write_file_atomically replaces a file whole, durably or atomically only", "[runner]") {
  const auto d = fresh_dir("atomic_write");
  std::filesystem::create_directories(d);
  const auto f = d / "report.json";
  for (const auto how : {detail::durability::durable, detail::durability::atomic_only}) {
    const std::string first(100000, 'a'), second = "{}\n";
    detail::write_file_atomically(f, first, how);
    detail::write_file_atomically(f, second, how);  // shorter: nothing of the first remains
    std::ifstream in(f, std::ios::binary);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == second);
    CHECK_FALSE(std::filesystem::exists(d / "report.json.tmp"));
    CHECK_THROWS_WITH(detail::write_file_atomically(d / "no" / "such.json", second, how),
                      Catch::Contains((d / "no" / "such.json.tmp").string()));
  }
}
