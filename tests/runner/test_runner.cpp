// SPDX-License-Identifier: Apache-2.0
// The run layer (run/runner.hpp, run/any_grounder.hpp, run/queries.hpp) on a made-up data set:
// capability dispatch, any_grounder from a function, stop / limit / resume / shards, predict().
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/run/runner.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <future>
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
