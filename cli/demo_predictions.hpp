// SPDX-License-Identifier: Apache-2.0
// cli/demo_predictions.hpp — the SYNTHETIC predictions of `groundeval demo`.
#pragma once

#include <groundeval/datasets/in_memory.hpp>

#include <cstddef>
#include <filesystem>

namespace groundeval::cli {

/// Writes SYNTHETIC predictions (JSON Lines) for every evaluable phrase of `data`, 5 ranked boxes
/// each: a ground-truth box of the phrase shifted and rescaled at random (a little for about half
/// the phrases, a lot for the rest), then four boxes at random places; every record's raw_text
/// says SYNTHETIC. Returns the number of records.
std::size_t write_synthetic_predictions(const in_memory_dataset& data,
                                        const std::filesystem::path& file);

}  // namespace groundeval::cli
