// SPDX-License-Identifier: Apache-2.0
// groundeval/run/halting.hpp — two optional grounder capabilities the run layer tests with
// `if constexpr`: readiness (ReadyGrounder: check_ready() before the first batch, e.g. a server's
// model list) and halting (HaltingGrounder: the grounder may stop asking on its own, e.g. after
// too many queries without a response, and can be asked to stop from another thread, e.g. on
// Ctrl-C). A halting grounder answers the queries it did not ask with status error and a message
// starting with not_asked_prefix; run_grounder() records none of them, so a later run asks them.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/grounder.hpp>

#include <concepts>
#include <string>
#include <string_view>

namespace groundeval {

/// A grounder that can check, before it is asked anything, that it can answer: check_ready()
/// returns a line saying so (may be empty) or throws groundeval::error saying what is wrong.
template <class G>
concept ReadyGrounder = Grounder<G> && requires(G& g) {
  { g.check_ready() } -> std::convertible_to<std::string>;
};

/// A grounder that may stop asking before a batch is done: halt_reason() is empty while it asks
/// and says why once it stopped (the queries left came back not asked); request_stop() asks it
/// to stop as soon as it can and may be called from another thread while a batch runs.
template <class G>
concept HaltingGrounder = Grounder<G> && requires(G& g, const G& cg) {
  { cg.halt_reason() } -> std::convertible_to<std::string>;
  g.request_stop();
};

/// The message prefix of a query a HaltingGrounder did not ask (status error).
inline constexpr std::string_view not_asked_prefix = "not asked: ";

/// Whether `r` is a query the grounder did not ask (to be asked by a later run, not recorded).
inline bool is_not_asked(const query_result& r) noexcept {
  return r.status == query_status::error && r.message.starts_with(not_asked_prefix);
}

}  // namespace groundeval
