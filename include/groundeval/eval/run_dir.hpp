// SPDX-License-Identifier: Apache-2.0
// groundeval/eval/run_dir.hpp — the run directory: crash-safe incremental JSON Lines records,
// resume, manifest comparison, deterministic image-level sharding and merging of shards.
// Target: groundeval::core (standard library plus POSIX open/write/fsync/ftruncate).
//
// RUN_DIR/manifest.json   a flat JSON object of string values (run_manifest), written atomically
// RUN_DIR/predictions.jsonl  one record per line; the payload is opaque here, only its key
//                            (image_id, sentence index, phrase index) is read back on resume.
// docs/report.md describes the layout, the crash-safety guarantees and the shard hash.
#pragma once

#include <groundeval/detail/hash.hpp>
#include <groundeval/detail/json_text.hpp>
#include <groundeval/error.hpp>

#include <algorithm>
#include <cerrno>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace groundeval {

/// Identifies one phrase query of a run.
struct run_key {
  std::string image_id;
  long long sentence_index = 0;
  std::size_t phrase_index = 0;
  friend auto operator<=>(const run_key&, const run_key&) = default;
  friend bool operator==(const run_key&, const run_key&) = default;
};

/// "image/sentence/phrase", for messages.
inline std::string to_string(const run_key& k) {
  return k.image_id + '/' + std::to_string(k.sentence_index) + '/' + std::to_string(k.phrase_index);
}

/// One record of predictions.jsonl: its key and its line (JSON text without the newline).
struct run_record {
  run_key key;
  std::string line;
};

/// A manifest: flat, ordered key -> value strings (data set, split, grounder spec, version, ...).
using run_manifest = std::map<std::string, std::string, std::less<>>;

/// Reads the key of one record line; throws groundeval::error (without a location: the caller
/// adds file and line) when the key cannot be read.
using run_key_reader = std::function<run_key(std::string_view line)>;

/// The default key reader: the top-level members "image_id" (string or integer),
/// "sentence_id" (or "sentence_index") and "phrase_index" of a JSON object line.
inline run_key read_run_key_json(std::string_view line);

// ---- manifest -----------------------------------------------------------------------------------

/// The manifest as JSON: one member per line, keys sorted, ending with a newline.
inline std::string manifest_to_json(const run_manifest& m);
/// Parses a manifest (a JSON object whose values are strings); `source` names it in errors.
inline run_manifest parse_manifest(std::string_view text, const std::string& source);
/// Reads RUN_DIR/manifest.json-style files.
inline run_manifest read_manifest(const std::filesystem::path& file);
/// Writes a manifest atomically: a temporary file, fsync, rename, fsync of the directory.
inline void write_manifest(const std::filesystem::path& file, const run_manifest& m);
/// Keys whose values differ between `a` and `b` (present in one only, or different), sorted,
/// leaving out the keys in `ignore`.
inline std::vector<std::string> manifest_differences(const run_manifest& a, const run_manifest& b,
                                                     std::span<const std::string> ignore = {});

// ---- sharding -----------------------------------------------------------------------------------

/// 64-bit FNV-1a of the bytes of `s` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
/// Fixed by this definition, so shard assignment never depends on a library version.
constexpr std::uint64_t shard_hash(std::string_view s) noexcept { return detail::fnv1a64(s); }

/// `--shard i/n`: shard i (0-based) of n. An image belongs to shard shard_hash(image_id) % n, so
/// every phrase of one image lands in the same shard and the partition is deterministic.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  constexpr bool contains(std::string_view image_id) const noexcept {
    return shard_hash(image_id) % count == index;
  }
  std::string to_string() const { return std::to_string(index) + '/' + std::to_string(count); }
  friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

/// Parses "i/n" with 0 <= i < n, 1 <= n <= 65536; throws error_kind::config otherwise.
inline shard_spec parse_shard(std::string_view text);

// ---- the run directory --------------------------------------------------------------------------

struct run_open_options {
  /// Discard an existing manifest.json and predictions.jsonl instead of refusing to mix.
  bool start_over = false;
  /// Manifest keys allowed to differ on resume (start time, machine, ...); the stored value is
  /// kept.
  std::vector<std::string> volatile_keys;
  /// Reads the key of each existing record (default: read_run_key_json).
  run_key_reader key_reader;
  /// Receives warnings (a dropped torn line); default: printed to stderr.
  std::function<void(const std::string&)> warn;
};

/// An open run directory. Appending is not thread-safe: one writer collects results and calls
/// append() per batch. Each append is one write(2) of whole lines followed by fsync(2), so after a
/// crash predictions.jsonl holds every acknowledged batch plus at most one torn last line, which
/// open() detects, truncates and reports.
class run_directory {
 public:
  /// Opens or creates `dir`. With an existing manifest.json: the same manifest (apart from
  /// volatile_keys) resumes; a different one throws error_kind::config naming the differing keys,
  /// unless start_over. predictions.jsonl without manifest.json is refused likewise.
  static run_directory open(const std::filesystem::path& dir, const run_manifest& manifest,
                            run_open_options opt = {});

  run_directory(run_directory&& o) noexcept { *this = std::move(o); }
  run_directory& operator=(run_directory&& o) noexcept;
  run_directory(const run_directory&) = delete;
  run_directory& operator=(const run_directory&) = delete;
  ~run_directory() { close_fd(); }

  const std::filesystem::path& path() const noexcept { return m_dir; }
  std::filesystem::path predictions_path() const { return m_dir / "predictions.jsonl"; }
  std::filesystem::path manifest_path() const { return m_dir / "manifest.json"; }
  /// The manifest on disk (on resume, the stored one: its volatile keys keep their old values).
  const run_manifest& manifest() const noexcept { return m_manifest; }
  /// Keys already recorded (loaded on open, plus everything appended since).
  const std::set<run_key>& finished() const noexcept { return m_finished; }
  bool is_finished(const run_key& k) const { return m_finished.contains(k); }
  /// Records found when the directory was opened.
  std::size_t resumed_records() const noexcept { return m_resumed; }
  /// Bytes of a torn last line dropped on open (0 when the file ended cleanly).
  std::size_t dropped_bytes() const noexcept { return m_dropped; }

  /// Appends whole records durably (write + fsync). Throws error_kind::invalid for a key already
  /// recorded (in the file or twice in the batch) or a line containing a newline; nothing of the
  /// batch is written then.
  void append(std::span<const run_record> batch);
  void append(const run_record& r) { append(std::span<const run_record>(&r, 1)); }
  /// Rewrites manifest.json atomically (e.g. to add an end time). Keys outside volatile_keys must
  /// keep their values.
  void update_manifest(const run_manifest& m);

 private:
  run_directory() = default;
  void close_fd() noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }
  std::filesystem::path m_dir;
  run_manifest m_manifest;
  std::vector<std::string> m_volatile;
  std::set<run_key> m_finished;
  std::size_t m_resumed = 0;
  std::size_t m_dropped = 0;
  int m_fd = -1;
};

// ---- reading and merging ------------------------------------------------------------------------

/// The records of a predictions.jsonl file (blank lines skipped), with their 1-based lines.
struct run_file_contents {
  std::vector<run_record> records;
  std::vector<std::size_t> lines;
  std::uint64_t complete_bytes = 0;  ///< bytes up to the end of the last complete line
  std::uint64_t torn_bytes = 0;      ///< bytes after it (a torn last line), 0 normally
  std::size_t torn_line = 0;         ///< the torn line's number, 0 when none
};

/// Reads a predictions file. Keys are read with `reader`; a line whose key cannot be read throws
/// error_kind::parse naming FILE:LINE. A torn last line is reported, not read. `keep_lines` = false
/// keeps only the keys (record lines left empty).
inline run_file_contents read_run_file(const std::filesystem::path& file,
                                       const run_key_reader& reader = read_run_key_json,
                                       bool keep_lines = true);

struct merge_options {
  /// The manifest key holding "i/n".
  std::string shard_key = "shard";
  /// Keys allowed to differ between shards (the merged manifest takes shard 0's value).
  std::vector<std::string> volatile_keys;
  run_key_reader key_reader;
  /// When given, every expected query must be present exactly once and nothing else.
  std::optional<std::vector<run_key>> expected;
};

struct merge_summary {
  std::size_t shards = 0;
  std::size_t records = 0;
};

/// Merges shard run directories into `out` (which must not hold a manifest or predictions yet).
/// Checks: every shard has the shard key, all have the same n and together cover 0..n-1 once;
/// manifests equal apart from the shard key and volatile keys; no torn or foreign record (an image
/// outside its shard); no query in two shards; with `expected`, nothing missing or extra.
/// Output: predictions.jsonl sorted by key; manifest without the shard key plus
/// "merged_shards" = n.
inline merge_summary merge_runs(std::span<const std::filesystem::path> shards,
                                const std::filesystem::path& out, const merge_options& opt = {});

// ---- implementation -------------------------------------------------------------------------

namespace detail {

/// A syntax error at byte `pos` of a scanned JSON text.
struct run_json_error {
  std::size_t pos;
  std::string what;
};

/// 1-based line of byte `pos` in `text`.
inline std::size_t run_json_line_of(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

inline void run_json_append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// A small scanner for top-level members of one JSON object: string values are unescaped, other
/// scalars are kept as their text, nested objects and arrays are skipped (kind 'o').
class run_json_scanner {
 public:
  struct member {
    std::string key;
    std::string value;
    char kind;  ///< 's' string, 'n' number, 'l' literal (true/false/null), 'o' object or array
  };
  explicit run_json_scanner(std::string_view t) : m_t(t) {}

  std::vector<member> object() {
    std::vector<member> out;
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      ++m_p;
      finish();
      return out;
    }
    for (;;) {
      ws();
      if (peek() != '"') fail("expected a member name in double quotes");
      member m;
      m.key = string();
      ws();
      expect(':');
      ws();
      const char c = peek();
      if (c == '"') {
        m.kind = 's';
        m.value = string();
      } else if (c == '{' || c == '[') {
        m.kind = 'o';
        skip_nested();
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        m.kind = 'n';
        m.value = number();
      } else {
        m.kind = 'l';
        m.value = literal();
      }
      out.push_back(std::move(m));
      ws();
      if (peek() == ',') {
        ++m_p;
        continue;
      }
      expect('}');
      break;
    }
    finish();
    return out;
  }

 private:
  [[noreturn]] void fail(std::string what) const { throw run_json_error{m_p, std::move(what)}; }
  char peek() const { return m_p < m_t.size() ? m_t[m_p] : '\0'; }
  void ws() {
    while (m_p < m_t.size() &&
           (m_t[m_p] == ' ' || m_t[m_p] == '\t' || m_t[m_p] == '\n' || m_t[m_p] == '\r'))
      ++m_p;
  }
  void expect(char c) {
    if (m_p >= m_t.size()) fail(std::string("unexpected end of text, expected '") + c + "'");
    if (m_t[m_p] != c) fail(std::string("expected '") + c + "'");
    ++m_p;
  }
  void finish() {
    ws();
    if (m_p != m_t.size()) fail("unexpected text after the object");
  }
  std::uint32_t hex4() {
    if (m_p + 4 > m_t.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = m_t[m_p++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string string() {
    expect('"');
    std::string s;
    for (;;) {
      if (m_p >= m_t.size()) fail("unterminated string");
      const char c = m_t[m_p++];
      if (c == '"') return s;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        s += c;
        continue;
      }
      if (m_p >= m_t.size()) fail("unterminated escape");
      const char e = m_t[m_p++];
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (m_p + 2 > m_t.size() || m_t[m_p] != '\\' || m_t[m_p + 1] != 'u')
              fail("unpaired surrogate in \\u escape");
            m_p += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          run_json_append_utf8(s, cp);
          break;
        }
        default:
          fail(std::string("unknown escape \\") + e);
      }
    }
  }
  std::string number() {
    const std::size_t b = m_p;
    if (peek() == '-') ++m_p;
    while (m_p < m_t.size() && std::strchr("0123456789.eE+-", m_t[m_p]) != nullptr) ++m_p;
    const std::string_view s = m_t.substr(b, m_p - b);
    if (s == "-" || s.empty()) fail("malformed number");
    return std::string(s);
  }
  std::string literal() {
    for (std::string_view w : {"true", "false", "null"})
      if (m_t.substr(m_p, w.size()) == w) {
        m_p += w.size();
        return std::string(w);
      }
    fail("expected a value");
  }
  void skip_nested() {
    int depth = 0;
    do {
      if (m_p >= m_t.size()) fail("unterminated object or array");
      const char c = m_t[m_p];
      if (c == '"') {
        (void)string();
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++m_p;
    } while (depth > 0);
  }

  std::string_view m_t;
  std::size_t m_p = 0;
};

inline bool run_parse_integer(std::string_view s, long long& out) {
  if (s.empty() || s.size() > 19) return false;
  std::size_t i = 0;
  bool neg = false;
  if (s[0] == '-') neg = true, i = 1;
  if (i >= s.size()) return false;
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = neg ? -v : v;
  return true;
}

inline std::string run_errno_text() { return std::strerror(errno); }

/// write(2) of the whole buffer, retrying on EINTR and partial writes.
inline void run_write_all(int fd, std::string_view data, const std::string& where) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw error(error_kind::io, where, 0, "write failed: " + run_errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

inline void run_fsync(int fd, const std::string& where) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    throw error(error_kind::io, where, 0, "fsync failed: " + run_errno_text());
  }
}

/// fsync of a directory, so a rename or a new file in it survives a crash.
inline void run_fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems do not allow opening directories
  (void)::fsync(fd);
  ::close(fd);
}

inline std::string run_join_keys(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace detail

inline run_key read_run_key_json(std::string_view line) {
  std::vector<detail::run_json_scanner::member> ms;
  try {
    ms = detail::run_json_scanner(line).object();
  } catch (const detail::run_json_error& e) {
    throw error(error_kind::parse,
                "not a JSON object (column " + std::to_string(e.pos + 1) + ": " + e.what + ")");
  }
  run_key k;
  bool have_image = false, have_sentence = false, have_phrase = false;
  for (const auto& m : ms) {
    if (m.key == "image_id") {
      if (m.kind != 's' && m.kind != 'n')
        throw error(error_kind::parse, "\"image_id\" must be a string or an integer");
      k.image_id = m.value;
      have_image = true;
    } else if (m.key == "sentence_id" || m.key == "sentence_index") {
      long long v = 0;
      if (m.kind != 'n' || !detail::run_parse_integer(m.value, v) || v < 0)
        throw error(error_kind::parse, "\"" + m.key + "\" must be a non-negative integer");
      k.sentence_index = v;
      have_sentence = true;
    } else if (m.key == "phrase_index") {
      long long v = 0;
      if (m.kind != 'n' || !detail::run_parse_integer(m.value, v) || v < 0)
        throw error(error_kind::parse, "\"phrase_index\" must be a non-negative integer");
      k.phrase_index = static_cast<std::size_t>(v);
      have_phrase = true;
    }
  }
  if (!have_image) throw error(error_kind::parse, "missing \"image_id\"");
  if (!have_sentence) throw error(error_kind::parse, "missing \"sentence_id\"");
  if (!have_phrase) throw error(error_kind::parse, "missing \"phrase_index\"");
  return k;
}

inline std::string manifest_to_json(const run_manifest& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    detail::json_quote(out, k);
    out += ": ";
    detail::json_quote(out, v);
  }
  out += first ? "}\n" : "\n}\n";
  return out;
}

inline run_manifest parse_manifest(std::string_view text, const std::string& source) {
  std::vector<detail::run_json_scanner::member> ms;
  try {
    ms = detail::run_json_scanner(text).object();
  } catch (const detail::run_json_error& e) {
    throw error(error_kind::parse, source, detail::run_json_line_of(text, e.pos), e.what);
  }
  run_manifest m;
  for (auto& mem : ms) {
    if (mem.kind != 's')
      throw error(error_kind::parse, source, 0,
                  "manifest value of \"" + mem.key + "\" is not a string");
    if (!m.emplace(mem.key, std::move(mem.value)).second)
      throw error(error_kind::parse, source, 0, "manifest key \"" + mem.key + "\" appears twice");
  }
  return m;
}

inline run_manifest read_manifest(const std::filesystem::path& file) {
  std::ifstream is(file, std::ios::binary);
  if (!is) throw error(error_kind::io, file.string(), 0, "cannot open the manifest");
  std::string text((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  return parse_manifest(text, file.string());
}

inline void write_manifest(const std::filesystem::path& file, const run_manifest& m) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw error(error_kind::io, tmp.string(), 0, "cannot create: " + detail::run_errno_text());
  try {
    detail::run_write_all(fd, manifest_to_json(m), tmp.string());
    detail::run_fsync(fd, tmp.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), file.c_str()) != 0)
    throw error(error_kind::io, file.string(), 0, "cannot rename from " + tmp.string());
  detail::run_fsync_dir(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
}

inline std::vector<std::string> manifest_differences(const run_manifest& a, const run_manifest& b,
                                                     std::span<const std::string> ignore) {
  std::vector<std::string> out;
  auto ignored = [&](const std::string& k) {
    return std::find(ignore.begin(), ignore.end(), k) != ignore.end();
  };
  for (const auto& [k, v] : a) {
    if (ignored(k)) continue;
    auto it = b.find(k);
    if (it == b.end() || it->second != v) out.push_back(k);
  }
  for (const auto& [k, v] : b)
    if (!ignored(k) && !a.contains(k)) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

inline shard_spec parse_shard(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return error(
        error_kind::config, "--shard", 0,
        "'" + std::string(text) + "': " + why + " (expected i/n with 0 <= i < n, e.g. 0/4)");
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("missing '/'");
  long long i = 0, n = 0;
  if (!detail::run_parse_integer(text.substr(0, slash), i) ||
      !detail::run_parse_integer(text.substr(slash + 1), n))
    throw bad("not two integers");
  if (n < 1 || n > 65536) throw bad("n must be between 1 and 65536");
  if (i < 0 || i >= n) throw bad("i must be between 0 and n-1");
  return shard_spec{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n)};
}

inline run_file_contents read_run_file(const std::filesystem::path& file,
                                       const run_key_reader& reader, bool keep_lines) {
  run_file_contents c;
  std::ifstream is(file, std::ios::binary);
  if (!is) throw error(error_kind::io, file.string(), 0, "cannot open");
  const run_key_reader& rd = reader ? reader : run_key_reader(read_run_key_json);
  std::string line;
  std::size_t n = 0;
  std::uint64_t offset = 0;
  while (std::getline(is, line)) {
    ++n;
    if (is.eof()) {  // no newline after this line: torn by a crash
      c.torn_bytes = line.size();
      c.torn_line = line.empty() ? 0 : n;
      break;
    }
    offset += line.size() + 1;
    c.complete_bytes = offset;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    run_record r;
    try {
      r.key = rd(line);
    } catch (const error& e) {
      throw error(e.kind(), file.string(), n, e.what());
    }
    if (keep_lines) r.line = std::move(line);
    c.records.push_back(std::move(r));
    c.lines.push_back(n);
  }
  return c;
}

inline run_directory& run_directory::operator=(run_directory&& o) noexcept {
  if (this != &o) {
    close_fd();
    m_dir = std::move(o.m_dir);
    m_manifest = std::move(o.m_manifest);
    m_volatile = std::move(o.m_volatile);
    m_finished = std::move(o.m_finished);
    m_resumed = o.m_resumed;
    m_dropped = o.m_dropped;
    m_fd = std::exchange(o.m_fd, -1);
  }
  return *this;
}

inline run_directory run_directory::open(const std::filesystem::path& dir,
                                         const run_manifest& manifest, run_open_options opt) {
  namespace fs = std::filesystem;
  auto warn = opt.warn ? opt.warn : [](const std::string& s) {
    std::fprintf(stderr, "groundeval: warning: %s\n", s.c_str());
  };
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw error(error_kind::io, dir.string(), 0, "exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::io, dir.string(), 0,
                "cannot create the run directory: " + ec.message());

  run_directory r;
  r.m_dir = dir;
  r.m_volatile = opt.volatile_keys;
  const fs::path mpath = r.manifest_path(), ppath = r.predictions_path();
  const bool have_manifest = fs::exists(mpath), have_predictions = fs::exists(ppath);
  if (opt.start_over) {
    fs::remove(ppath, ec);
    fs::remove(mpath, ec);
  } else if (have_manifest) {
    const run_manifest old = read_manifest(mpath);
    const auto diff = manifest_differences(old, manifest, r.m_volatile);
    if (!diff.empty()) {
      std::string detail;
      for (const auto& k : diff) {
        auto a = old.find(k);
        auto b = manifest.find(k);
        detail += "\n  " + k + ": stored " + (a == old.end() ? "(absent)" : "'" + a->second + "'") +
                  ", now " + (b == manifest.end() ? "(absent)" : "'" + b->second + "'");
      }
      throw error(error_kind::config, mpath.string(), 0,
                  "this run differs from the stored one in " + detail::run_join_keys(diff) +
                      "; refusing to mix results (start over to discard them, or use another "
                      "directory):" +
                      detail);
    }
    r.m_manifest = old;
  } else if (have_predictions) {
    throw error(error_kind::config, ppath.string(), 0,
                "predictions.jsonl exists but manifest.json does not; refusing to mix results "
                "(start over to discard them)");
  }
  if (r.m_manifest.empty()) {
    r.m_manifest = manifest;
    write_manifest(mpath, r.m_manifest);
  }

  if (!opt.start_over && have_predictions) {
    const auto c = read_run_file(ppath, opt.key_reader, false);
    std::map<run_key, std::size_t> seen;
    for (std::size_t i = 0; i < c.records.size(); ++i) {
      auto [it, fresh] = seen.emplace(c.records[i].key, c.lines[i]);
      if (!fresh)
        throw error(error_kind::invalid, ppath.string(), c.lines[i],
                    "query " + to_string(c.records[i].key) + " is already recorded at line " +
                        std::to_string(it->second));
    }
    for (auto& [k, line] : seen) r.m_finished.insert(k);
    r.m_resumed = c.records.size();
    if (c.torn_bytes > 0) {
      if (::truncate(ppath.c_str(), static_cast<off_t>(c.complete_bytes)) != 0)
        throw error(error_kind::io, ppath.string(), c.torn_line,
                    "cannot truncate the torn last line: " + detail::run_errno_text());
      r.m_dropped = static_cast<std::size_t>(c.torn_bytes);
      warn(ppath.string() + ":" + std::to_string(c.torn_line) + ": incomplete last line (" +
           std::to_string(c.torn_bytes) +
           " bytes, left by an interrupted run) dropped; that query will be run again");
    }
  }
  r.m_fd = ::open(ppath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (r.m_fd < 0)
    throw error(error_kind::io, ppath.string(), 0,
                "cannot open for appending: " + detail::run_errno_text());
  if (!have_predictions || opt.start_over) detail::run_fsync_dir(dir);
  return r;
}

inline void run_directory::append(std::span<const run_record> batch) {
  const std::string where = predictions_path().string();
  if (m_fd < 0) throw error(error_kind::invalid, where, 0, "the run directory is closed");
  std::set<run_key> in_batch;
  std::size_t bytes = 0;
  for (const auto& r : batch) {
    if (r.line.find('\n') != std::string::npos || r.line.find('\r') != std::string::npos)
      throw error(error_kind::invalid, where, 0,
                  "record " + to_string(r.key) + " contains a line break");
    if (m_finished.contains(r.key) || !in_batch.insert(r.key).second)
      throw error(error_kind::invalid, where, 0,
                  "query " + to_string(r.key) + " is already recorded");
    bytes += r.line.size() + 1;
  }
  std::string buf;
  buf.reserve(bytes);
  for (const auto& r : batch) {
    buf += r.line;
    buf += '\n';
  }
  detail::run_write_all(m_fd, buf, where);
  detail::run_fsync(m_fd, where);
  m_finished.merge(in_batch);
}

inline void run_directory::update_manifest(const run_manifest& m) {
  const auto diff = manifest_differences(m_manifest, m, m_volatile);
  if (!diff.empty())
    throw error(
        error_kind::invalid, manifest_path().string(), 0,
        "update_manifest may change only volatile keys; changed: " + detail::run_join_keys(diff));
  write_manifest(manifest_path(), m);
  m_manifest = m;
}

inline merge_summary merge_runs(std::span<const std::filesystem::path> shards,
                                const std::filesystem::path& out, const merge_options& opt) {
  namespace fs = std::filesystem;
  if (shards.empty()) throw error(error_kind::config, "merge: no shard directories given");
  std::vector<run_manifest> ms;
  std::vector<shard_spec> specs;
  for (const auto& d : shards) {
    const fs::path mp = d / "manifest.json";
    if (!fs::exists(mp))
      throw error(error_kind::io, mp.string(), 0, "missing (not a run directory?)");
    ms.push_back(read_manifest(mp));
    auto it = ms.back().find(opt.shard_key);
    if (it == ms.back().end())
      throw error(error_kind::invalid, mp.string(), 0,
                  "no \"" + opt.shard_key + "\" key: this run is not a shard");
    try {
      specs.push_back(parse_shard(it->second));
    } catch (const error& e) {
      throw error(error_kind::invalid, mp.string(), 0,
                  "bad \"" + opt.shard_key + "\" value: " + e.what());
    }
  }
  const std::uint32_t n = specs[0].count;
  std::vector<int> owner(n, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string mp = (shards[i] / "manifest.json").string();
    if (specs[i].count != n)
      throw error(error_kind::invalid, mp, 0,
                  "shard " + specs[i].to_string() + " does not match " + specs[0].to_string() +
                      " of " + (shards[0] / "manifest.json").string() + " (different n)");
    int& o = owner[specs[i].index];
    if (o >= 0)
      throw error(error_kind::invalid, mp, 0,
                  "shard " + specs[i].to_string() + " is also given as " +
                      shards[static_cast<std::size_t>(o)].string());
    o = static_cast<int>(i);
  }
  std::vector<std::string> missing;
  for (std::uint32_t i = 0; i < n; ++i)
    if (owner[i] < 0) missing.push_back(std::to_string(i) + "/" + std::to_string(n));
  if (!missing.empty())
    throw error(error_kind::invalid, "merge", 0,
                "missing shard(s): " + detail::run_join_keys(missing));
  std::vector<std::string> ignore = opt.volatile_keys;
  ignore.push_back(opt.shard_key);
  for (std::size_t i = 1; i < shards.size(); ++i) {
    const auto diff = manifest_differences(ms[0], ms[i], ignore);
    if (!diff.empty())
      throw error(error_kind::invalid, (shards[i] / "manifest.json").string(), 0,
                  "differs from " + (shards[0] / "manifest.json").string() + " in " +
                      detail::run_join_keys(diff) + "; these shards are not parts of one run");
  }

  std::vector<run_record> all;
  std::map<run_key, std::pair<std::size_t, std::size_t>> where;  // key -> (shard, line)
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const fs::path pp = shards[i] / "predictions.jsonl";
    if (!fs::exists(pp)) throw error(error_kind::io, pp.string(), 0, "missing");
    auto c = read_run_file(pp, opt.key_reader, true);
    if (c.torn_bytes > 0)
      throw error(error_kind::invalid, pp.string(), c.torn_line,
                  "incomplete last line (an interrupted run); resume this shard before merging");
    for (std::size_t j = 0; j < c.records.size(); ++j) {
      auto& r = c.records[j];
      if (!specs[i].contains(r.key.image_id))
        throw error(error_kind::invalid, pp.string(), c.lines[j],
                    "image '" + r.key.image_id + "' belongs to shard " +
                        std::to_string(shard_hash(r.key.image_id) % n) + "/" + std::to_string(n) +
                        ", not " + specs[i].to_string());
      auto [it, fresh] = where.emplace(r.key, std::pair{i, c.lines[j]});
      if (!fresh)
        throw error(error_kind::invalid, pp.string(), c.lines[j],
                    "query " + to_string(r.key) + " is also recorded in " +
                        (shards[it->second.first] / "predictions.jsonl").string() + ":" +
                        std::to_string(it->second.second));
      all.push_back(std::move(r));
    }
  }
  if (opt.expected) {
    std::set<run_key> exp;
    for (const auto& k : *opt.expected) exp.insert(k);
    std::vector<std::string> lost, extra;
    std::size_t n_lost = 0, n_extra = 0;
    for (const auto& k : exp)
      if (!where.contains(k) && n_lost++ < 5) lost.push_back(to_string(k));
    for (const auto& [k, w] : where)
      if (!exp.contains(k) && n_extra++ < 5) extra.push_back(to_string(k));
    if (n_lost > 0)
      throw error(error_kind::invalid, "merge", 0,
                  std::to_string(n_lost) + " expected quer" + (n_lost == 1 ? "y is" : "ies are") +
                      " missing from every shard, e.g. " + detail::run_join_keys(lost));
    if (n_extra > 0)
      throw error(error_kind::invalid, "merge", 0,
                  std::to_string(n_extra) + " recorded quer" + (n_extra == 1 ? "y is" : "ies are") +
                      " not expected, e.g. " + detail::run_join_keys(extra));
  }

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw error(error_kind::io, out.string(), 0, "cannot create: " + ec.message());
  const fs::path op = out / "predictions.jsonl", om = out / "manifest.json";
  if (fs::exists(op) || fs::exists(om))
    throw error(
        error_kind::io, out.string(), 0,
        "already holds a run (manifest.json or predictions.jsonl); choose an empty directory");
  std::sort(all.begin(), all.end(),
            [](const run_record& a, const run_record& b) { return a.key < b.key; });
  std::string buf;
  for (const auto& r : all) buf += r.line + '\n';
  const fs::path tmp = op.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw error(error_kind::io, tmp.string(), 0, "cannot create: " + detail::run_errno_text());
  try {
    detail::run_write_all(fd, buf, tmp.string());
    detail::run_fsync(fd, tmp.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), op.c_str()) != 0)
    throw error(error_kind::io, op.string(), 0, "cannot rename from " + tmp.string());
  run_manifest merged = ms[static_cast<std::size_t>(owner[0])];
  merged.erase(opt.shard_key);
  merged["merged_shards"] = std::to_string(n);
  write_manifest(om, merged);
  return merge_summary{shards.size(), all.size()};
}

}  // namespace groundeval
