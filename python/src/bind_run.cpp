// SPDX-License-Identifier: Apache-2.0
// python/src/bind_run.cpp — run directories from Python through the library's runner
// (run/runner.hpp), exactly as `groundeval run` makes them: a Python grounder (groundeval/runner.py
// turns the user's callable or object into the adapter called here) and the replay of a
// predictions file. The GIL is released while the runner works and taken only around the calls
// into Python (the grounder, the progress callback, the check for Ctrl-C between batches).
// KeyboardInterrupt stops the run cooperatively: what was answered is recorded, the manifest
// says "interrupted", and groundeval.run() raises KeyboardInterrupt again.
#include "common.hpp"

#include <groundeval/grounders/json/replay.hpp>
#include <groundeval/run/runner.hpp>
#include <groundeval/run/shard.hpp>

#include <nanobind/stl/array.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace groundeval::python {

namespace {

/// Thrown through the runner when the Python side raised something other than KeyboardInterrupt
/// (the exception itself stays in python_calls::raised, with its traceback).
struct python_raised {};

/// Where the calls into Python stand; read and written with the GIL held.
struct python_calls {
  bool interrupted = false;  ///< KeyboardInterrupt seen: stop after what was answered
  nb::object raised;         ///< another exception from Python, raised again after the run

  /// Takes a Python exception caught with the GIL held: KeyboardInterrupt sets `interrupted`
  /// (the caller goes on to stop), anything else is kept and ends the run.
  void take(nb::python_error& e) {
    if (e.matches(PyExc_KeyboardInterrupt)) {
      interrupted = true;
      return;
    }
    raised = nb::borrow(e.value());
    throw python_raised{};
  }
};

/// One answer as groundeval/runner.py normalises it: (status, boxes, scores, raw_text, message,
/// latency_s).
using py_answer = std::tuple<std::string, std::vector<std::array<double, 4>>, std::vector<double>,
                             std::string, std::string, double>;

nb::str str_of(std::string_view s) { return nb::str(s.data(), s.size()); }

/// A request as the adapter takes it: (image_id, image_path, width, height, sentence,
/// sentence_id, ((phrase, char_begin, char_end, phrase_index), ...)).
nb::tuple request_tuple(const grounding_request& r) {
  nb::list qs;
  std::string_view sentence;
  for (const phrase_query& q : r.queries) {
    sentence = q.sentence;
    qs.append(nb::make_tuple(str_of(q.phrase), q.char_begin, q.char_end, q.phrase_index));
  }
  return nb::make_tuple(str_of(r.image.id), str_of(r.image.path), r.image.size.width,
                        r.image.size.height, str_of(sentence), r.sentence_index, nb::tuple(qs));
}

/// A grounder written in Python: `adapter(requests)` answers a list of request tuples with
/// (answers, interrupted), one list of py_answer per request answered, in order; interrupted
/// (KeyboardInterrupt) answers a prefix of the requests. Models Grounder, BatchGrounder (the
/// runner hands it whole batches, so the GIL is taken once per batch), DescribedGrounder and
/// LatencyGrounder. Not thread-safe (one Python call at a time).
class python_grounder {
 public:
  python_grounder(nb::object adapter, std::string name, std::string description, bool measures,
                  python_calls& calls)
      : m_adapter(std::move(adapter)),
        m_name(std::move(name)),
        m_description(std::move(description)),
        m_measures(measures),
        m_calls(&calls) {}

  std::string_view name() const { return m_name; }
  std::string describe() const { return m_description; }
  bool measures_latency() const { return m_measures; }

  std::vector<query_result> ground(const grounding_request& r) {
    auto res = ground_many(std::span<const grounding_request>(&r, 1));
    if (res.empty()) throw error(error_kind::invalid, "grounder " + m_name + ": interrupted");
    return std::move(res.front());
  }

  std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs) {
    std::vector<std::vector<py_answer>> answers;
    {
      nb::gil_scoped_acquire gil;
      if (m_calls->interrupted) return {};
      try {
        nb::list reqs;
        for (const auto& r : rs) reqs.append(request_tuple(r));
        auto [a, interrupted] =
            nb::cast<std::pair<std::vector<std::vector<py_answer>>, bool>>(m_adapter(reqs));
        answers = std::move(a);
        if (interrupted) m_calls->interrupted = true;
      } catch (nb::python_error& e) {
        m_calls->take(e);
        return {};
      }
    }
    if (answers.size() > rs.size() || (answers.size() < rs.size() && !m_calls->interrupted))
      throw error(error_kind::invalid, "grounder " + m_name + ": the adapter answered " +
                                           std::to_string(answers.size()) + " requests of " +
                                           std::to_string(rs.size()));
    std::vector<std::vector<query_result>> out(answers.size());
    for (std::size_t j = 0; j < answers.size(); ++j) {
      out[j].reserve(answers[j].size());
      for (auto& [status, boxes, scores, raw, message, latency] : answers[j]) {
        const std::string where = "grounder " + m_name + ", image " + std::string(rs[j].image.id) +
                                  " sentence " + std::to_string(rs[j].sentence_index);
        query_result q;
        q.boxes = scored(boxes, scores, where);
        q.status = status_of(status, where);
        q.raw_text = std::move(raw);
        q.message = std::move(message);
        q.latency_s = latency;
        out[j].push_back(std::move(q));
      }
    }
    return out;
  }

 private:
  nb::object m_adapter;
  std::string m_name, m_description;
  bool m_measures = true;
  python_calls* m_calls;
};
static_assert(BatchGrounder<python_grounder> && DescribedGrounder<python_grounder> &&
              LatencyGrounder<python_grounder>);

using meta_list = std::vector<std::pair<std::string, std::string>>;

/// The options shared by run() and replay(): the run directory, the selection, the manifest keys
/// the Python side names (identity: compared on resume; session: this start only).
run_options options_of(const std::string& out, std::optional<std::size_t> limit,
                       const std::string& shard, std::size_t batch_size, bool start_over,
                       const meta_list& identity, const meta_list& session,
                       std::vector<std::string>& warnings) {
  run_options opt;
  opt.out = out;
  opt.selection.limit = limit;
  if (!shard.empty()) opt.selection.shard = parse_shard(shard);
  opt.batch_size = batch_size;
  opt.start_over = start_over;
  opt.identity = run_manifest(identity.begin(), identity.end());
  opt.session = run_manifest(session.begin(), session.end());
  for (const auto& [k, v] : session) opt.volatile_keys.push_back(k);
  opt.warn = [&warnings](const std::string& w) { warnings.push_back(w); };
  return opt;
}

/// (status, predictions, manifest, total, already, recorded, failures, warnings): the run_result
/// as Python data.
using py_result = std::tuple<std::string, std::string, std::string, std::uint64_t, std::uint64_t,
                             std::uint64_t, std::uint64_t, std::vector<std::string>>;

py_result result_of(const run_result& r, std::vector<std::string> warnings) {
  const char* status = r.status == run_status::complete  ? "complete"
                       : r.status == run_status::partial ? "partial"
                                                         : "interrupted";
  return {status,     r.predictions.string(), r.manifest.string(), r.total, r.already, r.recorded,
          r.failures, std::move(warnings)};
}

/// Runs the Python grounder `adapter` over `ds` into `out`. Returns (result, raised): raised is
/// the exception the Python side raised that stopped the run (None otherwise), for the caller to
/// raise again; a KeyboardInterrupt gives the status "interrupted".
std::pair<py_result, nb::object> run(std::shared_ptr<const dataset_handle> ds, nb::object adapter,
                                     const std::string& name, const std::string& description,
                                     bool measures_latency, const std::string& out,
                                     std::optional<std::size_t> limit, const std::string& shard,
                                     std::size_t batch_size, bool start_over, nb::object progress,
                                     const meta_list& identity, const meta_list& session) {
  python_calls calls;
  std::vector<std::string> warnings;
  run_options opt =
      options_of(out, limit, shard, batch_size, start_over, identity, session, warnings);
  // The callbacks capture Python objects by reference: copying them (the runner does) touches no
  // reference count without the GIL.
  opt.stop_requested = [&calls] {
    nb::gil_scoped_acquire gil;
    if (!calls.interrupted && PyErr_CheckSignals() != 0) {
      nb::python_error e;
      calls.take(e);
    }
    return calls.interrupted;
  };
  if (!progress.is_none())
    opt.on_progress = [&calls, &progress](const run_progress& p) {
      nb::gil_scoped_acquire gil;
      try {
        progress(p.total, p.already, p.done, p.failures, p.batch, p.batch_failures,
                 p.resumed_records);
      } catch (nb::python_error& e) {
        calls.take(e);
      }
    };
  python_grounder g(std::move(adapter), name, description, measures_latency, calls);
  run_result r;
  {
    nb::gil_scoped_release nogil;
    try {
      r = run_grounder(g, ds->data, opt);
    } catch (const python_raised&) {
    }
  }
  if (calls.raised.is_valid()) return {result_of(r, std::move(warnings)), calls.raised};
  return {result_of(r, std::move(warnings)), nb::none()};
}

/// Replays the predictions file `file` (JSON Lines or MDETR JSON) over `ds` into `out`, as
/// `groundeval run --grounder predictions:FILE` does.
py_result replay(std::shared_ptr<const dataset_handle> ds, const std::string& file,
                 const std::string& out, bool start_over, const meta_list& identity,
                 const meta_list& session) {
  std::vector<std::string> warnings;
  const run_options opt =
      options_of(out, std::nullopt, "", 0, start_over, identity, session, warnings);
  nb::gil_scoped_release nogil;
  replay_grounder g(file, ds->data);
  const run_result r = run_grounder(g, ds->data, opt);
  return result_of(r, std::move(warnings));
}

}  // namespace

void bind_run(nb::module_& m) {
  m.def("run", &run, nb::arg("dataset"), nb::arg("adapter"), nb::arg("name"),
        nb::arg("description"), nb::arg("measures_latency"), nb::arg("out"),
        nb::arg("limit").none(), nb::arg("shard"), nb::arg("batch_size"), nb::arg("start_over"),
        nb::arg("progress").none(), nb::arg("identity"), nb::arg("session"));
  m.def("replay", &replay, nb::arg("dataset"), nb::arg("file"), nb::arg("out"),
        nb::arg("start_over"), nb::arg("identity"), nb::arg("session"));
}

}  // namespace groundeval::python
