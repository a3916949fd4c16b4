// SPDX-License-Identifier: Apache-2.0
// cli/grounder_spec.hpp — the --grounder SPEC argument of `groundeval run` ("whole-image",
// "center:0.4", "random:7", "oracle:PROPOSALS.json", "predictions:FILE",
// "openai:URL?model=M&family=F", "npy-detector:MANIFEST?preset=glip") and the runner's
// type-erased grounder. Part of the groundeval_cli target.
#pragma once

#include "dataset_spec.hpp"

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/datasets/in_memory.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace groundeval {
struct openai_config;  // grounders/http/openai_grounder.hpp
}  // namespace groundeval

namespace groundeval::cli {

/// A parsed grounder spec: KIND[:ARG][?KEY=VALUE&KEY=VALUE...], or the same read from a config
/// file (`--grounder @FILE`, lines `KEY = VALUE`; see read_grounder_config).
struct grounder_spec {
  std::string text;  ///< as given ("@FILE" for a config file)
  std::string kind;
  std::string arg;  ///< after the first ':' up to the first '?' (may be empty)
  std::vector<std::pair<std::string, std::string>> params;
  std::string file;  ///< the config file it was read from (empty: the command line)
  std::vector<std::pair<std::string, std::size_t>> lines;  ///< key -> line in `file`
};

/// Splits a spec; a config error naming the spec when it is malformed or the kind is unknown.
/// "@FILE" reads a config file (read_grounder_config).
grounder_spec parse_grounder_spec(const std::string& text);

/// Reads a grounder config file: one `KEY = VALUE` per line (blank lines and lines starting with
/// '#' are skipped; spaces around KEY and VALUE are dropped, and one pair of double quotes around
/// VALUE), `grounder = KIND` naming the kind and the kind's argument under its own name
/// (grounder_arg_key): `url` for openai, `file` for predictions, `proposals` for oracle,
/// `manifest` for npy-detector, `fraction` for center, `seed` for random. Every other key is a
/// spec key, checked by make_grounder exactly as on the command line. Errors name FILE:LINE.
grounder_spec read_grounder_config(const std::string& file);

/// The config-file key holding the argument of grounder `kind` (empty when it takes none).
std::string grounder_arg_key(const std::string& kind);

/// The spec as one command-line string, KIND[:ARG][?K=V&...] with the keys sorted, leaving out
/// `skip_key`; what run manifests record (values holding '&' do not round-trip through the
/// command line).
std::string spec_string(const grounder_spec& spec, const std::string& skip_key = {});

/// One grounding request of the runner with the sample it comes from (for replay grounders,
/// which look answers up by image, sentence index and phrase index).
struct runner_request {
  const sample* source = nullptr;
  grounding_request request;
};

/// A grounder built from a spec.
class spec_grounder {
 public:
  virtual ~spec_grounder() = default;
  virtual std::string name() const = 0;
  /// Full configuration, no secrets (recorded in the manifest).
  virtual std::string describe() const = 0;
  /// results[k][i] answers requests[k].request.queries[i]. Per-query failures are in the status.
  virtual std::vector<std::vector<query_result>> ground_many(
      std::span<const runner_request> requests) = 0;
  /// How many requests to hand over at once (concurrency of remote grounders).
  virtual std::size_t batch_size() const { return 64; }
  /// The model name a server reported in its answers so far (empty when none).
  virtual std::string server_model() const { return {}; }
  /// Whether its times per query measure a model answering (a server's round trip). False for
  /// the grounders that answer in-process (baselines, oracle, replays of stored answers): they
  /// take microseconds, which says nothing about any model; the report shows no latency for them.
  virtual bool measures_latency() const { return false; }
};

/// Builds the grounder of `spec`. `data` is the data set being run (the oracle needs its ground
/// truth). Unknown keys or values are config errors listing the valid ones.
std::unique_ptr<spec_grounder> make_grounder(const grounder_spec& spec,
                                             const in_memory_dataset& data);

/// The openai grounder's configuration of spec `s` (kind openai), keys and values checked as
/// make_grounder checks them (errors name the spec or FILE:LINE). Defined only in builds with
/// the http component (GROUNDEVAL_CLI_HAS_HTTP); `groundeval probe` uses it.
openai_config openai_config_from_spec(const grounder_spec& s);

/// The help text describing every grounder kind.
const char* grounder_spec_help();

/// 16 hex digits of FNV-1a 64.
std::string hex64(std::uint64_t v);

/// A content hash of the samples (image ids, sizes, sentences, phrases, types, boxes): what a
/// run is evaluated on, independent of the file layout.
std::string dataset_content_hash(const in_memory_dataset& data);

/// The data set of a run as its manifest records it ("dataset", "split", "selection"), or as
/// given by `dataset`/`split` when those are not empty. A run made on a sample gets the same
/// sample. When the loaded samples' content hash differs from the manifest's
/// "dataset_content_hash", `warning` receives a message.
loaded_dataset load_run_dataset(const std::map<std::string, std::string, std::less<>>& manifest,
                                const std::string& source, const std::string& dataset,
                                const std::string& split, std::string* warning);

}  // namespace groundeval::cli
