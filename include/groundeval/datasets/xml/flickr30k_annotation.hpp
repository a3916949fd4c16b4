// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_annotation.hpp — one Annotations/<id>.xml in memory: the
// public flickr30k_annotation, the loader's per-thread scratch form, and the one rule that adds
// an <object> to either (shared by the fast scanner and the TinyXML2 path). Target:
// groundeval::xml.
#pragma once

#include <groundeval/boxes/box.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// The boxes and flags of one chain id in one Annotations file.
struct flickr30k_chain {
  std::string id;
  std::vector<box_xyxy<double>> boxes;  ///< raw 1-based integers as written, in file order
  bool scene = false;
  bool nobox = false;
};

/// One parsed Annotations/<id>.xml.
struct flickr30k_annotation {
  image_size size;
  std::vector<flickr30k_chain> chains;  ///< in order of first appearance
  std::size_t box_objects = 0;          ///< <object>s with a <bndbox>
  std::size_t shared_boxes = 0;         ///< of those, with >= 2 <name>s
  std::size_t scene_objects = 0;
  std::size_t nobox_objects = 0;
  std::size_t degenerate_boxes = 0;

  const flickr30k_chain* find(std::string_view id) const noexcept {
    for (const auto& c : chains)
      if (c.id == id) return &c;
    return nullptr;
  }
  flickr30k_chain& get(std::string_view id) {
    for (auto& c : chains)
      if (c.id == id) return c;
    chains.push_back({std::string(id), {}, false, false});
    return chains.back();
  }
  /// Appends a box to a chain of this annotation (the interface add_flickr30k_object fills).
  void add_box(flickr30k_chain& c, const box_xyxy<double>& b) { c.boxes.push_back(b); }
};

namespace detail {

/// One <object> as read from the file, before it is added to the annotation (shared by the
/// TinyXML2 path and the fast scanner so both apply identical rules).
struct flickr30k_raw_object {
  std::vector<std::string_view> names;  ///< trimmed, validated digits
  bool has_box = false;
  long long v[4] = {0, 0, 0, 0};  ///< xmin, ymin, xmax, ymax (validated: not inverted)
  long long nobox = 0, scene = 0;
};

/// The loader's per-thread form of an annotation: chain ids view the file buffer (or the
/// TinyXML2 fallback's flickr30k_annotation), boxes sit in one vector as per-chain lists in file
/// order, and nothing is freed between images. Same rules as flickr30k_annotation
/// (add_flickr30k_object fills both).
struct flickr30k_scratch {
  static constexpr std::uint32_t none = 0xffffffffu;
  struct chain {
    std::string_view id;
    std::uint64_t key = 0;  ///< id_key(id)
    std::uint32_t head = none, tail = none, count = 0;
    bool scene = false;
    bool nobox = false;
  };
  struct box_node {
    box_xyxy<double> box;
    std::uint32_t next = none;
  };
  image_size size;
  std::vector<chain> chains;  ///< in order of first appearance
  std::vector<box_node> boxes;
  std::size_t box_objects = 0, shared_boxes = 0, scene_objects = 0, nobox_objects = 0;
  std::size_t degenerate_boxes = 0;

  void clear() noexcept {
    size = {};
    chains.clear();
    boxes.clear();
    box_objects = shared_boxes = scene_objects = nobox_objects = degenerate_boxes = 0;
  }
  /// A chain id's first seven bytes and its length in one word: equal keys are equal ids up to
  /// seven bytes (Flickr30k's are six digits), so a lookup compares words, not strings (the
  /// string comparisons of the per-phrase lookups were a tenth of the loader's time).
  static std::uint64_t id_key(std::string_view id) noexcept {
    std::uint64_t k = 0;
    std::memcpy(&k, id.data(), std::min<std::size_t>(id.size(), 7));
    k &= 0x00FFFFFFFFFFFFFFull;  // on a big-endian machine too: the length goes in its own byte
    return k ^ (static_cast<std::uint64_t>(std::min<std::size_t>(id.size(), 255)) << 56);
  }
  chain& get(std::string_view id) {
    const std::uint64_t k = id_key(id);
    for (auto& c : chains)
      if (same(c, id, k)) return c;
    chains.push_back({id, k});
    return chains.back();
  }
  const chain* find(std::string_view id) const noexcept {
    const std::uint64_t k = id_key(id);
    for (const auto& c : chains)
      if (same(c, id, k)) return &c;
    return nullptr;
  }
  /// Copies a chain's boxes (file order) into `out`, sized once.
  void copy_boxes(const chain& c, std::vector<box_xyxy<double>>& out) const {
    out.reserve(c.count);
    for (std::uint32_t k = c.head; k != none; k = boxes[k].next) out.push_back(boxes[k].box);
  }
  /// Takes an annotation read by the TinyXML2 path (`ann` must outlive the views).
  void assign(const flickr30k_annotation& ann) {
    clear();
    size = ann.size;
    box_objects = ann.box_objects;
    shared_boxes = ann.shared_boxes;
    scene_objects = ann.scene_objects;
    nobox_objects = ann.nobox_objects;
    degenerate_boxes = ann.degenerate_boxes;
    for (const auto& c : ann.chains) {
      chains.push_back({c.id, id_key(c.id)});
      chains.back().scene = c.scene;
      chains.back().nobox = c.nobox;
      for (const auto& b : c.boxes) add_box(chains.back(), b);
    }
  }
  static bool same(const chain& c, std::string_view id, std::uint64_t key) noexcept {
    return c.key == key && (id.size() <= 7 || c.id == id);
  }
  /// Appends a box to a chain's list.
  void add_box(chain& c, const box_xyxy<double>& b) {
    const auto k = static_cast<std::uint32_t>(boxes.size());
    boxes.push_back({b, none});
    if (c.tail == none)
      c.head = k;
    else
      boxes[c.tail].next = k;
    c.tail = k;
    ++c.count;
  }
};

/// Adds one validated <object> to an annotation (flickr30k_annotation or the loader's
/// flickr30k_scratch): counts, then its box or flags under each of its chain ids.
template <class Annotation>
void add_flickr30k_object(Annotation& ann, const flickr30k_raw_object& o) {
  if (o.has_box) {
    const box_xyxy<double> b{static_cast<double>(o.v[0]), static_cast<double>(o.v[1]),
                             static_cast<double>(o.v[2]), static_cast<double>(o.v[3])};
    ++ann.box_objects;
    if (o.names.size() > 1) ++ann.shared_boxes;
    if (o.v[2] == o.v[0] || o.v[3] == o.v[1]) ++ann.degenerate_boxes;
    for (const auto nm : o.names) ann.add_box(ann.get(nm), b);
  } else {
    if (o.nobox > 0) ++ann.nobox_objects;
    if (o.scene > 0) ++ann.scene_objects;
    for (const auto nm : o.names) {
      auto& c = ann.get(nm);
      c.nobox = c.nobox || o.nobox > 0;
      c.scene = c.scene || o.scene > 0;
    }
  }
}

}  // namespace detail
}  // namespace groundeval
