// SPDX-License-Identifier: Apache-2.0
// groundeval/postprocess/detector_outputs.hpp — a non-owning view of a specialist detector's raw
// outputs in caller memory (no copies): pred_logits [B, Q, T], pred_boxes [B, Q, 4] and an
// optional centerness [B, Q], all contiguous row-major. Target: groundeval::core (std only);
// interop/ builds the same view over Eigen / xtensor / .npy memory.
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace groundeval {

/// Raw outputs of a DETR-style (MDETR, Grounding DINO, OWL) or dense (GLIP) grounding detector.
template <class T>
struct detector_outputs_view {
  const T* logits = nullptr;      ///< [batch, queries, tokens]: per-query text-token logits
  const T* boxes = nullptr;       ///< [batch, queries, 4]: cxcywh or xyxy (see box_format)
  const T* centerness = nullptr;  ///< [batch, queries] logits, or nullptr when absent
  std::size_t batch = 0;
  std::size_t queries = 0;
  std::size_t tokens = 0;

  std::span<const T> image_logits(std::size_t b) const noexcept {
    return {logits + b * queries * tokens, queries * tokens};
  }
  std::span<const T> image_boxes(std::size_t b) const noexcept {
    return {boxes + b * queries * 4, queries * 4};
  }
  std::span<const T> image_centerness(std::size_t b) const noexcept {
    return centerness ? std::span<const T>{centerness + b * queries, queries}
                      : std::span<const T>{};
  }
};

/// Builds a view over flat caller buffers, checking every size against (batch, queries, tokens).
/// `centerness` may be empty. `item` names the outputs in error messages (e.g. a dump file).
template <class T>
detector_outputs_view<T> make_detector_outputs_view(std::span<const T> logits,
                                                    std::span<const T> boxes,
                                                    std::span<const T> centerness,
                                                    std::size_t batch, std::size_t queries,
                                                    std::size_t tokens,
                                                    const std::string& item = "detector outputs") {
  const auto shape = [](std::size_t a, std::size_t b, std::size_t c) {
    return "[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + "]";
  };
  if (logits.size() != batch * queries * tokens)
    throw error(error_kind::invalid, item, 0,
                "pred_logits has " + std::to_string(logits.size()) + " values, expected " +
                    shape(batch, queries, tokens));
  if (boxes.size() != batch * queries * 4)
    throw error(error_kind::invalid, item, 0,
                "pred_boxes has " + std::to_string(boxes.size()) + " values, expected " +
                    shape(batch, queries, 4));
  if (!centerness.empty() && centerness.size() != batch * queries)
    throw error(error_kind::invalid, item, 0,
                "centerness has " + std::to_string(centerness.size()) + " values, expected [" +
                    std::to_string(batch) + ", " + std::to_string(queries) + "]");
  return {logits.data(), boxes.data(), centerness.empty() ? nullptr : centerness.data(),
          batch,         queries,      tokens};
}

/// Builds a view from arrays with their shapes, as they come from .npy dumps or tensors:
/// logits [B, Q, T] or [Q, T] (then B = 1), boxes [B, Q, 4] or [Q, 4], centerness [B, Q] or [Q]
/// or absent (empty data and shape). Every mismatch is an error naming `item` and the array.
template <class T>
detector_outputs_view<T> make_detector_outputs_view(
    std::span<const T> logits, std::span<const std::size_t> logits_shape, std::span<const T> boxes,
    std::span<const std::size_t> boxes_shape, std::span<const T> centerness,
    std::span<const std::size_t> centerness_shape, const std::string& item) {
  const auto str = [](std::span<const std::size_t> s) {
    std::string r = "[";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  };
  if (logits_shape.size() != 2 && logits_shape.size() != 3)
    throw error(error_kind::invalid, item, 0,
                "pred_logits must be [B, Q, T] or [Q, T], got " + str(logits_shape));
  const bool batched = logits_shape.size() == 3;
  const std::size_t b = batched ? logits_shape[0] : 1;
  const std::size_t q = logits_shape[batched ? 1 : 0], t = logits_shape[batched ? 2 : 1];
  const bool boxes_ok = batched
                            ? boxes_shape.size() == 3 && boxes_shape[0] == b &&
                                  boxes_shape[1] == q && boxes_shape[2] == 4
                            : boxes_shape.size() == 2 && boxes_shape[0] == q && boxes_shape[1] == 4;
  if (!boxes_ok)
    throw error(error_kind::invalid, item, 0,
                "pred_boxes has shape " + str(boxes_shape) + " but pred_logits has shape " +
                    str(logits_shape) + " (expected " + (batched ? "[B, Q, 4])" : "[Q, 4])"));
  if (!centerness_shape.empty() || !centerness.empty()) {
    const bool ok = batched ? centerness_shape.size() == 2 && centerness_shape[0] == b &&
                                  centerness_shape[1] == q
                            : centerness_shape.size() == 1 && centerness_shape[0] == q;
    if (!ok)
      throw error(error_kind::invalid, item, 0,
                  "centerness has shape " + str(centerness_shape) + " but pred_logits has shape " +
                      str(logits_shape));
  }
  return make_detector_outputs_view<T>(logits, boxes, centerness, b, q, t, item);
}

}  // namespace groundeval
