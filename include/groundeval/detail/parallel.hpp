// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/parallel.hpp — a minimal fork-join loop over std::thread for the CPU drivers.
// Target: groundeval::core (standard library + Threads).
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace groundeval {

/// How the CPU drivers may use threads.
struct parallel_options {
  unsigned threads = 0;                        ///< 0: std::thread::hardware_concurrency()
  std::size_t min_work_per_thread = 1u << 18;  ///< below this many work items, stay single-threaded
};

namespace detail {

/// Calls fn(begin, end) on contiguous chunks of [0, n); `work_per_item` scales the threshold.
/// Exceptions from workers are rethrown on the calling thread (the first one wins).
template <class Fn>
void parallel_for(std::size_t n, std::size_t work_per_item, const parallel_options& opt, Fn&& fn) {
  if (n == 0) return;
  unsigned hw = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t work = n * std::max<std::size_t>(work_per_item, 1);
  const std::size_t by_work =
      std::max<std::size_t>(1, work / std::max<std::size_t>(opt.min_work_per_thread, 1));
  const std::size_t t = std::min<std::size_t>({static_cast<std::size_t>(hw), by_work, n});
  if (t <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(t);
  pool.reserve(t - 1);
  const std::size_t chunk = (n + t - 1) / t;
  for (std::size_t k = 1; k < t; ++k) {
    const std::size_t b = std::min(n, k * chunk), e = std::min(n, b + chunk);
    pool.emplace_back([&, k, b, e] {
      try {
        if (b < e) fn(b, e);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  }
  try {
    fn(std::size_t{0}, std::min(n, chunk));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace detail
}  // namespace groundeval
