// SPDX-License-Identifier: Apache-2.0
// groundeval/metrics/any_metric.hpp — any_metric holds any model of Metric, so user metrics can
// be handed to evaluate() (evaluation_options::metrics) and written into its JSON report.
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/metric.hpp>
#include <groundeval/detail/json_scan.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/error.hpp>

#include <concepts>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace groundeval {

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// A range whose elements are (key, value) pairs with a string-like key: written as an object.
template <class R>
concept json_map_like = std::ranges::range<const R> &&
    requires(std::ranges::range_value_t<const R> e) {
  { e.first } -> std::convertible_to<std::string_view>;
  e.second;
};

/// Writes `v` as the value of `key`: a number, bool, string, std::optional (null when empty), a
/// map-like range (an object), any other range (an array), or a type with a member
/// `std::string to_json() const` returning JSON text.
template <class T>
void write_json_value(json_writer& w, std::string_view key, const T& v) {
  if constexpr (std::same_as<T, bool>) {
    w.boolean(key, v);
  } else if constexpr (std::integral<T> && std::is_signed_v<T>) {
    w.integer(key, static_cast<long long>(v));
  } else if constexpr (std::integral<T>) {
    w.value(key, static_cast<std::uint64_t>(v));
  } else if constexpr (std::floating_point<T>) {
    w.value(key, static_cast<double>(v));
  } else if constexpr (std::convertible_to<const T&, std::string_view>) {
    w.value(key, std::string_view(v));
  } else if constexpr (is_optional<T>::value) {
    if (v)
      write_json_value(w, key, *v);
    else
      w.null(key);
  } else if constexpr (requires {
                         { v.to_json() } -> std::convertible_to<std::string>;
                       }) {
    const std::string text = v.to_json();
    if (is_json_value(text))
      w.raw(key, text);
    else
      w.value(key, std::string_view(text));
  } else if constexpr (json_map_like<T>) {
    w.begin_object(key, true);
    for (const auto& [k, x] : v) write_json_value(w, std::string_view(k), x);
    w.end_object();
  } else if constexpr (std::ranges::range<const T>) {
    w.begin_array(key, true);
    for (const auto& x : v) write_json_value(w, {}, x);
    w.end_array();
  } else {
    static_assert(sizeof(T) == 0,
                  "a metric's result() must be a number, bool, string, std::optional, a map or "
                  "range of those, or have `std::string to_json() const`");
  }
}

}  // namespace detail

class any_metric;

namespace detail {
/// A Metric other than any_metric itself (tested first: Metric<any_metric> would ask for the
/// constructor this constrains).
template <class T>
concept other_than_any_metric = !std::same_as<std::remove_cvref_t<T>, any_metric> && Metric<T>;
}  // namespace detail

/// Holds any Metric (copyable: a copy holds a copy of the metric). Models Metric itself; its
/// result() is the held metric's result as JSON text. merge() needs the same held type.
class any_metric {
 public:
  template <detail::other_than_any_metric M>
  any_metric(M m)  // NOLINT: implicit on purpose, so a list of metrics reads naturally
      : m_impl(std::make_unique<model<M>>(std::move(m))) {}
  any_metric(const any_metric& o) : m_impl(o.m_impl->clone()) {}
  any_metric& operator=(const any_metric& o) {
    if (this != &o) m_impl = o.m_impl->clone();
    return *this;
  }
  any_metric(any_metric&&) noexcept = default;
  any_metric& operator=(any_metric&&) noexcept = default;

  void add(const phrase_prediction& p, const phrase_truth& t) { m_impl->add(p, t); }
  /// Adds the phrases of `o`, which must hold the same metric type.
  void merge(const any_metric& o) {
    const base &mine = *m_impl, &theirs = *o.m_impl;
    if (typeid(mine) != typeid(theirs))
      throw error(error_kind::config,
                  "metric " + std::string(name()) + ": cannot merge a metric of another type");
    m_impl->merge(*o.m_impl);
  }
  std::string_view name() const { return m_impl->name(); }
  /// The result as JSON text (detail::write_json_value).
  std::string result() const {
    detail::json_writer w;
    m_impl->write_json(w, {});
    return std::move(w.out);
  }
  /// Writes the result as member `key` of an object (or an item of an array) being written.
  void write_json(detail::json_writer& w, std::string_view key) const {
    m_impl->write_json(w, key);
  }

  /// The held metric when it is an M (nullptr otherwise), like std::any_cast.
  template <class M>
  const M* target() const noexcept {
    auto* m = dynamic_cast<const model<M>*>(m_impl.get());
    return m ? &m->m : nullptr;
  }

 private:
  struct base {
    virtual ~base() = default;
    virtual std::unique_ptr<base> clone() const = 0;
    virtual void add(const phrase_prediction& p, const phrase_truth& t) = 0;
    virtual void merge(const base& o) = 0;
    virtual std::string_view name() const = 0;
    virtual void write_json(detail::json_writer& w, std::string_view key) const = 0;
  };
  template <class M>
  struct model final : base {
    M m;
    std::string nm;  // kept: name() may return a temporary
    explicit model(M x) : m(std::move(x)), nm(std::string_view(m.name())) {}
    std::unique_ptr<base> clone() const override { return std::make_unique<model>(m); }
    void add(const phrase_prediction& p, const phrase_truth& t) override { m.add(p, t); }
    void merge(const base& o) override { m.merge(static_cast<const model&>(o).m); }
    std::string_view name() const override { return nm; }
    void write_json(detail::json_writer& w, std::string_view key) const override {
      detail::write_json_value(w, key, m.result());
    }
  };
  std::unique_ptr<base> m_impl;
};

static_assert(Metric<any_metric>);

}  // namespace groundeval
