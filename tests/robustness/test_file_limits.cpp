// SPDX-License-Identifier: Apache-2.0
// Bad-input matrix rows of files read whole and of predictions paths (docs/robustness.md,
// R96..R99, issue 15 findings 10, 12 and 13): /dev/zero and files above the size limits, a
// directory or a FIFO nobody writes to where a file is expected, predictions from a pipe, an
// oracle proposals file with a number beyond the double range.
#include "robust_util.hpp"

#include <groundeval/cli/app.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/grounders/json/proposals.hpp>
#include <groundeval/grounders/json/replay.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/io/image.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/run/manifest.hpp>
#include <groundeval/run/run_dir.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

using namespace groundeval;
using robust::error_text;
namespace fs = std::filesystem;

namespace {

const char* const record_line =
    R"({"image_id": "7", "sentence_id": 0, "phrase_index": 0, "boxes": [[0, 0, 10, 10]], )"
    R"("status": "ok"})"
    "\n";

/// A file of `bytes` bytes that takes no disk blocks (read: zeros).
void sparse_file(const fs::path& p, off_t bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, bytes) == 0);
  ::close(fd);
}

/// A FIFO at `p` (nobody writes to it unless a test starts a writer).
void fifo(const fs::path& p) { REQUIRE(::mkfifo(p.c_str(), 0600) == 0); }

/// Writes `text` into the FIFO `p` from another thread (opening blocks until a reader opens).
std::thread fifo_writer(const fs::path& p, std::string text) {
  return std::thread([p, text = std::move(text)] {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    for (std::size_t at = 0; at < text.size();) {
      const auto n = ::write(fd, text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
}

in_memory_dataset one_phrase() {
  std::vector<sample> ss{{"7", {100, 80}, 0, "a b", {}}};
  ss[0].phrases.push_back({"a", "1", {"people"}, {{0, 0, 10, 10}}, 0, 1, 0});
  return in_memory_dataset("d", std::move(ss));
}

std::string split_error(const std::string& path, const fs::path& dir = {}) {
  return error_text(
      [&] {
        problem_sink sink;
        (void)read_split_file(path, sink);
      },
      dir);
}

}  // namespace

TEST_CASE("R96 /dev/zero or a file above the limit where a file is read whole",
          "[robustness][limits]") {
  const auto d = robust::scratch("R96");
  // /dev/zero: a device, read up to the limit (never more than the limit held), then refused
  CHECK(split_error("/dev/zero") ==
        "/dev/zero: cannot read split list (larger than the 64 MiB limit for one file)");
  CHECK(error_text([] { (void)read_image_bytes("/dev/zero"); }) ==
        "/dev/zero: cannot read image (larger than the 256 MiB limit for one file)");
  CHECK(error_text([] { (void)cli::builtin_grounders().parse("@/dev/zero"); }) ==
        "/dev/zero: cannot read the grounder config file (larger than the 1 MiB limit for one "
        "file)");
  CHECK(error_text([] { (void)read_manifest("/dev/zero"); }) ==
        "/dev/zero: cannot read the manifest (larger than the 16 MiB limit for one file)");
  CHECK(error_text([] { (void)read_proposals("/dev/zero"); }) ==
        "/dev/zero: cannot read the proposals file (larger than the 256 MiB limit for one file)");
  // regular files above the limit are refused from their size, before anything is read
  sparse_file(d / "test.txt", off_t(1) << 30);
  CHECK(split_error((d / "test.txt").string(), d) ==
        "<dir>/test.txt: cannot read split list (larger than the 64 MiB limit for one file)");
  sparse_file(d / "a.json", off_t(3) << 30);
  CHECK(error_text([&] { (void)load_mdetr_annotations_detailed((d / "a.json").string()); }, d) ==
        "<dir>/a.json: cannot read annotation file (larger than the 2048 MiB limit for one file)");
  sparse_file(d / "x.npy", off_t(2) << 30);
  CHECK(error_text([&] { (void)read_npy<float>((d / "x.npy").string()); }, d) ==
        "<dir>/x.npy: cannot read array file (larger than the 1024 MiB limit for one file)");
}

TEST_CASE("R97 a directory or a FIFO without a writer where a file is read whole",
          "[robustness][limits]") {
  const auto d = robust::scratch("R97");
  fs::create_directories(d / "test.txt");
  CHECK(split_error((d / "test.txt").string(), d) ==
        "<dir>/test.txt: cannot read split list (Is a directory)");
  fifo(d / "g.conf");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(
      error_text([&] { (void)cli::builtin_grounders().parse("@" + (d / "g.conf").string()); }, d) ==
      "<dir>/g.conf: cannot read the grounder config file (a pipe or FIFO with nothing written "
      "to it: no program wrote to it within 2 s; start the program that writes it first, or "
      "give a regular file)");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));  // no hang
  // a FIFO that is written to is read as a stream
  fifo(d / "split.txt");
  std::thread w = fifo_writer(d / "split.txt", "7\n8\n");
  problem_sink sink;
  const auto ids = read_split_file((d / "split.txt").string(), sink);
  w.join();
  CHECK(ids == std::vector<std::string>{"7", "8"});
}

TEST_CASE("R98 predictions given as a directory, a FIFO or a pipe", "[robustness][predictions]") {
  const auto d = robust::scratch("R98");
  const auto data = one_phrase();
  auto eval_error = [&](const fs::path& p) {
    return error_text([&] { (void)evaluate_predictions_file(data, p.string()); }, d);
  };
  CHECK(eval_error(d) ==
        "<dir>: is a directory, not a predictions file (a run directory's predictions are "
        "DIR/predictions.jsonl)");
  fifo(d / "none.jsonl");
  CHECK(eval_error(d / "none.jsonl") ==
        "<dir>/none.jsonl: cannot open the file (a pipe or FIFO with nothing written to it: no "
        "program wrote to it within 2 s; start the program that writes it first, or give a "
        "regular file)");
  // JSON Lines from a pipe (`<(zcat p.jsonl.gz)`, /dev/stdin) are read as a stream: the same
  // result as the file
  std::string text;
  for (int i = 0; i < 3000; ++i) text += record_line;  // more than the pipe's buffer
  robust::write(d / "p.jsonl", text);
  const auto from_file = evaluate_predictions_file(data, (d / "p.jsonl").string());
  fifo(d / "pipe.jsonl");
  std::thread w = fifo_writer(d / "pipe.jsonl", "\n  " + text);
  const auto from_pipe = evaluate_predictions_file(data, (d / "pipe.jsonl").string());
  w.join();
  CHECK(from_pipe.phrases == 1);
  CHECK(from_pipe.phrases == from_file.phrases);
  CHECK(from_pipe.recall.categories.at("all").hits == from_file.recall.categories.at("all").hits);
  CHECK(from_pipe.warnings.duplicate_phrases == 2999);
  CHECK(from_file.warnings.duplicate_phrases == 2999);
  // MDETR JSON is read twice when malformed: refused from a pipe
  fifo(d / "pipe.json");
  w = fifo_writer(d / "pipe.json", R"([{"image_id": "7", "sentence_id": 0, "boxes": [[]]}])");
  CHECK(eval_error(d / "pipe.json") ==
        "<dir>/pipe.json: MDETR JSON predictions cannot be read from a pipe or a device (a "
        "malformed list is read a second time to find the error): write them to a file first, or "
        "give JSON Lines, which are read as a stream");
  w.join();
  // the predictions grounder reads its file twice (an index, then each record)
  fifo(d / "replay.jsonl");
  w = fifo_writer(d / "replay.jsonl", record_line);
  CHECK(error_text([&] { replay_grounder g((d / "replay.jsonl").string(), data); }, d) ==
        "<dir>/replay.jsonl: is a pipe or a device, and this reads the file twice: write it to "
        "a file first");
  w.join();
}

TEST_CASE("R99 oracle proposals file with a coordinate 1e999", "[robustness][limits]") {
  const auto d = robust::scratch("R99");
  robust::write(d / "prop.json", R"({"7": [[0, 0, 1e999, 10]]})");
  CHECK(error_text([&] { (void)read_proposals((d / "prop.json").string()); }, d) ==
        "<dir>/prop.json: [json.exception.out_of_range.406] number overflow parsing '1e999'");
}

TEST_CASE("R78 MDETR predictions nested 100,000 levels deep, and an integer beyond 64 bits",
          "[robustness][predictions]") {
  const auto d = robust::scratch("R78");
  const auto data = one_phrase();
  // valid JSON the fast path does not read: the reference reads it an entry at a time
  robust::write(d / "deep.json", std::string(100000, '[') + std::string(100000, ']'));
  CHECK(error_text([&] { (void)evaluate_predictions_file(data, (d / "deep.json").string()); }, d) ==
        "<dir>/deep.json:1: JSON nested deeper than 64 levels (an MDETR predictions entry needs "
        "5)");
  CHECK(error_text([&] { (void)read_mdetr_predictions((d / "deep.json").string()); }, d) ==
        "<dir>/deep.json:1: JSON nested deeper than 64 levels (an MDETR predictions entry needs "
        "5)");
  // a list never closed: no entry is held beyond 64 MiB
  robust::write(d / "open.json", "[");
  {
    const int fd = ::open((d / "open.json").c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t(1) << 30) == 0);  // '[' then 1 GiB of zero bytes, sparse
    ::close(fd);
  }
  CHECK(error_text([&] { (void)evaluate_predictions_file(data, (d / "open.json").string()); }, d) ==
        "<dir>/open.json: entry #0: longer than the 64 MiB limit of an MDETR predictions entry (a "
        "list never closed?)");
  robust::write(d / "big.json",
                "[{\"image_id\": \"7\", \"sentence_id\": 0, \"boxes\": [[[0, 0, 10, 10]]]},\n"
                " {\"image_id\": \"8\", \"sentence_id\": 0, \"boxes\": "
                "[[[0, 0, 10, 99999999999999999999999]]]}]");
  const auto r = evaluate_predictions_file(data, (d / "big.json").string());
  CHECK(r.phrases == 1);
  CHECK(r.recall.categories.at("all").hits.at(0) == 1);
  CHECK(r.warnings.unknown_images == 1);
  const auto p = read_mdetr_predictions((d / "big.json").string());
  REQUIRE(p.sentences.size() == 2);
  CHECK(p.sentences[1].boxes.at(0).at(0).box.y2 == 1e23);
  CHECK(p.sentences[1].item == 1);
}

TEST_CASE("R79 run directory: a line of 1 GiB, a sentence id beyond 64 bits", "[robustness][run]") {
  const auto d = robust::scratch("R79");
  robust::write(d / "manifest.json", "{\"config_hash\": \"h1\"}\n");
  sparse_file(d / "predictions.jsonl", off_t(1) << 30);  // no newline: one 1 GiB line
  CHECK(error_text(
            [&] {
              (void)run_directory::open(d, {{"config_hash", "h1"}});
            },
            d) ==
        "<dir>/predictions.jsonl:1: a line longer than the 64 MiB limit of a JSON Lines record");
  robust::write(d / "predictions.jsonl",
                "{\"image_id\":\"7\",\"sentence_id\":99999999999999999999,\"phrase_index\":0,"
                "\"config_hash\":\"h1\"}\n");
  CHECK(error_text(
            [&] {
              (void)run_directory::open(d, {{"config_hash", "h1"}});
            },
            d) == "<dir>/predictions.jsonl:1: \"sentence_id\" must be a non-negative integer");
}
