// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/openai_grounder.hpp — a Grounder that asks any OpenAI-compatible
// /chat/completions endpoint (vLLM, SGLang, llama.cpp server, Ollama, LM Studio) and decodes the
// answers with a family's parser and geometry contract. Target: groundeval::http (OpenSSL,
// nlohmann/json, stb; the HTTP client is grounders/http/client.hpp).
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
//   and jitter on 429, 5xx and connection errors, honouring Retry-After, within a time budget per
//   query. A final failure is recorded on that query (status error), never thrown.
// * Every request is bounded (client.hpp): one deadline for connecting, headers and body, a size
//   limit on the response; an answer longer than what a predictions record stores
//   (io/limits.hpp) is an error on that query.
// * Readiness and stopping (for the runner): check_ready() asks the server for its model list
//   before a run; after max_unreachable queries in a row without any response, or on
//   request_stop() / stop_requested, the grounder stops asking and returns the queries left as
//   not asked (openai_answer::failure == not_asked), which a runner must not record.
// * Every answer is cached on disk (JSON lines, one fdatasync'ed append per answer) keyed by
//   (endpoint model, prompt, image SHA-256, decoding parameters, groundeval version), so an
//   interrupted run resumes without asking again and never loses a completed answer.
// * Secrets (the API key from the environment variable named by the configuration, header values
//   from header_env) only ever go into request headers: they are masked (secrets.hpp) in every
//   answer, cache line, error and warning, before anything is cut, even when a server echoes them.
#pragma once

#include <groundeval/concepts/grounder.hpp>
#include <groundeval/config.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/geometry.hpp>
#include <groundeval/grounders/http/client.hpp>
#include <groundeval/grounders/http/openai_config.hpp>
#include <groundeval/grounders/http/secrets.hpp>
#include <groundeval/grounders/http/url.hpp>
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/grounders/prompts.hpp>
#include <groundeval/grounders/stb/client_image.hpp>
#include <groundeval/io/image.hpp>
#include <groundeval/io/limits.hpp>
#include <groundeval/run/halting.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
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
/// Why a query has no answer (openai_answer::failure).
enum class answer_failure : std::uint8_t {
  none,          ///< answered (or served from the cache)
  unreachable,   ///< no HTTP response at all: refused, reset, unresolved, TLS, nothing in time
  timeout,       ///< a response began but did not complete within the request deadline
  http_status,   ///< the server answered with an error status (after the retries)
  bad_response,  ///< a response that is no usable chat completion (malformed, no choices)
  too_large,     ///< the response or the answer went past its size limit
  not_asked      ///< not completed because the grounder was stopped: record nothing, ask later
};

constexpr std::string_view to_string(answer_failure f) noexcept {
  switch (f) {
    case answer_failure::none:
      return "none";
    case answer_failure::unreachable:
      return "unreachable";
    case answer_failure::timeout:
      return "timeout";
    case answer_failure::http_status:
      return "http_status";
    case answer_failure::bad_response:
      return "bad_response";
    case answer_failure::too_large:
      return "too_large";
    case answer_failure::not_asked:
      return "not_asked";
  }
  return "unknown";
}

// Queries not asked come back with status error and a message starting with not_asked_prefix
// (run/halting.hpp): run_grounder() records none of them.

struct openai_answer {
  std::string raw_text;
  double latency_s = -1.0;  ///< wall time of the request(s), retries included
  long prompt_tokens = -1;
  long completion_tokens = -1;
  std::string server_model;  ///< "model" reported by the server
  std::string finish_reason;
  int attempts = 0;  ///< HTTP attempts made now (0 when served from the cache)
  bool from_cache = false;
  std::string error;                              ///< non-empty when no answer could be obtained
  answer_failure failure = answer_failure::none;  ///< why, when `error` is not empty
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
/// load, and so is any line that is not a cache record or is longer than max_jsonl_line_bytes
/// (read in bounded pieces: a corrupt file cannot exhaust memory). Keys are never duplicated by
/// this process. Text read from the file and text stored go through `secrets` (masked).
class answer_cache {
 public:
  answer_cache() = default;
  explicit answer_cache(std::string path, http::secret_redactor secrets = {})
      : m_path(std::move(path)), m_secrets(std::move(secrets)) {
    if (m_path.empty()) return;
    struct stat st {};
    if (::stat(m_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw error(
          error_kind::io, m_path, 0,
          "the answer cache must be a regular file (it is a directory, a device or a pipe)");
    std::ifstream in(m_path, std::ios::binary);
    std::string line;
    bool too_long = false;
    char last = '\n';
    std::vector<char> buf(std::size_t{1} << 16);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      const std::string_view chunk(buf.data(), static_cast<std::size_t>(in.gcount()));
      last = chunk.back();
      for (std::size_t p = 0; p < chunk.size();) {
        const std::size_t nl = chunk.find('\n', p);
        const std::string_view piece = chunk.substr(p, nl == std::string_view::npos ? nl : nl - p);
        if (!too_long && line.size() + piece.size() > max_jsonl_line_bytes) {
          too_long = true;  // skipped: no cache record is that long
          line.clear();
          line.shrink_to_fit();
        }
        if (!too_long) line.append(piece);
        if (nl == std::string_view::npos) break;
        if (!too_long) load_line(line);
        line.clear();
        too_long = false;
        p = nl + 1;
      }
    }
    // `line` now holds a last line without '\n' (torn): ignored
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0) throw error(error_kind::io, m_path, 0, "cannot open the answer cache for append");
    if (last != '\n') write_all("\n");  // terminate a torn last line
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
                        {"raw_text", m_secrets(a.raw_text)},
                        {"latency_s", a.latency_s},
                        {"prompt_tokens", a.prompt_tokens},
                        {"completion_tokens", a.completion_tokens},
                        {"server_model", m_secrets(a.server_model)},
                        {"finish_reason", m_secrets(a.finish_reason)}};
    write_all(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  std::size_t size() const {
    std::lock_guard lock(m_mutex);
    return m_map.size();
  }

 private:
  void load_line(const std::string& line) {
    if (line.empty()) return;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string())
      return;  // torn or foreign line: ignored, the answer will be asked again
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
      return;
    openai_answer a;
    a.raw_text = m_secrets(j.value("raw_text", std::string{}));
    if (a.raw_text.size() > max_answer_text_bytes) return;  // never stored by this version
    a.latency_s = j.value("latency_s", -1.0);
    a.prompt_tokens = j.value("prompt_tokens", -1L);
    a.completion_tokens = j.value("completion_tokens", -1L);
    a.server_model = m_secrets(j.value("server_model", std::string{}));
    a.finish_reason = m_secrets(j.value("finish_reason", std::string{}));
    m_map.emplace(j["key"].get<std::string>(), std::move(a));
  }

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
  http::secret_redactor m_secrets;
  int m_fd = -1;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, openai_answer> m_map;
};

/// The OpenAI-compatible grounder.
class openai_grounder {
 public:
  /// Checks the configuration (check_openai_config, the family, the prompt, extra_body, the URL:
  /// credentials in it are refused) and reads the secrets from the environment. Throws
  /// error_kind::config.
  explicit openai_grounder(openai_config cfg)
      : m_cfg(checked(std::move(cfg))),
        m_url(http::parse_base_url(m_cfg.base_url)),
        m_cred(read_credentials(m_cfg)),
        m_cache(m_cfg.cache_path, m_cred.secrets) {
    if (m_cfg.model.empty()) throw error(error_kind::config, "openai", 0, "model is empty");
    if (!is_family(m_cfg.family))
      throw error(error_kind::config, "openai", 0, "unknown family '" + m_cfg.family + "'");
    if (m_cfg.prompt_template.empty()) m_cfg.prompt_template = default_prompt(m_cfg.family).text;
    validate_prompt_template(m_cfg.prompt_template);
    m_extra = nlohmann::json::parse(m_cfg.extra_body, nullptr, false);
    if (m_extra.is_discarded() || !m_extra.is_object())
      throw error(error_kind::config, "openai", 0, "extra_body must be a JSON object");
    // validate the keys now; the client-side step does not depend on the image size
    m_send = family_geometry(m_cfg.family, {1, 1}, m_cfg.geometry_options).send;
    if (m_url.tls)
      m_tls = std::make_shared<const http::tls_context>(m_cfg.verify_tls, m_cfg.ca_cert_file);
  }

  std::string_view name() const noexcept { return "openai"; }

  /// Full configuration as JSON, without secrets (the key's variable name only; for headers
  /// from header_env, the variables' names). Timeouts, limits and retries are left out: they
  /// do not change answers, and a run resumes under other ones.
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
    nlohmann::json plain = nlohmann::json::object(), env = nlohmann::json::object();
    for (const auto& h : m_cfg.headers) {
      if (h.value_env.empty())
        plain[h.name] = h.value;
      else
        env[h.name] = h.value_env;
    }
    if (!plain.empty()) j["headers"] = plain;
    if (!env.empty()) j["header_env"] = env;
    return m_cred.secrets(j.dump());
  }

  /// The frame check's outcome so far (a mismatch is not stored: it throws).
  const frame_check_result& frame_check() const noexcept { return m_frame; }

  /// Whether the server is up and serves the model, before a run: GET base_url/models (the
  /// OpenAI model list). Returns what was found, in words. Throws error_kind::backend when the
  /// server gives no response (after waiting up to ready_timeout_s for one, polling every
  /// second) or answers 502/503/504, and error_kind::config when it refuses the key (401/403)
  /// or lists models without this one. A server without a usable model list (404, another
  /// status, an unreadable body) is not an error: the returned text and a warning say the model
  /// was not checked. Messages name the URL (never credentials: the URL holds none) and mask
  /// secrets.
  std::string check_ready() {
    http::http_connection conn(m_url, m_tls);
    const std::string where = m_url.text();
    const auto t0 = clock::now();
    const auto stopped = [&] {
      return error(error_kind::backend, "stopped while waiting for the server at " + where);
    };
    for (;;) {
      if (stopping()) throw stopped();
      const http::http_response res =
          conn.exchange("GET", m_url.path + "/models", m_cred.headers, {}, limits(), m_abort_fn);
      if (res.failure == http::http_failure::cancelled) throw stopped();
      const bool gateway = res.failure == http::http_failure::none &&
                           (res.status == 502 || res.status == 503 || res.status == 504);
      if (!res.answered || gateway) {
        const double waited = std::chrono::duration<double>(clock::now() - t0).count();
        if (waited + 1.0 <= m_cfg.ready_timeout_s) {
          if (!sleep_unless_stopped(1.0)) throw stopped();
          continue;
        }
        const std::string why =
            gateway ? "HTTP " + std::to_string(res.status) + ": " + excerpt(res.body)
                    : clean(res.detail);
        throw error(error_kind::backend,
                    "the server at " + where + " is not ready: " + why + " (GET " + where +
                        "/models" +
                        (m_cfg.ready_timeout_s > 0
                             ? ", waited " + std::to_string(static_cast<long long>(waited)) + " s"
                             : std::string()) +
                        "). Start the server or correct the URL; ready_timeout=SECONDS waits for a "
                        "server that is still loading");
      }
      if (res.failure != http::http_failure::none)
        return not_checked(where +
                           " answers, but its model list could not be read: " + clean(res.detail));
      if (res.status == 401 || res.status == 403)
        throw error(
            error_kind::config,
            "the server at " + where + " refused the request for its model list (HTTP " +
                std::to_string(res.status) + ": " + excerpt(res.body) + "): " +
                (m_cred.key.empty() ? (m_cfg.api_key_env.empty()
                                           ? std::string("no API key was sent (key_env is empty)")
                                           : "no API key was sent: the environment variable " +
                                                 m_cfg.api_key_env + " (key_env) is not set")
                                    : "check the API key in the environment variable " +
                                          m_cfg.api_key_env + " (key_env)"));
      if (res.status != 200)
        return not_checked(where + " answers GET /models with HTTP " + std::to_string(res.status) +
                           ", so the model was not checked");
      const auto j = nlohmann::json::parse(res.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
        return not_checked(where +
                           "/models did not answer an OpenAI model list, so the model "
                           "was not checked");
      std::vector<std::string> ids;
      for (const auto& m : j["data"])
        if (m.is_object() && m.contains("id") && m["id"].is_string())
          ids.push_back(m["id"].get<std::string>());
      for (const auto& id : ids)
        if (id == m_cfg.model || id == "models/" + m_cfg.model)  // Gemini lists "models/NAME"
          return clean("the server at " + where + " serves the model '" + m_cfg.model + "'");
      std::string list;
      for (std::size_t i = 0; i < ids.size() && i < 20; ++i)
        list += (i ? ", '" : "'") + std::string(utf8_prefix(ids[i], 200)) + "'";
      if (ids.size() > 20) list += ", ... (" + std::to_string(ids.size()) + " in all)";
      throw error(error_kind::config,
                  clean("the server at " + where + " does not serve the model '" + m_cfg.model +
                        "' (model=): it lists " + (ids.empty() ? std::string("no model") : list)));
    }
  }

  /// Stops asking: queries not yet sent (and those between retries) are returned as not asked
  /// (failure not_asked, message starting with not_asked_prefix); requests in flight finish
  /// within their deadline, or at once (as not asked) when `abort_in_flight`. Waits for
  /// Retry-After or backoff end within 50 ms. Async-signal-safe (lock-free atomic stores): may be
  /// called from a SIGINT handler. Lasts until resume().
  void request_stop(bool abort_in_flight = false) noexcept {
    m_stop.store(true);
    if (abort_in_flight) m_abort.store(true);
  }

  /// Why the grounder stopped asking: request_stop() / stop_requested, or max_unreachable
  /// queries in a row without a response (then the message names the URL and the last failure);
  /// empty while it asks. A runner checks it after each batch: when it is not empty, record the
  /// answered queries only (not those whose failure is not_asked), mark the run stopped
  /// (failed / interrupted) with this text, and leave the rest for a later run.
  std::string halt_reason() const {
    if (m_halted.load()) {
      std::lock_guard lock(m_halt_mutex);
      return m_halt_reason;
    }
    if (m_stop.load() || (m_cfg.stop_requested && m_cfg.stop_requested()))
      return "the run was asked to stop";
    return {};
  }
  bool halted() const { return !halt_reason().empty(); }

  /// Asks again after a stop or a halt (and forgets the unreachable queries counted so far).
  void resume() noexcept {
    m_stop.store(false);
    m_abort.store(false);
    m_unreachable_run.store(0);
    m_halted.store(false);
  }

  /// Queries in a row (in the order they completed, across calls) that got no response from
  /// the server at all; reset by any response.
  int unreachable_in_a_row() const noexcept { return m_unreachable_run.load(); }

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
  /// one. Once the grounder is stopped or halted (halt_reason()), the queries left are answered
  /// from the cache or returned as not asked.
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
    if (first_miss && m_cfg.check_frame && !stopping() &&
        m_frame.result == frame_check_result::outcome::not_run)
      run_frame_check(images[first_miss->k].geom, images[first_miss->k].data_url,
                      first_miss->prompt);
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    auto worker = [&] {
      try {
        std::unique_ptr<http::http_connection> conn;
        for (std::size_t n; (n = next.fetch_add(1)) < items.size();) {
          const item& it = items[n];
          openai_answer a;
          if (auto hit = m_cache.find(it.key)) {
            a = *hit;
            a.from_cache = true;
            a.attempts = 0;
          } else if (stopping()) {
            a = not_asked(std::move(a), std::chrono::steady_clock::now());
          } else {
            if (!conn) conn = std::make_unique<http::http_connection>(m_url, m_tls);
            a = ask(*conn, it.prompt, images[it.k].data_url);
            note_outcome(a);
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
  using clock = std::chrono::steady_clock;

  /// The request headers with their secrets, and the masker of those secrets.
  struct credentials {
    std::string key;  ///< the API key ("" = none)
    http::http_headers headers;
    http::secret_redactor secrets;
  };

  static openai_config checked(openai_config c) {
    check_openai_config(c);
    return c;
  }

  static credentials read_credentials(const openai_config& c) {
    credentials k;
    if (!c.api_key_env.empty())
      if (const char* v = std::getenv(c.api_key_env.c_str())) k.key = v;
    k.headers.push_back({"User-Agent", std::string("groundeval/") + version_string});
    if (!k.key.empty()) {
      detail::check_header_value("Authorization", k.key, true);
      k.headers.push_back({"Authorization", "Bearer " + k.key});
      k.secrets.add(k.key);
    }
    for (const auto& h : c.headers) {
      std::string value = h.value;
      if (!h.value_env.empty()) {
        const char* v = std::getenv(h.value_env.c_str());
        if (!v)
          throw error(error_kind::config, "openai", 0,
                      "header_env: the environment variable " + h.value_env + " of header '" +
                          h.name + "' is not set");
        value = v;
        detail::check_header_value(h.name, value, true);
        k.secrets.add(value);
      }
      if (!k.key.empty() && http::detail::iequals(h.name, "Authorization"))
        throw error(error_kind::config, "openai", 0,
                    "headers: 'Authorization' is sent from key_env already (set key_env= to "
                    "send your own)");
      k.headers.push_back({h.name, std::move(value)});
    }
    return k;
  }

  /// Text from a server, or a message holding some, with every secret masked.
  std::string clean(std::string s) const { return m_cred.secrets(std::move(s)); }

  /// The start of a response body for a message: masked first, then cut.
  std::string excerpt(const std::string& body) const {
    return std::string(utf8_prefix(clean(body), 200));
  }

  http::request_limits limits() const {
    http::request_limits l;
    l.connect_timeout_s = m_cfg.connect_timeout_s;
    l.read_timeout_s = m_cfg.read_timeout_s;
    l.request_timeout_s = m_cfg.request_timeout_s;
    l.max_response_bytes = m_cfg.max_response_bytes;
    return l;
  }

  bool stopping() const {
    return m_stop.load() || m_halted.load() || (m_cfg.stop_requested && m_cfg.stop_requested());
  }

  /// Sleeps `s` seconds unless the grounder is stopped first (checked every 50 ms); false then.
  bool sleep_unless_stopped(double s) const {
    const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(
                                        std::chrono::duration<double>(std::max(0.0, s)));
    for (;;) {
      if (stopping()) return false;
      const auto now = clock::now();
      if (now >= end) return true;
      std::this_thread::sleep_for(
          std::min<clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
  }

  std::string not_checked(const std::string& what) const {
    const std::string m = clean(what);
    warn(m);
    return m;
  }

  /// `a` as not asked (stopped or halted).
  openai_answer not_asked(openai_answer a, clock::time_point t0) const {
    std::string why = halt_reason();
    if (why.empty()) why = "the run was asked to stop";
    a.failure = answer_failure::not_asked;
    a.error = std::string(not_asked_prefix) + why;
    a.raw_text.clear();
    a.latency_s = std::chrono::duration<double>(clock::now() - t0).count();
    return a;
  }

  /// Counts queries without any response; halts after max_unreachable in a row.
  void note_outcome(const openai_answer& a) {
    if (a.failure == answer_failure::not_asked) return;
    if (a.failure != answer_failure::unreachable) {
      m_unreachable_run.store(0);
      return;
    }
    const int n = ++m_unreachable_run;
    if (m_cfg.max_unreachable > 0 && n >= m_cfg.max_unreachable) {
      std::lock_guard lock(m_halt_mutex);
      if (m_halted.load()) return;
      m_halt_reason = "the server at " + m_url.text() + " gave no response to " +
                      std::to_string(n) + " queries in a row (max_unreachable; the last: " +
                      std::string(utf8_prefix(a.error, 1000)) +
                      "); the queries left were not asked";
      m_halted.store(true);
    }
  }

  std::string cache_key(const std::string& prompt, const std::string& image_hash) const {
    nlohmann::json k = {{"endpoint", m_url.text()},
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
      m_cfg.on_warning(clean(what));
    else
      std::fprintf(stderr, "groundeval: warning: %s\n", clean(what).c_str());
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
    http::http_connection conn(m_url, m_tls);
    const openai_answer a = ask(conn, prompt, image_url, 1);
    const openai_answer r = ask(conn, prompt, data_url(plain_image(ref)), 1);
    const openai_answer l = ask(conn, prompt, data_url(plain_image(large)), 1);
    for (const openai_answer* x : {&a, &r, &l})
      if (x->failure == answer_failure::not_asked) return;  // stopped: check at the next call
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

  /// One query (max_tokens 0: the configured value), with its retries.
  openai_answer ask(http::http_connection& conn, const std::string& prompt,
                    const std::string& data_url, int max_tokens = 0) const {
    openai_answer a;
    const std::string payload =
        body(prompt, data_url, max_tokens > 0 ? max_tokens : m_cfg.max_tokens);
    const std::string target = m_url.path + "/chat/completions";
    const auto t0 = clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
    for (int attempt = 0;; ++attempt) {
      if (stopping()) return not_asked(std::move(a), t0);
      ++a.attempts;
      const http::http_response res =
          conn.exchange("POST", target, m_cred.headers, payload, limits(), m_abort_fn);
      std::optional<double> retry_after;
      std::string why;
      bool retryable = false;
      answer_failure kind = answer_failure::bad_response;
      using F = http::http_failure;
      switch (res.failure) {
        case F::none:
          if (res.status == 200) {
            why = decode(res.body, a);
            if (why.empty()) return finish(std::move(a), t0);
            break;
          }
          kind = answer_failure::http_status;
          why = "HTTP " + std::to_string(res.status) + ": " + excerpt(res.body);
          if (res.status >= 300 && res.status < 400)
            why += " (redirects are not followed: give the URL the server redirects to)";
          if (res.status == 429 || res.status >= 500) {
            retryable = true;
            if (auto v = res.header("Retry-After")) retry_after = detail::parse_retry_after(*v);
          }
          break;
        case F::cancelled:
          return not_asked(std::move(a), t0);
        case F::too_large:
          kind = answer_failure::too_large;
          why = res.detail;
          break;
        case F::malformed:
          why = "malformed HTTP response: " + res.detail;
          break;
        case F::timeout:
          kind = res.answered ? answer_failure::timeout : answer_failure::unreachable;
          why = "timeout: " + res.detail;
          retryable = true;
          break;
        case F::tls:  // a certificate does not get better by asking again
          kind = answer_failure::unreachable;
          why = "TLS error: " + res.detail;
          break;
        case F::resolve:
        case F::connect:
        case F::closed:
          kind = res.answered ? answer_failure::bad_response : answer_failure::unreachable;
          why = "connection error: " + res.detail;
          retryable = true;
          break;
      }
      bool last = !retryable || attempt >= m_cfg.max_retries;
      std::string note;
      double wait = 0;
      if (!last) {
        wait = backoff(attempt, retry_after);
        if (elapsed() + wait > m_cfg.retry_budget_s) {
          last = true;
          note = "; no more retries: waiting " + number_text(wait) + " s more would pass the " +
                 number_text(m_cfg.retry_budget_s) + " s retry budget (retry_budget)";
        }
      }
      if (last) {
        a.failure = kind;
        a.error = std::string(utf8_prefix(clean(why), max_query_message_bytes / 2)) + " (after " +
                  std::to_string(a.attempts) + " attempt" + (a.attempts == 1 ? "" : "s") + note +
                  ")";
        a.latency_s = elapsed();
        return a;
      }
      if (!sleep_unless_stopped(wait)) return not_asked(std::move(a), t0);
    }
  }

  /// A decoded answer: secrets masked, and kept only when a predictions record can store it.
  openai_answer finish(openai_answer a, clock::time_point t0) const {
    a.raw_text = clean(std::move(a.raw_text));
    a.server_model = std::string(utf8_prefix(clean(std::move(a.server_model)), 1000));
    a.finish_reason = std::string(utf8_prefix(clean(std::move(a.finish_reason)), 1000));
    a.latency_s = std::chrono::duration<double>(clock::now() - t0).count();
    if (a.raw_text.size() > max_answer_text_bytes) {
      a.failure = answer_failure::too_large;
      a.error = "the answer is " + std::to_string(a.raw_text.size()) + " bytes, longer than the " +
                std::to_string(max_answer_text_bytes) +
                " bytes a predictions record stores for one answer (io/limits.hpp): not parsed, "
                "its start is kept in raw_text (after " +
                std::to_string(a.attempts) + " attempt" + (a.attempts == 1 ? "" : "s") + ")";
      cut_utf8(a.raw_text, max_answer_text_bytes);
    }
    return a;
  }

  static std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
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
      q.raw_text = a.raw_text;  // the start of an answer too long to store, or nothing
      return q;
    }
    // Point answers (Molmo) are kept as points, in order: the box metrics count them as misses
    // (answers.point_answers), the pointing game scores the first one.
    q = decoded_answer(m_cfg.family, a.raw_text, g);
    q.latency_s = a.latency_s;
    return q;
  }

  openai_config m_cfg;
  http::base_url m_url;
  credentials m_cred;  ///< the secrets never leave this object except in request headers
  answer_cache m_cache;
  std::shared_ptr<const http::tls_context> m_tls;  ///< https only
  nlohmann::json m_extra;
  client_preprocess m_send;
  frame_check_result m_frame;
  std::atomic<bool> m_stop{false}, m_abort{false}, m_halted{false};
  std::atomic<int> m_unreachable_run{0};
  mutable std::mutex m_halt_mutex;
  std::string m_halt_reason;
  std::function<bool()> m_abort_fn = [this] { return m_abort.load(); };
  static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be signal-safe");
};

static_assert(DescribedGrounder<openai_grounder>);

}  // namespace groundeval
