// SPDX-License-Identifier: Apache-2.0
// cli/openai_spec.hpp — the openai grounder's configuration from a parsed spec, shared by the
// registry's openai kind (builtin_grounders.cpp) and `groundeval probe`. Only in builds with the
// http component (GROUNDEVAL_CLI_HAS_HTTP).
#pragma once

#include <groundeval/cli/app.hpp>
#include <groundeval/grounders/http/openai_grounder.hpp>

namespace groundeval::cli {

/// The openai_config of spec `s` (kind openai); values are checked as `groundeval run` checks
/// them (errors name the spec, or FILE:LINE in a config file). The keys themselves are checked
/// by grounder_registry::make / parse before this is called.
openai_config openai_config_from_spec(const grounder_spec& s);

}  // namespace groundeval::cli
