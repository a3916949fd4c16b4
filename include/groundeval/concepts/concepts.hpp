// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/concepts.hpp — re-exports the three concept families.
// Target: groundeval::core.
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/concepts/grounder.hpp>
#include <groundeval/concepts/metric.hpp>
#include <groundeval/concepts/sample.hpp>
