// SPDX-License-Identifier: Apache-2.0
// groundeval probe — a few queries through an `openai:` grounder spec before a long run: the
// geometry contract it will decode with, what it sends (original file or client-padded square),
// the frame check, each raw answer and its decoded boxes, and the boxes drawn on the image (PNG)
// so the frame can be seen. Part of the groundeval_cli target (needs the http component).
#include "command.hpp"
#include "dataset_spec.hpp"

#include <groundeval/error.hpp>

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
#include "openai_spec.hpp"

#include <groundeval/grounders/http/openai_grounder.hpp>
#include <groundeval/report/png/overlay.hpp>
#endif

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace groundeval::cli {
namespace {

constexpr const char* usage =
    "usage: groundeval probe --grounder SPEC (--dataset SPEC [--split S] [--queries N]\n"
    "                        | --image FILE --phrase TEXT [--phrase TEXT ...]) [--out DIR]\n"
    "\n"
    "Sends a few queries (default 3: the first evaluable phrases of the data set, or the given\n"
    "phrases on FILE) through an openai: grounder spec and prints, per image, the geometry\n"
    "contract and what is sent, then the frame check and, per query, the prompt, the raw answer\n"
    "and the decoded boxes (original-image pixels). DIR (default ./groundeval-probe) receives\n"
    "probe_<n>.png: the decoded boxes drawn on each image (ground truth in green). A frame check\n"
    "that fails stops here with the error, exit status 1, as `groundeval run` would.\n";

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
std::string box_text(const box_xyxy<double>& b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%.1f, %.1f, %.1f, %.1f]", b.x1, b.y1, b.x2, b.y2);
  return buf;
}

/// The boxes of one query drawn on its image, with phrase and answer as caption.
void write_overlay(const std::string& image, const std::vector<box_xyxy<double>>& truth,
                   const query_result& r, const std::string& phrase, const geometry& g,
                   const std::string& file) {
  const decoded_image d = decode_image(read_image_bytes(image), 3);
  const report::rgb_image photo =
      report::make_rgb_image(d.view().pixels, d.size().width, d.size().height, 3);
  std::vector<report::overlay_box> boxes;
  for (const auto& b : truth) boxes.push_back({b, {0x2e, 0xa0, 0x43}});
  for (const auto& b : r.boxes) boxes.push_back({b.box, {0xe0, 0x30, 0x30}});
  const frame_size fr = model_frame(g);
  const std::vector<report::caption_line> caption = {
      {"phrase: " + phrase},
      {"answer: " + r.raw_text},
      {std::string(to_string(r.status)) + "; frame " + std::string(to_string(g.pre.kind)) + " " +
       std::to_string(int(fr.width)) + "x" + std::to_string(int(fr.height)) + ", " +
       std::string(to_string(g.space.kind)) + "; red: decoded, green: ground truth"}};
  try {
    const report::font f = report::font::load_default();
    report::write_png(report::render_overlay(photo, boxes, caption, f, {1024}), file);
  } catch (const error& e) {  // no font: the boxes without a caption
    std::fprintf(stderr, "probe: %s; writing %s without a caption\n", e.what(), file.c_str());
    report::rgb_image im = photo;
    for (const auto& b : boxes) report::draw_box(im, b.box, b.color);
    report::write_png(im, file);
  }
}
#endif

int run(const std::vector<std::string>& args) {
  std::string spec, dataset, split = "test", image, out = "groundeval-probe";
  std::vector<std::string> phrases;
  std::size_t queries = 3;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (a == "--grounder") {
      spec = option_value("probe", args, i);
    } else if (a == "--dataset") {
      dataset = option_value("probe", args, i);
    } else if (a == "--split") {
      split = option_value("probe", args, i);
    } else if (a == "--image") {
      image = option_value("probe", args, i);
    } else if (a == "--phrase") {
      phrases.push_back(option_value("probe", args, i));
    } else if (a == "--out") {
      out = option_value("probe", args, i);
    } else if (a == "--queries") {
      const auto n = parse_non_negative(option_value("probe", args, i));
      if (!n || *n < 1 || *n > 100)
        throw error(error_kind::config, "probe: --queries must be an integer in 1..100");
      queries = *n;
    } else {
      throw error(error_kind::config, "probe: unknown option '" + a + "'\n" + usage);
    }
  }
  if (spec.empty() || dataset.empty() == image.empty() || (!image.empty() && phrases.empty()))
    throw error(error_kind::config,
                std::string("probe: needs --grounder and either --dataset or --image with "
                            "--phrase\n") +
                    usage);
#if defined(GROUNDEVAL_CLI_HAS_HTTP)
  const grounder_registry kinds = builtin_grounders();
  const grounder_spec gs = kinds.parse(spec);
  if (gs.kind != "openai")
    throw error(error_kind::config,
                "probe: --grounder must be an openai: spec (the other "
                "kinds send no image anywhere), got '" +
                    gs.kind + "'");
  kinds.check(gs);
  openai_grounder g(openai_config_from_spec(gs));
  // the queries: a one-sample data set made from --image, or the first evaluable phrases
  in_memory_dataset data;
  if (!image.empty()) {
    sample s;
    s.image_id = std::filesystem::path(image).stem().string();
    s.size = probe_image_size(read_image_bytes(image));
    for (const auto& p : phrases) {
      phrase ph;
      ph.text = p;
      ph.char_begin = s.sentence.size();
      ph.char_end = ph.char_begin + p.size();
      s.phrases.push_back(std::move(ph));
      s.sentence += p + " ";
    }
    data = in_memory_dataset("probe", {s});
  } else {
    data = load_dataset_spec(dataset, split).dataset;
  }
  std::filesystem::create_directories(out);
  std::printf("grounder: %s\n", g.describe().c_str());
  std::printf("server: %s\n", g.check_ready().c_str());  // throws when it is not up
  std::size_t asked = 0;
  for (const sample& s : data) {
    if (asked >= queries) break;
    std::vector<phrase_query> qs;
    for (std::size_t k = 0; k < s.phrases.size() && asked + qs.size() < queries; ++k)
      if (!image.empty() || !s.phrases[k].boxes.empty())
        qs.push_back(
            {s.phrases[k].text, s.sentence, s.phrases[k].char_begin, s.phrases[k].char_end, k});
    if (qs.empty()) continue;
    const std::string path =
        image.empty() ? data.image_path(s) : std::filesystem::absolute(image).string();
    const grounding_request req{{s.image_id, path, s.size}, std::span<const phrase_query>(qs)};
    const geometry geo = family_geometry(g.config().family, s.size, g.config().geometry_options);
    std::printf("\nimage %s (%dx%d) %s\n  geometry: %s\n  sends: %s\n", s.image_id.c_str(),
                s.size.width, s.size.height, path.c_str(), to_json(geo).c_str(),
                geo.send.kind == send_kind::original
                    ? "the original file"
                    : ("a PNG padded to " + std::to_string(padded_square(s.size).width) +
                       " square client-side")
                          .c_str());
    std::vector<openai_answer> answers;
    const auto results = g.ground_detailed(req, answers);  // runs the frame check first
    if (asked == 0)
      std::printf("  frame check: %s\n", g.frame_check().message.empty()
                                             ? "not run (no query needed the server)"
                                             : g.frame_check().message.c_str());
    for (std::size_t i = 0; i < qs.size(); ++i) {
      const query_result& r = results[i];
      const auto& truth = s.phrases[qs[i].phrase_index].boxes;
      std::printf("  query %zu: \"%s\"\n    prompt: %s\n    answer: %s\n    status: %s%s%s\n",
                  ++asked, std::string(qs[i].phrase).c_str(),
                  render_prompt(g.config().prompt_template, qs[i]).c_str(), r.raw_text.c_str(),
                  std::string(to_string(r.status)).c_str(), r.message.empty() ? "" : ": ",
                  r.message.c_str());
      for (const auto& b : r.boxes) std::printf("    box: %s\n", box_text(b.box).c_str());
      for (const auto& b : truth) std::printf("    ground truth: %s\n", box_text(b).c_str());
      const std::string png =
          (std::filesystem::path(out) / ("probe_" + std::to_string(asked) + ".png")).string();
      write_overlay(path, truth, r, std::string(qs[i].phrase), geo, png);
      std::printf("    drawn: %s\n", png.c_str());
    }
  }
  if (asked == 0) throw error(error_kind::invalid, "probe: the data set has no evaluable phrase");
  return 0;
#else
  throw error(error_kind::config,
              "probe: this groundeval was built without the http component (cpp-httplib, "
              "OpenSSL, stb)");
#endif
}

const bool registered = register_command(
    {"probe", "send a few queries through an openai grounder: frame, answers, boxes drawn", run});

}  // namespace
}  // namespace groundeval::cli
