// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/json/proposals.hpp — reading the box proposals of oracle_grounder from a
// JSON file {"<image id>": [[x1, y1, x2, y2], ...], ...} (original-image pixels).
// Target: groundeval::json (nlohmann/json).
#pragma once

#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/baselines.hpp>
#include <groundeval/io/limits.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace groundeval {

/// Reads a proposals file; errors name the file and the image (and box) at fault.
inline oracle_grounder::proposal_map read_proposals(const std::string& file) {
  const std::string text =
      detail::read_file_bytes(file, max_proposals_file_bytes, "the proposals file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, out_of_range.406 (1e999)
    throw error(error_kind::parse, file, 0, e.what());
  }
  if (!j.is_object())
    throw error(error_kind::parse, file, 0,
                "expected a JSON object {\"<image id>\": [[x1, y1, x2, y2], ...]}");
  oracle_grounder::proposal_map m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_array())
      throw error(error_kind::parse, file, 0, "image '" + it.key() + "': expected a list of boxes");
    auto& v = m[it.key()];
    std::size_t n = 0;
    for (const auto& b : it.value()) {
      if (!b.is_array() || b.size() != 4 ||
          !std::all_of(b.begin(), b.end(), [](const auto& x) { return x.is_number(); }))
        throw error(error_kind::parse, file, 0,
                    "image '" + it.key() + "', box " + std::to_string(n) +
                        ": expected [x1, y1, x2, y2] numbers");
      v.push_back({b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()});
      ++n;
    }
  }
  return m;
}

}  // namespace groundeval
