// SPDX-License-Identifier: Apache-2.0
// groundeval/run/shard.hpp — deterministic image-level sharding of a run (`--shard i/n`).
// Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/detail/hash.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace groundeval {

/// 64-bit FNV-1a of the bytes of `s` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
/// Fixed by this definition, so shard assignment never depends on a library version.
constexpr std::uint64_t shard_hash(std::string_view s) noexcept { return detail::fnv1a64(s); }

/// `--shard i/n`: shard i (0-based) of n. An image belongs to shard shard_hash(image_id) % n, so
/// every phrase of one image lands in the same shard and the partition is deterministic.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  constexpr bool contains(std::string_view image_id) const noexcept {
    return shard_hash(image_id) % count == index;
  }
  std::string to_string() const { return std::to_string(index) + '/' + std::to_string(count); }
  friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

/// Parses "i/n" with 0 <= i < n, 1 <= n <= 65536; throws error_kind::config otherwise.
inline shard_spec parse_shard(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return error(
        error_kind::config, "--shard", 0,
        "'" + std::string(text) + "': " + why + " (expected i/n with 0 <= i < n, e.g. 0/4)");
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("missing '/'");
  const auto i = detail::parse_integer<long long>(text.substr(0, slash));
  const auto n = detail::parse_integer<long long>(text.substr(slash + 1));
  if (!i || !n) throw bad("not two integers");
  if (*n < 1 || *n > 65536) throw bad("n must be between 1 and 65536");
  if (*i < 0 || *i >= *n) throw bad("i must be between 0 and n-1");
  return shard_spec{static_cast<std::uint32_t>(*i), static_cast<std::uint32_t>(*n)};
}

}  // namespace groundeval
