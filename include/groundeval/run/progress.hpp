// SPDX-License-Identifier: Apache-2.0
// groundeval/run/progress.hpp — shows a run's progress: a run_options::on_progress callback that
// drives a progress_reporter (eval/progress.hpp: a bar on a terminal, lines otherwise, or
// nothing), started on the runner's first call with the run's total and what was recorded before.
// Target: groundeval::core (standard library plus POSIX isatty).
#pragma once

#include <groundeval/eval/progress.hpp>
#include <groundeval/run/runner.hpp>

#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

namespace groundeval {

/// A progress display for run_grounder(): copy it into run_options::on_progress (copies share
/// one display) and call finish() after the run. With `announce_resume`, the first call prints
/// "<label>: resuming <dir>: N queries already recorded" when the run directory held records.
class run_progress_display {
 public:
  run_progress_display(std::ostream& os, bool terminal, progress_options opt = {},
                       std::string resume_note = {})
      : m_state(std::make_shared<state>(os, terminal, std::move(opt), std::move(resume_note))) {}

  void operator()(const run_progress& p) const {
    state& s = *m_state;
    if (!s.reporter) {
      if (!s.resume_note.empty() && s.opt.mode != progress_mode::quiet && p.resumed_records > 0)
        s.os << s.resume_note << ": " << p.resumed_records << " queries already recorded\n";
      s.reporter = std::make_unique<progress_reporter>(s.os, s.terminal, p.total, s.opt,
                                                       steady_seconds, p.already);
    }
    s.reporter->advance(p.batch, p.batch_failures);
  }
  /// Completes the bar (or prints the summary line).
  void finish() const {
    if (m_state->reporter) m_state->reporter->finish();
  }

 private:
  struct state {
    state(std::ostream& o, bool t, progress_options p, std::string note)
        : os(o), terminal(t), opt(std::move(p)), resume_note(std::move(note)) {}
    std::ostream& os;
    bool terminal;
    progress_options opt;
    std::string resume_note;
    std::unique_ptr<progress_reporter> reporter;
  };
  std::shared_ptr<state> m_state;
};

}  // namespace groundeval
