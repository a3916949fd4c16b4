// SPDX-License-Identifier: Apache-2.0
// The run directory: crash-safe append and resume after a torn line, manifest comparison, the
// shard partition (FNV-1a reference values, stability) and the checks of merge_runs.
#include <groundeval/eval/run_dir.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <csignal>

#include <sys/wait.h>
#include <unistd.h>

using namespace groundeval;
namespace fs = std::filesystem;

namespace {

/// A fresh, empty temporary directory removed at the end of the test.
struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name) {
    path =
        fs::temp_directory_path() / ("groundeval_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream is(p, std::ios::binary);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream os(p, std::ios::binary | std::ios::trunc);
  os << s;
}

run_record make_record(const std::string& image, long long sentence, std::size_t phrase) {
  run_record r;
  r.key = {image, sentence, phrase};
  r.line = "{\"image_id\": \"" + image + "\", \"sentence_id\": " + std::to_string(sentence) +
           ", \"phrase_index\": " + std::to_string(phrase) +
           ", \"boxes\": [[1, 2, 3, 4]], \"phrase\": \"a \\\"dog\\\" {x}\"}";
  return r;
}

run_manifest base_manifest() {
  return {{"dataset", "flickr30k:/data"},
          {"split", "val"},
          {"grounder", "center:0.5"},
          {"start_time", "2026-11-27T10:00:00Z"}};
}

}  // namespace

TEST_CASE("read_run_key_json reads the key of a record line", "[run_dir]") {
  const auto k = read_run_key_json(
      R"({"phrase":"x","image_id":"1000092795","sentence_id":3,"phrase_index":2,"boxes":[[1,2,3,4]],"raw":{"a":[1,"}"]}})");
  CHECK(k.image_id == "1000092795");
  CHECK(k.sentence_index == 3);
  CHECK(k.phrase_index == 2);
  CHECK(read_run_key_json(R"({"image_id":42,"sentence_index":0,"phrase_index":0})").image_id ==
        "42");
  CHECK(
      read_run_key_json(R"({"image_id":"a\u00e9\"b","sentence_id":0,"phrase_index":1})").image_id ==
      "a\xc3\xa9\"b");
  CHECK_THROWS_WITH(read_run_key_json(R"({"image_id":"a","phrase_index":1})"),
                    Catch::Contains("sentence_id"));
  CHECK_THROWS_WITH(read_run_key_json(R"({"image_id":"a","sentence_id":-1,"phrase_index":1})"),
                    Catch::Contains("non-negative"));
  CHECK_THROWS_AS(read_run_key_json(R"({"image_id":"a","sentence_id":1,)"), error);
  CHECK_THROWS_AS(read_run_key_json("[1,2]"), error);
}

TEST_CASE("manifests round-trip and differences are named", "[run_dir]") {
  run_manifest m = base_manifest();
  m["note"] = "quote \" backslash \\ newline \n tab \t ctrl \x01 utf8 \xc3\xa9";
  CHECK(parse_manifest(manifest_to_json(m), "m.json") == m);
  CHECK(parse_manifest(manifest_to_json({}), "m.json").empty());

  run_manifest other = m;
  other["split"] = "test";
  other.erase("grounder");
  other["extra"] = "1";
  CHECK(manifest_differences(m, other) == std::vector<std::string>{"extra", "grounder", "split"});
  const std::vector<std::string> ignore{"split", "extra"};
  CHECK(manifest_differences(m, other, ignore) == std::vector<std::string>{"grounder"});

  CHECK_THROWS_WITH(parse_manifest("{\n  \"a\": \"1\",\n  \"b\": 2\n}\n", "m.json"),
                    Catch::Contains("m.json") && Catch::Contains("not a string"));
  CHECK_THROWS_WITH(parse_manifest("{\n  \"a\": \"1\",\n  \"b\" \"2\"\n}\n", "m.json"),
                    Catch::StartsWith("m.json:3:"));
  CHECK_THROWS_WITH(parse_manifest("{\"a\": \"1\", \"a\": \"2\"}", "m.json"),
                    Catch::Contains("twice"));
}

TEST_CASE("a run directory appends durably and resumes", "[run_dir]") {
  temp_dir t("resume");
  const fs::path dir = t.path / "run";
  {
    auto rd = run_directory::open(dir, base_manifest());
    CHECK(rd.finished().empty());
    CHECK(rd.resumed_records() == 0);
    const std::vector<run_record> batch{make_record("img1", 0, 0), make_record("img1", 0, 1)};
    rd.append(batch);
    rd.append(make_record("img2", 1, 0));
    CHECK(rd.finished().size() == 3);
    // A key already recorded is refused and nothing of the batch is written.
    const std::vector<run_record> dup{make_record("img3", 0, 0), make_record("img1", 0, 1)};
    CHECK_THROWS_WITH(rd.append(dup), Catch::Contains("img1/0/1 is already recorded"));
    const std::vector<run_record> twice{make_record("img4", 0, 0), make_record("img4", 0, 0)};
    CHECK_THROWS_AS(rd.append(twice), error);
    run_record bad = make_record("img5", 0, 0);
    bad.line += "\n{}";
    CHECK_THROWS_WITH(rd.append(bad), Catch::Contains("line break"));
  }
  CHECK(read_manifest(dir / "manifest.json") == base_manifest());
  const std::string content = slurp(dir / "predictions.jsonl");
  CHECK(std::count(content.begin(), content.end(), '\n') == 3);
  CHECK(content.find("img3") == std::string::npos);

  // Resume: the finished keys are loaded; a volatile key may differ and keeps its stored value.
  run_manifest again = base_manifest();
  again["start_time"] = "2026-11-27T11:00:00Z";
  run_open_options opt;
  opt.volatile_keys = {"start_time"};
  auto rd = run_directory::open(dir, again, opt);
  CHECK(rd.resumed_records() == 3);
  CHECK(rd.dropped_bytes() == 0);
  CHECK(rd.is_finished({"img1", 0, 1}));
  CHECK(rd.is_finished({"img2", 1, 0}));
  CHECK_FALSE(rd.is_finished({"img2", 1, 1}));
  CHECK(rd.manifest().at("start_time") == "2026-11-27T10:00:00Z");
  rd.append(make_record("img2", 1, 1));
  CHECK(rd.finished().size() == 4);

  // Only volatile keys may change through update_manifest.
  run_manifest upd = rd.manifest();
  upd["start_time"] = "later";
  rd.update_manifest(upd);
  CHECK(read_manifest(dir / "manifest.json").at("start_time") == "later");
  upd["split"] = "test";
  CHECK_THROWS_WITH(rd.update_manifest(upd), Catch::Contains("split"));
}

TEST_CASE("a torn last line is detected, truncated with a warning, and rerun", "[run_dir]") {
  temp_dir t("torn");
  const fs::path dir = t.path / "run";
  {
    auto rd = run_directory::open(dir, base_manifest());
    const std::vector<run_record> batch{make_record("a", 0, 0), make_record("b", 0, 0)};
    rd.append(batch);
  }
  const fs::path pred = dir / "predictions.jsonl";
  const std::string good = slurp(pred);
  // Simulate a crash in the middle of writing the third record.
  const std::string third = make_record("c", 0, 0).line;
  spit(pred, good + third.substr(0, third.size() / 2));

  std::vector<std::string> warnings;
  run_open_options opt;
  opt.warn = [&](const std::string& w) { warnings.push_back(w); };
  {
    auto rd = run_directory::open(dir, base_manifest(), opt);
    CHECK(rd.resumed_records() == 2);
    CHECK(rd.dropped_bytes() == third.size() / 2);
    CHECK_FALSE(rd.is_finished({"c", 0, 0}));
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0],
               Catch::Contains("predictions.jsonl:3:") && Catch::Contains("incomplete last line"));
    CHECK(slurp(pred) == good);  // truncated back to the last complete line
    rd.append(make_record("c", 0, 0));
  }
  const auto c = read_run_file(pred);
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[2].key == run_key{"c", 0, 0});
  CHECK(c.records[2].line == third);
  CHECK(c.torn_bytes == 0);

  // A torn tail of zero bytes (a crash after the size was updated but before the data) likewise.
  spit(pred, slurp(pred) + std::string(7, '\0'));
  warnings.clear();
  auto rd = run_directory::open(dir, base_manifest(), opt);
  CHECK(rd.resumed_records() == 3);
  CHECK(rd.dropped_bytes() == 7);
  CHECK(warnings.size() == 1);
}

TEST_CASE("a complete but malformed or doubled line is an error naming file and line",
          "[run_dir]") {
  temp_dir t("malformed");
  const fs::path dir = t.path / "run";
  { auto rd = run_directory::open(dir, base_manifest()); }
  const fs::path pred = dir / "predictions.jsonl";
  spit(pred, make_record("a", 0, 0).line + "\n\n{\"image_id\": \"b\"}\n");
  CHECK_THROWS_WITH(run_directory::open(dir, base_manifest()),
                    Catch::Contains("predictions.jsonl:3: missing \"sentence_id\""));
  spit(pred, make_record("a", 0, 0).line + "\n" + make_record("a", 0, 0).line + "\n");
  CHECK_THROWS_WITH(
      run_directory::open(dir, base_manifest()),
      Catch::Contains("predictions.jsonl:2:") && Catch::Contains("already recorded at line 1"));
}

TEST_CASE("a different manifest refuses to mix results unless starting over", "[run_dir]") {
  temp_dir t("mismatch");
  const fs::path dir = t.path / "run";
  {
    auto rd = run_directory::open(dir, base_manifest());
    rd.append(make_record("a", 0, 0));
  }
  run_manifest other = base_manifest();
  other["grounder"] = "whole-image";
  other["seed"] = "7";
  CHECK_THROWS_WITH(run_directory::open(dir, other),
                    Catch::Contains("manifest.json") && Catch::Contains("grounder, seed") &&
                        Catch::Contains("refusing to mix") &&
                        Catch::Contains("stored 'center:0.5', now 'whole-image'"));
  // start_time is not volatile here, so it counts too.
  run_manifest later = base_manifest();
  later["start_time"] = "x";
  CHECK_THROWS_WITH(run_directory::open(dir, later), Catch::Contains("start_time"));
  CHECK(slurp(dir / "predictions.jsonl").find("\"a\"") != std::string::npos);  // untouched

  run_open_options opt;
  opt.start_over = true;
  auto rd = run_directory::open(dir, other, opt);
  CHECK(rd.finished().empty());
  CHECK(read_manifest(dir / "manifest.json") == other);
  CHECK(slurp(dir / "predictions.jsonl").empty());

  // Predictions without a manifest are refused too.
  const fs::path dir2 = t.path / "orphan";
  fs::create_directories(dir2);
  spit(dir2 / "predictions.jsonl", make_record("a", 0, 0).line + "\n");
  CHECK_THROWS_WITH(run_directory::open(dir2, base_manifest()),
                    Catch::Contains("manifest.json does not"));
  // A path that is a file is refused.
  spit(t.path / "file", "x");
  CHECK_THROWS_WITH(run_directory::open(t.path / "file", base_manifest()),
                    Catch::Contains("not a directory"));
}

TEST_CASE("the shard hash is 64-bit FNV-1a and the partition is stable", "[run_dir]") {
  // Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors).
  STATIC_REQUIRE(shard_hash("") == 0xcbf29ce484222325ull);
  STATIC_REQUIRE(shard_hash("a") == 0xaf63dc4c8601ec8cull);
  STATIC_REQUIRE(shard_hash("foobar") == 0x85944171f73967e8ull);
  const std::vector<std::string> ids{"1000092795", "10002456",   "1000268201", "1000344755",
                                     "1000366164", "1000523639", "1000919630", "10010052"};
  for (std::uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<int> hits(ids.size(), 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const shard_spec s{i, n};
      for (std::size_t j = 0; j < ids.size(); ++j) hits[j] += s.contains(ids[j]) ? 1 : 0;
    }
    for (int h : hits) CHECK(h == 1);  // every image in exactly one shard
  }
  // Spread: 1000 ids over 4 shards, each shard gets a fair part.
  std::vector<int> count(4, 0);
  for (int i = 0; i < 1000; ++i) ++count[shard_hash(std::to_string(i)) % 4];
  for (int c : count) CHECK(c > 200);

  CHECK(parse_shard("0/4") == shard_spec{0, 4});
  CHECK(parse_shard("3/4") == shard_spec{3, 4});
  CHECK(parse_shard("0/1").to_string() == "0/1");
  for (const char* bad : {"4/4", "1/0", "-1/3", "a/b", "2", "1/", "/2", "1/2/3"})
    CHECK_THROWS_WITH(parse_shard(bad), Catch::Contains("--shard") && Catch::Contains(bad));
}

TEST_CASE("frozen shard assignments of known ids", "[run_dir]") {
  // Computed from the definition (FNV-1a 64, then mod n) by an independent Python one-liner:
  //   h=0xcbf29ce484222325; for b in s.encode(): h=((h^b)*0x100000001b3)%2**64
  // Changing the hash would silently reshuffle users' shards; these values must never change.
  CHECK(shard_hash("1000092795") == 0xbfb6eb940f52b84aull);
  CHECK(shard_hash("10002456") == 0x48ac3b0dc68e8379ull);
  CHECK(shard_hash("COCO_train2014_000000000009") == 0x33aa6d5fa3367973ull);
  CHECK(shard_spec{2, 4}.contains("1000092795"));
  CHECK(shard_spec{1, 7}.contains("1000092795"));
  CHECK(shard_spec{1, 4}.contains("10002456"));
  CHECK(shard_spec{2, 7}.contains("1000268201"));
  CHECK(shard_spec{3, 4}.contains("COCO_train2014_000000000009"));
  CHECK_FALSE(shard_spec{0, 4}.contains("COCO_train2014_000000000009"));
}

namespace {

/// Writes a complete shard `i/n` holding the given queries that belong to it.
void make_shard(const fs::path& dir, shard_spec s, const std::vector<run_key>& all,
                const std::string& start = "t0") {
  run_manifest m = base_manifest();
  m["shard"] = s.to_string();
  m["start_time"] = start;
  auto rd = run_directory::open(dir, m);
  std::vector<run_record> batch;
  for (const auto& k : all)
    if (s.contains(k.image_id))
      batch.push_back(make_record(k.image_id, k.sentence_index, k.phrase_index));
  rd.append(batch);
}

std::vector<run_key> all_queries() {
  std::vector<run_key> v;
  for (int i = 0; i < 20; ++i)
    for (long long s = 0; s < 2; ++s)
      for (std::size_t p = 0; p < 2; ++p) v.push_back({"img" + std::to_string(i), s, p});
  return v;
}

}  // namespace

TEST_CASE("merging shards equals a single run", "[run_dir]") {
  temp_dir t("merge");
  const auto all = all_queries();
  std::vector<fs::path> dirs;
  for (std::uint32_t i = 0; i < 3; ++i) {
    dirs.push_back(t.path / ("shard" + std::to_string(i)));
    make_shard(dirs.back(), {i, 3}, all, "t" + std::to_string(i));
  }
  // A single run over everything, for comparison.
  {
    auto rd = run_directory::open(t.path / "single", base_manifest());
    std::vector<run_record> batch;
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      batch.push_back(make_record(it->image_id, it->sentence_index, it->phrase_index));
    rd.append(batch);
  }
  merge_options opt;
  opt.volatile_keys = {"start_time"};
  opt.expected = all;
  const auto s = merge_runs(dirs, t.path / "merged", opt);
  CHECK(s.shards == 3);
  CHECK(s.records == all.size());
  auto merged = read_run_file(t.path / "merged" / "predictions.jsonl");
  auto single = read_run_file(t.path / "single" / "predictions.jsonl");
  auto by_key = [](const run_record& a, const run_record& b) { return a.key < b.key; };
  std::sort(single.records.begin(), single.records.end(), by_key);
  REQUIRE(merged.records.size() == single.records.size());
  for (std::size_t i = 0; i < merged.records.size(); ++i) {
    CHECK(merged.records[i].key == single.records[i].key);
    CHECK(merged.records[i].line == single.records[i].line);
  }
  const auto mm = read_manifest(t.path / "merged" / "manifest.json");
  CHECK_FALSE(mm.contains("shard"));
  CHECK(mm.at("merged_shards") == "3");
  CHECK(mm.at("start_time") == "t0");
  // The output directory must be empty of runs.
  CHECK_THROWS_WITH(merge_runs(dirs, t.path / "merged", opt), Catch::Contains("already holds"));
}

TEST_CASE("merge refuses inconsistent shards with clear errors", "[run_dir]") {
  temp_dir t("merge_bad");
  const auto all = all_queries();
  std::vector<fs::path> dirs;
  for (std::uint32_t i = 0; i < 3; ++i) {
    dirs.push_back(t.path / ("s" + std::to_string(i)));
    make_shard(dirs.back(), {i, 3}, all);
  }
  merge_options opt;
  int out = 0;
  auto next_out = [&] { return t.path / ("out" + std::to_string(out++)); };

  SECTION("a missing shard") {
    const std::vector<fs::path> two{dirs[0], dirs[2]};
    CHECK_THROWS_WITH(merge_runs(two, next_out(), opt), Catch::Contains("missing shard(s): 1/3"));
  }
  SECTION("a shard given twice") {
    const std::vector<fs::path> dup{dirs[0], dirs[1], dirs[1]};
    CHECK_THROWS_WITH(merge_runs(dup, next_out(), opt),
                      Catch::Contains("shard 1/3 is also given as"));
  }
  SECTION("different n") {
    make_shard(t.path / "other", {1, 4}, all);
    const std::vector<fs::path> mixed{dirs[0], t.path / "other", dirs[2]};
    CHECK_THROWS_WITH(merge_runs(mixed, next_out(), opt), Catch::Contains("different n"));
  }
  SECTION("a different manifest") {
    run_manifest m = read_manifest(dirs[1] / "manifest.json");
    m["grounder"] = "random:1";
    write_manifest(dirs[1] / "manifest.json", m);
    CHECK_THROWS_WITH(merge_runs(dirs, next_out(), opt),
                      Catch::Contains("s1/manifest.json") && Catch::Contains("in grounder"));
  }
  SECTION("not a shard") {
    { auto rd = run_directory::open(t.path / "plain", base_manifest()); }
    const std::vector<fs::path> plain{t.path / "plain"};
    CHECK_THROWS_WITH(merge_runs(plain, next_out(), opt), Catch::Contains("not a shard"));
  }
  SECTION("a query in two shards") {
    // Copy one of shard 0's records into shard 1's file: it is both foreign and doubled; the
    // foreign check names it first.
    const auto c0 = read_run_file(dirs[0] / "predictions.jsonl");
    REQUIRE(!c0.records.empty());
    std::ofstream(dirs[1] / "predictions.jsonl", std::ios::app) << c0.records[0].line << "\n";
    CHECK_THROWS_WITH(merge_runs(dirs, next_out(), opt),
                      Catch::Contains("s1/predictions.jsonl:") &&
                          Catch::Contains("belongs to shard 0/3, not 1/3"));
  }
  SECTION("a query doubled inside one shard file") {
    const auto c0 = read_run_file(dirs[0] / "predictions.jsonl");
    std::ofstream(dirs[0] / "predictions.jsonl", std::ios::app) << c0.records[0].line << "\n";
    CHECK_THROWS_WITH(merge_runs(dirs, next_out(), opt),
                      Catch::Contains("is also recorded in") && Catch::Contains(":1"));
  }
  SECTION("a torn shard") {
    std::ofstream(dirs[2] / "predictions.jsonl", std::ios::app) << "{\"image_id\": \"im";
    CHECK_THROWS_WITH(merge_runs(dirs, next_out(), opt), Catch::Contains("s2/predictions.jsonl") &&
                                                             Catch::Contains("resume this shard"));
  }
  SECTION("a missing query") {
    auto expected = all;
    expected.push_back({"img99", 0, 0});
    opt.expected = expected;
    CHECK_THROWS_WITH(
        merge_runs(dirs, next_out(), opt),
        Catch::Contains("1 expected query is missing") && Catch::Contains("img99/0/0"));
  }
  SECTION("an unexpected query") {
    auto expected = all;
    expected.pop_back();
    opt.expected = expected;
    CHECK_THROWS_WITH(
        merge_runs(dirs, next_out(), opt),
        Catch::Contains("1 recorded query is not expected") && Catch::Contains("img19/1/1"));
  }
  SECTION("a missing predictions file") {
    fs::remove(dirs[1] / "predictions.jsonl");
    CHECK_THROWS_WITH(merge_runs(dirs, next_out(), opt), Catch::Contains("missing"));
  }
}

TEST_CASE("a run killed with SIGKILL resumes without loss or duplicates", "[run_dir]") {
  temp_dir t("kill");
  const fs::path dir = t.path / "run";
  const std::size_t total = 20000;
  auto key_of = [](std::size_t i) {
    return run_key{"img" + std::to_string(i / 10), static_cast<long long>(i / 5 % 2), i % 5};
  };
  { auto rd = run_directory::open(dir, base_manifest()); }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child appends batches of 7 records until killed (or done).
    try {
      auto rd = run_directory::open(dir, base_manifest());
      std::vector<run_record> batch;
      for (std::size_t i = 0; i < total; ++i) {
        const auto k = key_of(i);
        batch.push_back(make_record(k.image_id, k.sentence_index, k.phrase_index));
        if (batch.size() == 7) {
          rd.append(batch);
          batch.clear();
        }
      }
      rd.append(batch);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  // Kill it once some records are on disk.
  const fs::path pred = dir / "predictions.jsonl";
  for (int i = 0; i < 2000 && (!fs::exists(pred) || fs::file_size(pred) < 20000); ++i)
    ::usleep(1000);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  const bool killed = WIFSIGNALED(status);
  if (!killed) CHECK(WEXITSTATUS(status) == 0);  // finished before the kill: still consistent

  std::vector<std::string> warnings;
  run_open_options opt;
  opt.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto rd = run_directory::open(dir, base_manifest(), opt);
  const std::size_t had = rd.resumed_records();
  CHECK(had > 0);
  CHECK(warnings.size() == (rd.dropped_bytes() > 0 ? 1u : 0u));
  // The records on disk are a prefix of the child's sequence, each exactly once.
  for (std::size_t i = 0; i < had; ++i) CHECK(rd.is_finished(key_of(i)));
  std::vector<run_record> rest;
  for (std::size_t i = 0; i < total; ++i) {
    const auto k = key_of(i);
    if (!rd.is_finished(k))
      rest.push_back(make_record(k.image_id, k.sentence_index, k.phrase_index));
  }
  CHECK(rest.size() == total - had);
  rd.append(rest);
  const auto c = read_run_file(pred);
  CHECK(c.records.size() == total);
  CHECK(c.torn_bytes == 0);
  std::set<run_key> keys;
  for (const auto& r : c.records) keys.insert(r.key);
  CHECK(keys.size() == total);
}
