// SPDX-License-Identifier: Apache-2.0
// groundeval/grounders/http/openai_config.hpp — the configuration of the OpenAI-compatible
// grounder (openai_grounder.hpp), its checks, and its spec keys: set_openai_option() turns one
// `KEY=VALUE` of a grounder spec or config file into the configuration, checking the value
// (numbers finite and in range before any conversion, URLs without credentials, header names and
// values). Target: groundeval::http (nlohmann/json; no network code).
#pragma once

#include <groundeval/detail/parse_number.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/http/url.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace groundeval {

/// An extra request header: a fixed value (recorded in describe()), or a secret read from an
/// environment variable (only the variable's name is recorded; the value is masked everywhere).
struct openai_header {
  std::string name;
  std::string value;      ///< used when value_env is empty
  std::string value_env;  ///< environment variable holding the value (secret)
};

/// Configuration of an openai_grounder (plain data; see docs/generalist.md). The ranges of the
/// numbers are checked by the grounder's constructor (check_openai_config).
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
  std::vector<openai_header> headers;          ///< extra request headers
  bool verify_tls = true;
  std::string ca_cert_file;         ///< optional CA bundle for https
  double connect_timeout_s = 10.0;  ///< TCP connect + TLS handshake
  double read_timeout_s = 120.0;    ///< longest silence of the server within a request
  /// One request from connecting to the last body byte (headers and body included): a server
  /// that trickles its answer or never ends its headers is cut off here.
  double request_timeout_s = 300.0;
  std::size_t max_response_bytes = std::size_t{8} << 20;  ///< a larger response is an error
  int concurrency = 8;                                    ///< requests in flight
  int max_retries = 5;                                    ///< retries after the first attempt
  double backoff_base_s = 0.5;
  double backoff_max_s = 30.0;
  double retry_after_max_s = 120.0;  ///< cap on a server's Retry-After
  /// No retry of a query starts once this many seconds have passed since its first attempt
  /// (waits, Retry-After and failed attempts together): a query takes at most this plus one
  /// request_timeout.
  double retry_budget_s = 120.0;
  /// Stop asking once this many queries in a row got no response from the server at all
  /// (refused, reset, unreachable, no status line in time); the queries left are returned as
  /// not asked. 0: never stop.
  int max_unreachable = 10;
  /// check_ready(): how long to wait for a server that does not answer yet (still loading).
  double ready_timeout_s = 0.0;
  std::string cache_path;  ///< JSON-lines answer cache; "" = none
  /// Compare the server's prompt token counts with the declared frame before the first query
  /// (families whose answers are pixels of a smart-resized input; see frame_check).
  bool check_frame = true;
  /// Where warnings go (a frame check the server's answers do not allow); default: stderr.
  std::function<void(const std::string&)> on_warning;
  /// Polled (from the worker threads, at least every 100 ms while waiting) to stop early: true
  /// stops asking, as openai_grounder::request_stop() does. Must be thread-safe.
  std::function<bool()> stop_requested;
};

namespace detail {

/// "KEY must be UNIT in (LO, HI], got 'TEXT'".
inline std::string openai_range_message(std::string_view key, std::string_view unit, double lo,
                                        double hi, bool lo_open, std::string_view got) {
  const auto fmt = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", x);
    return std::string(buf);
  };
  return std::string(key) + " must be " + std::string(unit) + " in " + (lo_open ? "(" : "[") +
         fmt(lo) + ", " + fmt(hi) + "], got '" + std::string(got) + "'";
}

/// A number of a spec value, checked before any conversion: finite and within [lo, hi] (lo
/// excluded when `lo_open`). Config errors name the key, the value and the range.
inline double openai_number(std::string_view key, std::string_view text, double lo, double hi,
                            bool lo_open, std::string_view unit) {
  double v = 0;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  const auto r = std::from_chars(b, e, v);
  const bool parsed = !text.empty() && r.ptr == e &&
                      (r.ec == std::errc{} || r.ec == std::errc::result_out_of_range);
  if (!parsed || (r.ec == std::errc{} && std::isnan(v)))
    throw error(error_kind::config,
                std::string(key) + " '" + std::string(text) + "' is not a number");
  const bool ok =
      r.ec == std::errc{} && std::isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi;
  if (!ok) throw error(error_kind::config, openai_range_message(key, unit, lo, hi, lo_open, text));
  return v;
}

/// A non-negative integer of a spec value within [lo, hi].
inline long long openai_integer(std::string_view key, std::string_view text, long long lo,
                                long long hi) {
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits)
    throw error(error_kind::config,
                std::string(key) + " '" + std::string(text) + "' is not a non-negative integer");
  const auto v = detail::parse_integer<long long>(text);  // nullopt: past long long
  if (!v || *v < lo || *v > hi)
    throw error(error_kind::config, std::string(key) + " must be an integer in " +
                                        std::to_string(lo) + ".." + std::to_string(hi) + ", got '" +
                                        std::string(text) + "'");
  return *v;
}

inline bool openai_bool(std::string_view key, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw error(error_kind::config,
              std::string(key) + " '" + std::string(text) + "' must be true or false");
}

/// Header names: an HTTP token; the ones the client writes itself are refused.
inline void check_header_name(const std::string& name) {
  static constexpr std::string_view tchar = "!#$%&'*+-.^_`|~";
  if (name.empty()) throw error(error_kind::config, "headers: a header name is empty");
  for (const char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          tchar.find(c) != std::string_view::npos))
      throw error(error_kind::config, "headers: '" + name + "' is not a valid header name");
  std::string lower;
  for (const char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (const char* own :
       {"host", "content-length", "content-type", "transfer-encoding", "connection", "accept"})
    if (lower == own)
      throw error(error_kind::config,
                  "headers: '" + name + "' is set by groundeval itself and cannot be given");
}

/// A header given with its value in the configuration (`headers`, recorded with the run) must
/// not look like a credential: those go in header_env.
inline void check_plain_header(const std::string& name) {
  std::string lower;
  for (const char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  bool secret = lower == "cookie";
  for (const char* word : {"auth", "key", "token", "secret", "password", "credential"})
    secret = secret || lower.find(word) != std::string::npos;
  if (secret)
    throw error(error_kind::config,
                "headers: '" + name +
                    "' looks like a credential, and `headers` values are recorded with the run: "
                    "give it as header_env={\"" +
                    name + "\": \"VAR\"} (the value read from the environment variable VAR)");
}

/// A header value must not break the request (CR, LF, NUL, other control bytes but tab).
inline void check_header_value(const std::string& name, std::string_view value, bool secret) {
  for (const char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      throw error(error_kind::config,
                  "headers: the value of '" + name + "'" +
                      (secret ? std::string(" (from its environment variable)") : std::string()) +
                      " holds a control character (line breaks would split the request)");
}

/// A JSON object of strings ({"Name": "text"}), for `headers` and `header_env`.
inline std::vector<std::pair<std::string, std::string>> openai_string_object(
    std::string_view key, std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw error(error_kind::config, std::string(key) +
                                        " must be a JSON object of strings, e.g. "
                                        "{\"X-Title\": \"groundeval\"}");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      throw error(error_kind::config,
                  std::string(key) + ": the value of '" + it.key() + "' is not a string");
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace detail

/// Checks every number and header of `c` (throws error_kind::config naming the field, its value
/// and the valid range). The grounder's constructor calls it; spec values are checked by
/// set_openai_option already.
inline void check_openai_config(const openai_config& c) {
  const auto in = [](const char* key, double v, double lo, double hi, bool lo_open,
                     const char* unit) {
    if (!(std::isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi)) {
      char got[32];
      std::snprintf(got, sizeof got, "%.15g", v);
      throw error(error_kind::config,
                  detail::openai_range_message(key, unit, lo, hi, lo_open, got));
    }
  };
  in("temperature", c.temperature, 0, 100, false, "a number");
  in("connect_timeout", c.connect_timeout_s, 0, 3600, true, "a number of seconds");
  in("read_timeout", c.read_timeout_s, 0, 86400, true, "a number of seconds");
  in("request_timeout", c.request_timeout_s, 0, 86400, true, "a number of seconds");
  in("retry_budget", c.retry_budget_s, 0, 86400, false, "a number of seconds");
  in("retry_after_max", c.retry_after_max_s, 0, 86400, false, "a number of seconds");
  in("backoff_base", c.backoff_base_s, 0, 3600, false, "a number of seconds");
  in("backoff_max", c.backoff_max_s, 0, 3600, false, "a number of seconds");
  in("ready_timeout", c.ready_timeout_s, 0, 86400, false, "a number of seconds");
  const auto count = [](const char* key, long long v, long long lo, long long hi) {
    if (v < lo || v > hi)
      throw error(error_kind::config, std::string(key) + " must be an integer in " +
                                          std::to_string(lo) + ".." + std::to_string(hi) +
                                          ", got '" + std::to_string(v) + "'");
  };
  count("concurrency", c.concurrency, 1, 4096);
  count("max_tokens", c.max_tokens, 1, 1000000);
  count("max_retries", c.max_retries, 0, 100);
  count("max_unreachable", c.max_unreachable, 0, 1000000);
  count("max_response_bytes", static_cast<long long>(c.max_response_bytes), 1024, 1LL << 30);
  for (const auto& h : c.headers) {
    detail::check_header_name(h.name);
    if (!h.value_env.empty()) continue;
    detail::check_plain_header(h.name);
    detail::check_header_value(h.name, h.value, false);
  }
}

/// The spec keys set_openai_option understands (besides the family's geometry keys).
inline const std::vector<std::string>& openai_option_keys() {
  static const std::vector<std::string> keys{"model",
                                             "family",
                                             "key_env",
                                             "concurrency",
                                             "temperature",
                                             "max_tokens",
                                             "cache",
                                             "prompt",
                                             "extra_body",
                                             "verify_tls",
                                             "ca_cert",
                                             "max_retries",
                                             "connect_timeout",
                                             "read_timeout",
                                             "check_frame",
                                             "request_timeout",
                                             "max_response_bytes",
                                             "retry_budget",
                                             "retry_after_max",
                                             "max_unreachable",
                                             "ready_timeout",
                                             "headers",
                                             "header_env"};
  return keys;
}

/// Sets one spec key of `c` ("url" for the server URL; the others as openai_option_keys lists),
/// checking its value. Throws error_kind::config with the key, the value (never a password) and
/// what is valid; false for a key it does not know.
inline bool set_openai_option(openai_config& c, std::string_view key, const std::string& v) {
  using namespace detail;
  if (key == "url") {
    try {
      (void)http::parse_base_url(v);  // credentials, query strings, schemes: refused here
    } catch (const error& e) {        // the message without its "base_url: "
      throw error(error_kind::config, std::string(e.what()).substr(e.where().size() + 2));
    }
    c.base_url = v;
  } else if (key == "model") {
    c.model = v;
  } else if (key == "family") {
    c.family = v;
  } else if (key == "key_env") {
    c.api_key_env = v;
  } else if (key == "concurrency") {
    c.concurrency = static_cast<int>(openai_integer(key, v, 1, 4096));
  } else if (key == "temperature") {
    c.temperature = openai_number(key, v, 0, 100, false, "a number");
  } else if (key == "max_tokens") {
    c.max_tokens = static_cast<int>(openai_integer(key, v, 1, 1000000));
  } else if (key == "cache") {
    c.cache_path = v;
  } else if (key == "prompt") {
    c.prompt_template = v;
  } else if (key == "extra_body") {
    c.extra_body = v;
  } else if (key == "verify_tls") {
    c.verify_tls = openai_bool(key, v);
  } else if (key == "ca_cert") {
    c.ca_cert_file = v;
  } else if (key == "max_retries") {
    c.max_retries = static_cast<int>(openai_integer(key, v, 0, 100));
  } else if (key == "connect_timeout") {
    c.connect_timeout_s = openai_number(key, v, 0, 3600, true, "a number of seconds");
  } else if (key == "read_timeout") {
    c.read_timeout_s = openai_number(key, v, 0, 86400, true, "a number of seconds");
  } else if (key == "request_timeout") {
    c.request_timeout_s = openai_number(key, v, 0, 86400, true, "a number of seconds");
  } else if (key == "check_frame") {
    c.check_frame = openai_bool(key, v);
  } else if (key == "max_response_bytes") {
    c.max_response_bytes = static_cast<std::size_t>(openai_integer(key, v, 1024, 1LL << 30));
  } else if (key == "retry_budget") {
    c.retry_budget_s = openai_number(key, v, 0, 86400, false, "a number of seconds");
  } else if (key == "retry_after_max") {
    c.retry_after_max_s = openai_number(key, v, 0, 86400, false, "a number of seconds");
  } else if (key == "max_unreachable") {
    c.max_unreachable = static_cast<int>(openai_integer(key, v, 0, 1000000));
  } else if (key == "ready_timeout") {
    c.ready_timeout_s = openai_number(key, v, 0, 86400, false, "a number of seconds");
  } else if (key == "headers" || key == "header_env") {
    const bool env = key == "header_env";
    for (auto& [name, value] : openai_string_object(key, v)) {
      check_header_name(name);
      openai_header h;
      h.name = name;
      if (env) {
        if (value.empty())
          throw error(error_kind::config, "header_env: the variable of '" + name + "' is empty");
        h.value_env = std::move(value);
      } else {
        check_plain_header(name);
        check_header_value(name, value, false);
        h.value = std::move(value);
      }
      c.headers.push_back(std::move(h));
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace groundeval
