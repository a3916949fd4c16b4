// SPDX-License-Identifier: Apache-2.0
// Bad-input matrix rows of run directories and output folders (docs/robustness.md, R90..R95):
// a second writer, a stale lock, a record of another configuration, a demo folder that is not
// the demo's, a data set without evaluable phrases, a full standard output.
#include "robust_util.hpp"

#include <groundeval/cli/app.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/run/lock.hpp>
#include <groundeval/run/queries.hpp>
#include <groundeval/run/run_dir.hpp>
#include <groundeval/run/runner.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace groundeval;
using robust::error_text;

namespace {

// A lock held by "another process": flock conflicts between two open files of one process too.
struct held_lock {
  int fd;
  explicit held_lock(const std::filesystem::path& dir) {
    robust::write(
        dir / ".lock",
        "pid 4242\nhost elsewhere\nsince 2024-01-01T00:00:00Z\ncommand groundeval run A\n");
    fd = ::open((dir / ".lock").c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  }
  ~held_lock() { ::close(fd); }
  held_lock(const held_lock&) = delete;
  held_lock& operator=(const held_lock&) = delete;
};

std::string record(const std::string& image, const std::string& hash) {
  return R"({"image_id":")" + image +
         R"(","sentence_id":0,"phrase_index":0,"chain_id":"1","boxes":[[0,0,1,1]],)"
         R"("status":"ok","config_hash":")" +
         hash + "\"}\n";
}

}  // namespace

TEST_CASE("R90 run directory written by another process", "[robustness][run]") {
  const auto d = robust::scratch("R90");
  const held_lock other(d);
  for (bool start_over : {false, true}) {
    run_open_options o;
    o.start_over = start_over;
    CHECK(error_text(
              [&] {
                (void)run_directory::open(d, {{"config_hash", "h1"}}, o);
              },
              d) ==
          "<dir>: is in use by another groundeval process (pid 4242 on elsewhere since "
          "2024-01-01T00:00:00Z: groundeval run A); wait for it to end or choose another "
          "directory");
  }
  CHECK(!std::filesystem::exists(d / "manifest.json"));
}

TEST_CASE("R91 run directory with the lock file of a killed run", "[robustness][run]") {
  const auto d = robust::scratch("R91");
  robust::write(d / ".lock", "pid 4242\nhost elsewhere\nsince 2024-01-01T00:00:00Z\ncommand x\n");
  robust::write(d / "manifest.json", "{\"config_hash\": \"h1\"}\n");
  robust::write(d / "predictions.jsonl", record("7", "h1"));
  const auto r = run_directory::open(d, {{"config_hash", "h1"}});
  CHECK(r.resumed_records() == 1);
}

TEST_CASE("R92 run directory holding a record of another configuration", "[robustness][run]") {
  const auto d = robust::scratch("R92");
  robust::write(d / "manifest.json", "{\"config_hash\": \"h1\"}\n");
  robust::write(d / "predictions.jsonl", record("7", "h1") + record("8", "h2"));
  const std::string want =
      "<dir>/predictions.jsonl:2: this record was made by another configuration (config_hash "
      "'h2', the run's manifest.json says 'h1'): the directory mixes two runs; start over or "
      "move the record out";
  CHECK(error_text([&] { (void)run_directory::open(d, {{"config_hash", "h1"}}); }, d) == want);
  // evaluate and report read the records with the manifest's hash.
  predictions_read_options ro;
  ro.config_hash = run_config_hash_of(d / "predictions.jsonl");
  CHECK(ro.config_hash == "h1");
  CHECK(error_text([&] { (void)read_jsonl_predictions((d / "predictions.jsonl").string(), ro); },
                   d) == want);
}

TEST_CASE("R93 demo output folder holding the user's files", "[robustness][run]") {
  const auto d = robust::scratch("R93");
  robust::write(d / "out" / "photos" / "mine.jpg", "x");
  CHECK(error_text(
            [&] {
              (void)claim_output_directory(d / "out", ".groundeval-demo", "groundeval demo",
                                           "groundeval demo");
            },
            d) ==
        "<dir>/out: is not empty and was not written by groundeval demo (no .groundeval-demo "
        "in it); choose a new or empty directory, nothing was changed");
  CHECK(std::filesystem::exists(d / "out" / "photos" / "mine.jpg"));
  CHECK(!std::filesystem::exists(d / "out" / ".lock"));
}

TEST_CASE("R94 data set without an evaluable phrase", "[robustness][run]") {
  std::vector<sample> ss{{"7", {100, 80}, 0, "a b", {}}};
  ss[0].phrases.push_back({"a", "9", {"people"}, {}, 0, 1, 0});  // chain without a box
  const in_memory_dataset data("d", std::move(ss));
  CHECK(error_text([&] { require_evaluable_phrases(data, "flickr30k:<dir>"); }) ==
        "flickr30k:<dir>: the data set has no evaluable phrase (no phrase whose chain has a "
        "ground-truth box): nothing to run or evaluate");
}

TEST_CASE("R95 standard output on a full disk (/dev/full)", "[robustness][run]") {
  const auto d = robust::scratch("R95");
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);  // Linux has /dev/full
  std::fflush(stdout);
  std::fflush(stderr);
  const int out = ::dup(1), err = ::dup(2);
  const int log = ::open((d / "err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ::dup2(full, 1);
  ::dup2(log, 2);
  char a0[] = "groundeval", a1[] = "version";
  char* argv[] = {a0, a1, nullptr};
  const int rc = cli::main(2, argv);
  std::fflush(stderr);
  std::clearerr(stdout);
  ::dup2(out, 1);
  ::dup2(err, 2);
  for (int fd : {full, out, err, log}) ::close(fd);
  std::ifstream f(d / "err.txt");
  std::stringstream text;
  text << f.rdbuf();
  CHECK(rc == 1);
  CHECK(text.str() == std::string("groundeval version: error: ") +
                          "<stdout>: write error: No space left on device" + "\n");
}

TEST_CASE("R80 resume on a reordered split list", "[robustness][run]") {
  const auto d = robust::scratch("R80");
  // the same three samples in two orders: another content hash, the same set hash
  std::vector<sample> ss;
  for (const char* id : {"7", "8", "9"}) {
    ss.push_back({id, {100, 80}, 0, "a b", {}});
    ss.back().phrases.push_back({"a", "1", {"people"}, {{0, 0, 10, 10}}, 0, 1, 0});
  }
  const in_memory_dataset a("d", ss);
  std::reverse(ss.begin(), ss.end());
  const in_memory_dataset b("d", ss);
  CHECK(dataset_content_hash(a) != dataset_content_hash(b));
  CHECK(dataset_set_hash(a) == dataset_set_hash(b));
  auto manifest = [](const in_memory_dataset& data) {
    return run_manifest{{"config_hash", "h1"},
                        {"dataset_content_hash", dataset_content_hash(data)},
                        {"dataset_set_hash", dataset_set_hash(data)}};
  };
  run_open_options o;
  o.volatile_keys = run_volatile_keys();
  { (void)run_directory::open(d, manifest(a), o); }
  robust::write(d / "predictions.jsonl", record("7", "h1"));
  CHECK(run_directory::open(d, manifest(b), o).resumed_records() == 1);
  // other data (a sample left out) is refused
  ss.pop_back();
  const in_memory_dataset c("d", ss);
  CHECK(robust::error_text([&] { (void)run_directory::open(d, manifest(c), o); }, d)
            .starts_with("<dir>/manifest.json: this run differs from the stored one in "
                         "dataset_content_hash; refusing to mix results"));
}
