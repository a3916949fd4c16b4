// SPDX-License-Identifier: Apache-2.0
// groundeval demo — the whole main job offline in seconds: a small SYNTHETIC data set in the
// Flickr30k Entities format (scripts/demo.sh's, or one written here), the baseline grounders run
// with `groundeval run`, then `groundeval report`. Part of the groundeval_cli target.
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
#include <stb_image_write.h>  // Debian's libstb.so exports the implementation
#endif

namespace groundeval::cli {

namespace detail_demo {

inline constexpr const char* usage =
    "usage: groundeval demo [--out DIR]\n"
    "\n"
    "Runs the baseline grounders (whole-image, center, random) over a small SYNTHETIC data set\n"
    "in the Flickr30k Entities format and writes the comparison report to DIR/report/index.html\n"
    "(default DIR: ./groundeval-demo). The data set is DIR/flickr30k-synthetic when it exists\n"
    "(written by scripts/demo.sh, whose synthetic predictions DIR/synthetic_a.jsonl are then\n"
    "replayed too); otherwise a smaller one is written to DIR/synthetic-mini. No network, no\n"
    "images: every number is about synthetic boxes, none is a real model's.\n";

/// SplitMix64, for the generated data set (fixed, so the demo prints the same numbers
/// everywhere).
struct demo_rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  if (!f) throw error(error_kind::io, p.string(), 0, "cannot write");
  f << text;
  if (!f) throw error(error_kind::io, p.string(), 0, "write error");
}

/// Writes a small synthetic data set (12 images, 3 sentences each) in the Flickr30k Entities
/// on-disk format: Annotations/<id>.xml, Sentences/<id>.txt, test.txt, SYNTHETIC.txt.
inline void write_mini_dataset(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir / "Annotations");
  fs::create_directories(dir / "Sentences");
  struct entity {
    const char* type;
    std::array<const char*, 3> nouns;
  };
  static const std::array<entity, 6> entities{{{"people", {"man", "woman", "child"}},
                                               {"clothing", {"red jacket", "hat", "blue shirt"}},
                                               {"animals", {"dog", "horse", "cat"}},
                                               {"vehicles", {"bike", "car", "boat"}},
                                               {"scene", {"street", "field", "beach"}},
                                               {"other", {"ball", "sign", "rock"}}}};
  static const std::array<const char*, 4> dets{"a", "the", "one", "a small"};
  static const std::array<const char*, 4> verbs{"stands near", "looks at", "is next to",
                                                "walks past"};
  demo_rng rng{20240601};
  std::string test_list;
  for (int img = 0; img < 12; ++img) {
    const std::string id = std::to_string(9100000 + img * 7919);  // not Flickr ids
    test_list += id + "\n";
    const int w = 320 + rng.below(200), h = 240 + rng.below(160);
    // Three entities per image, one box each (the second entity of odd images gets two).
    std::array<int, 3> kinds{};
    for (int k = 0; k < 3; ++k) kinds[k] = (img + k * 2 + rng.below(2)) % 6;
    std::string xml =
        "<annotation>\n\t<!-- SYNTHETIC: written by `groundeval demo`; not Flickr30k Entities "
        "annotations -->\n\t<filename>" +
        id + ".jpg</filename>\n\t<size>\n\t\t<width>" + std::to_string(w) +
        "</width>\n\t\t<height>" + std::to_string(h) +
        "</height>\n\t\t<depth>3</depth>\n\t</size>\n";
    for (int k = 0; k < 3; ++k) {
      const int boxes = (k == 1 && img % 2 == 1) ? 2 : 1;
      for (int b = 0; b < boxes; ++b) {
        // Scenes are large, everything else small to medium.
        const bool large =
            entities[static_cast<std::size_t>(kinds[static_cast<std::size_t>(k)])].type ==
            std::string_view("scene");
        const int bw = large ? w * 3 / 5 + rng.below(w * 2 / 5) : 20 + rng.below(w / 2);
        const int bh = large ? h * 3 / 5 + rng.below(h * 2 / 5) : 20 + rng.below(h / 2);
        const int x = rng.below(std::max(1, w - bw)), y = rng.below(std::max(1, h - bh));
        xml += "\t<object>\n\t\t<name>" + std::to_string(1000 + img * 10 + k) +
               "</name>\n\t\t<bndbox>\n\t\t\t<xmin>" + std::to_string(x + 1) +
               "</xmin>\n\t\t\t<ymin>" + std::to_string(y + 1) + "</ymin>\n\t\t\t<xmax>" +
               std::to_string(x + bw) + "</xmax>\n\t\t\t<ymax>" + std::to_string(y + bh) +
               "</ymax>\n\t\t</bndbox>\n\t</object>\n";
      }
    }
    xml += "</annotation>\n";
    write_file(dir / "Annotations" / (id + ".xml"), xml);
    std::string sentences;
    for (int s = 0; s < 3; ++s) {
      const int a = (s + rng.below(3)) % 3, b = (a + 1 + rng.below(2)) % 3;
      auto mention = [&](int k) {
        const entity& e = entities[static_cast<std::size_t>(kinds[static_cast<std::size_t>(k)])];
        return "[/EN#" + std::to_string(1000 + img * 10 + k) + "/" + e.type + " " +
               dets[static_cast<std::size_t>(rng.below(4))] + " " +
               e.nouns[static_cast<std::size_t>(rng.below(3))] + "]";
      };
      sentences +=
          mention(a) + " " + verbs[static_cast<std::size_t>(rng.below(4))] + " " + mention(b);
      if (s == 2) sentences += " in [/EN#0/notvisual the picture]";
      sentences += " .\n";
    }
    write_file(dir / "Sentences" / (id + ".txt"), sentences);
  }
  write_file(dir / "test.txt", test_list);
  write_file(dir / "SYNTHETIC.txt",
             "SYNTHETIC data written by `groundeval demo` (fixed seed): 12 made-up images "
             "(no pixels), 36 sentences. Not Flickr30k Entities annotations; the image ids are "
             "invented.\n");
}

inline int call(const std::string& name, const std::vector<std::string>& args) {
  auto it = registry().find(name);
  if (it == registry().end())
    throw error(error_kind::invalid, "demo: the '" + name + "' command is not built in");
  return it->second.run(args);
}

#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
/// Draws a SYNTHETIC scene for every image of the data set that has no picture yet, so the
/// report's overlays show something: a grey gradient with each ground-truth box of the image
/// filled in a muted colour of its phrase type and outlined. Written to
/// <data>/flickr30k-images/<id>.jpg at the annotated size. Returns how many were written.
inline std::size_t render_synthetic_scenes(const std::filesystem::path& data) {
  namespace fs = std::filesystem;
  const loaded_dataset ds = load_dataset_spec("flickr30k:" + data.string(), "test");
  const fs::path dir = data / "flickr30k-images";
  fs::create_directories(dir);
  struct scene {
    image_size size;
    std::vector<std::pair<box_xyxy<double>, std::string>> boxes;
  };
  std::vector<std::pair<std::string, scene>> scenes;
  for (const auto& s : ds.dataset) {
    if (scenes.empty() || scenes.back().first != s.image_id)
      scenes.push_back({s.image_id, {s.size, {}}});
    for (const auto& p : s.phrases)
      for (const auto& b : p.boxes)
        scenes.back().second.boxes.emplace_back(b, p.types.empty() ? std::string() : p.types[0]);
  }
  auto colour = [](const std::string& type) -> std::array<int, 3> {
    const std::uint64_t h = ::groundeval::detail::fnv1a64(type);
    return {110 + int(h % 100), 110 + int((h >> 8) % 100), 110 + int((h >> 16) % 100)};
  };
  std::size_t written = 0;
  for (auto& [id, sc] : scenes) {
    const fs::path file = dir / (id + ".jpg");
    if (fs::exists(file) || sc.size.width <= 0 || sc.size.height <= 0) continue;
    const int w = sc.size.width, h = sc.size.height;
    std::vector<unsigned char> px(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const auto g = static_cast<unsigned char>(200 + 40 * y / h);
        unsigned char* p = &px[(static_cast<std::size_t>(y) * w + x) * 3];
        p[0] = p[1] = p[2] = g;
      }
    for (const auto& [b, type] : sc.boxes) {
      const auto c = colour(type);
      const int x1 = std::clamp(int(b.x1), 0, w - 1), x2 = std::clamp(int(b.x2), 0, w - 1);
      const int y1 = std::clamp(int(b.y1), 0, h - 1), y2 = std::clamp(int(b.y2), 0, h - 1);
      for (int y = y1; y <= y2; ++y)
        for (int x = x1; x <= x2; ++x) {
          unsigned char* p = &px[(static_cast<std::size_t>(y) * w + x) * 3];
          const bool edge = x - x1 < 2 || x2 - x < 2 || y - y1 < 2 || y2 - y < 2;
          for (int k = 0; k < 3; ++k)
            p[k] = static_cast<unsigned char>(edge ? c[static_cast<std::size_t>(k)] / 2
                                                   : (p[k] + c[static_cast<std::size_t>(k)]) / 2);
        }
    }
    if (stbi_write_jpg(file.c_str(), w, h, 3, px.data(), 90) == 0)
      throw error(error_kind::io, file.string(), 0, "cannot write the synthetic scene image");
    ++written;
  }
  return written;
}
#endif

inline int run(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::string out = "groundeval-demo";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (args[i] == "--out") {
      out = option_value("demo", args, i);
    } else {
      throw error(error_kind::config, "demo: unknown option '" + args[i] + "'\n" + usage);
    }
  }
  const fs::path dir(out);
  fs::path data = dir / "flickr30k-synthetic";
  bool from_script = fs::exists(data / "Annotations") && fs::exists(data / "Sentences");
  if (from_script) {
    std::printf("demo: using the SYNTHETIC data set written by scripts/demo.sh: %s\n",
                data.c_str());
  } else {
    data = dir / "synthetic-mini";
    write_mini_dataset(data);
    std::printf(
        "demo: wrote a small SYNTHETIC data set (Flickr30k Entities format) "
        "to %s\n      (scripts/demo.sh writes a larger one to %s/flickr30k-synthetic)\n",
        data.c_str(), out.c_str());
  }
#if defined(GROUNDEVAL_CLI_HAS_IMAGE)
  if (const std::size_t n = render_synthetic_scenes(data))
    std::printf(
        "demo: drew %zu SYNTHETIC scene images (grey background, ground-truth boxes filled "
        "by phrase type) into %s\n",
        n, (data / "flickr30k-images").c_str());
#endif
  const std::string spec = "flickr30k:" + data.string();
  std::vector<std::pair<std::string, std::string>> runs{
      {"whole-image", "whole-image"}, {"center", "center:0.5"}, {"random", "random:7?boxes=10"}};
  if (from_script && fs::exists(dir / "synthetic_a.jsonl"))
    runs.emplace_back("replay-synthetic-a", "predictions:" + (dir / "synthetic_a.jsonl").string());
  std::vector<std::string> report_args;
  for (const auto& [name, g] : runs) {
    const std::string rd = (dir / "runs" / name).string();
    std::printf("demo: groundeval run --grounder %s --out %s\n", g.c_str(), rd.c_str());
    const int rc = call("run", {"--dataset", spec, "--split", "test", "--grounder", g, "--out", rd,
                                "--start-over", "--quiet"});
    if (rc != 0) return rc;
    report_args.push_back(rd);
  }
  const fs::path report = dir / "report";
  fs::remove_all(report);
  report_args.insert(report_args.end(), {"--out", report.string(), "--title",
                                         "groundeval demo (SYNTHETIC data)", "--blank-canvas"});
  std::printf("demo: groundeval report ... --out %s\n\n", report.c_str());
  const int rc = call("report", report_args);
  std::printf(
      "\nThe data set is SYNTHETIC and the grounders are baselines (plus a replay of "
      "synthetic predictions when present): no number above is a real model's.\n"
      "Open %s in a browser.\n",
      (report / "index.html").c_str());
  return rc;
}

}  // namespace detail_demo

namespace {
const bool registered = register_command(
    {"demo", "run the baselines on a small synthetic data set and write the report (offline)",
     detail_demo::run});
}  // namespace

}  // namespace groundeval::cli
