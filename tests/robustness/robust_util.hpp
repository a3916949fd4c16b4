// SPDX-License-Identifier: Apache-2.0
// Helpers of the bad-input matrix tests (docs/robustness.md): scratch folders in the build tree,
// file writers, the error text a call produces with the scratch folder replaced by "<dir>", and
// the error of a --grounder spec.
#pragma once

#include <groundeval/cli/app.hpp>
#include <groundeval/error.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace robust {

namespace fs = std::filesystem;

/// A fresh, empty folder below the build tree (GROUNDEVAL_ROBUST_WORK), named after the row.
inline fs::path scratch(const std::string& name) {
  const fs::path p = fs::path(GROUNDEVAL_ROBUST_WORK) / name;
  std::error_code ec;
  fs::remove_all(p, ec);
  fs::create_directories(p);
  return p;
}

inline void write(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

/// Replaces every occurrence of `dir` (a scratch folder) in `s` by "<dir>".
inline std::string placeholder(std::string s, const fs::path& dir) {
  const std::string d = dir.string();
  for (std::size_t at; !d.empty() && (at = s.find(d)) != std::string::npos;)
    s.replace(at, d.size(), "<dir>");
  return s;
}

/// The message of the groundeval::error `f` throws ("<no error>" when it returns; other
/// exceptions are reported as such so that a test comparing the text fails).
template <class F>
std::string error_text(F&& f, const fs::path& dir = {}) {
  try {
    f();
  } catch (const groundeval::error& e) {
    return placeholder(e.what(), dir);
  } catch (const std::exception& e) {
    return "<not a groundeval::error: " + std::string(e.what()) + ">";
  }
  return "<no error>";
}

/// The error building a grounder from `spec` gives, as `groundeval run --grounder SPEC` would
/// (the built-in kinds, an empty data set); `dir` as for error_text.
inline std::string spec_error(const std::string& spec, const fs::path& dir = {}) {
  return error_text(
      [&] {
        const groundeval::in_memory_dataset data;
        const auto kinds = groundeval::cli::builtin_grounders();
        (void)kinds.make(kinds.parse(spec), data);
      },
      dir);
}

}  // namespace robust
