// SPDX-License-Identifier: Apache-2.0
// Concept conformance: a minimal archetype for each concept satisfies it, and each near miss
// (one required member removed or mistyped) does not. Compile-time checks, plus runtime tests
// that drive the archetypes through a generic loop, through evaluate() with an extra metric and
// through the runner, so the concepts are exercised as the library uses them.
#include <groundeval/concepts/concepts.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/run/runner.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <ranges>
#include <string>
#include <vector>

namespace archetypes {
using groundeval::box_xyxy;

struct phrase_min {
  std::string_view text, chain_id;
  std::array<std::string_view, 1> types;
  std::vector<box_xyxy<double>> boxes;
  std::size_t char_begin, char_end;
};
struct phrase_float_boxes {  // near miss: ground truth must be double precision
  std::string_view text, chain_id;
  std::array<std::string_view, 1> types;
  std::vector<box_xyxy<float>> boxes;
  std::size_t char_begin, char_end;
};
struct phrase_no_span {  // near miss: no character span
  std::string_view text, chain_id;
  std::array<std::string_view, 1> types;
  std::vector<box_xyxy<double>> boxes;
};
struct phrase_int_types {  // near miss: types are not strings
  std::string_view text, chain_id;
  std::vector<int> types;
  std::vector<box_xyxy<double>> boxes;
  std::size_t char_begin, char_end;
};

struct sample_min {
  std::string image_id;
  groundeval::image_size size;
  int sentence_index;
  std::string sentence;
  std::vector<phrase_min> phrases;
};
struct sample_no_size {  // near miss
  std::string image_id;
  int sentence_index;
  std::string sentence;
  std::vector<phrase_min> phrases;
};
struct sample_bad_phrases {  // near miss: phrases are not Phrase
  std::string image_id;
  groundeval::image_size size;
  int sentence_index;
  std::string sentence;
  std::vector<phrase_no_span> phrases;
};

using dataset_min = std::vector<sample_min>;
struct dataset_unsized {  // near miss: an input range without size()
  struct iterator {
    using value_type = sample_min;
    using difference_type = std::ptrdiff_t;
    const sample_min* p;
    const sample_min& operator*() const { return *p; }
    iterator& operator++() { return ++p, *this; }
    void operator++(int) { ++p; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.p == b.p; }
  };
  iterator begin() const { return {nullptr}; }
  iterator end() const { return {nullptr}; }
};

struct dataset_prvalues {  // near miss: samples made on the fly, so no pointer to one can be kept
  struct iterator {
    using iterator_concept = std::forward_iterator_tag;
    using value_type = sample_min;
    using difference_type = std::ptrdiff_t;
    int i = 0;
    sample_min operator*() const { return {}; }
    iterator& operator++() { return ++i, *this; }
    iterator operator++(int) { return {i++}; }
    friend bool operator==(const iterator&, const iterator&) = default;
  };
  iterator begin() const { return {0}; }
  iterator end() const { return {2}; }
  std::size_t size() const { return 2; }
};
static_assert(std::ranges::forward_range<const dataset_prvalues> &&
              std::ranges::sized_range<const dataset_prvalues>);

struct grounder_min {
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request& r) {
    return std::vector<groundeval::query_result>(r.queries.size());
  }
  std::string_view name() const { return "archetype"; }
};
struct grounder_described : grounder_min {
  std::string describe() const { return "{}"; }
};
struct grounder_no_name {  // near miss
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request&);
};
struct grounder_mutable_name {  // near miss: name() must be callable on a const grounder
  std::vector<groundeval::query_result> ground(const groundeval::grounding_request&);
  std::string_view name();
};
struct grounder_wrong_result {  // near miss: one result per query, not a single one
  groundeval::query_result ground(const groundeval::grounding_request&);
  std::string_view name() const;
};

struct metric_min {
  long hits = 0, total = 0;
  void add(const groundeval::phrase_prediction& p, const groundeval::phrase_truth&) {
    ++total;
    hits += p.boxes.empty() ? 0 : 1;
  }
  void merge(const metric_min& o) { hits += o.hits, total += o.total; }
  double result() const { return total ? double(hits) / double(total) : 0.0; }
  std::string_view name() const { return "nonempty"; }
};
struct metric_no_merge {  // near miss
  void add(const groundeval::phrase_prediction&, const groundeval::phrase_truth&);
  double result() const;
  std::string_view name() const;
};
struct metric_no_result {  // near miss
  void add(const groundeval::phrase_prediction&, const groundeval::phrase_truth&);
  void merge(const metric_no_result&);
  std::string_view name() const;
};
}  // namespace archetypes

using namespace archetypes;
namespace ge = groundeval;

static_assert(ge::Phrase<phrase_min>);
static_assert(!ge::Phrase<phrase_float_boxes>);
static_assert(!ge::Phrase<phrase_no_span>);
static_assert(!ge::Phrase<phrase_int_types>);
static_assert(ge::Sample<sample_min>);
static_assert(!ge::Sample<sample_no_size>);
static_assert(!ge::Sample<sample_bad_phrases>);
static_assert(ge::Dataset<dataset_min>);
static_assert(!ge::Dataset<dataset_unsized>);
static_assert(!ge::Dataset<dataset_prvalues>);
static_assert(!ge::Dataset<std::vector<sample_no_size>>);
static_assert(!ge::NamedDataset<dataset_min>);
static_assert(ge::Dataset<ge::in_memory_dataset> && ge::NamedDataset<ge::in_memory_dataset>);
static_assert(ge::Grounder<grounder_min>);
static_assert(!ge::DescribedGrounder<grounder_min>);
static_assert(ge::DescribedGrounder<grounder_described>);
static_assert(!ge::Grounder<grounder_no_name>);
static_assert(!ge::Grounder<grounder_mutable_name>);
static_assert(!ge::Grounder<grounder_wrong_result>);
static_assert(ge::Metric<metric_min>);
static_assert(!ge::Metric<metric_no_merge>);
static_assert(!ge::Metric<metric_no_result>);
static_assert(!ge::MeasuredMetric<metric_min>);
static_assert(ge::MeasuredMetric<ge::recall_at_k> && ge::MeasuredMetric<ge::localization_metric>);
static_assert(!ge::BatchGrounder<grounder_min> && !ge::LatencyGrounder<grounder_min>);

namespace {
// A generic loop written only against the concepts.
template <ge::Dataset D, ge::Grounder G, ge::Metric M>
void run(const D& data, G& g, M& m) {
  for (const auto& s : data) {
    std::vector<ge::phrase_query> qs;
    for (const auto& p : s.phrases)
      qs.push_back({p.text, s.sentence, p.char_begin, p.char_end, qs.size()});
    const auto res = g.ground({{s.image_id, {}, s.size}, qs});
    std::size_t i = 0;
    for (const auto& p : s.phrases) {
      if (!ge::is_evaluable(p)) {
        ++i;
        continue;
      }
      std::vector<std::string> types(p.types.begin(), p.types.end());
      m.add({res[i].boxes, res[i].status, res[i].latency_s}, {p.boxes, types, s.size});
      ++i;
    }
  }
}
}  // namespace

TEST_CASE("archetypes work through a generic loop", "[concepts]") {
  dataset_min data(2);
  data[0].phrases.push_back({"a dog", "1", {"animals"}, {{0, 0, 5, 5}}, 0, 5});
  data[0].phrases.push_back({"it", "0", {"notvisual"}, {}, 6, 8});
  data[1].phrases.push_back({"a cat", "2", {"animals"}, {{1, 1, 2, 2}}, 0, 5});
  grounder_min g;
  metric_min m1, m2;
  run(dataset_min(data.begin(), data.begin() + 1), g, m1);
  run(dataset_min(data.begin() + 1, data.end()), g, m2);
  m1.merge(m2);
  CHECK(m1.total == 2);  // the notvisual phrase is not evaluable
  CHECK(m1.result() == 0.0);
  CHECK(ge::has_evaluable_phrase(data[0]));
  sample_min empty;
  CHECK_FALSE(ge::has_evaluable_phrase(empty));
}

namespace {
dataset_min sample_data() {
  dataset_min data(2);
  data[0] = {"img1", {100, 100}, 0, "A dog and it .", {}};
  data[0].phrases.push_back({"A dog", "1", {"animals"}, {{0, 0, 50, 50}}, 0, 5});
  data[0].phrases.push_back({"it", "0", {"notvisual"}, {}, 10, 12});
  data[1] = {"img2", {100, 100}, 0, "A cat .", {}};
  data[1].phrases.push_back({"A cat", "2", {"animals"}, {{10, 10, 90, 90}}, 0, 5});
  return data;
}
}  // namespace

TEST_CASE("the archetype data set works with evaluate() and an extra metric", "[concepts]") {
  const dataset_min data = sample_data();
  ge::prediction_set preds;
  for (const auto& [img, box] : {std::pair{"img1", ge::box_xyxy<double>{0, 0, 50, 50}},
                                 std::pair{"img2", ge::box_xyxy<double>{0, 0, 5, 5}}}) {
    ge::phrase_prediction_record r;
    r.image_id = img;
    r.result.boxes = {{box, 1.0}};
    preds.phrases.push_back(r);
  }
  ge::evaluation_options opt;
  opt.metrics.push_back(metric_min{});
  const auto res = ge::evaluate(data, preds, opt);
  CHECK(res.phrases == 2);
  CHECK(res.recall.recall(1) == 0.5);
  CHECK(res.recall.recall(1, "animals") == 0.5);
  REQUIRE(res.metrics.size() == 1);
  const metric_min* m = res.metrics[0].target<metric_min>();
  REQUIRE(m);
  CHECK(m->total == 2);
  CHECK(m->hits == 2);  // both answers have a box
  CHECK(ge::report_json(res).find("\"metrics\": {\n    \"nonempty\": 1\n  }") != std::string::npos);
}

TEST_CASE("the archetype grounder and data set run through the runner", "[concepts]") {
  const dataset_min data = sample_data();
  const auto dir = std::filesystem::temp_directory_path() / "groundeval_concepts_run";
  std::filesystem::remove_all(dir);
  grounder_min g;
  ge::run_options opt;
  opt.out = dir;
  auto r = ge::run_grounder(g, data, opt);
  CHECK(r.status == ge::run_status::complete);
  CHECK(r.total == 2);
  CHECK(r.recorded == 2);
  CHECK(ge::list_queries(data).size() == 2);
  const auto m = ge::read_manifest(r.manifest);
  CHECK(m.at("grounder") == "archetype");  // no describe(): the name
  CHECK(m.at("latency") == "measured");    // no measures_latency(): a model
  r = ge::run_grounder(g, data, opt);      // resumes: nothing left to ask
  CHECK(r.already == 2);
  CHECK(r.recorded == 0);
  std::filesystem::remove_all(dir);
}
