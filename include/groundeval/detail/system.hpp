// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/system.hpp — what a run records about when and where it ran: the UTC time
// and the host name. Target: groundeval::core (standard library plus POSIX gethostname).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>

#include <unistd.h>

namespace groundeval::detail {

/// The current time in UTC, formatted by strftime(3) `format` (at most 63 characters).
inline std::string utc_time(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

/// The machine's host name ("unknown" when it cannot be read).
inline std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace groundeval::detail
