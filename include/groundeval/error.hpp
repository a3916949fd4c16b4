// SPDX-License-Identifier: Apache-2.0
// groundeval/error.hpp — the one exception type of the library. Target: groundeval::core.
//
// Thrown for set-up and input errors (a malformed annotation file, a bad option, a missing image).
// The message always names where the problem is: "FILE:LINE: what" when a line is known,
// "FILE: what" otherwise, so users can jump to it. Per-query model failures are not exceptions
// (see query_status).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace groundeval {

enum class error_kind {
  io,          ///< a file is missing or unreadable
  parse,       ///< a file's content is malformed
  invalid,     ///< well-formed but inconsistent input (ids, sizes, boxes)
  config,      ///< bad option, spec or argument
  backend,     ///< a model backend failed in a way that stops the run
  unsupported  ///< a feature not available in this build (e.g. CUDA without a device)
};

constexpr std::string_view to_string(error_kind k) noexcept {
  switch (k) {
    case error_kind::io:
      return "io";
    case error_kind::parse:
      return "parse";
    case error_kind::invalid:
      return "invalid";
    case error_kind::config:
      return "config";
    case error_kind::backend:
      return "backend";
    case error_kind::unsupported:
      return "unsupported";
  }
  return "unknown";
}

class error : public std::runtime_error {
 public:
  /// `where` is a file path or item name (may be empty); `line` is 1-based, 0 = unknown.
  error(error_kind kind, std::string where, std::size_t line, const std::string& what)
      : std::runtime_error(format(where, line, what)),
        m_kind(kind),
        m_where(std::move(where)),
        m_line(line) {}
  error(error_kind kind, const std::string& what) : error(kind, std::string{}, 0, what) {}

  error_kind kind() const noexcept { return m_kind; }
  const std::string& where() const noexcept { return m_where; }
  std::size_t line() const noexcept { return m_line; }

 private:
  static std::string format(const std::string& where, std::size_t line, const std::string& what) {
    if (where.empty()) return what;
    std::string s = where;
    if (line > 0) s += ':' + std::to_string(line);
    s += ": ";
    s += what;
    return s;
  }
  error_kind m_kind;
  std::string m_where;
  std::size_t m_line;
};

}  // namespace groundeval
