// SPDX-License-Identifier: Apache-2.0
// The CPU Grounding DINO preset on raw little-endian arrays, for check_gdino_torch_reference.py
// (which compares bench/gpu/compare_torchvision.py's torch re-implementation with it). Reads from
// DIR: dims.txt "B Q T P K", logits.f32 [B, Q, T], boxes.f32 [B, Q, 4] (cxcywh, normalized),
// mask.u8 [P, T] (0/1), sizes.i32 [B, 2] (W, H). Writes the GPU's output layout to DIR:
// cpu_queries.i32, cpu_scores.f32 [B, P, K], cpu_boxes.f32 [B, P, K, 4], cpu_counts.u32 [B, P]
// (query -1, score 0 and box 0 past each count).
#include <groundeval/postprocess/pipeline.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

template <class T>
std::vector<T> read_array(const std::string& path, std::size_t n) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
  if (!f.good() && !f.eof()) throw std::runtime_error("cannot read " + path);
  if (bytes.size() != n * sizeof(T))
    throw std::runtime_error(path + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(n * sizeof(T)));
  std::vector<T> v(n);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

template <class T>
void write_array(const std::string& path, const std::vector<T>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(T)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace groundeval;
  if (argc != 2) {
    std::fprintf(stderr, "usage: gdino_cpu_driver DIR\n");
    return 2;
  }
  try {
    const std::string d = argv[1];
    std::size_t nb = 0, nq = 0, nt = 0, np = 0, k = 0;
    std::ifstream(d + "/dims.txt") >> nb >> nq >> nt >> np >> k;
    if (nb * nq * nt * np * k == 0) throw std::runtime_error("bad or missing dims.txt");
    const auto logits = read_array<float>(d + "/logits.f32", nb * nq * nt);
    const auto boxes = read_array<float>(d + "/boxes.f32", nb * nq * 4);
    const auto sizes = read_array<std::int32_t>(d + "/sizes.i32", nb * 2);
    positive_map pm;
    pm.phrases = np;
    pm.token_slots = nt;
    pm.mask = read_array<std::uint8_t>(d + "/mask.u8", np * nt);
    std::vector<image_size> originals(nb);
    for (std::size_t b = 0; b < nb; ++b) originals[b] = {sizes[2 * b], sizes[2 * b + 1]};
    const detector_outputs_view<float> view{logits.data(), boxes.data(), nullptr, nb, nq, nt};
    const auto res = postprocess_batch<float>(view, std::span<const positive_map>(&pm, 1),
                                              originals, grounding_dino_postprocess());
    std::vector<std::int32_t> oq(nb * np * k, -1);
    std::vector<float> os(nb * np * k, 0.0f), ob(nb * np * k * 4, 0.0f);
    std::vector<std::uint32_t> oc(nb * np, 0);
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t p = 0; p < np; ++p) {
        const phrase_ranking& r = res[b][p];
        if (r.boxes.size() > k) throw std::runtime_error("a phrase list is longer than K");
        oc[b * np + p] = static_cast<std::uint32_t>(r.boxes.size());
        for (std::size_t i = 0; i < r.boxes.size(); ++i) {
          const std::size_t s = (b * np + p) * k + i;
          oq[s] = static_cast<std::int32_t>(r.queries[i]);
          os[s] = static_cast<float>(r.boxes[i].score);  // float widened to double: exact
          const box_xyxy<double>& x = r.boxes[i].box;
          ob[4 * s] = static_cast<float>(x.x1);
          ob[4 * s + 1] = static_cast<float>(x.y1);
          ob[4 * s + 2] = static_cast<float>(x.x2);
          ob[4 * s + 3] = static_cast<float>(x.y2);
        }
      }
    write_array(d + "/cpu_queries.i32", oq);
    write_array(d + "/cpu_scores.f32", os);
    write_array(d + "/cpu_boxes.f32", ob);
    write_array(d + "/cpu_counts.u32", oc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gdino_cpu_driver: %s\n", e.what());
    return 1;
  }
  return 0;
}
