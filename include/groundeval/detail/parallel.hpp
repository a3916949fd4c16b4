// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/parallel.hpp — the library's one way to use threads for CPU work: a
// fork-join loop over contiguous chunks (parallel_for: items of equal cost, e.g. the box kernels'
// CPU drivers and the predictions batches) and one over blocks taken from a shared counter
// (parallel_for_dynamic: items of uneven cost, e.g. the loader's images, with the first failure
// in index order rethrown and per-worker CPU time for the loader's timeline). Work handed from
// one thread to another as it is produced (a predictions file decoded while it is evaluated)
// goes through detail/batch_channel.hpp.
// Target: groundeval::core (standard library + Threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#if __has_include(<time.h>)
#include <time.h>
#endif

namespace groundeval {

/// How the CPU drivers may use threads.
struct parallel_options {
  unsigned threads = 0;                        ///< 0: std::thread::hardware_concurrency()
  std::size_t min_work_per_thread = 1u << 18;  ///< below this many work items, stay single-threaded
};

namespace detail {

/// The threads a CPU driver may use: `threads`, or the hardware's where that is 0 (at least 1).
/// The hardware's count is asked once per process: glibc reads /sys/devices/system/cpu/online
/// each time (three system calls), and an evaluation asked nine times.
inline unsigned thread_count(unsigned threads) noexcept {
  static const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  return threads ? threads : hardware;
}

/// Calls fn(begin, end) on contiguous chunks of [0, n); `work_per_item` scales the threshold.
/// Exceptions from workers are rethrown on the calling thread (the first one wins).
template <class Fn>
void parallel_for(std::size_t n, std::size_t work_per_item, const parallel_options& opt, Fn&& fn) {
  if (n == 0) return;
  const unsigned hw = thread_count(opt.threads);
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

/// Block of indices a worker of parallel_for_dynamic takes at a time.
inline constexpr std::size_t dynamic_block = 64;

/// Number of workers parallel_for_dynamic uses for n indices (0 threads = hardware
/// concurrency; never more than there are blocks, at least 1).
inline unsigned dynamic_worker_count(std::size_t n, unsigned threads) {
  const unsigned t = thread_count(threads);
  return static_cast<unsigned>(
      std::max<std::size_t>(1, std::min<std::size_t>(t, (n + dynamic_block - 1) / dynamic_block)));
}

/// CPU seconds the calling thread has used (0 where the platform has no per-thread clock).
inline double thread_cpu_seconds() noexcept {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
#endif
  return 0.0;
}

/// Per worker of parallel_for_dynamic: CPU seconds used and indices done.
struct worker_usage {
  std::vector<double> cpu;
  std::vector<std::size_t> done;
};

/// Calls fn(i, w) for i in [0, n) on dynamic_worker_count(n, threads) threads, w being the
/// worker's index (for items of uneven cost, e.g. the loader's images: each a few files); workers
/// take blocks of 64 indices from a shared counter (block b is [64 b, 64 b + 64), done in order by
/// one worker), so a thread slowed down by other load on the machine does not hold the others up.
/// If calls throw, the exception of the smallest failing index is rethrown (the same one as a
/// sequential loop would throw, whatever the timing); indices above a known failure are skipped.
/// `usage`, when given, receives each worker's CPU time and number of indices.
template <class Fn>
void parallel_for_dynamic(std::size_t n, unsigned threads, Fn&& fn, worker_usage* usage = nullptr) {
  constexpr std::size_t block = dynamic_block;
  const unsigned t = dynamic_worker_count(n, threads);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> first_error{n};
  std::vector<std::exception_ptr> errors(std::max(1u, t));
  std::vector<std::size_t> error_index(errors.size(), n);
  if (usage) {
    usage->cpu.assign(errors.size(), 0.0);
    usage->done.assign(errors.size(), 0);
  }
  auto work = [&](unsigned w) {
    const double cpu0 = usage ? thread_cpu_seconds() : 0.0;
    struct note_usage {
      worker_usage* usage;
      unsigned w;
      double cpu0;
      ~note_usage() {
        if (usage) usage->cpu[w] = thread_cpu_seconds() - cpu0;
      }
    } note{usage, w, cpu0};
    for (;;) {
      const std::size_t b = next.fetch_add(block);
      if (b >= n) return;
      const std::size_t e = std::min(n, b + block);
      if (usage) usage->done[w] += e - b;
      for (std::size_t i = b; i < e; ++i) {
        if (i > first_error.load(std::memory_order_relaxed)) return;
        try {
          fn(i, w);
        } catch (...) {
          if (i < error_index[w]) {
            error_index[w] = i;
            errors[w] = std::current_exception();
          }
          std::size_t cur = first_error.load();
          while (i < cur && !first_error.compare_exchange_weak(cur, i)) {
          }
          return;
        }
      }
    }
  };
  if (t <= 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(t - 1);
    for (unsigned w = 1; w < t; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& th : pool) th.join();
  }
  std::size_t best = n;
  std::exception_ptr err;
  for (std::size_t w = 0; w < errors.size(); ++w)
    if (errors[w] && error_index[w] < best) {
      best = error_index[w];
      err = errors[w];
    }
  if (err) std::rethrow_exception(err);
}

}  // namespace detail
}  // namespace groundeval
