// SPDX-License-Identifier: Apache-2.0
// cli/grounder_spec.cpp — grounder specs (KIND[:ARG][?K=V&...] or a config file) and the
// registry of grounder kinds that builds grounders from them. Part of the groundeval CLI library.
#include <groundeval/cli/app.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/parse_number.hpp>
#include <groundeval/detail/strings.hpp>
#include <groundeval/error.hpp>
#include <groundeval/grounders/http/url.hpp>  // mask_url_credentials (no HTTP library needed)
#include <groundeval/io/limits.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>

namespace groundeval::cli {

namespace {

std::size_t line_of_key(const grounder_spec& s, std::string_view key) {
  for (const auto& [k, n] : s.lines)
    if (k == key) return n;
  return 0;
}

bool is_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

// ---- grounder_spec ---------------------------------------------------------------------------

const std::string* grounder_spec::param(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return &v;
  return nullptr;
}

void grounder_spec::fail(const std::string& what, std::string_view key) const {
  if (!file.empty())
    throw error(error_kind::config, file, key.empty() ? 0 : line_of_key(*this, key), what);
  // never echo credentials written into a URL (http://user:password@host)
  throw error(error_kind::config, "--grounder", 0,
              "'" + http::mask_url_credentials(text) + "': " + what);
}

void grounder_spec::need_arg(const std::string& what, const std::string& example,
                             const std::string& arg_key) const {
  if (!file.empty()) fail(kind + " needs " + what + ": a line '" + arg_key + " = ...'");
  fail(kind + " needs " + what + ": " + example);
}

double grounder_spec::number(const std::string& what, const std::string& value) const {
  const auto v = detail::parse_finite_double(value);
  if (!v) fail(what + " '" + value + "' is not a number", what);
  return *v;
}

unsigned long long grounder_spec::count(const std::string& what, const std::string& value) const {
  const auto v = detail::parse_integer<unsigned long long>(value);
  if (!v) fail(what + " '" + value + "' is not a non-negative integer", what);
  return *v;
}

bool grounder_spec::boolean(const std::string& what, const std::string& value) const {
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  fail(what + " '" + value + "' must be true or false", what);
}

std::string grounder_spec::to_string(std::string_view skip_key) const {
  std::string out = kind + (arg.empty() ? "" : ":" + arg);
  // Keys sorted: the order they were given in (command line or file) does not change the spec.
  auto sorted = params;
  std::sort(sorted.begin(), sorted.end());
  std::string q;
  for (const auto& [k, v] : sorted)
    if (k != skip_key) q += (q.empty() ? "?" : "&") + k + "=" + v;
  return out + q;
}

// ---- grounder_registry -----------------------------------------------------------------------

grounder_registry& grounder_registry::add(grounder_kind kind) {
  if (kind.name.empty() || kind.name.find_first_of(":?@ ") != std::string::npos)
    throw error(error_kind::config, "grounder kind '" + kind.name +
                                        "': a name is needed, without ':', '?', '@' or spaces");
  if (find(kind.name)) throw error(error_kind::config, "grounder kind '" + kind.name + "' twice");
  if (!kind.make)
    throw error(error_kind::config, "grounder kind '" + kind.name + "' has no make function");
  m_kinds.push_back(std::move(kind));
  return *this;
}

const grounder_kind* grounder_registry::find(std::string_view name) const {
  for (const auto& k : m_kinds)
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> grounder_registry::names() const {
  std::vector<std::string> v;
  for (const auto& k : m_kinds) v.push_back(k.name);
  return v;
}

grounder_spec grounder_registry::parse(const std::string& text) const {
  grounder_spec s;
  if (!text.empty() && text[0] == '@') {
    if (text.size() == 1) throw error(error_kind::config, "--grounder: '@' needs a file: @FILE");
    const std::string file = text.substr(1);
    std::istringstream f(
        detail::read_file_bytes(file, max_config_file_bytes, "the grounder config file"));
    s.text = text;
    s.file = file;
    std::vector<std::pair<std::string, std::string>> items;
    std::string line;
    std::size_t n = 0, kind_line = 0;
    while (std::getline(f, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string t(detail::trim_blanks(line));
      if (t.empty() || t[0] == '#') continue;
      const std::size_t eq = t.find('=');
      if (eq == std::string::npos)
        throw error(error_kind::config, file, n, "expected KEY = VALUE, got '" + t + "'");
      const std::string key(detail::trim_blanks(std::string_view(t).substr(0, eq)));
      std::string value(detail::trim_blanks(std::string_view(t).substr(eq + 1)));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (!is_key(key))
        throw error(error_kind::config, file, n,
                    "'" + key + "' is not a key (lower-case letters, digits and '_')");
      if (const std::size_t first = line_of_key(s, key))
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
                  "no 'grounder = KIND' line (valid kinds: " + detail::join(names()) + ")");
    const grounder_kind* k = find(s.kind);
    if (!k)
      throw error(error_kind::config, file, kind_line,
                  "unknown grounder '" + s.kind + "' (valid: " + detail::join(names()) + ")");
    for (auto& [key, v] : items) {
      if (!k->arg_key.empty() && key == k->arg_key)
        s.arg = std::move(v);
      else
        s.params.emplace_back(key, std::move(v));
    }
    return s;
  }
  s.text = text;
  const std::size_t q = text.find('?');
  const std::string head = text.substr(0, q);
  const std::size_t colon = head.find(':');
  s.kind = head.substr(0, colon);
  if (colon != std::string::npos) s.arg = head.substr(colon + 1);
  if (!find(s.kind))
    s.fail("unknown grounder '" + s.kind + "' (valid: " + detail::join(names()) + ")");
  if (q != std::string::npos) {
    const std::string rest = text.substr(q + 1);
    std::size_t p = 0;
    while (p <= rest.size()) {
      const std::size_t amp = std::min(rest.find('&', p), rest.size());
      const std::string item = rest.substr(p, amp - p);
      const std::size_t eq = item.find('=');
      if (item.empty() || eq == std::string::npos || eq == 0)
        s.fail("expected KEY=VALUE after '?', got '" + item + "'");
      const std::string key = item.substr(0, eq);
      if (s.param(key)) s.fail("key '" + key + "' given twice");
      s.params.emplace_back(key, item.substr(eq + 1));
      p = amp + 1;
    }
  }
  return s;
}

void grounder_registry::check(const grounder_spec& s) const {
  const grounder_kind* k = find(s.kind);
  if (!k) s.fail("unknown grounder (valid: " + detail::join(names()) + ")");
  std::vector<std::string> valid = k->keys;
  if (k->more_keys) {
    const auto more = k->more_keys(s);
    valid.insert(valid.end(), more.begin(), more.end());
  }
  std::vector<std::string> shown;  // in a config file, `grounder` and the argument key are keys too
  if (!s.file.empty()) {
    shown.emplace_back("grounder");
    if (!k->arg_key.empty()) shown.push_back(k->arg_key);
  }
  shown.insert(shown.end(), valid.begin(), valid.end());
  for (const auto& [key, v] : s.params)
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      s.fail("unknown key '" + key + "' for " + s.kind + " (valid keys: " +
                 (shown.empty() ? std::string("none") : detail::join(shown)) + ")",
             key);
  if (k->arg_key.empty() && !s.arg.empty()) s.fail(s.kind + " takes no argument");
}

any_grounder grounder_registry::make(const grounder_spec& s, const in_memory_dataset& data) const {
  check(s);
  return find(s.kind)->make(s, data);
}

run_grounder_setup grounder_registry::make_for_run(grounder_spec spec,
                                                   const in_memory_dataset& data,
                                                   std::optional<std::size_t> concurrency) const {
  const grounder_kind* k = find(spec.kind);
  if (!k) spec.fail("unknown grounder (valid: " + detail::join(names()) + ")");
  const std::string& key = k->concurrency_key;
  // A config file (--grounder @FILE) is recorded as the spec it resolves to, so the same run can
  // be resumed from either form.
  std::string identity = spec.to_string(key);
  std::string recorded;
  std::size_t threads = 1;
  if (!key.empty()) {
    if (concurrency) {
      std::erase_if(spec.params, [&](const auto& kv) { return kv.first == key; });
      spec.params.emplace_back(key, std::to_string(*concurrency));
    }
    if (const std::string* v = spec.param(key)) recorded = *v;
  } else if (concurrency) {
    threads = *concurrency;
    recorded = std::to_string(*concurrency);
  }
  any_grounder g = make(spec, data);
  if (threads > 1 && g.max_concurrency() <= 1)
    throw error(error_kind::config,
                "run: --concurrency: grounder " + spec.kind + " answers one request at a time");
  return {std::move(g), std::move(identity), std::move(recorded), threads};
}

std::string grounder_registry::help() const {
  std::string h = "Grounder specs (--grounder):\n";
  for (const auto& k : m_kinds) h += k.usage + (k.usage.ends_with('\n') ? "" : "\n");
  std::string args;
  for (const auto& k : m_kinds)
    if (!k.arg_key.empty()) args += (args.empty() ? "" : ", ") + k.arg_key + " (" + k.name + ")";
  h += "  @FILE                            the same from a config file, one KEY = VALUE per "
       "line:\n"
       "                                   grounder = KIND, the argument as " +
       args +
       ",\n"
       "                                   then the keys above; '#' starts a comment line\n"
       "                                   (docs/runner.md)\n";
  return h;
}

}  // namespace groundeval::cli
