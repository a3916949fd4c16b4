// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/problems.hpp — strict/lenient handling of bad input in the loaders.
// Target: groundeval::core (standard library only). Strict mode (the default) turns the first
// problem into a groundeval::error naming the file and line; lenient mode collects every problem
// into a report and lets the loader continue with the reference parsers' behaviour.
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace groundeval {

/// One problem found in the input: where it is and what is wrong.
struct dataset_problem {
  error_kind kind = error_kind::parse;
  std::string file;      ///< file path or item name
  std::size_t line = 0;  ///< 1-based, 0 = unknown / whole file
  std::string message;

  /// "FILE:LINE: message" (the same text a strict loader throws).
  std::string to_string() const { return error(kind, file, line, message).what(); }
};

/// Where loaders send problems: throws in strict mode, records in lenient mode.
class problem_sink {
 public:
  explicit problem_sink(bool strict = true) : m_strict(strict) {}

  bool strict() const noexcept { return m_strict; }

  /// Strict: throws groundeval::error(kind, file, line, message). Lenient: records it.
  void report(error_kind kind, std::string file, std::size_t line, std::string message) {
    if (m_strict) throw error(kind, std::move(file), line, message);
    m_problems.push_back({kind, std::move(file), line, std::move(message)});
  }

  const std::vector<dataset_problem>& problems() const noexcept { return m_problems; }
  std::vector<dataset_problem> take() noexcept { return std::exchange(m_problems, {}); }
  /// Appends another sink's problems (used to merge per-thread sinks in a fixed order).
  void append(std::vector<dataset_problem>&& other) {
    for (auto& p : other) m_problems.push_back(std::move(p));
  }

 private:
  bool m_strict;
  std::vector<dataset_problem> m_problems;
};

}  // namespace groundeval
