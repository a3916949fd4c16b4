// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/hash.hpp — the fixed hash and mixing functions every deterministic choice of
// the library is defined by (sub-sampling, shards, baselines, bootstrap seeds, report file names).
// Written out, never std::hash, so results are identical on every platform and library version.
// Target: groundeval::core.
#pragma once

#include <cstdint>
#include <string_view>

namespace groundeval::detail {

/// 64-bit FNV-1a of the bytes of `s` (offset basis 0xcbf29ce484222325, prime 0x100000001b3);
/// pass a previous result as `h` to continue hashing.
constexpr std::uint64_t fnv1a64(std::string_view s,
                                std::uint64_t h = 0xcbf29ce484222325ull) noexcept {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

/// The SplitMix64 finalizer (Steele, Lea, Flood 2014).
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// SplitMix64: advances `state` by the golden-ratio increment and returns the mixed value.
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) noexcept {
  return splitmix64_mix(state += 0x9e3779b97f4a7c15ull);
}

}  // namespace groundeval::detail
