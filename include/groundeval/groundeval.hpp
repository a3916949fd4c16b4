// SPDX-License-Identifier: Apache-2.0
// groundeval/groundeval.hpp — umbrella header for the core (target groundeval::core).
// Pulls in the standard library only: optional parts (TinyXML2, JSON, stb, Eigen/xtensor, HTTP,
// CUDA) are included explicitly from their own folders (datasets/xml, datasets/json, io/json,
// io/stb, report/png, interop, grounders/interop, grounders/http, cuda/*.cuh) and linked through
// their own targets. tests/headers/core_is_clean.cpp proves that no optional dependency is
// reachable from here.
#pragma once

#include <groundeval/config.hpp>
#include <groundeval/error.hpp>

#include <groundeval/boxes/batched.hpp>
#include <groundeval/boxes/box.hpp>
#include <groundeval/boxes/convert.hpp>
#include <groundeval/boxes/iou.hpp>
#include <groundeval/boxes/nms.hpp>

#include <groundeval/concepts/concepts.hpp>

#include <groundeval/datasets/content_hash.hpp>
#include <groundeval/datasets/flickr30k_sentences.hpp>
#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/datasets/splits.hpp>
#include <groundeval/datasets/statistics.hpp>
#include <groundeval/datasets/subsample.hpp>

#include <groundeval/metrics/answers.hpp>
#include <groundeval/metrics/any_metric.hpp>
#include <groundeval/metrics/localization.hpp>
#include <groundeval/metrics/paired.hpp>
#include <groundeval/metrics/recall.hpp>

#include <groundeval/eval/compare.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/eval/progress.hpp>
#include <groundeval/eval/report.hpp>
#include <groundeval/eval/run_dir.hpp>

#include <groundeval/run/any_grounder.hpp>
#include <groundeval/run/queries.hpp>
#include <groundeval/run/runner.hpp>

#include <groundeval/grounders/baselines.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/grounders/prompts.hpp>

#include <groundeval/postprocess/detector_outputs.hpp>
#include <groundeval/postprocess/pipeline.hpp>
#include <groundeval/postprocess/positive_map.hpp>

#include <groundeval/report/summary.hpp>
#include <groundeval/report/writer.hpp>

#include <groundeval/io/image.hpp>

#include <groundeval/cuda/api.hpp>
