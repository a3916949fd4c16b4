// SPDX-License-Identifier: Apache-2.0
// cli/dataset_spec.hpp — the --dataset SPEC argument shared by the subcommands:
// "flickr30k:DIR" (Annotations/ and Sentences/, split lists from DIR or the bundled official ones)
// or "mdetr:FILE.json" (MDETR-format annotations).
#pragma once

#include <groundeval/datasets/in_memory.hpp>

#include <string>

namespace groundeval::cli {

/// A data set loaded from a command-line spec.
struct loaded_dataset {
  in_memory_dataset dataset;
  std::string description;  ///< the spec as given
  std::string split;
};

/// Loads "flickr30k:DIR" (split from `split`) or "mdetr:FILE.json"; throws groundeval::error.
loaded_dataset load_dataset_spec(const std::string& spec, const std::string& split);

}  // namespace groundeval::cli
