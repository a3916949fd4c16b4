// SPDX-License-Identifier: Apache-2.0
// groundeval/concepts/grounder.hpp — the Grounder concept and the query/result vocabulary.
// Target: groundeval::core (standard library only).
//
// A model of `Grounder` provides:
//   g.ground(const grounding_request&) -> std::vector<query_result>
//       one result per query, in query order. A per-query failure (unparsable model text, a
//       network error after retries, ...) is recorded in query_result::status, never thrown;
//       throw only for set-up errors (bad configuration) that make every query fail.
//   std::as_const(g).name() -> string-like, a short identifier for tables and manifests.
// Optional, additive capabilities (the runner, run/runner.hpp, tests them with `if constexpr`;
// a grounder has none, some or all of them):
//   DescribedGrounder   std::as_const(g).describe() -> std::string: full configuration (for the
//                       run manifest and the prediction cache key); must not contain secrets.
//   BatchGrounder       g.ground_many(std::span<const grounding_request>) -> one result vector
//                       per request: answers a whole batch at once (its own parallelism).
//   BatchSizeGrounder   std::as_const(g).batch_size() -> std::size_t: requests to hand over at
//   once. AsyncGrounder       g.ground_async(const grounding_request&) -> std::future<results>: the
//                       runner starts a whole batch, then waits for each answer.
//   ConcurrentGrounder  std::as_const(g).max_concurrency() -> std::size_t: ground() may be called
//                       from that many threads at once (the runner's `concurrency` option).
//   LatencyGrounder     std::as_const(g).measures_latency() -> bool: whether its time per query
//                       measures a model (false for baselines and replays; default true).
//   ServerGrounder      std::as_const(g).server_model() -> std::string: the model a server said it
//                       runs (recorded in the run manifest).
#pragma once

#include <groundeval/boxes/box.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <future>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval {

/// One phrase to ground in an image, with its sentence as context.
struct phrase_query {
  std::string_view phrase;     ///< the phrase text, e.g. "a man in a red jacket"
  std::string_view sentence;   ///< the whole caption the phrase comes from
  std::size_t char_begin = 0;  ///< span of the phrase in `sentence`, [begin, end)
  std::size_t char_end = 0;
  std::size_t phrase_index = 0;   ///< index of the phrase among the sentence's phrases
  long long sentence_index = -1;  ///< the sentence's 0-based index in its image (the query key
                                  ///< is image id, sentence index, phrase index); -1: unknown
};

/// The image a request is about.
struct image_ref {
  std::string_view id;    ///< data set image id
  std::string_view path;  ///< file on disk; may be empty for grounders that need no pixels
  image_size size;        ///< original image size in pixels
};

/// A batch of phrase queries on one image (all from one sentence when the runner asks).
struct grounding_request {
  image_ref image;
  std::span<const phrase_query> queries;
  /// The sentence's index among its image's sentences (the data set's sentence_index; with
  /// image.id and each query's phrase_index it names the query as a run records it); -1 when
  /// the request is not about one sentence of a data set.
  long long sentence_index = -1;
};

/// Outcome of one query. `ok` means at least one box (or, for a point-answer family, point) was
/// produced.
enum class query_status : std::uint8_t {
  ok,              ///< one or more boxes or points
  empty,           ///< the model answered but with no box (e.g. "I cannot see it")
  format_failure,  ///< the answer had box-like text that could not be parsed
  error,           ///< no answer (network failure after retries, backend error, ...)
};

constexpr std::string_view to_string(query_status s) noexcept {
  switch (s) {
    case query_status::ok:
      return "ok";
    case query_status::empty:
      return "empty";
    case query_status::format_failure:
      return "format_failure";
    case query_status::error:
      return "error";
  }
  return "unknown";
}

/// A predicted box in original-image pixels with its score (higher is better).
struct scored_box {
  box_xyxy<double> box;
  double score = 0.0;
  friend constexpr bool operator==(const scored_box&, const scored_box&) = default;
};

/// A predicted point (x, y) in original-image pixels: what point-answer families (Molmo's
/// <point>) give instead of a box.
struct answer_point {
  double x = 0.0, y = 0.0;
  friend constexpr bool operator==(const answer_point&, const answer_point&) = default;
};

/// Per-query answer: boxes ranked best first, plus what is needed to audit the answer.
struct query_result {
  std::vector<scored_box> boxes;  ///< ranked best first; order is what Recall@k looks at
  query_status status = query_status::ok;
  std::string raw_text;     ///< the model's raw answer, when there is one
  std::string message;      ///< failure reason for format_failure / error
  double latency_s = -1.0;  ///< seconds spent on this query; negative when not measured
  std::string geometry;     ///< how model coordinates map to the image (JSON); empty if none
  /// Points ranked best first (point-answer families). Box metrics (Recall@k, IoU) see only
  /// `boxes`, so a point-only answer is a miss there (counted as a point answer); the pointing
  /// game scores its first point.
  std::vector<answer_point> points{};
};

template <class G>
concept Grounder = requires(G& g, const grounding_request& r) {
  { g.ground(r) } -> std::same_as<std::vector<query_result>>;
  { std::as_const(g).name() } -> std::convertible_to<std::string_view>;
};

template <class G>
concept DescribedGrounder = Grounder<G> && requires(const G& g) {
  { g.describe() } -> std::convertible_to<std::string>;
};

template <class G>
concept BatchGrounder = Grounder<G> && requires(G& g, std::span<const grounding_request> rs) {
  { g.ground_many(rs) } -> std::same_as<std::vector<std::vector<query_result>>>;
};

template <class G>
concept BatchSizeGrounder = Grounder<G> && requires(const G& g) {
  { g.batch_size() } -> std::convertible_to<std::size_t>;
};

template <class G>
concept AsyncGrounder = Grounder<G> && requires(G& g, const grounding_request& r) {
  { g.ground_async(r) } -> std::same_as<std::future<std::vector<query_result>>>;
};

template <class G>
concept ConcurrentGrounder = Grounder<G> && requires(const G& g) {
  { g.max_concurrency() } -> std::convertible_to<std::size_t>;
};

template <class G>
concept LatencyGrounder = Grounder<G> && requires(const G& g) {
  { g.measures_latency() } -> std::convertible_to<bool>;
};

template <class G>
concept ServerGrounder = Grounder<G> && requires(const G& g) {
  { g.server_model() } -> std::convertible_to<std::string>;
};

}  // namespace groundeval
