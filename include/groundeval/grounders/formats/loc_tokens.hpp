// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/formats/loc_tokens.hpp — location-token formats: Florence-2
// "label<loc_a><loc_b><loc_c><loc_d>" and PaliGemma "<locY1><locX1><locY2><locX2> label".
// Target: groundeval::core.
#pragma once

#include <groundeval/grounders/formats/scan.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Runs of consecutive location tokens ("<loc_N>" Florence-2, "<locNNNN>" PaliGemma); calls
/// on_run(begin, end, values) per run; malformed tokens are problems.
template <class F>
inline void scan_loc_runs(scan& sc, std::string_view t, std::string_view prefix, std::size_t width,
                          F&& on_run) {
  std::size_t i = 0;
  while ((i = t.find(prefix, i)) != std::string_view::npos) {
    // PaliGemma: "<loc" must not match inside "<loc_": handled by the digit requirement
    std::vector<long> vals;
    const std::size_t begin = i;
    std::size_t k = i;
    while (true) {
      long v = 0;
      const std::size_t e = read_loc(t, k, prefix, width, v);
      if (e == std::string_view::npos) break;
      vals.push_back(v);
      k = e;
      std::size_t k2 = k;
      while (k2 < t.size() && is_space(t[k2])) ++k2;
      if (t.substr(k2, prefix.size()) == prefix) k = k2;
    }
    if (vals.empty()) {
      if (!(prefix == "<loc" && t.substr(i, 5) == "<loc_"))
        sc.problem(i, "malformed location token '" + std::string(t.substr(i, 12)) + "'");
      i += prefix.size();
      continue;
    }
    on_run(begin, k, vals);
    i = k;
  }
}

/// Florence-2: "label<loc_a><loc_b><loc_c><loc_d>" repeated; 4k tokens = k boxes of one label.
inline void scan_florence(scan& sc) {
  // drop the tokenizer's sequence tokens first
  std::string clean;
  clean.reserve(sc.text.size());
  for (std::size_t i = 0; i < sc.text.size();) {
    bool skipped = false;
    for (std::string_view tok : {"</s>", "<s>", "<pad>"})
      if (sc.text.substr(i, tok.size()) == tok) {
        i += tok.size();
        skipped = true;
        break;
      }
    if (!skipped) clean += sc.text[i++];
  }
  const std::string_view t = clean;
  std::size_t prev_end = 0;
  scan_loc_runs(sc, t, "<loc_", 0, [&](std::size_t b, std::size_t e, const std::vector<long>& v) {
    std::string label(trim(t.substr(prev_end, b - prev_end)));
    if (v.size() % 4 != 0) {
      sc.problem(b, std::to_string(v.size()) + " <loc_N> tokens, not a multiple of 4");
    } else {
      for (std::size_t q = 0; q < v.size(); q += 4) {
        raw_item it;
        it.v = {double(v[q]), double(v[q + 1]), double(v[q + 2]), double(v[q + 3])};
        it.label = label;
        sc.items.push_back(std::move(it));
      }
    }
    prev_end = e;
  });
}

/// PaliGemma: "<locY1><locX1><locY2><locX2> label ; ..." (y first), optional <segNNN> tokens.
inline void scan_paligemma(scan& sc) {
  const std::string_view t = sc.text;
  struct run {
    std::size_t b, e;
    std::vector<long> v;
  };
  std::vector<run> runs;
  scan_loc_runs(sc, t, "<loc", 4, [&](std::size_t b, std::size_t e, const std::vector<long>& v) {
    runs.push_back({b, e, v});
  });
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& [b, e, v] = runs[r];
    std::size_t k = e;
    for (long dummy = 0;;) {  // skip segmentation tokens
      while (k < t.size() && is_space(t[k])) ++k;
      const std::size_t e2 = read_loc(t, k, "<seg", 3, dummy);
      if (e2 == std::string_view::npos) break;
      k = e2;
    }
    std::size_t stop = r + 1 < runs.size() ? runs[r + 1].b : t.size();
    const auto semi = t.find(';', k);
    if (semi != std::string_view::npos && semi < stop) stop = semi;
    const std::string label(trim(t.substr(k, stop - k)));
    if (v.size() % 4 != 0) {
      sc.problem(b, std::to_string(v.size()) + " <locNNNN> tokens, not a multiple of 4");
      continue;
    }
    for (std::size_t q = 0; q < v.size(); q += 4) {
      raw_item it;
      it.v = {double(v[q + 1]), double(v[q]), double(v[q + 3]), double(v[q + 2])};
      it.label = label;
      sc.items.push_back(std::move(it));
    }
  }
}

}  // namespace groundeval::detail
