// SPDX-License-Identifier: Apache-2.0
// groundeval/run/any_grounder.hpp — answering a batch of requests with whatever capability a
// grounder has (ground_batch), and any_grounder: one type that holds any Grounder, or a plain
// callable, so a program can choose its grounder at run time (the CLI's --grounder, a Python
// function). Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>
#include <groundeval/run/halting.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace groundeval {

/// Answers `requests` with the best capability `g` has: ground_many (BatchGrounder), else
/// ground_async for every request then waiting (AsyncGrounder), else ground() from up to
/// min(concurrency, g.max_concurrency()) threads (ConcurrentGrounder), else ground() in turn.
/// results[k] answers requests[k]. A grounder's exception propagates (the first one, for threads).
template <Grounder G>
std::vector<std::vector<query_result>> ground_batch(G& g,
                                                    std::span<const grounding_request> requests,
                                                    std::size_t concurrency = 1) {
  if constexpr (requires { g.ground_many(requests, concurrency); }) {
    return g.ground_many(requests, concurrency);  // any_grounder: forwards the concurrency
  } else if constexpr (BatchGrounder<G>) {
    return g.ground_many(requests);
  } else if constexpr (AsyncGrounder<G>) {
    std::vector<std::future<std::vector<query_result>>> pending;
    pending.reserve(requests.size());
    for (const auto& r : requests) pending.push_back(g.ground_async(r));
    std::vector<std::vector<query_result>> out;
    out.reserve(requests.size());
    for (auto& f : pending) out.push_back(f.get());
    return out;
  } else {
    std::vector<std::vector<query_result>> out(requests.size());
    std::size_t threads = 1;
    if constexpr (ConcurrentGrounder<G>)
      threads = std::min<std::size_t>(concurrency, std::as_const(g).max_concurrency());
    if (threads > 1) {
      parallel_options popt;
      popt.threads = static_cast<unsigned>(std::min<std::size_t>(threads, 4096));
      popt.min_work_per_thread = 1;
      detail::parallel_for(requests.size(), 1, popt, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] = g.ground(requests[i]);
      });
    } else {
      for (std::size_t i = 0; i < requests.size(); ++i) out[i] = g.ground(requests[i]);
    }
    return out;
  }
}

/// `G` declared as answering in-process (measures_latency() is false): for grounders whose time
/// per query measures no model (baselines, oracles, replays of stored answers), so reports show
/// no latency for them. Built from a G: `in_process_grounder<G>{g}`.
template <Grounder G>
struct in_process_grounder : G {
  bool measures_latency() const noexcept { return false; }
};

/// A grounder given as a function (e.g. a Python callable wrapped by a binding).
using grounder_function = std::function<std::vector<query_result>(const grounding_request&)>;

/// What the runner needs to know about a grounder given as a function.
struct grounder_function_info {
  std::string name{};               ///< short identifier (required)
  std::string description{};        ///< full configuration, no secrets (default: the name)
  bool measures_latency = true;     ///< whether its time per query measures a model
  std::size_t batch_size = 0;       ///< requests per call; 0: the runner's default
  std::size_t max_concurrency = 1;  ///< threads that may call it at once (1: not thread-safe)
};

class any_grounder;

namespace detail {
/// A Grounder other than any_grounder itself (tested first: Grounder<any_grounder> would ask for
/// the constructor this constrains).
template <class T>
concept other_than_any_grounder =
    !std::same_as<std::remove_cvref_t<T>, any_grounder> && Grounder<T>;
}  // namespace detail

/// Holds any model of Grounder (owned) or a grounder_function, and models every optional
/// capability itself, answering with the held grounder's when it has it and a default otherwise:
/// describe() = its name, batch_size() = 0 (no preference), measures_latency() = true,
/// server_model() = "", max_concurrency() = 1, check_ready() = "" (nothing to check),
/// halt_reason() = "" and request_stop() doing nothing (run/halting.hpp). Not copyable; movable.
class any_grounder {
 public:
  template <detail::other_than_any_grounder G>
  any_grounder(G g)  // NOLINT: implicit on purpose, so factories can return any grounder
      : m_impl(std::make_unique<model<G>>(std::make_unique<G>(std::move(g)))) {}
  /// Takes ownership of a grounder that cannot be moved.
  template <Grounder G>
  explicit any_grounder(std::unique_ptr<G> g) : m_impl(std::make_unique<model<G>>(std::move(g))) {
    if (!static_cast<model<G>&>(*m_impl).g)
      throw error(error_kind::invalid, "any_grounder: null grounder");
  }
  /// `G` declared as answering in-process (measures_latency() is false): for grounders whose time
  /// per query measures no model (baselines, oracles, replays of stored answers), so reports show
  /// no latency for them. Built from a G: `in_process_grounder<G>{g}`.
  template <Grounder G>
  struct in_process_grounder : G {
    bool measures_latency() const noexcept { return false; }
  };

  /// A grounder given as a function.
  any_grounder(grounder_function fn, grounder_function_info info)
      : m_impl(std::make_unique<function_model>(std::move(fn), std::move(info))) {}

  any_grounder(any_grounder&&) noexcept = default;
  any_grounder& operator=(any_grounder&&) noexcept = default;

  std::vector<query_result> ground(const grounding_request& r) { return m_impl->ground(r); }
  std::string_view name() const { return m_impl->name; }
  std::string describe() const { return m_impl->describe(); }
  /// Answers a batch with the held grounder's best capability (ground_batch).
  std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs,
                                                     std::size_t concurrency = 1) {
    return m_impl->ground_many(rs, concurrency);
  }
  std::size_t batch_size() const { return m_impl->batch_size(); }
  std::size_t max_concurrency() const { return m_impl->max_concurrency(); }
  bool measures_latency() const { return m_impl->measures_latency(); }
  std::string server_model() const { return m_impl->server_model(); }
  std::string check_ready() { return m_impl->check_ready(); }
  std::string halt_reason() const { return m_impl->halt_reason(); }
  void request_stop() { m_impl->request_stop(); }

  /// The held grounder when it is a G (nullptr otherwise), like std::any_cast.
  template <class G>
  G* target() noexcept {
    auto* m = dynamic_cast<model<G>*>(m_impl.get());
    return m ? m->g.get() : nullptr;
  }
  template <class G>
  const G* target() const noexcept {
    auto* m = dynamic_cast<const model<G>*>(m_impl.get());
    return m ? m->g.get() : nullptr;
  }

 private:
  struct base {
    std::string name;
    virtual ~base() = default;
    virtual std::vector<query_result> ground(const grounding_request& r) = 0;
    virtual std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request>,
                                                               std::size_t concurrency) = 0;
    virtual std::string describe() const = 0;
    virtual std::size_t batch_size() const = 0;
    virtual std::size_t max_concurrency() const = 0;
    virtual bool measures_latency() const = 0;
    virtual std::string server_model() const = 0;
    virtual std::string check_ready() { return {}; }
    virtual std::string halt_reason() const { return {}; }
    virtual void request_stop() {}
  };

  template <class G>
  struct model final : base {
    std::unique_ptr<G> g;
    explicit model(std::unique_ptr<G> p) : g(std::move(p)) {
      if (g) name = std::string(std::string_view(std::as_const(*g).name()));
    }
    std::vector<query_result> ground(const grounding_request& r) override { return g->ground(r); }
    std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs,
                                                       std::size_t concurrency) override {
      return ground_batch(*g, rs, concurrency);
    }
    std::string describe() const override {
      if constexpr (DescribedGrounder<G>)
        return std::string(std::as_const(*g).describe());
      else
        return name;
    }
    std::size_t batch_size() const override {
      if constexpr (BatchSizeGrounder<G>)
        return std::as_const(*g).batch_size();
      else
        return 0;
    }
    std::size_t max_concurrency() const override {
      if constexpr (ConcurrentGrounder<G>)
        return std::as_const(*g).max_concurrency();
      else
        return 1;
    }
    bool measures_latency() const override {
      if constexpr (LatencyGrounder<G>)
        return std::as_const(*g).measures_latency();
      else
        return true;
    }
    std::string server_model() const override {
      if constexpr (ServerGrounder<G>)
        return std::string(std::as_const(*g).server_model());
      else
        return {};
    }
    std::string check_ready() override {
      if constexpr (ReadyGrounder<G>)
        return std::string(g->check_ready());
      else
        return {};
    }
    std::string halt_reason() const override {
      if constexpr (HaltingGrounder<G>)
        return std::string(std::as_const(*g).halt_reason());
      else
        return {};
    }
    void request_stop() override {
      if constexpr (HaltingGrounder<G>) g->request_stop();
    }
  };

  struct function_model final : base {
    grounder_function fn;
    grounder_function_info info;
    function_model(grounder_function f, grounder_function_info i)
        : fn(std::move(f)), info(std::move(i)) {
      if (!fn) throw error(error_kind::invalid, "any_grounder: empty grounder function");
      if (info.name.empty()) throw error(error_kind::invalid, "any_grounder: a name is required");
      name = info.name;
    }
    std::vector<query_result> ground(const grounding_request& r) override { return fn(r); }
    std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs,
                                                       std::size_t concurrency) override {
      std::vector<std::vector<query_result>> out(rs.size());
      const std::size_t threads = std::min(concurrency, info.max_concurrency);
      parallel_options popt;
      popt.threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, 4096));
      popt.min_work_per_thread = 1;
      detail::parallel_for(rs.size(), 1, popt, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] = fn(rs[i]);
      });
      return out;
    }
    std::string describe() const override {
      return info.description.empty() ? info.name : info.description;
    }
    std::size_t batch_size() const override { return info.batch_size; }
    std::size_t max_concurrency() const override { return info.max_concurrency; }
    bool measures_latency() const override { return info.measures_latency; }
    std::string server_model() const override { return {}; }
  };

  std::unique_ptr<base> m_impl;
};

static_assert(Grounder<any_grounder> && DescribedGrounder<any_grounder> &&
              BatchGrounder<any_grounder> && BatchSizeGrounder<any_grounder> &&
              ConcurrentGrounder<any_grounder> && LatencyGrounder<any_grounder> &&
              ServerGrounder<any_grounder> && ReadyGrounder<any_grounder> &&
              HaltingGrounder<any_grounder>);

}  // namespace groundeval
