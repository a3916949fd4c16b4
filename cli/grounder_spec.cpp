// SPDX-License-Identifier: Apache-2.0
// cli/grounder_spec.cpp — parsing --grounder SPEC and building the grounders behind it (baselines,
// oracle over proposals, predictions replay, OpenAI-compatible server, npy detector dumps).
// Part of the groundeval_cli target; the http and interop grounders are compiled in when those
// components were built (GROUNDEVAL_CLI_HAS_HTTP / _INTEROP, set in cli/CMakeLists.txt).

#include "grounder_spec.hpp"

#include "command.hpp"

#include <groundeval/detail/hash.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/baselines.hpp>
#include <groundeval/grounders/http/url.hpp>
#include <groundeval/io/json/predictions.hpp>

#if defined(GROUNDEVAL_CLI_HAS_HTTP)
#include <groundeval/grounders/http/openai_grounder.hpp>
#define GROUNDEVAL_CLI_HAVE_OPENAI 1
#endif
#if defined(GROUNDEVAL_CLI_HAS_INTEROP)
#include <groundeval/grounders/interop/npy_detector.hpp>
#define GROUNDEVAL_CLI_HAVE_NPY 1
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>

namespace groundeval::cli {

namespace detail_grounder {

inline const std::vector<std::string>& known_kinds() {
  static const std::vector<std::string> k{"whole-image", "center", "random",      "oracle",
                                          "predictions", "openai", "npy-detector"};
  return k;
}

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// The line of `key` in the spec's config file (0 when unknown or not from a file).
inline std::size_t line_of(const grounder_spec& s, std::string_view key) {
  for (const auto& [k, n] : s.lines)
    if (k == key) return n;
  return 0;
}

/// A config error about spec `s`: "--grounder: 'SPEC': what" on the command line,
/// "FILE:LINE: what" (the line of `key`) for a config file.
[[noreturn]] inline void fail(const grounder_spec& s, const std::string& what,
                              std::string_view key = {}) {
  if (!s.file.empty())
    throw error(error_kind::config, s.file, key.empty() ? 0 : line_of(s, key), what);
  // never echo credentials written into a URL (http://user:password@host)
  throw error(error_kind::config, "--grounder", 0,
              "'" + http::mask_url_credentials(s.text) + "': " + what);
}

/// Rejects keys outside `valid`, naming the valid ones (in a config file, with `grounder` and the
/// kind's argument key).
inline void check_keys(const grounder_spec& s, const std::vector<std::string>& valid) {
  std::vector<std::string> shown;
  if (!s.file.empty()) {
    shown.emplace_back("grounder");
    if (std::string a = grounder_arg_key(s.kind); !a.empty()) shown.push_back(std::move(a));
  }
  shown.insert(shown.end(), valid.begin(), valid.end());
  for (const auto& [k, v] : s.params)
    if (std::find(valid.begin(), valid.end(), k) == valid.end())
      fail(s,
           "unknown key '" + k + "' for " + s.kind +
               " (valid keys: " + (shown.empty() ? std::string("none") : join(shown)) + ")",
           k);
}

/// "needs ARG": the command-line form or, in a config file, the key.
[[noreturn]] inline void need_arg(const grounder_spec& s, const std::string& what,
                                  const std::string& cmdline_example) {
  if (!s.file.empty())
    fail(s, s.kind + " needs " + what + ": a line '" + grounder_arg_key(s.kind) + " = ...'");
  fail(s, s.kind + " needs " + what + ": " + cmdline_example);
}

inline const std::string* param(const grounder_spec& s, std::string_view key) {
  for (const auto& [k, v] : s.params)
    if (k == key) return &v;
  return nullptr;
}

inline double parse_double(const grounder_spec& s, const std::string& what,
                           const std::string& text) {
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (text.empty() || pos != text.size() || !std::isfinite(v))
    fail(s, what + " '" + text + "' is not a number", what);
  return v;
}

inline unsigned long long parse_unsigned(const grounder_spec& s, const std::string& what,
                                         const std::string& text) {
  const auto v = parse_non_negative(text);
  if (!v) fail(s, what + " '" + text + "' is not a non-negative integer", what);
  return *v;
}

inline bool parse_bool(const grounder_spec& s, const std::string& what, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  fail(s, what + " '" + text + "' must be true or false", what);
}

/// Wraps a baseline grounder model of Grounder.
template <class G>
class wrapped_grounder final : public spec_grounder {
 public:
  explicit wrapped_grounder(G g) : m_g(std::move(g)) {}
  std::string name() const override { return std::string(m_g.name()); }
  std::string describe() const override { return m_g.describe(); }
  std::vector<std::vector<query_result>> ground_many(
      std::span<const runner_request> requests) override {
    std::vector<std::vector<query_result>> out;
    out.reserve(requests.size());
    for (const auto& r : requests) out.push_back(m_g.ground(r.request));
    return out;
  }

 private:
  G m_g;
};

/// Replays a predictions file (JSON Lines or MDETR JSON): each query gets the recorded answer of
/// its (image, sentence index, phrase index); a query without one gets status error. JSON Lines
/// are indexed by byte offset and each record is read again when its query comes, so memory does
/// not grow with the number of boxes in the file; an MDETR JSON list (one JSON document) is held.
class replay_grounder final : public spec_grounder {
 public:
  explicit replay_grounder(std::string file) : m_file(std::move(file)) {
    if (detect_predictions_format(m_file) == predictions_format::jsonl) {
      std::ifstream f(m_file, std::ios::binary);
      if (!f) throw error(error_kind::io, m_file, 0, "cannot open the file");
      jsonl_prediction_reader reader(f, m_file);
      phrase_prediction_record r;
      while (reader.next(r)) {
        ++m_records;
        auto [it, fresh] =
            m_jsonl.emplace(std::tuple{r.image_id, r.sentence_id, r.phrase_index}, reader.offset());
        if (!fresh) ++m_duplicates;  // the first record wins, as in the evaluator
      }
      m_in.open(m_file, std::ios::binary);
      return;
    }
    const prediction_set p = read_mdetr_predictions(m_file);
    for (const auto& s : p.sentences)
      m_mdetr.emplace(s.image_id + "_" + s.sentence_id, s.boxes);  // first wins
    m_records = p.sentences.size();
  }
  std::string name() const override { return "predictions"; }
  std::string describe() const override {
    return "predictions file=" + m_file + " records=" + std::to_string(m_records) +
           (m_duplicates ? " duplicates_ignored=" + std::to_string(m_duplicates) : "");
  }
  std::vector<std::vector<query_result>> ground_many(
      std::span<const runner_request> requests) override {
    std::vector<std::vector<query_result>> out;
    for (const auto& rr : requests) {
      const sample& s = *rr.source;
      std::vector<query_result> res(rr.request.queries.size());
      for (std::size_t i = 0; i < res.size(); ++i) {
        const std::size_t pi = rr.request.queries[i].phrase_index;
        if (auto it =
                m_jsonl.find(std::tuple{s.image_id, static_cast<long long>(s.sentence_index), pi});
            it != m_jsonl.end()) {
          res[i] = read_record_at(it->second);
          continue;
        }
        auto mt = m_mdetr.find(s.image_id + "_" + std::to_string(s.sentence_index));
        if (mt != m_mdetr.end()) {
          // MDETR layout: boxes[j] answers the j-th evaluable phrase of the sentence.
          std::size_t j = 0;
          for (std::size_t k = 0; k < pi && k < s.phrases.size(); ++k)
            j += s.phrases[k].boxes.empty() ? 0 : 1;
          if (j < mt->second.size()) {
            res[i].boxes = mt->second[j];
            res[i].status = res[i].boxes.empty() ? query_status::empty : query_status::ok;
            continue;
          }
        }
        res[i].status = query_status::error;
        res[i].message = "no prediction for " + s.image_id + "/" +
                         std::to_string(s.sentence_index) + "/" + std::to_string(pi) + " in " +
                         m_file;
      }
      out.push_back(std::move(res));
    }
    return out;
  }

 private:
  /// The answer of the record whose line starts at byte `offset` (read and checked once already).
  query_result read_record_at(std::uint64_t offset) {
    m_in.clear();
    m_in.seekg(static_cast<std::streamoff>(offset));
    jsonl_prediction_reader reader(m_in, m_file);
    phrase_prediction_record r;
    if (!m_in || !reader.next(r))
      throw error(error_kind::io, m_file, 0,
                  "cannot read the record at byte " + std::to_string(offset) +
                      " again (was the file changed during the run?)");
    return std::move(r.result);
  }

  std::string m_file;
  std::ifstream m_in;
  std::map<std::tuple<std::string, long long, std::size_t>, std::uint64_t> m_jsonl;  // -> offset
  std::unordered_map<std::string, std::vector<std::vector<scored_box>>> m_mdetr;
  std::size_t m_records = 0, m_duplicates = 0;
};

/// Reads proposals: a JSON object {"<image id>": [[x1, y1, x2, y2], ...], ...} in pixels.
inline oracle_grounder::proposal_map read_proposals(const std::string& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw error(error_kind::io, file, 0, "cannot open the proposals file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(error_kind::parse, file, 0, e.what());
  }
  if (!j.is_object())
    throw error(error_kind::parse, file, 0,
                "expected a JSON object {\"<image id>\": [[x1, y1, x2, y2], ...]}");
  oracle_grounder::proposal_map m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_array())
      throw error(error_kind::parse, file, 0, "image '" + it.key() + "': expected a list of boxes");
    auto& v = m[it.key()];
    std::size_t n = 0;
    for (const auto& b : it.value()) {
      if (!b.is_array() || b.size() != 4 ||
          !std::all_of(b.begin(), b.end(), [](const auto& x) { return x.is_number(); }))
        throw error(error_kind::parse, file, 0,
                    "image '" + it.key() + "', box " + std::to_string(n) +
                        ": expected [x1, y1, x2, y2] numbers");
      v.push_back({b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()});
      ++n;
    }
  }
  return m;
}

#ifdef GROUNDEVAL_CLI_HAVE_OPENAI
class openai_spec_grounder final : public spec_grounder {
 public:
  explicit openai_spec_grounder(openai_config c)
      : m_conc(2 * static_cast<std::size_t>(std::max(1, c.concurrency))), m_g(std::move(c)) {}
  std::string name() const override { return "openai"; }
  std::string describe() const override { return m_g.describe(); }
  std::size_t batch_size() const override { return m_conc; }
  std::vector<std::vector<query_result>> ground_many(
      std::span<const runner_request> requests) override {
    // before the first query: is the server up, does it serve the model? (throws when not, so
    // a run does not fill its directory with errors)
    if (!m_ready_checked) {
      (void)m_g.check_ready();
      m_ready_checked = true;
    }
    std::vector<grounding_request> rs;
    for (const auto& r : requests) rs.push_back(r.request);
    std::vector<std::vector<query_result>> out;
    std::vector<std::vector<openai_answer>> answers;
    m_g.ground_many(rs, out, answers);
    // max_unreachable queries in a row without a response: stop the run (this batch's answers
    // are in the answer cache when there is one; nothing not asked gets recorded)
    if (const std::string why = m_g.halt_reason(); !why.empty())
      throw error(error_kind::backend, why);
    for (const auto& per_request : answers)
      for (const auto& a : per_request)
        if (!a.server_model.empty() && m_server_model.empty()) m_server_model = a.server_model;
    return out;
  }
  std::string server_model() const override { return m_server_model; }
  bool measures_latency() const override { return true; }

 private:
  std::size_t m_conc;
  openai_grounder m_g;
  std::string m_server_model;
  bool m_ready_checked = false;
};
#endif

#ifdef GROUNDEVAL_CLI_HAVE_NPY
class npy_spec_grounder final : public spec_grounder {
 public:
  npy_spec_grounder(const std::string& manifest, postprocess_options o,
                    const in_memory_dataset& data)
      : m_g(manifest, o) {
    m_g.check_queries(data);  // a dump that matches no query stops the run before it starts
  }
  std::string name() const override { return "npy-detector"; }
  std::string describe() const override { return m_g.describe(); }
  std::vector<std::vector<query_result>> ground_many(
      std::span<const runner_request> requests) override {
    std::vector<std::vector<query_result>> out;
    for (const auto& r : requests) out.push_back(m_g.ground(r.request));
    return out;
  }

 private:
  npy_detector_grounder m_g;
};
#endif

}  // namespace detail_grounder

std::string grounder_arg_key(const std::string& kind) {
  if (kind == "center") return "fraction";
  if (kind == "random") return "seed";
  if (kind == "oracle") return "proposals";
  if (kind == "predictions") return "file";
  if (kind == "openai") return "url";
  if (kind == "npy-detector") return "manifest";
  return {};
}

std::string spec_string(const grounder_spec& spec, const std::string& skip_key) {
  std::string out = spec.kind + (spec.arg.empty() ? "" : ":" + spec.arg);
  // Keys sorted: the order they were given in (command line or file) does not change the spec.
  auto params = spec.params;
  std::sort(params.begin(), params.end());
  std::string q;
  for (const auto& [k, v] : params)
    if (k != skip_key) q += (q.empty() ? "?" : "&") + k + "=" + v;
  return out + q;
}

grounder_spec read_grounder_config(const std::string& file) {
  using namespace detail_grounder;
  std::ifstream f(file, std::ios::binary);
  if (!f) throw error(error_kind::io, file, 0, "cannot open the grounder config file");
  grounder_spec s;
  s.text = "@" + file;
  s.file = file;
  auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t");
    if (b == std::string::npos) return std::string();
    const auto e = t.find_last_not_of(" \t");
    return t.substr(b, e - b + 1);
  };
  std::vector<std::pair<std::string, std::string>> items;
  std::string line;
  std::size_t n = 0, kind_line = 0;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::size_t eq = t.find('=');
    if (eq == std::string::npos)
      throw error(error_kind::config, file, n, "expected KEY = VALUE, got '" + t + "'");
    const std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (key.empty() || !std::all_of(key.begin(), key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        }))
      throw error(error_kind::config, file, n,
                  "'" + key + "' is not a key (lower-case letters, digits and '_')");
    if (const std::size_t first = line_of(s, key))
      throw error(error_kind::config, file, n,
                  "key '" + key + "' given twice (first on line " + std::to_string(first) + ")");
    s.lines.emplace_back(key, n);
    if (key == "grounder") {
      s.kind = value;
      kind_line = n;
    } else {
      items.emplace_back(key, std::move(value));
    }
  }
  if (f.bad()) throw error(error_kind::io, file, 0, "read error");
  if (kind_line == 0)
    throw error(error_kind::config, file, 0,
                "no 'grounder = KIND' line (valid kinds: " + join(known_kinds()) + ")");
  if (std::find(known_kinds().begin(), known_kinds().end(), s.kind) == known_kinds().end())
    throw error(error_kind::config, file, kind_line,
                "unknown grounder '" + s.kind + "' (valid: " + join(known_kinds()) + ")");
  const std::string arg_key = grounder_arg_key(s.kind);
  for (auto& [k, v] : items) {
    if (!arg_key.empty() && k == arg_key)
      s.arg = std::move(v);
    else
      s.params.emplace_back(k, std::move(v));
  }
  return s;
}

grounder_spec parse_grounder_spec(const std::string& text) {
  using namespace detail_grounder;
  if (!text.empty() && text[0] == '@') {
    if (text.size() == 1) throw error(error_kind::config, "--grounder: '@' needs a file: @FILE");
    return read_grounder_config(text.substr(1));
  }
  grounder_spec s;
  s.text = text;
  const std::size_t q = text.find('?');
  const std::string head = text.substr(0, q);
  const std::size_t colon = head.find(':');
  s.kind = head.substr(0, colon);
  if (colon != std::string::npos) s.arg = head.substr(colon + 1);
  if (std::find(known_kinds().begin(), known_kinds().end(), s.kind) == known_kinds().end())
    fail(s, "unknown grounder '" + s.kind + "' (valid: " + join(known_kinds()) + ")");
  if (q != std::string::npos) {
    std::string rest = text.substr(q + 1);
    std::size_t p = 0;
    while (p <= rest.size()) {
      const std::size_t amp = std::min(rest.find('&', p), rest.size());
      const std::string item = rest.substr(p, amp - p);
      const std::size_t eq = item.find('=');
      if (item.empty() || eq == std::string::npos || eq == 0)
        fail(s, "expected KEY=VALUE after '?', got '" + item + "'");
      const std::string key = item.substr(0, eq);
      for (const auto& [k, v] : s.params)
        if (k == key) fail(s, "key '" + key + "' given twice");
      s.params.emplace_back(key, item.substr(eq + 1));
      p = amp + 1;
    }
  }
  return s;
}

#ifdef GROUNDEVAL_CLI_HAVE_OPENAI
openai_config openai_config_from_spec(const grounder_spec& s) {
  using namespace detail_grounder;
  // The keys of openai_option_keys() (grounders/http/openai_config.hpp), plus the family's
  // geometry keys (min_pixels / max_pixels for qwen2.5-vl, frame for the padded families, ...),
  // passed to the geometry contract as --geometry KEY=VALUE would be.
  std::vector<std::string> all_keys = openai_option_keys();
  const std::string* fam = param(s, "family");
  const std::string family = fam ? *fam : openai_config{}.family;
  std::vector<std::string> geo_keys;
  try {
    for (const auto k : geometry_keys(family)) geo_keys.emplace_back(k);
  } catch (const error& e) {
    fail(s, e.what(), "family");
  }
  all_keys.insert(all_keys.end(), geo_keys.begin(), geo_keys.end());
  check_keys(s, all_keys);
  openai_config c;
  for (const auto& k : geo_keys)
    if (const std::string* x = param(s, k)) c.geometry_options.emplace_back(k, *x);
  if (s.arg.empty()) need_arg(s, "the server URL", "openai:http://HOST:PORT/v1?model=M");
  try {
    set_openai_option(c, "url", s.arg);  // refuses credentials in the URL, never echoing them
  } catch (const error& e) {
    fail(s, e.what(), "url");
  }
  for (const auto& [k, v] : s.params) {
    if (std::find(geo_keys.begin(), geo_keys.end(), k) != geo_keys.end()) continue;
    try {
      set_openai_option(c, k, v);  // checks the value (numbers finite and in range, headers)
    } catch (const error& e) {
      fail(s, e.what(), k);
    }
  }
  if (c.model.empty()) fail(s, "model=NAME is required");
  return c;
}
#endif

std::unique_ptr<spec_grounder> make_grounder(const grounder_spec& s,
                                             const in_memory_dataset& data) {
  using namespace detail_grounder;
  if (s.kind == "whole-image") {
    check_keys(s, {});
    if (!s.arg.empty()) fail(s, "whole-image takes no argument");
    return std::make_unique<wrapped_grounder<whole_image_grounder>>(whole_image_grounder{});
  }
  if (s.kind == "center") {
    check_keys(s, {});
    center_prior_grounder g;
    if (!s.arg.empty()) g.fraction = parse_double(s, "fraction", s.arg);
    if (!(g.fraction > 0 && g.fraction <= 1)) fail(s, "the fraction must be in (0, 1]", "fraction");
    return std::make_unique<wrapped_grounder<center_prior_grounder>>(g);
  }
  if (s.kind == "random") {
    check_keys(s, {"boxes"});
    random_grounder g;
    if (!s.arg.empty()) g.seed = parse_unsigned(s, "seed", s.arg);
    if (auto v = param(s, "boxes")) {
      g.boxes_per_query = static_cast<std::size_t>(parse_unsigned(s, "boxes", *v));
      if (g.boxes_per_query < 1 || g.boxes_per_query > 1000)
        fail(s, "boxes must be in 1..1000", "boxes");
    }
    return std::make_unique<wrapped_grounder<random_grounder>>(g);
  }
  if (s.kind == "oracle") {
    check_keys(s, {"merged"});
    if (s.arg.empty()) need_arg(s, "a proposals file", "oracle:PROPOSALS.json");
    bool merged = false;
    if (auto v = param(s, "merged")) merged = parse_bool(s, "merged", *v);
    return std::make_unique<wrapped_grounder<oracle_grounder>>(
        oracle_grounder(data, read_proposals(s.arg), merged));
  }
  if (s.kind == "predictions") {
    check_keys(s, {});
    if (s.arg.empty()) need_arg(s, "a file", "predictions:FILE");
    return std::make_unique<replay_grounder>(s.arg);
  }
  if (s.kind == "openai") {
#ifdef GROUNDEVAL_CLI_HAVE_OPENAI
    openai_config c = openai_config_from_spec(s);
    try {
      return std::make_unique<openai_spec_grounder>(std::move(c));
    } catch (const error& e) {
      fail(s, e.what());
    }
#else
    fail(s, "this groundeval was built without the http component (cpp-httplib, OpenSSL)");
#endif
  }
  if (s.kind == "npy-detector") {
#ifdef GROUNDEVAL_CLI_HAVE_NPY
    check_keys(s, {"preset"});
    if (s.arg.empty()) need_arg(s, "the dump manifest", "npy-detector:MANIFEST?preset=glip");
    const std::string* preset = param(s, "preset");
    if (!preset) fail(s, "preset=mdetr|glip|grounding-dino is required");
    postprocess_options o;
    try {
      o = postprocess_preset(*preset);
    } catch (const error& e) {
      fail(s, e.what(), "preset");
    }
    return std::make_unique<npy_spec_grounder>(s.arg, std::move(o), data);
#else
    fail(s, "this groundeval was built without the interop component (xtensor, Eigen)");
#endif
  }
  fail(s, "unknown grounder (valid: " + join(known_kinds()) + ")");
}

const char* grounder_spec_help() {
  return "Grounder specs (--grounder):\n"
         "  whole-image                      the whole image for every phrase\n"
         "  center[:FRACTION]                a centred box covering FRACTION of each side "
         "(default 0.5)\n"
         "  random[:SEED][?boxes=N]          N uniformly random boxes per phrase (default seed "
         "0, N 1)\n"
         "  oracle:PROPOSALS.json[?merged=true]\n"
         "                                   proposals ({\"<image id>\": [[x1,y1,x2,y2], ...]}) "
         "ranked by\n"
         "                                   their IoU with the ground truth (an upper bound)\n"
         "  predictions:FILE                 replay a predictions file (JSON Lines or MDETR "
         "JSON)\n"
         "  "
         "openai:URL?model=M&family=F[&GEOMETRY_KEY=V...&key_env=VAR&concurrency=C&temperature=T&"
         "max_tokens=N\n"
         "         &cache=FILE&prompt=TEMPLATE&extra_body=JSON&verify_tls=BOOL&ca_cert=FILE\n"
         "         &max_retries=N&connect_timeout=S&read_timeout=S&check_frame=BOOL]\n"
         "                                   an OpenAI-compatible server (vLLM, SGLang, ...)\n"
         "  npy-detector:MANIFEST?preset=mdetr|glip|grounding-dino\n"
         "                                   replay raw detector dumps (.npy/.npz) through a "
         "preset\n"
         "  @FILE                            the same from a config file, one KEY = VALUE per "
         "line:\n"
         "                                   grounder = KIND, the argument as url (openai), file\n"
         "                                   (predictions), proposals (oracle), manifest "
         "(npy-detector),\n"
         "                                   fraction (center) or seed (random), then the keys "
         "above;\n"
         "                                   '#' starts a comment line (docs/runner.md)\n";
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string dataset_content_hash(const in_memory_dataset& data) {
  std::uint64_t h = groundeval::detail::fnv1a64("");
  auto mix = [&](std::string_view s) {
    h = groundeval::detail::fnv1a64(s, h);
    h = groundeval::detail::fnv1a64(std::string_view("\x1f", 1), h);
  };
  auto num = [&](double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    mix(buf);
  };
  for (const sample& s : data) {
    mix(s.image_id);
    num(s.size.width);
    num(s.size.height);
    num(s.sentence_index);
    mix(s.sentence);
    for (const phrase& p : s.phrases) {
      mix(p.text);
      mix(p.chain_id);
      for (const auto& t : p.types) mix(t);
      num(static_cast<double>(p.char_begin));
      num(static_cast<double>(p.char_end));
      for (const auto& b : p.boxes) {
        num(b.x1);
        num(b.y1);
        num(b.x2);
        num(b.y2);
      }
      mix("|");
    }
  }
  return hex64(h);
}

}  // namespace groundeval::cli

namespace groundeval::cli {

loaded_dataset load_run_dataset(const std::map<std::string, std::string, std::less<>>& manifest,
                                const std::string& source, const std::string& dataset,
                                const std::string& split, std::string* warning) {
  auto get = [&](const char* k) -> std::string {
    auto it = manifest.find(k);
    return it == manifest.end() ? std::string() : it->second;
  };
  const std::string spec = dataset.empty() ? get("dataset") : dataset;
  std::string sp = split.empty() ? get("split") : split;
  if (spec.empty())
    throw error(error_kind::config, source, 0,
                "the manifest names no data set; pass --dataset SPEC (and --split S)");
  if (sp.empty() || sp == "(from the file)") sp = "test";
  loaded_dataset d = load_dataset_spec(spec, sp);
  const std::string sel = get("selection");
  if (!sel.empty()) {
    const auto sampling = sample_option::from_description(sel);
    if (!sampling)
      throw error(error_kind::parse, source, 0, "unknown \"selection\" value '" + sel + "'");
    if (*sampling) d.dataset = sampling->apply(d.dataset);
  }
  const std::string want = get("dataset_content_hash");
  if (warning && !want.empty()) {
    const std::string have = dataset_content_hash(d.dataset);
    if (have != want)
      *warning = source + ": the run was made on data with content hash " + want +
                 ", the data loaded now (" + spec + ", " + sp + ") has " + have;
  }
  return d;
}

}  // namespace groundeval::cli
