// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/config_hash.hpp — the one error for a record whose config_hash differs from
// its run's manifest (run directories on resume and merge, evaluate and report). Target:
// groundeval::core (standard library only).
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace groundeval::detail {

/// Throws error_kind::config naming FILE:LINE when a record's config_hash `found` is not
/// `expected` (the manifest's). Either empty checks nothing: a record without the key (written
/// by hand or by another tool) and a manifest without it pass.
inline void check_config_hash(std::string_view found, std::string_view expected,
                              const std::string& file, std::size_t line) {
  if (found.empty() || expected.empty() || found == expected) return;
  throw error(error_kind::config, file, line,
              "this record was made by another configuration (config_hash '" + std::string(found) +
                  "', the run's manifest.json says '" + std::string(expected) +
                  "'): the directory mixes two runs; start over or move the record out");
}

}  // namespace groundeval::detail
