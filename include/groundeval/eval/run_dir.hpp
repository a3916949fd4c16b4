// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/run_dir.hpp — kept for existing includes: the run directory, its manifest,
// shards and merging now live in groundeval/run/ (one header per concern).
// Target: groundeval::core.
#pragma once

#include <groundeval/run/manifest.hpp>
#include <groundeval/run/merge.hpp>
#include <groundeval/run/records.hpp>
#include <groundeval/run/run_dir.hpp>
#include <groundeval/run/shard.hpp>
