// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/batch_channel.hpp — batches of records handed from one producing thread to
// one consuming thread, at most `capacity` of them waiting (memory stays bounded whatever the
// input's size), with the consumed batches handed back so that their memory is reused, and the
// producer's end (or its error) delivered after the batches before it.
// Target: groundeval::core (standard library + Threads).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Thrown on the producing thread by batch_channel::push() once the consumer has cancelled.
struct batch_channel_cancelled {};

/// One producer, one consumer. The producer fills batches taken with take_free(), hands each
/// over with push() (waiting while `capacity` batches are waiting) and ends with close(error or
/// nullptr). The consumer takes them in order with pop() (waiting for the next; nullopt after
/// the last one, and then error() tells how the producer ended) and gives each back with
/// recycle(). cancel() (the consumer gives up, e.g. on its own error) wakes a waiting producer,
/// whose push() then throws batch_channel_cancelled.
template <class Record>
class batch_channel {
 public:
  struct batch {
    std::vector<Record> records;  ///< [0, used) hold this batch; the rest is kept for reuse
    std::size_t used = 0;
  };

  explicit batch_channel(std::size_t capacity) : m_capacity(capacity ? capacity : 1) {}

  // ---- producer ----
  /// A batch to fill (a recycled one when there is one; `used` is 0).
  batch take_free() {
    std::lock_guard lock(m_mutex);
    if (m_free.empty()) return {};
    batch b = std::move(m_free.back());
    m_free.pop_back();
    b.used = 0;
    return b;
  }
  /// Hands `b` to the consumer; waits while `capacity` batches are waiting. Throws
  /// batch_channel_cancelled when the consumer has cancelled.
  void push(batch&& b) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_cancelled || m_ready.size() < m_capacity; });
    if (m_cancelled) throw batch_channel_cancelled{};
    m_ready.push_back(std::move(b));
    m_changed.notify_all();
  }
  /// The producer's end: `error` null after the last batch, else what stopped it.
  void close(std::exception_ptr error) {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_error = std::move(error);
    m_changed.notify_all();
  }

  // ---- consumer ----
  /// The next batch in order, waiting for it; nullopt once the producer has closed and every
  /// batch was taken.
  std::optional<batch> pop() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_closed || !m_ready.empty(); });
    if (m_ready.empty()) return std::nullopt;
    batch b = std::move(m_ready.front());
    m_ready.pop_front();
    m_changed.notify_all();
    return b;
  }
  /// Gives a consumed batch back for reuse.
  void recycle(batch&& b) {
    std::lock_guard lock(m_mutex);
    if (m_free.size() < m_capacity + 2) m_free.push_back(std::move(b));
  }
  /// How the producer ended (after pop() returned nullopt): null when it read everything.
  std::exception_ptr error() const {
    std::lock_guard lock(m_mutex);
    return m_error;
  }
  /// The consumer stops taking batches: a waiting or later push() throws.
  void cancel() {
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    m_ready.clear();
    m_changed.notify_all();
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<batch> m_ready;
  std::vector<batch> m_free;
  std::size_t m_capacity;
  std::exception_ptr m_error;
  bool m_closed = false, m_cancelled = false;
};

}  // namespace groundeval::detail
