// SPDX-License-Identifier: Apache-2.0
// cli/eval_options.hpp — the options that evaluate, compare and report share: --dataset, --split
// (dataset_option), --protocol, --iou, --match and --missing-as-miss. One parser, so the three
// commands spell, check and document them the same way.
#pragma once

#include "command.hpp"
#include "dataset_spec.hpp"
#include "protocol_option.hpp"

#include <groundeval/eval/evaluate.hpp>

#include <string>
#include <string_view>

namespace groundeval::cli {

/// The data set (`dataset`, `split`: the command's default, empty until given) and evaluation
/// settings given on a command line.
struct evaluation_cli_options : dataset_option {
  std::string protocol = "any";  ///< --protocol any|merged, applied by finish()
  evaluation_options eval;       ///< --iou, --missing-as-miss (and the protocol after finish())

  evaluation_cli_options() {
    split.clear();
    takes_images = false;
  }

  /// When the reader is at one of the shared options, reads it and returns true.
  bool parse(arg_reader& a) {
    if (dataset_option::parse(a)) {
    } else if (a.is("--protocol")) {
      protocol = a.value();
    } else if (a.is("--iou")) {
      eval.iou_threshold = a.unit_interval();
    } else if (a.is("--match")) {
      const std::string v = a.value();
      if (v != "iou" && v != "giou") a.fail("--match must be iou or giou, not '" + v + "'");
      eval.match = parse_match_criterion(v);
    } else if (a.flag("--missing-as-miss")) {
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
