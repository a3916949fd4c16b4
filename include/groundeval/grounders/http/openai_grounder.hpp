// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/openai_grounder.hpp — a Grounder that asks any OpenAI-compatible
// /chat/completions endpoint (vLLM, SGLang, llama.cpp server, Ollama, LM Studio) and decodes the
// answers with a family's parser and geometry contract. Target: groundeval::http (cpp-httplib,
// OpenSSL, nlohmann/json). Include it after any Eigen header: cpp-httplib brings in glibc's
// <resolv.h>, whose `_res` macro breaks Eigen headers included later.
//
// * The image goes in a base64 data URL: the original file bytes, or, for families that pad to
//   a square (LLaVA-1.5, Shikra), the image padded client-side exactly as the model's training
//   did (grounders/stb/client_image.hpp); one query per phrase, with the family's documented
//   prompt (or a user template).
// * Frame check: for families whose numbers are pixels of the server's smart-resized input
//   (qwen2.5-vl), before the first query the server is sent the same prompt with three images
//   and the differences of its usage.prompt_tokens are compared with the token counts implied by
//   the declared min_pixels / max_pixels; a disagreement stops with a configuration error.
// * C requests in flight (default 8) so the server can batch; retries with exponential backoff
//   and jitter on 429, 5xx and connection errors, honouring Retry-After. A final failure is
//   recorded on that query (status error), never thrown.
// * Every answer is cached on disk (JSON lines, one fdatasync'ed append per answer) keyed by
//   (endpoint model, prompt, image SHA-256, decoding parameters, groundeval version), so an
//   interrupted run resumes without asking again and never loses a completed answer.
// * The API key is read from the environment variable named by the configuration; it is only
//   ever put in the Authorization header: never logged, cached, described or returned.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/config.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/grounders/prompts.hpp>
#include <groundeval/grounders/stb/client_image.hpp>
#include <groundeval/io/image.hpp>

#include <fcntl.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iomanip>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace groundeval {

/// Configuration of an openai_grounder (plain data; see docs/generalist.md).
struct openai_config {
  std::string base_url = "http://127.0.0.1:8000/v1";  ///< POSTs go to base_url + /chat/completions
  std::string model;                                  ///< "model" field of the request
  std::string family = "pixel";                       ///< box format + geometry (parsers.hpp)
  std::vector<std::pair<std::string, std::string>> geometry_options;  ///< --geometry KEY=VALUE
  std::string prompt_template;  ///< empty: default_prompt(family)
  double temperature = 0.0;
  int max_tokens = 256;
  std::string extra_body = "{}";  ///< JSON object merged into the request body (top level)
  std::string api_key_env = "OPENAI_API_KEY";  ///< variable to read the key from; "" = no key
  bool verify_tls = true;
  std::string ca_cert_file;  ///< optional CA bundle for https
  double connect_timeout_s = 10.0;
  double read_timeout_s = 120.0;
  int concurrency = 8;  ///< requests in flight
  int max_retries = 5;  ///< retries after the first attempt
  double backoff_base_s = 0.5;
  double backoff_max_s = 30.0;
  double retry_after_max_s = 120.0;  ///< cap on a server's Retry-After
  std::string cache_path;            ///< JSON-lines answer cache; "" = none
  /// Compare the server's prompt token counts with the declared frame before the first query
  /// (families whose answers are pixels of a smart-resized input; see frame_check).
  bool check_frame = true;
  /// Where warnings go (a frame check the server's answers do not allow); default: stderr.
  std::function<void(const std::string&)> on_warning;
};

/// The outcome of the frame check (openai_grounder::frame_check).
struct frame_check_result {
  enum class outcome : std::uint8_t {
    not_run,         ///< no query has needed the server yet (or check_frame is false)
    not_applicable,  ///< the family's numbers do not depend on the server's resize
    match,           ///< the server's token counts equal the declared frame's
    unavailable      ///< the server gave no usable usage.prompt_tokens (or failed)
  };
  outcome result = outcome::not_run;
  std::string message;  ///< what was compared, in words
};

/// What the server said for one query, beyond the parsed boxes.
struct openai_answer {
  std::string raw_text;
  double latency_s = -1.0;  ///< wall time of the request(s), retries included
  long prompt_tokens = -1;
  long completion_tokens = -1;
  std::string server_model;  ///< "model" reported by the server
  std::string finish_reason;
  int attempts = 0;  ///< HTTP attempts made now (0 when served from the cache)
  bool from_cache = false;
  std::string error;     ///< non-empty when no answer could be obtained
  std::string geometry;  ///< to_json() of the contract the boxes were decoded with
};

namespace detail {

inline std::string base64(std::string_view in) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (unsigned(static_cast<unsigned char>(in[i])) << 16) |
                       (unsigned(static_cast<unsigned char>(in[i + 1])) << 8) |
                       unsigned(static_cast<unsigned char>(in[i + 2]));
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < in.size()) {
    unsigned v = unsigned(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= unsigned(static_cast<unsigned char>(in[i + 1])) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

inline std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) != 1)
    throw error(error_kind::backend, "sha256", 0, "EVP_Digest failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += hex[md[i] >> 4];
    s += hex[md[i] & 15];
  }
  return s;
}

/// Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date); nullopt if invalid.
inline std::optional<double> parse_retry_after(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end != v.c_str() && *end == '\0' && std::isfinite(s) && s >= 0) return s;
  std::tm tm{};
  std::istringstream in(v);
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return std::nullopt;
  const std::time_t when = timegm(&tm);
  const double d = std::difftime(when, std::time(nullptr));
  return d > 0 ? d : 0.0;
}

/// Splits "http://host:port/v1" into ("http://host:port", "/v1").
inline std::pair<std::string, std::string> split_base_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    throw error(error_kind::config, "base_url", 0,
                "expected http://host[:port][/path] or https://..., got '" + url + "'");
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, ""};
  std::string path = url.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return {url.substr(0, slash), path};
}

/// Replaces every occurrence of `secret` in `s` (defence in depth for error messages).
inline std::string redact(std::string s, const std::string& secret) {
  if (secret.empty()) return s;
  for (auto p = s.find(secret); p != std::string::npos; p = s.find(secret, p))
    s.replace(p, secret.size(), "***");
  return s;
}

}  // namespace detail

/// Decodes a chat-completions response body (HTTP 200) into `a` (raw_text = choices[0].message
/// .content, finish_reason, server model, token usage); returns "" or why the body is unusable.
/// Never throws for any body (fuzzed: fuzz/fuzz_chat_response.cpp).
inline std::string decode_chat_completion(std::string_view text, openai_answer& a) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "malformed JSON in the response";
  if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
    return "response has no choices";
  const auto& c0 = j["choices"][0];
  if (!c0.is_object() || !c0.contains("message") || !c0["message"].is_object())
    return "choice has no message";
  const auto& msg = c0["message"];
  if (msg.contains("content") && msg["content"].is_string())
    a.raw_text = msg["content"].get<std::string>();
  else if (!msg.contains("content") || !msg["content"].is_null())
    return "message content is not a string";
  if (c0.contains("finish_reason") && c0["finish_reason"].is_string())
    a.finish_reason = c0["finish_reason"].get<std::string>();
  if (j.contains("model") && j["model"].is_string()) a.server_model = j["model"].get<std::string>();
  if (j.contains("usage") && j["usage"].is_object()) {
    const auto& u = j["usage"];
    if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
      a.prompt_tokens = u["prompt_tokens"].get<long>();
    if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
      a.completion_tokens = u["completion_tokens"].get<long>();
  }
  return {};
}

/// The on-disk answer cache: JSON lines {"key", "raw_text", "latency_s", "prompt_tokens",
/// "completion_tokens", "server_model", "finish_reason"}. Appends are single write() calls on an
/// O_APPEND descriptor followed by fdatasync; a torn last line (a killed writer) is ignored on
/// load. Keys are never duplicated by this process.
class answer_cache {
 public:
  answer_cache() = default;
  explicit answer_cache(std::string path) : m_path(std::move(path)) {
    if (m_path.empty()) return;
    std::ifstream in(m_path, std::ios::binary);
    std::string line;
    std::size_t lineno = 0;
    bool ends_with_newline = true;
    while (std::getline(in, line)) {
      ++lineno;
      ends_with_newline = !in.eof();
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string())
        continue;  // torn or foreign line: ignored, the answer will be asked again
      // A field of the wrong type makes the line foreign too (j.value() would throw, or convert
      // a float token count to long with undefined behaviour).
      const auto typed = [&](const char* k, bool (nlohmann::json::*is)() const noexcept) {
        const auto it = j.find(k);
        return it == j.end() || ((*it).*is)();
      };
      if (!typed("raw_text", &nlohmann::json::is_string) ||
          !typed("latency_s", &nlohmann::json::is_number) ||
          !typed("prompt_tokens", &nlohmann::json::is_number_integer) ||
          !typed("completion_tokens", &nlohmann::json::is_number_integer) ||
          !typed("server_model", &nlohmann::json::is_string) ||
          !typed("finish_reason", &nlohmann::json::is_string))
        continue;
      openai_answer a;
      a.raw_text = j.value("raw_text", std::string{});
      a.latency_s = j.value("latency_s", -1.0);
      a.prompt_tokens = j.value("prompt_tokens", -1L);
      a.completion_tokens = j.value("completion_tokens", -1L);
      a.server_model = j.value("server_model", std::string{});
      a.finish_reason = j.value("finish_reason", std::string{});
      m_map.emplace(j["key"].get<std::string>(), std::move(a));
    }
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0) throw error(error_kind::io, m_path, 0, "cannot open the answer cache for append");
    if (lineno > 0 && !ends_with_newline) write_all("\n");  // terminate a torn last line
  }
  answer_cache(const answer_cache&) = delete;
  answer_cache& operator=(const answer_cache&) = delete;
  ~answer_cache() {
    if (m_fd >= 0) ::close(m_fd);
  }

  std::optional<openai_answer> find(const std::string& key) const {
    std::lock_guard lock(m_mutex);
    auto it = m_map.find(key);
    if (it == m_map.end()) return std::nullopt;
    return it->second;
  }
  /// Stores a completed answer (no-op for a key already present).
  void put(const std::string& key, const openai_answer& a) {
    std::lock_guard lock(m_mutex);
    if (!m_map.emplace(key, a).second) return;
    if (m_fd < 0) return;
    nlohmann::json j = {{"key", key},
                        {"raw_text", a.raw_text},
                        {"latency_s", a.latency_s},
                        {"prompt_tokens", a.prompt_tokens},
                        {"completion_tokens", a.completion_tokens},
                        {"server_model", a.server_model},
                        {"finish_reason", a.finish_reason}};
    write_all(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  std::size_t size() const {
    std::lock_guard lock(m_mutex);
    return m_map.size();
  }

 private:
  void write_all(const std::string& s) {
    const char* p = s.data();
    std::size_t left = s.size();
    while (left > 0) {
      const ssize_t n = ::write(m_fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw error(error_kind::io, m_path, 0, "cannot append to the answer cache");
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::fdatasync(m_fd);
  }
  std::string m_path;
  int m_fd = -1;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, openai_answer> m_map;
};

/// The OpenAI-compatible grounder.
class openai_grounder {
 public:
  explicit openai_grounder(openai_config cfg) : m_cfg(std::move(cfg)), m_cache(m_cfg.cache_path) {
    if (m_cfg.model.empty()) throw error(error_kind::config, "openai", 0, "model is empty");
    if (!is_family(m_cfg.family))
      throw error(error_kind::config, "openai", 0, "unknown family '" + m_cfg.family + "'");
    if (m_cfg.concurrency < 1 || m_cfg.max_retries < 0 || m_cfg.max_tokens < 1)
      throw error(error_kind::config, "openai", 0,
                  "need concurrency >= 1, max_retries >= 0 and max_tokens >= 1");
    if (m_cfg.prompt_template.empty()) m_cfg.prompt_template = default_prompt(m_cfg.family).text;
    validate_prompt_template(m_cfg.prompt_template);
    m_extra = nlohmann::json::parse(m_cfg.extra_body, nullptr, false);
    if (m_extra.is_discarded() || !m_extra.is_object())
      throw error(error_kind::config, "openai", 0, "extra_body must be a JSON object");
    std::tie(m_host, m_path) = detail::split_base_url(m_cfg.base_url);
    // validate the keys now; the client-side step does not depend on the image size
    m_send = family_geometry(m_cfg.family, {1, 1}, m_cfg.geometry_options).send;
    if (!m_cfg.api_key_env.empty()) {
      if (const char* k = std::getenv(m_cfg.api_key_env.c_str())) m_key = k;
    }
  }

  std::string_view name() const noexcept { return "openai"; }

  /// Full configuration as JSON, without secrets (the key's variable name only).
  std::string describe() const {
    nlohmann::json j = {{"grounder", "openai"},
                        {"base_url", m_cfg.base_url},
                        {"model", m_cfg.model},
                        {"family", m_cfg.family},
                        {"prompt_template", m_cfg.prompt_template},
                        {"temperature", m_cfg.temperature},
                        {"max_tokens", m_cfg.max_tokens},
                        {"extra_body", m_extra},
                        {"api_key_env", m_cfg.api_key_env},
                        {"verify_tls", m_cfg.verify_tls},
                        {"groundeval", version_string}};
    nlohmann::json geo = nlohmann::json::object();
    for (const auto& [k, v] : m_cfg.geometry_options) geo[k] = v;
    j["geometry_options"] = geo;
    if (m_send.kind != send_kind::original) j["client_image"] = client_image_description();
    return j.dump();
  }

  /// The frame check's outcome so far (a mismatch is not stored: it throws).
  const frame_check_result& frame_check() const noexcept { return m_frame; }

  /// One result per query, in order; per-query failures are recorded, never thrown.
  std::vector<query_result> ground(const grounding_request& r) {
    std::vector<openai_answer> answers;
    return ground_detailed(r, answers);
  }

  /// As ground(), also returning what the server said for each query.
  std::vector<query_result> ground_detailed(const grounding_request& r,
                                            std::vector<openai_answer>& answers) {
    std::vector<std::vector<query_result>> out;
    std::vector<std::vector<openai_answer>> ans;
    ground_many(std::span<const grounding_request>(&r, 1), out, ans);
    answers = std::move(ans[0]);
    return std::move(out[0]);
  }

  /// Several requests at once, so that `concurrency` queries stay in flight across images
  /// (a Flickr30k sentence has only a few phrases). results[k][i] answers requests[k].queries[i].
  /// Images are prepared (padded client-side where the contract says so) only when one of their
  /// queries is not in the answer cache; before the first such query the frame check runs
  /// (check_frame), which throws error_kind::config when the server's frame is not the declared
  /// one.
  void ground_many(std::span<const grounding_request> requests,
                   std::vector<std::vector<query_result>>& results,
                   std::vector<std::vector<openai_answer>>& answers) {
    struct image_data {
      geometry geom;
      image_bytes bytes;
      std::string hash, data_url;
    };
    struct item {
      std::size_t k, i;
      std::string prompt, key;
    };
    std::vector<image_data> images(requests.size());
    std::vector<item> items;
    results.assign(requests.size(), {});
    answers.assign(requests.size(), {});
    for (std::size_t k = 0; k < requests.size(); ++k) {
      const auto& r = requests[k];
      results[k].resize(r.queries.size());
      answers[k].resize(r.queries.size());
      if (r.queries.empty()) continue;
      images[k].geom = family_geometry(m_cfg.family, r.image.size, m_cfg.geometry_options);
      images[k].bytes = read_image_bytes(std::string(r.image.path));
      images[k].hash = detail::sha256_hex(images[k].bytes.data);
      for (std::size_t i = 0; i < r.queries.size(); ++i) {
        std::string prompt = render_prompt(m_cfg.prompt_template, r.queries[i]);
        std::string key = cache_key(prompt, images[k].hash);
        items.push_back({k, i, std::move(prompt), std::move(key)});
      }
    }
    // the images a query still needs the server for; an image of several requests is prepared
    // once
    std::unordered_map<std::string, std::string> prepared;  // image hash -> data URL
    const item* first_miss = nullptr;
    for (const item& it : items) {
      if (m_cache.find(it.key)) continue;
      if (!first_miss) first_miss = &it;
      image_data& img = images[it.k];
      if (!img.data_url.empty()) continue;
      auto [pos, fresh] = prepared.try_emplace(img.hash);
      if (fresh) pos->second = data_url(prepare_image(img.bytes, img.geom));
      img.data_url = pos->second;
    }
    if (first_miss && m_cfg.check_frame && m_frame.result == frame_check_result::outcome::not_run)
      run_frame_check(images[first_miss->k].geom, images[first_miss->k].data_url,
                      first_miss->prompt);
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    auto worker = [&] {
      try {
        std::unique_ptr<httplib::Client> client;
        for (std::size_t n; (n = next.fetch_add(1)) < items.size();) {
          const item& it = items[n];
          openai_answer a;
          if (auto hit = m_cache.find(it.key)) {
            a = *hit;
            a.from_cache = true;
            a.attempts = 0;
          } else {
            if (!client) client = make_client();
            a = ask(*client, it.prompt, images[it.k].data_url);
            if (a.error.empty()) m_cache.put(it.key, a);
          }
          results[it.k][it.i] = to_result(a, images[it.k].geom);
          a.geometry = to_json(images[it.k].geom);
          answers[it.k][it.i] = std::move(a);
        }
      } catch (...) {  // e.g. the cache file became unwritable: stop every worker, rethrow
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = items.size();
      }
    };
    const std::size_t n = std::min<std::size_t>(std::size_t(m_cfg.concurrency), items.size());
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < n; ++t) pool.emplace_back(worker);
    if (n > 0) worker();
    for (auto& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  const openai_config& config() const noexcept { return m_cfg; }

 private:
  std::string cache_key(const std::string& prompt, const std::string& image_hash) const {
    nlohmann::json k = {{"endpoint", m_host + m_path},
                        {"model", m_cfg.model},
                        {"prompt", prompt},
                        {"image_sha256", image_hash},
                        {"temperature", m_cfg.temperature},
                        {"max_tokens", m_cfg.max_tokens},
                        {"extra_body", m_extra},
                        {"groundeval", version_string}};
    // the sent image differs from the file: answers asked with the original are not reused
    if (m_send.kind != send_kind::original) k["client_image"] = client_image_description();
    return detail::sha256_hex(k.dump());
  }

  std::string client_image_description() const {
    const auto& c = m_send.pad_colour;
    return std::string(to_string(m_send.kind)) + " rgb(" + std::to_string(c[0]) + "," +
           std::to_string(c[1]) + "," + std::to_string(c[2]) + ") png";
  }

  static std::string data_url(const sent_image& im) {
    return "data:" + im.mime + ";base64," + detail::base64(im.bytes);
  }

  void warn(const std::string& what) const {
    if (m_cfg.on_warning)
      m_cfg.on_warning(what);
    else
      std::fprintf(stderr, "groundeval: warning: %s\n", what.c_str());
  }

  /// Image tokens of an image of `size` under contract `g` (smart_resize, one token per
  /// factor x factor block: Qwen2-VL / Qwen2.5-VL merge 2 x 2 patches of 14 px).
  static long frame_tokens(const geometry& g, image_size size) {
    const image_size r = smart_resize(size, g.pre.factor, g.pre.min_pixels, g.pre.max_pixels);
    return long(r.width / g.pre.factor) * long(r.height / g.pre.factor);
  }

  /// The frame check: the same prompt with the run's image, a 448 x 448 and a 1680 x 1260 plain
  /// image; the differences of the server's prompt token counts must equal those of the declared
  /// frame (the text and template tokens cancel out). Throws error_kind::config on a mismatch.
  void run_frame_check(const geometry& g, const std::string& image_url, const std::string& prompt) {
    using O = frame_check_result::outcome;
    if (g.pre.kind != preprocess_kind::smart_resize ||
        g.space.kind != coord_space_kind::input_pixels) {
      m_frame = {O::not_applicable, "the family's numbers do not depend on the server's resize"};
      return;
    }
    constexpr image_size ref{448, 448}, large{1680, 1260};
    auto client = make_client();
    const openai_answer a = ask(*client, prompt, image_url, 1);
    const openai_answer r = ask(*client, prompt, data_url(plain_image(ref)), 1);
    const openai_answer l = ask(*client, prompt, data_url(plain_image(large)), 1);
    for (const openai_answer* x : {&a, &r, &l}) {
      if (!x->error.empty() || x->prompt_tokens < 0) {
        m_frame = {O::unavailable,
                   "frame check not possible: " +
                       (x->error.empty() ? std::string("the server reports no usage.prompt_tokens")
                                         : x->error) +
                       "; the declared min_pixels / max_pixels are used unchecked"};
        warn(m_frame.message);
        return;
      }
    }
    const auto describe = [&](image_size s) {
      const image_size f = smart_resize(s, g.pre.factor, g.pre.min_pixels, g.pre.max_pixels);
      return std::to_string(s.width) + "x" + std::to_string(s.height) + " -> " +
             std::to_string(f.width) + "x" + std::to_string(f.height) + " (" +
             std::to_string(frame_tokens(g, s)) + " image tokens)";
    };
    const long want_a = frame_tokens(g, g.original) - frame_tokens(g, ref);
    const long want_l = frame_tokens(g, large) - frame_tokens(g, ref);
    const long got_a = a.prompt_tokens - r.prompt_tokens, got_l = l.prompt_tokens - r.prompt_tokens;
    const std::string declared = "min_pixels=" + std::to_string(g.pre.min_pixels) +
                                 " max_pixels=" + std::to_string(g.pre.max_pixels) +
                                 " factor=" + std::to_string(g.pre.factor);
    if (got_a == want_a && got_l == want_l) {
      m_frame = {O::match, "the server's prompt token counts match " + declared + ": " +
                               describe(g.original) + ", " + describe(large) + ", " +
                               describe(ref)};
      return;
    }
    const bool image_wrong = got_a != want_a;
    const image_size bad = image_wrong ? g.original : large;
    throw error(
        error_kind::config, "frame check", 0,
        "the server resizes images differently from the declared " + declared + ": for a " +
            std::to_string(bad.width) + "x" + std::to_string(bad.height) + " image it counted " +
            std::to_string(image_wrong ? got_a : got_l) +
            " more prompt tokens than for a 448x448 " + "image, the declared frame implies " +
            std::to_string(image_wrong ? want_a : want_l) + " (" + describe(bad) + "; " +
            describe(ref) +
            "), so every answer would be decoded in the wrong frame. Give the grounder the "
            "min_pixels / max_pixels of the server's processor (vLLM: --mm-processor-kwargs), or "
            "check_frame=false to skip this check");
  }

  std::unique_ptr<httplib::Client> make_client() const {
    auto c = std::make_unique<httplib::Client>(m_host);
    auto split = [](double s, time_t& sec, time_t& usec) {
      sec = static_cast<time_t>(s);
      usec = static_cast<time_t>((s - double(sec)) * 1e6);
    };
    time_t s = 0, us = 0;
    split(m_cfg.connect_timeout_s, s, us);
    c->set_connection_timeout(s, us);
    split(m_cfg.read_timeout_s, s, us);
    c->set_read_timeout(s, us);
    c->set_write_timeout(s, us);
    c->set_keep_alive(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    c->enable_server_certificate_verification(m_cfg.verify_tls);
    if (!m_cfg.ca_cert_file.empty()) c->set_ca_cert_path(m_cfg.ca_cert_file);
#endif
    if (!m_key.empty()) c->set_default_headers({{"Authorization", "Bearer " + m_key}});
    return c;
  }

  std::string body(const std::string& prompt, const std::string& data_url, int max_tokens) const {
    nlohmann::json content = nlohmann::json::array();
    content.push_back({{"type", "image_url"}, {"image_url", {{"url", data_url}}}});
    content.push_back({{"type", "text"}, {"text", prompt}});
    nlohmann::json b = {{"model", m_cfg.model},
                        {"messages", {{{"role", "user"}, {"content", content}}}},
                        {"temperature", m_cfg.temperature},
                        {"max_tokens", max_tokens}};
    for (auto it = m_extra.begin(); it != m_extra.end(); ++it) b[it.key()] = it.value();
    return b.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  double backoff(int attempt, std::optional<double> retry_after) const {
    if (retry_after) return std::min(*retry_after, m_cfg.retry_after_max_s);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const double cap =
        std::min(m_cfg.backoff_max_s, m_cfg.backoff_base_s * std::ldexp(1.0, attempt));
    return std::uniform_real_distribution<double>(0.5 * cap, cap)(rng);  // "equal jitter"
  }

  /// One query (max_tokens 0: the configured value).
  openai_answer ask(httplib::Client& client, const std::string& prompt, const std::string& data_url,
                    int max_tokens = 0) const {
    openai_answer a;
    const std::string payload =
        body(prompt, data_url, max_tokens > 0 ? max_tokens : m_cfg.max_tokens);
    const std::string url = m_path + "/chat/completions";
    const auto t0 = std::chrono::steady_clock::now();
    for (int attempt = 0;; ++attempt) {
      ++a.attempts;
      auto res = client.Post(url, payload, "application/json");
      std::optional<double> retry_after;
      std::string why;
      bool retryable = false;
      if (!res) {
        why = "connection error: " + httplib::to_string(res.error());
        retryable = true;
      } else if (res->status == 429 || res->status >= 500) {
        why = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
        retryable = true;
        if (res->has_header("Retry-After"))
          retry_after = detail::parse_retry_after(res->get_header_value("Retry-After"));
      } else if (res->status != 200) {
        why = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
      } else {
        why = decode(res->body, a);
        if (why.empty()) {
          a.latency_s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          return a;
        }
      }
      if (!retryable || attempt >= m_cfg.max_retries) {
        a.error = detail::redact(why, m_key) + " (after " + std::to_string(a.attempts) +
                  " attempt" + (a.attempts == 1 ? "" : "s") + ")";
        a.latency_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return a;
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff(attempt, retry_after)));
      if (!res) client.stop();  // drop a half-open keep-alive connection before retrying
    }
  }

  /// Fills `a` from a 200 body; returns "" or why the body is unusable.
  static std::string decode(const std::string& text, openai_answer& a) {
    return decode_chat_completion(text, a);
  }

  /// Parsed answer; boxes keep generation order, scored 1, 1/2, 1/3, ... so ranks survive.
  query_result to_result(const openai_answer& a, const geometry& g) const {
    query_result q;
    q.latency_s = a.latency_s;
    q.geometry = to_json(g);  // the contract travels with every prediction
    if (!a.error.empty()) {
      q.status = query_status::error;
      q.message = a.error;
      return q;
    }
    q.raw_text = a.raw_text;
    const parse_result p = parse_answer(m_cfg.family, a.raw_text, g);
    q.status = p.status;
    q.message = p.reason;
    for (std::size_t i = 0; i < p.boxes.size(); ++i)
      q.boxes.push_back({p.boxes[i].box, 1.0 / double(i + 1)});
    // Point answers (Molmo) are kept as points, in order: the box metrics count them as misses
    // (answers.point_answers), the pointing game scores the first one.
    for (const auto& pt : p.points) q.points.push_back({pt.x, pt.y});
    return q;
  }

  openai_config m_cfg;
  answer_cache m_cache;
  nlohmann::json m_extra;
  std::string m_host, m_path;
  std::string m_key;  ///< never leaves this object except in the Authorization header
  client_preprocess m_send;
  frame_check_result m_frame;
};

static_assert(DescribedGrounder<openai_grounder>);

}  // namespace groundeval
