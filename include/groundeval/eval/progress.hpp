// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/progress.hpp — progress reporting for long runs: a bar with rate, ETA and
// failures redrawn in place on a terminal, plain periodic lines otherwise (CI, logs), or nothing.
// Target: groundeval::core (standard library plus POSIX isatty).
//
// The clock and the output stream are injected, so the behaviour is testable without waiting.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>

#include <unistd.h>

namespace groundeval {

enum class progress_mode {
  automatic,  ///< bar on a terminal, lines otherwise
  bar,        ///< redraw one line in place ('\r' and erase-to-end-of-line)
  lines,      ///< a plain line every line_interval_s seconds or every line_fraction of the work
  quiet       ///< nothing at all
};

struct progress_options {
  progress_mode mode = progress_mode::automatic;
  std::string label = "queries";
  double line_interval_s = 10.0;   ///< lines mode: at least this long between two lines ...
  double line_fraction = 0.05;     ///< ... or whenever another 5 % of the total is done
  double redraw_interval_s = 0.1;  ///< bar mode: at most 10 redraws a second
  int bar_width = 28;
};

/// Seconds of a monotonic clock.
inline double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// Whether the file descriptor is a terminal (isatty), e.g. is_terminal(STDERR_FILENO).
inline bool is_terminal(int fd) noexcept { return ::isatty(fd) == 1; }

/// "42s", "5m06s", "2h03m"; "?" when negative or not finite.
inline std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<long long>(std::llround(s));
  char buf[40];
  if (t < 60)
    std::snprintf(buf, sizeof buf, "%llds", t);
  else if (t < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
  return buf;
}

/// Reports the progress of `total` units of work (0 = unknown total). Thread-safe: workers may
/// call advance() concurrently. Work found already done on resume (`already_done`) counts toward
/// the total but not toward the rate.
class progress_reporter {
 public:
  using clock_fn = std::function<double()>;

  progress_reporter(std::ostream& os, bool terminal, std::uint64_t total, progress_options opt = {},
                    clock_fn clock = steady_seconds, std::uint64_t already_done = 0)
      : m_os(os),
        m_opt(std::move(opt)),
        m_clock(std::move(clock)),
        m_total(total),
        m_done(already_done),
        m_start_done(already_done) {
    if (m_opt.mode == progress_mode::automatic)
      m_opt.mode = terminal ? progress_mode::bar : progress_mode::lines;
    m_start = m_last = m_clock();
    if (m_opt.mode == progress_mode::lines && m_total > 0)
      m_next_fraction = next_step(static_cast<double>(m_done) / static_cast<double>(m_total));
  }
  progress_reporter(const progress_reporter&) = delete;
  progress_reporter& operator=(const progress_reporter&) = delete;

  /// The mode in effect (automatic resolved).
  progress_mode mode() const noexcept { return m_opt.mode; }

  /// Adds `done` finished units, `failed` of which failed.
  void advance(std::uint64_t done, std::uint64_t failed = 0) {
    std::lock_guard lock(m_mutex);
    m_done += done;
    m_failed += failed;
    maybe_print(false);
  }

  /// Final report: the bar is completed and ended with a newline; lines mode prints a summary.
  /// Called once; later calls do nothing.
  void finish() {
    std::lock_guard lock(m_mutex);
    if (m_finished) return;
    m_finished = true;
    if (m_opt.mode == progress_mode::quiet) return;
    const double now = m_clock();
    if (m_opt.mode == progress_mode::bar) {
      m_os << '\r' << bar_line(now) << "\x1b[K\n";
    } else {
      m_os << m_opt.label << ": done " << counts() << " in " << format_duration(now - m_start)
           << rate_text(now) << ", " << m_failed << (m_failed == 1 ? " failure" : " failures")
           << '\n';
    }
    m_os.flush();
  }

  /// The current status, as the bar shows it (without control characters).
  std::string status() const {
    std::lock_guard lock(m_mutex);
    return bar_line(m_clock());
  }

  std::uint64_t done() const {
    std::lock_guard lock(m_mutex);
    return m_done;
  }
  std::uint64_t failed() const {
    std::lock_guard lock(m_mutex);
    return m_failed;
  }

 private:
  double next_step(double fraction) const {
    const double step = m_opt.line_fraction > 0 ? m_opt.line_fraction : 1.0;
    return (std::floor(fraction / step + 1e-9) + 1.0) * step;
  }

  double rate(double now) const {
    const double dt = now - m_start;
    return dt > 0 ? static_cast<double>(m_done - m_start_done) / dt : 0.0;
  }

  std::string rate_text(double now) const {
    const double r = rate(now);
    if (r <= 0) return "";
    char buf[48];
    std::snprintf(buf, sizeof buf, ", %.1f/s", r);
    return buf;
  }

  std::string counts() const {
    std::string s = std::to_string(m_done);
    if (m_total > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " (%.1f%%)",
                    100.0 * static_cast<double>(m_done) / static_cast<double>(m_total));
      s += "/" + std::to_string(m_total) + buf;
    }
    return s;
  }

  std::string eta_text(double now) const {
    if (m_total == 0) return "";
    if (m_done >= m_total) return ", ETA 0s";
    const double r = rate(now);
    if (r <= 0) return ", ETA ?";
    return ", ETA " + format_duration(static_cast<double>(m_total - m_done) / r);
  }

  std::string bar_line(double now) const {
    std::string s;
    if (m_total > 0) {
      const double f = std::min(1.0, static_cast<double>(m_done) / static_cast<double>(m_total));
      const int w = std::max(1, m_opt.bar_width);
      const int full = static_cast<int>(f * w);
      s += '[';
      s.append(static_cast<std::size_t>(full), '#');
      s.append(static_cast<std::size_t>(w - full), '.');
      s += "] ";
    }
    s += counts() + " " + m_opt.label + rate_text(now) + eta_text(now) + ", " +
         std::to_string(m_failed) + (m_failed == 1 ? " failure" : " failures");
    return s;
  }

  void maybe_print(bool force) {
    if (m_finished || m_opt.mode == progress_mode::quiet) return;
    const double now = m_clock();
    if (m_opt.mode == progress_mode::bar) {
      if (!force && now - m_last < m_opt.redraw_interval_s && m_done < m_total) return;
      m_os << '\r' << bar_line(now) << "\x1b[K";
      m_os.flush();
      m_last = now;
      return;
    }
    const double frac =
        m_total > 0 ? static_cast<double>(m_done) / static_cast<double>(m_total) : 0.0;
    const bool by_time = now - m_last >= m_opt.line_interval_s;
    const bool by_fraction = m_total > 0 && frac + 1e-12 >= m_next_fraction;
    if (!force && !by_time && !by_fraction) return;
    m_os << m_opt.label << ": " << counts() << rate_text(now) << eta_text(now) << ", " << m_failed
         << (m_failed == 1 ? " failure" : " failures") << '\n';
    m_os.flush();
    m_last = now;
    if (m_total > 0) m_next_fraction = next_step(frac);
  }

  std::ostream& m_os;
  progress_options m_opt;
  clock_fn m_clock;
  mutable std::mutex m_mutex;
  std::uint64_t m_total = 0, m_done = 0, m_start_done = 0, m_failed = 0;
  double m_start = 0, m_last = 0, m_next_fraction = 0;
  bool m_finished = false;
};

}  // namespace groundeval
