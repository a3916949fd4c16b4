// SPDX-License-Identifier: Apache-2.0
// cli/eval_options.hpp — the options that evaluate, compare and report share: --dataset, --split,
// --protocol, --iou and --missing-as-miss. One parser, so the three commands spell, check and
// document them the same way.
#pragma once

#include "command.hpp"
#include "protocol_option.hpp"

#include <groundeval/eval/evaluate.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::cli {

/// The data set and evaluation settings given on a command line.
struct evaluation_cli_options {
  std::string dataset;           ///< --dataset SPEC (empty when not given)
  std::string split;             ///< --split NAME (the command's default until given)
  std::string protocol = "any";  ///< --protocol any|merged, applied by finish()
  evaluation_options eval;       ///< --iou, --missing-as-miss (and the protocol after finish())

  /// When args[i] is one of the shared options, consumes it (and its value, advancing i) and
  /// returns true; otherwise returns false and leaves i alone. Bad values are config errors
  /// naming `command`.
  bool parse(std::string_view command, const std::vector<std::string>& args, std::size_t& i) {
    const std::string& a = args[i];
    if (a == "--dataset") {
      dataset = option_value(command, args, i);
    } else if (a == "--split") {
      split = option_value(command, args, i);
    } else if (a == "--protocol") {
      protocol = option_value(command, args, i);
    } else if (a == "--iou") {
      eval.iou_threshold = parse_unit_interval(command, a, option_value(command, args, i));
    } else if (a == "--missing-as-miss") {
      eval.count_missing_as_miss = true;
    } else {
      return false;
    }
    return true;
  }

  /// Checks and applies --protocol; call once after the loop.
  void finish(std::string_view command) { eval.protocol = parse_protocol(command, protocol); }
};

}  // namespace groundeval::cli
