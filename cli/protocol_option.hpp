// SPDX-License-Identifier: Apache-2.0
// cli/protocol_option.hpp — the --protocol any|merged option shared by evaluate, compare and
// report.
#pragma once

#include <groundeval/error.hpp>
#include <groundeval/metrics/recall.hpp>

#include <string>
#include <string_view>

namespace groundeval::cli {

/// "any" -> ANY-box, "merged" -> MERGED-box; anything else is a config error naming `command`.
inline gt_protocol parse_protocol(std::string_view command, const std::string& text) {
  if (text == "any") return gt_protocol::any_box;
  if (text == "merged") return gt_protocol::merged_box;
  throw error(error_kind::config,
              std::string(command) + ": --protocol must be any or merged, not " + text);
}

}  // namespace groundeval::cli
