// SPDX-License-Identifier: Apache-2.0
// cli/interrupt.hpp — Ctrl-C as a cooperative stop: while an interrupt_guard lives, SIGINT sets
// a flag that the runner polls between batches (run_options::stop_requested); the previous
// handler comes back after. Part of the CLI library.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace groundeval::cli {

namespace detail_interrupt {
inline std::atomic<bool> flag{false};
extern "C" inline void on_sigint(int) { flag.store(true); }
}  // namespace detail_interrupt

class interrupt_guard {
 public:
  interrupt_guard() {
    detail_interrupt::flag.store(false);
    struct sigaction sa {};
    sa.sa_handler = detail_interrupt::on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &m_old);
  }
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;
  ~interrupt_guard() { sigaction(SIGINT, &m_old, nullptr); }
  /// Whether Ctrl-C was pressed since the guard was made.
  static bool requested() noexcept { return detail_interrupt::flag.load(); }
  /// A stop predicate for run_options::stop_requested: requested(), printing `message` to stderr
  /// once, the first time it answers true.
  static std::function<bool()> stop_predicate(std::string message) {
    auto told = std::make_shared<std::atomic<bool>>(false);
    return [told, message = std::move(message)] {
      if (!requested()) return false;
      if (!told->exchange(true)) std::fputs(message.c_str(), stderr);
      return true;
    };
  }

 private:
  struct sigaction m_old {};
};

}  // namespace groundeval::cli
