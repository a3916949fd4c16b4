// SPDX-License-Identifier: Apache-2.0
// groundeval/run/outcome.hpp — what a front end tells the user when run_grounder() returns:
// the lines `groundeval run` prints and its exit status. Target: groundeval::core.
#pragma once

#include <groundeval/run/runner.hpp>

#include <string>

namespace groundeval {

/// The end of a run in words: `text` (for stderr when `to_stderr`, else stdout; empty when a
/// complete run is reported `quiet`ly) and the exit status (0 complete or partial, 1 the
/// grounder halted, 130 interrupted).
struct run_outcome {
  int exit_status = 0;
  bool to_stderr = false;
  std::string text;
};

inline run_outcome describe_run_outcome(const run_result& r, bool quiet = false) {
  const auto n = [](std::uint64_t v) { return std::to_string(v); };
  const std::string recorded = n(r.already + r.recorded) + " of " + n(r.total) +
                               " queries are recorded in " + r.predictions.string();
  if (r.status == run_status::interrupted)
    return {130, true,
            "run: interrupted; " + recorded +
                " (the answers in flight were recorded). Run the same command again to resume.\n"};
  if (r.status == run_status::failed)  // the grounder halted (e.g. its server stopped answering)
    return {1, true,
            "run: stopped: " + r.halt_reason + "\nrun: " + recorded +
                "; the queries not asked are not recorded. Run the same command again to ask "
                "them.\n"};
  if (quiet) return {};
  std::string t;
  if (r.retried > 0)
    t += "run: " + n(r.retried) + " error records moved to " +
         (r.predictions.parent_path() / retried_errors_file_name).string() + " and asked again\n";
  t += "run: " + n(r.recorded) + " queries run now, " + n(r.already) + " already recorded, " +
       n(r.already + r.recorded) + " in all (" + n(r.failures) + " failures now)" +
       (r.status == run_status::complete ? "" : " — partial run (--limit)") + "\n";
  t += "predictions: " + r.predictions.string() + "\nmanifest: " + r.manifest.string() + "\n";
  return {0, false, t};
}

}  // namespace groundeval
