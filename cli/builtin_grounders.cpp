// SPDX-License-Identifier: Apache-2.0
// cli/builtin_grounders.cpp — the grounder kinds of `groundeval run`: baselines, the oracle over
// proposals, the predictions replay, an OpenAI-compatible server and npy detector dumps. The
// http and interop kinds are compiled in when those components were built
// (GROUNDEVAL_CLI_HAS_HTTP / _INTEROP, set in cli/CMakeLists.txt). Part of the CLI library.
#include "openai_spec.hpp"

#include <groundeval/cli/app.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/grounders/baselines.hpp>
#include <groundeval/grounders/http/openai_config.hpp>  // the keys (no HTTP library needed)
#include <groundeval/grounders/json/proposals.hpp>
#include <groundeval/grounders/json/replay.hpp>

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
#include <groundeval/grounders/http/openai_grounder.hpp>
#endif
#if defined(GROUNDEVAL_CLI_HAS_INTEROP)
#include <groundeval/grounders/interop/npy_detector.hpp>
#endif

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace groundeval::cli {

namespace {

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
/// The OpenAI-compatible grounder with the runner's capabilities: batches of twice its
/// concurrency, measured round trips, the model name the server reports, the readiness check
/// (ReadyGrounder: the server's model list before the first batch) and halting (HaltingGrounder:
/// a stop after max_unreachable queries without a response, or on Ctrl-C; the queries left come
/// back not asked and are not recorded).
class openai_adapter {
 public:
  explicit openai_adapter(openai_config c)
      : m_batch(2 * static_cast<std::size_t>(std::max(1, c.concurrency))),
        m_g(std::make_unique<openai_grounder>(std::move(c))) {}
  std::string_view name() const noexcept { return "openai"; }
  std::string describe() const { return m_g->describe(); }
  std::size_t batch_size() const noexcept { return m_batch; }
  bool measures_latency() const noexcept { return true; }
  std::string server_model() const { return m_server_model; }
  std::string check_ready() { return m_g->check_ready(); }
  std::string halt_reason() const { return m_g->halt_reason(); }
  void request_stop() noexcept { m_g->request_stop(); }
  std::vector<query_result> ground(const grounding_request& r) {
    return std::move(ground_many(std::span<const grounding_request>(&r, 1)).front());
  }
  std::vector<std::vector<query_result>> ground_many(std::span<const grounding_request> rs) {
    std::vector<std::vector<query_result>> out;
    std::vector<std::vector<openai_answer>> answers;
    m_g->ground_many(rs, out, answers);
    for (const auto& per_request : answers)
      for (const auto& a : per_request)
        if (!a.server_model.empty() && m_server_model.empty()) m_server_model = a.server_model;
    return out;
  }

 private:
  std::size_t m_batch;
  std::unique_ptr<openai_grounder> m_g;
  std::string m_server_model;
};

}  // namespace

openai_config openai_config_from_spec(const grounder_spec& s) {
  openai_config c;
  std::vector<std::string> geo;
  try {
    for (const auto k : geometry_keys(s.param("family") ? *s.param("family") : c.family))
      geo.emplace_back(k);
  } catch (const error& e) {
    s.fail(e.what(), "family");
  }
  for (const auto& k : geo)
    if (const std::string* x = s.param(k)) c.geometry_options.emplace_back(k, *x);
  if (s.arg.empty()) s.need_arg("the server URL", "openai:http://HOST:PORT/v1?model=M", "url");
  // One parser for every key (grounders/http/openai_config.hpp): URLs with credentials refused
  // without echoing them, numbers checked finite and in range before conversion.
  auto set = [&](std::string_view key, const std::string& value) {
    try {
      (void)set_openai_option(c, key, value);  // every key given is one it knows
    } catch (const error& e) {
      s.fail(e.what(), key);
    }
  };
  set("url", s.arg);
  const auto& keys = openai_option_keys();
  for (const auto& [k, v] : s.params) {
    if (std::find(geo.begin(), geo.end(), k) != geo.end()) continue;
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      s.fail("unknown key '" + k + "' for openai", k);
    set(k, v);
  }
  if (c.model.empty()) s.fail("model=NAME is required");
  return c;
}

namespace {

/// The server is sent the images: a data set without its image folder, or whose first image
/// is not there, stops before the run with the path it tried.
void check_images(const grounder_spec& s, const in_memory_dataset& data) {
  if (data.size() == 0) return;
  if (data.image_dir().empty())
    s.fail("the data set '" + data.name() +
           "' has no image folder, and the server must be sent the images: give it with "
           "--images DIR (or flickr30k:DIR with DIR/flickr30k-images; mdetr:FILE.json?images=DIR)");
  const std::string first = data.image_path(data[0]);
  if (!detail::file_exists(first))
    s.fail("the data set's first image '" + first +
           "' cannot be read: is the image folder right (--images DIR)?");
}

any_grounder make_openai(const grounder_spec& s, const in_memory_dataset& data) {
  openai_config c = openai_config_from_spec(s);
  std::optional<any_grounder> g;
  try {
    g.emplace(openai_adapter(std::move(c)));  // checks the geometry and the other values
  } catch (const error& e) {
    s.fail(e.what());
  }
  check_images(s, data);
  return std::move(*g);
}
#endif

#if defined(GROUNDEVAL_CLI_HAS_INTEROP)
any_grounder make_npy(const grounder_spec& s, const in_memory_dataset& data) {
  if (s.arg.empty())
    s.need_arg("the dump manifest", "npy-detector:MANIFEST?preset=glip", "manifest");
  const std::string* preset = s.param("preset");
  if (!preset) s.fail("preset=mdetr|glip|grounding-dino is required");
  postprocess_options o;
  try {
    o = postprocess_preset(*preset);
  } catch (const error& e) {
    s.fail(e.what(), "preset");
  }
  npy_detector_grounder g(s.arg, std::move(o));
  g.check_queries(data);  // a dump that matches no query stops the run before it starts
  return any_grounder(std::make_unique<in_process_grounder<npy_detector_grounder>>(
      in_process_grounder<npy_detector_grounder>{std::move(g)}));
}
#endif

[[noreturn, maybe_unused]] any_grounder missing_component(const grounder_spec& s,
                                                          const char* what) {
  s.fail(std::string("this groundeval was built without the ") + what);
}

}  // namespace

grounder_registry builtin_grounders() {
  grounder_registry r;
  r.add({.name = "whole-image",
         .usage = "  whole-image                      the whole image for every phrase",
         .make = [](const grounder_spec&, const in_memory_dataset&) {
           return any_grounder(in_process_grounder<whole_image_grounder>{});
         }});
  r.add({.name = "center",
         .usage = "  center[:FRACTION]                a centred box covering FRACTION of each "
                  "side (default 0.5)",
         .arg_key = "fraction",
         .make = [](const grounder_spec& s, const in_memory_dataset&) {
           center_prior_grounder g;
           if (!s.arg.empty()) g.fraction = s.number("fraction", s.arg);
           if (!(g.fraction > 0 && g.fraction <= 1))
             s.fail("the fraction must be in (0, 1]", "fraction");
           return any_grounder(in_process_grounder<center_prior_grounder>{g});
         }});
  r.add({.name = "random",
         .usage = "  random[:SEED][?boxes=N]          N uniformly random boxes per phrase "
                  "(default seed 0, N 1)",
         .arg_key = "seed",
         .keys = {"boxes"},
         .make = [](const grounder_spec& s, const in_memory_dataset&) {
           random_grounder g;
           if (!s.arg.empty()) g.seed = s.count("seed", s.arg);
           if (auto v = s.param("boxes")) {
             g.boxes_per_query = static_cast<std::size_t>(s.count("boxes", *v));
             if (g.boxes_per_query < 1 || g.boxes_per_query > 1000)
               s.fail("boxes must be in 1..1000", "boxes");
           }
           return any_grounder(in_process_grounder<random_grounder>{g});
         }});
  r.add({.name = "oracle",
         .usage = "  oracle:PROPOSALS.json[?merged=true]\n"
                  "                                   proposals ({\"<image id>\": [[x1,y1,x2,y2], "
                  "...]}) ranked by\n"
                  "                                   their IoU with the ground truth (an upper "
                  "bound)",
         .arg_key = "proposals",
         .keys = {"merged"},
         .make = [](const grounder_spec& s, const in_memory_dataset& data) {
           if (s.arg.empty()) s.need_arg("a proposals file", "oracle:PROPOSALS.json", "proposals");
           bool merged = false;
           if (auto v = s.param("merged")) merged = s.boolean("merged", *v);
           return any_grounder(std::make_unique<in_process_grounder<oracle_grounder>>(
               in_process_grounder<oracle_grounder>{
                   oracle_grounder(data, read_proposals(s.arg), merged)}));
         }});
  r.add({.name = "predictions",
         .usage = "  predictions:FILE                 replay a predictions file (JSON Lines or "
                  "MDETR JSON)",
         .arg_key = "file",
         .make = [](const grounder_spec& s, const in_memory_dataset& data) {
           if (s.arg.empty()) s.need_arg("a file", "predictions:FILE", "file");
           return any_grounder(std::make_unique<replay_grounder>(s.arg, data));
         }});
  r.add({
    .name = "openai",
    .usage =
        "  openai:URL?model=M&family=F[&GEOMETRY_KEY=V...&key_env=VAR&concurrency=C&"
        "temperature=T&max_tokens=N\n"
        "         &cache=FILE&prompt=TEMPLATE&extra_body=JSON&verify_tls=BOOL&"
        "ca_cert=FILE\n"
        "         &max_retries=N&connect_timeout=S&read_timeout=S&check_frame=BOOL\n"
        "         &request_timeout=S&max_response_bytes=N&retry_budget=S&retry_after_max=S\n"
        "         &max_unreachable=N&ready_timeout=S&headers=JSON&header_env=JSON]\n"
        "                                   an OpenAI-compatible server (vLLM, SGLang, "
        "...); docs/runner.md",
    .arg_key = "url",
    .keys = openai_option_keys(),  // the keys set_openai_option takes: they cannot drift
#if defined(GROUNDEVAL_CLI_HAS_HTTP)
        .more_keys =
            [](const grounder_spec& s) {
              // the family's geometry keys (min_pixels / max_pixels for qwen2.5-vl, frame
              // for the padded families, ...), passed to the geometry contract as
              // --geometry KEY=VALUE would be
              std::vector<std::string> keys;
              try {
                for (const auto k :
                     geometry_keys(s.param("family") ? *s.param("family") : openai_config{}.family))
                  keys.emplace_back(k);
              } catch (const error& e) {
                s.fail(e.what(), "family");
              }
              return keys;
            },
    .concurrency_key = "concurrency", .make = make_openai
  });
#else
        .concurrency_key = "concurrency",
    .make = [](const grounder_spec& s, const in_memory_dataset&) -> any_grounder {
      missing_component(s, "http component (cpp-httplib, OpenSSL)");
    }
  });
#endif
  r.add({
    .name = "npy-detector",
    .usage =
        "  npy-detector:MANIFEST?preset=mdetr|glip|grounding-dino\n"
        "                                   replay raw detector dumps (.npy/.npz) "
        "through a preset",
    .arg_key = "manifest", .keys = {"preset"},
#if defined(GROUNDEVAL_CLI_HAS_INTEROP)
    .make = make_npy
  });
#else
    .make = [](const grounder_spec& s, const in_memory_dataset&) -> any_grounder {
      missing_component(s, "interop component (xtensor, Eigen)");
    }
  });
#endif
  return r;
}

}  // namespace groundeval::cli
