// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the data set tests: temporary folders and expected-error checks.
#pragma once

#include <groundeval/error.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace ge_test {

/// A fresh folder under the system temp dir, removed at scope exit.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("groundeval_ds_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
  /// Writes `content` (bytes as given) to `rel`, creating folders.
  std::string write(const std::string& rel, const std::string& content) const {
    const auto p = path / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

/// Runs `fn`, expects a groundeval::error whose message contains `file` and, if line > 0,
/// "file:line:"; also checks where()/line().
template <class Fn>
void require_error_at(Fn&& fn, const std::string& file, std::size_t line,
                      const std::string& fragment) {
  try {
    fn();
    FAIL("expected a groundeval::error for " << file << ":" << line << " (" << fragment << ")");
  } catch (const groundeval::error& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(e.where() == file);
    CHECK(e.line() == line);
    if (line > 0) {
      CHECK(msg.find(file + ":" + std::to_string(line) + ": ") == 0);
    } else {
      CHECK(msg.find(file + ": ") == 0);
    }
    CHECK(msg.find(fragment) != std::string::npos);
  }
}

}  // namespace ge_test
