// SPDX-License-Identifier: Apache-2.0
// Fuzzes the Flickr30k Entities Annotations/<id>.xml parser from a memory buffer
// (datasets/xml/flickr30k_entities.hpp, parse_flickr30k_annotation): TinyXML2 path and the fast
// scanner, strict (groundeval::error allowed) and lenient (never throws). Differential check:
// where the fast scanner accepts a file, the TinyXML2 path must accept it with no problem and
// give the same annotation (the header documents "same results").
#include "fuzz_util.hpp"

#include <groundeval/datasets/xml/flickr30k_entities.hpp>

#include <cstdlib>

namespace {

bool same(const groundeval::flickr30k_annotation& a, const groundeval::flickr30k_annotation& b) {
  if (a.size.width != b.size.width || a.size.height != b.size.height) return false;
  if (a.box_objects != b.box_objects || a.shared_boxes != b.shared_boxes ||
      a.scene_objects != b.scene_objects || a.nobox_objects != b.nobox_objects ||
      a.degenerate_boxes != b.degenerate_boxes || a.chains.size() != b.chains.size())
    return false;
  for (std::size_t i = 0; i < a.chains.size(); ++i) {
    const auto &x = a.chains[i], &y = b.chains[i];
    if (x.id != y.id || x.scene != y.scene || x.nobox != y.nobox ||
        x.boxes.size() != y.boxes.size())
      return false;
    for (std::size_t k = 0; k < x.boxes.size(); ++k)
      if (!(x.boxes[k] == y.boxes[k])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml = groundeval_fuzz::as_text(data, size);
  const std::string file = "Annotations/fuzz.xml";
  for (const bool fast : {true, false}) {
    try {
      groundeval::problem_sink strict(true);
      (void)groundeval::parse_flickr30k_annotation(xml, file, strict, fast);
    } catch (const groundeval::error&) {
    }
  }
  groundeval::problem_sink lenient(false);
  const auto slow = groundeval::parse_flickr30k_annotation(xml, file, lenient, false);
  for (const auto& c : slow.chains)
    for (const auto& b : c.boxes)
      if (b.x2 < b.x1 || b.y2 < b.y1) std::abort();  // inverted boxes are rejected

  groundeval::flickr30k_annotation quick;
  if (groundeval::detail::fast_parse_flickr30k_annotation(xml, quick)) {
    if (!lenient.problems().empty()) std::abort();  // fast accepted what TinyXML2 rejects
    if (!same(quick, slow)) std::abort();           // fast and TinyXML2 disagree
  }
  return 0;
}
