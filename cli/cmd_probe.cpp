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
#include <groundeval/report/png/query_overlay.hpp>
#endif

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace groundeval::cli {
namespace {

const std::string usage =
    std::string(
        "usage: groundeval probe --grounder SPEC (--dataset SPEC [--split S] [--images DIR]\n"
        "                        [--queries N] | --image FILE --phrase TEXT [--phrase TEXT ...])\n"
        "                        [--out DIR]\n"
        "\n"
        "Sends a few queries (default 3: the first evaluable phrases of the data set, or the "
        "given\n"
        "phrases on FILE) through an openai: grounder spec and prints, per image, the geometry\n"
        "contract and what is sent, then the frame check and, per query, the prompt, the raw "
        "answer\n"
        "and the decoded boxes (original-image pixels). DIR (default ./groundeval-probe) receives\n"
        "probe_<n>.png: the decoded boxes drawn on each image (ground truth in green). A frame "
        "check\n"
        "that fails stops here with the error, exit status 1, as `groundeval run` would.\n"
        "Options (also as --option=value):\n") +
    dataset_option_usage("") +
    "  --queries N      how many queries to send (1..100, default 3)\n"
    "  --image FILE     one image instead of a data set, with one --phrase TEXT per query\n"
    "  --out DIR        where the PNGs go (default ./groundeval-probe)\n";

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
void print_box(const char* what, const box_xyxy<double>& b) {
  std::printf("    %s: [%.1f, %.1f, %.1f, %.1f]\n", what, b.x1, b.y1, b.x2, b.y2);
}
#endif

int run(const std::vector<std::string>& args) {
  std::string spec, image, out = "groundeval-probe";
  dataset_option data_opt;
  std::vector<std::string> phrases;
  std::size_t queries = 3;
  for (arg_reader a("probe", args); a.next();) {
    if (a.help()) {
      std::fputs(usage.c_str(), stdout);
      return 0;
    } else if (data_opt.parse(a)) {
    } else if (a.is("--grounder")) {
      spec = a.value();
    } else if (a.is("--image")) {
      image = a.value();
    } else if (a.is("--phrase")) {
      phrases.push_back(a.value());
    } else if (a.is("--out")) {
      out = a.value();
    } else if (a.is("--queries")) {
      queries = static_cast<std::size_t>(a.count());
      if (queries < 1 || queries > 100) a.fail("--queries must be an integer in 1..100");
    } else {
      a.unknown(usage);
    }
  }
  if (spec.empty() || data_opt.dataset.empty() == image.empty() ||
      (!image.empty() && phrases.empty()))
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
  const in_memory_dataset data =
      image.empty()
          ? data_opt.load({}).dataset
          : in_memory_dataset("probe",
                              {phrases_sample(std::filesystem::path(image).stem().string(),
                                              probe_image_size(read_image_bytes(image)), phrases)});
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
                describe_send(geo).c_str());
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
      for (const auto& b : r.boxes) print_box("box", b.box);
      for (const auto& b : truth) print_box("ground truth", b);
      const std::string png =
          (std::filesystem::path(out) / ("probe_" + std::to_string(asked) + ".png")).string();
      report::write_query_overlay(path, truth, r, std::string(qs[i].phrase), geo, png);
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
