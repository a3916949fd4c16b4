// SPDX-License-Identifier: Apache-2.0
// python/src/bind_data.cpp — data sets (Flickr30k Entities folders, MDETR-format files, seeded
// sub-sampling, statistics), evaluation (a predictions file, or predictions given as Python data
// in either layout) and the paired comparison. The numbers come from the same library calls and
// JSON writers as `groundeval stats / evaluate / compare`; groundeval/data.py and evaluation.py
// give them their Python shape.
#include "common.hpp"

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/datasets/subsample.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/io/json/predictions.hpp>

#include <nanobind/stl/array.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace groundeval::python {

namespace {

/// One evaluation, with the data set it refers to (compare() needs both).
struct result_handle {
  std::shared_ptr<const dataset_handle> dataset;
  evaluation_result result;
};

/// Sampling options as `--sample N --sample-by image|phrase --seed S` give them.
struct sampling {
  std::optional<std::size_t> n;
  bool by_phrase = false;
  std::uint64_t seed = 0;
  in_memory_dataset apply(const in_memory_dataset& ds) const {
    if (!n) return ds;
    return by_phrase ? subsample_phrases(ds, *n, seed) : subsample_images(ds, *n, seed);
  }
};

/// Keeps the loaded data set in `h`, sub-sampled as `s` says unless the loader already loaded only
/// the sampled images (`loaded_sample`), with statistics: the loader's when they describe what is
/// kept, else counted from the kept samples (annotation-level counts then do not apply).
void keep(dataset_handle& h, in_memory_dataset ds, dataset_statistics st, const sampling& s,
          bool loaded_sample) {
  if (s.n && !loaded_sample) {
    h.data = s.apply(ds);
    h.statistics_json = to_json(compute_statistics(h.data));
    h.annotation_counts = false;
  } else {
    h.data = std::move(ds);
    h.statistics_json = to_json(st);
  }
}

std::shared_ptr<dataset_handle> load_flickr30k(const std::string& root, const std::string& split,
                                               const std::vector<std::string>& ids,
                                               const std::string& data_dir,
                                               const std::string& image_dir, bool lenient,
                                               bool missing_chain_error, unsigned threads,
                                               std::optional<std::size_t> sample_n,
                                               bool sample_by_phrase, std::uint64_t seed) {
  nb::gil_scoped_release nogil;
  auto h = std::make_shared<dataset_handle>();
  flickr30k_options o;
  o.root = root;
  o.split = split;
  o.image_ids = ids;
  o.data_dir = data_dir;
  o.image_dir = image_dir;
  o.strict = !lenient;
  o.missing_chain_is_error = missing_chain_error;
  o.threads = threads;
  const sampling s{sample_n, sample_by_phrase, seed};
  problem_sink sink(!lenient);
  if (s.n && !s.by_phrase) {
    // As `groundeval stats --sample`: choose the images first and load only those, so every
    // count is exact (the same images `groundeval run --sample N --seed S` evaluates).
    o.image_ids = select_image_ids(resolve_flickr30k_image_ids(o, sink), *s.n, s.seed);
    if (o.image_ids.empty()) {
      h->statistics_json = to_json(compute_statistics(h->data));
      return h;
    }
  }
  for (auto& p : sink.take()) h->problems.push_back(p.to_string());
  flickr30k_load_result res = load_flickr30k_entities_detailed(o);
  for (auto& p : res.problems) h->problems.push_back(p.to_string());
  keep(*h, std::move(res.dataset), std::move(res.statistics), s, !s.by_phrase);
  return h;
}

std::shared_ptr<dataset_handle> load_mdetr(const std::string& path, const std::string& image_dir,
                                           std::optional<std::size_t> sample_n,
                                           bool sample_by_phrase, std::uint64_t seed) {
  nb::gil_scoped_release nogil;
  auto h = std::make_shared<dataset_handle>();
  mdetr_load_result res = load_mdetr_annotations_detailed(path, image_dir);
  keep(*h, std::move(res.dataset), std::move(res.statistics),
       sampling{sample_n, sample_by_phrase, seed}, false);
  return h;
}

using py_phrase = std::tuple<std::string, std::string, std::vector<std::string>,
                             std::vector<std::array<double, 4>>, std::size_t, std::size_t, int>;
using py_sample = std::tuple<std::string, int, std::string, int, int, std::vector<py_phrase>>;

/// Every sample as (image_id, sentence_index, sentence, width, height, phrases), a phrase as
/// (text, chain_id, types, boxes, char_begin, char_end, first_word_index).
std::vector<py_sample> samples(const dataset_handle& h) {
  std::vector<py_sample> out;
  out.reserve(h.data.size());
  for (const sample& s : h.data) {
    std::vector<py_phrase> ph;
    ph.reserve(s.phrases.size());
    for (const phrase& p : s.phrases) {
      std::vector<std::array<double, 4>> boxes;
      for (const auto& b : p.boxes) boxes.push_back({b.x1, b.y1, b.x2, b.y2});
      ph.emplace_back(p.text, p.chain_id, p.types, std::move(boxes), p.char_begin, p.char_end,
                      p.first_word_index);
    }
    out.emplace_back(s.image_id, s.sentence_index, s.sentence, s.size.width, s.size.height,
                     std::move(ph));
  }
  return out;
}

gt_protocol protocol_of(const std::string& p) {
  if (p == "any") return gt_protocol::any_box;
  if (p == "merged") return gt_protocol::merged_box;
  throw error(error_kind::config, "protocol must be 'any' or 'merged', not '" + p + "'");
}

evaluation_options eval_options(const std::string& protocol, double iou, bool missing_as_miss,
                                bool invalid_as_miss) {
  if (!(iou >= 0.0 && iou <= 1.0))
    throw error(error_kind::config, "iou must be a number in [0, 1], not " + std::to_string(iou));
  evaluation_options o;
  o.protocol = protocol_of(protocol);
  o.iou_threshold = iou;
  o.count_missing_as_miss = missing_as_miss;
  o.count_invalid_as_miss = invalid_as_miss;
  return o;
}

std::shared_ptr<result_handle> evaluate_file(std::shared_ptr<const dataset_handle> ds,
                                             const std::string& path, const std::string& protocol,
                                             double iou, bool missing_as_miss, bool invalid_as_miss,
                                             bool allow_non_finite) {
  const evaluation_options opt = eval_options(protocol, iou, missing_as_miss, invalid_as_miss);
  predictions_read_options ropt;
  ropt.allow_non_finite = allow_non_finite;
  nb::gil_scoped_release nogil;
  auto r = std::make_shared<result_handle>();
  r->result = evaluate_predictions_file(ds->data, path, opt, ropt);
  r->dataset = std::move(ds);
  return r;
}

/// A JSON Lines record given as Python data: (image_id, sentence_id, phrase_index, chain_id,
/// boxes, scores, status, latency_s).
using py_record =
    std::tuple<std::string, long long, std::size_t, std::string, std::vector<std::array<double, 4>>,
               std::vector<double>, std::string, double>;
/// An MDETR-layout entry: (image_id, sentence_id, one box list per evaluable phrase).
using py_sentence =
    std::tuple<std::string, std::string, std::vector<std::vector<std::array<double, 4>>>>;

std::shared_ptr<result_handle> evaluate_data(std::shared_ptr<const dataset_handle> ds,
                                             const std::vector<py_record>& records,
                                             const std::vector<py_sentence>& sentences,
                                             const std::string& source, const std::string& protocol,
                                             double iou, bool missing_as_miss,
                                             bool invalid_as_miss) {
  const evaluation_options opt = eval_options(protocol, iou, missing_as_miss, invalid_as_miss);
  prediction_set p;
  p.source = source;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& [image, sentence, phrase_index, chain, boxes, scores, status, latency] = records[i];
    const std::string where = source + ": record #" + std::to_string(i);
    phrase_prediction_record r;
    r.image_id = image;
    r.sentence_id = sentence;
    r.phrase_index = phrase_index;
    r.chain_id = chain;
    r.result.boxes = scored(boxes, scores, where);
    r.result.status = status_of(status, where);
    r.result.latency_s = latency;
    p.phrases.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto& [image, sentence, lists] = sentences[i];
    sentence_prediction sp;
    sp.image_id = image;
    sp.sentence_id = sentence;
    sp.item = i;
    for (const auto& l : lists) sp.boxes.push_back(scored(l, {}, source));
    p.sentences.push_back(std::move(sp));
  }
  nb::gil_scoped_release nogil;
  auto r = std::make_shared<result_handle>();
  r->result = evaluate(ds->data, p, opt);
  r->dataset = std::move(ds);
  return r;
}

using meta_list = std::vector<std::pair<std::string, std::string>>;

/// Per evaluated phrase: (sample index, phrase index, hit mask, top-1 IoU, status, source).
std::tuple<std::vector<std::uint32_t>, std::vector<std::uint32_t>, std::vector<std::uint32_t>,
           std::vector<double>, std::vector<std::string>, std::vector<std::string>>
outcomes(const result_handle& r) {
  std::tuple<std::vector<std::uint32_t>, std::vector<std::uint32_t>, std::vector<std::uint32_t>,
             std::vector<double>, std::vector<std::string>, std::vector<std::string>>
      t;
  auto& [sample_i, phrase_i, mask, iou, status, source] = t;
  for (const auto& o : r.result.outcomes) {
    sample_i.push_back(o.sample);
    phrase_i.push_back(o.phrase);
    mask.push_back(o.hit_mask);
    iou.push_back(o.top1_iou);
    status.emplace_back(to_string(o.status));
    source.emplace_back(o.source == outcome_source::given     ? "given"
                        : o.source == outcome_source::missing ? "missing"
                                                              : "invalid");
  }
  return t;
}

std::pair<std::string, std::string> compare(const result_handle& a, const result_handle& b,
                                            const std::string& name_a, const std::string& name_b,
                                            std::uint64_t seed, std::size_t bootstrap,
                                            std::size_t cases, const meta_list& meta) {
  if (a.dataset != b.dataset)
    throw error(error_kind::invalid,
                "compare: the two results were evaluated on different data set objects");
  compare_options o;
  o.seed = seed;
  o.bootstrap_samples = bootstrap;
  o.cases_per_kind = cases;
  nb::gil_scoped_release nogil;
  const comparison_result c = compare_runs(a.dataset->data, a.result, b.result, o);
  return {comparison_json(c, name_a, name_b, meta), format_comparison_table(c, name_a, name_b)};
}

}  // namespace

void bind_data(nb::module_& m) {
  nb::class_<dataset_handle>(m, "Dataset")
      .def("__len__", [](const dataset_handle& h) { return h.data.size(); })
      .def_prop_ro("name", [](const dataset_handle& h) { return h.data.name(); })
      .def_prop_ro("image_dir", [](const dataset_handle& h) { return h.data.image_dir(); })
      .def_ro("statistics_json", &dataset_handle::statistics_json)
      .def_ro("annotation_counts", &dataset_handle::annotation_counts)
      .def_ro("problems", &dataset_handle::problems)
      .def("samples", &samples);
  nb::class_<result_handle>(m, "Result")
      .def(
          "json",
          [](const result_handle& r, const meta_list& meta) { return report_json(r.result, meta); },
          nb::arg("meta"))
      .def(
          "table",
          [](const result_handle& r, const meta_list& meta) {
            return format_report_table(r.result, meta);
          },
          nb::arg("meta"))
      .def("outcomes", &outcomes)
      .def_prop_ro("image_ids", [](const result_handle& r) { return r.result.image_ids; })
      .def_prop_ro("ks", [](const result_handle& r) { return r.result.recall.ks; });

  m.def("load_flickr30k", &load_flickr30k, nb::arg("root"), nb::arg("split"), nb::arg("ids"),
        nb::arg("data_dir"), nb::arg("image_dir"), nb::arg("lenient"),
        nb::arg("missing_chain_error"), nb::arg("threads"), nb::arg("sample").none(),
        nb::arg("sample_by_phrase"), nb::arg("seed"));
  m.def("load_mdetr", &load_mdetr, nb::arg("path"), nb::arg("image_dir"), nb::arg("sample").none(),
        nb::arg("sample_by_phrase"), nb::arg("seed"));
  m.def("evaluate_file", &evaluate_file, nb::arg("dataset"), nb::arg("path"), nb::arg("protocol"),
        nb::arg("iou"), nb::arg("missing_as_miss"), nb::arg("invalid_as_miss"),
        nb::arg("allow_non_finite"));
  m.def("evaluate_data", &evaluate_data, nb::arg("dataset"), nb::arg("records"),
        nb::arg("sentences"), nb::arg("source"), nb::arg("protocol"), nb::arg("iou"),
        nb::arg("missing_as_miss"), nb::arg("invalid_as_miss"));
  m.def("compare", &compare, nb::arg("a"), nb::arg("b"), nb::arg("name_a"), nb::arg("name_b"),
        nb::arg("seed"), nb::arg("bootstrap"), nb::arg("cases"), nb::arg("meta"));
}

}  // namespace groundeval::python
