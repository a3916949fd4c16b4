// SPDX-License-Identifier: Apache-2.0
// groundeval/run/queries.hpp — the phrase queries of a data set: one per evaluable phrase (a
// phrase with at least one ground-truth box, MDETR's rule), grouped by sentence, in data set
// order, optionally restricted to one shard and to the first N sentences. `groundeval run` asks
// exactly these, evaluate() scores exactly these (with no shard or limit), `groundeval merge`
// expects exactly these. Target: groundeval::core (standard library only).
#pragma once

#include <groundeval/concepts/dataset.hpp>
#include <groundeval/run/records.hpp>
#include <groundeval/run/shard.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// Which queries of a data set a run asks.
struct query_selection {
  std::optional<shard_spec> shard;   ///< only the images of this shard
  std::optional<std::size_t> limit;  ///< only the first N sentences (of the shard) with a query
};

/// Calls fn(sample, phrase_indices) for each sentence with at least one query, in data set order:
/// `phrase_indices` (a std::vector<std::size_t>) lists the sentence's evaluable phrases.
template <Dataset D, class Fn>
void for_each_query_sentence(const D& data, const query_selection& selection, Fn&& fn) {
  std::size_t sentences = 0;
  std::vector<std::size_t> phrases;
  for (const auto& s : data) {
    if (selection.shard && !selection.shard->contains(std::string_view(s.image_id))) continue;
    phrases.clear();
    std::size_t k = 0;
    for (const auto& p : s.phrases) {
      if (is_evaluable(p)) phrases.push_back(k);
      ++k;
    }
    if (phrases.empty()) continue;
    if (selection.limit && sentences >= *selection.limit) break;
    ++sentences;
    fn(s, std::as_const(phrases));
  }
}

/// The keys of the queries (image id, sentence index, phrase index), in data set order.
template <Dataset D>
std::vector<run_key> list_queries(const D& data, const query_selection& selection = {}) {
  std::vector<run_key> out;
  for_each_query_sentence(data, selection, [&](const auto& s, const std::vector<std::size_t>& ps) {
    for (const std::size_t k : ps)
      out.push_back(run_key{std::string(std::string_view(s.image_id)),
                            static_cast<long long>(s.sentence_index), k});
  });
  return out;
}

/// Throws error_kind::invalid naming `source` (the data set as the user gave it) when `data` has
/// no evaluable phrase at all: a run would ask nothing and an evaluation would divide by zero.
template <Dataset D>
void require_evaluable_phrases(const D& data, const std::string& source) {
  bool any = false;
  for_each_query_sentence(data, query_selection{std::nullopt, 1},
                          [&](const auto&, const std::vector<std::size_t>&) { any = true; });
  if (!any)
    throw error(error_kind::invalid, source, 0,
                "the data set has no evaluable phrase (no phrase whose chain has a ground-truth "
                "box): nothing to run or evaluate");
}

}  // namespace groundeval
