// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions_stream.hpp — reading predictions files in bounded memory and
// in parallel: JSON Lines a batch of lines at a time, an MDETR JSON list a run of entries at a
// time, each batch split over threads and decoded with simdjson, or for an MDETR list in its
// plain form with a one-pass reader (predictions_simdjson.hpp). A regular file up to 64 MiB is
// read whole into prefaulted memory and decoded in place (whole_file_istream). Target:
// groundeval::json.
//
// Results and errors are those of the reference parser (predictions_reference.hpp): a record or
// entry the fast decoder does not decide goes to the reference, and errors keep the reference's
// precedence — for JSON Lines the first bad line in file order; for an MDETR list a syntax error
// anywhere in the file, then the first malformed entry (the stream goes on checking the syntax
// after a malformed entry before it reports it). Memory: a batch of text plus its decoded
// records, whatever the file size (an MDETR entry longer than a batch is held whole).
#pragma once

#include <groundeval/detail/config_hash.hpp>
#include <groundeval/detail/parallel.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/io/json/predictions_format.hpp>
#include <groundeval/io/json/predictions_reference.hpp>
#include <groundeval/io/json/predictions_simdjson.hpp>
#include <groundeval/io/limits.hpp>

#include <simdjson.h>

#if __has_include(<sys/mman.h>) && __has_include(<sys/stat.h>) && __has_include(<fcntl.h>) && \
    __has_include(<unistd.h>)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define GROUNDEVAL_DETAIL_MAPPED_FILES 1
#endif

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace groundeval::detail {

/// Sizes of the streaming readers (the defaults; tests make them small to cross every border).
struct predictions_stream_sizes {
  /// Bytes of a batch per thread below which another thread is not worth starting.
  std::size_t bytes_per_thread = std::size_t{256} << 10;
  /// Most text a JSON Lines batch holds (it ends earlier when it has its number of records).
  std::size_t jsonl_batch_bytes = std::size_t{64} << 20;
  /// Text of an MDETR list decoded per batch (more when one entry is longer); the evaluator
  /// measures a batch at a time, on two threads from about 8,000 phrases (~3.5 MB) on.
  std::size_t mdetr_batch_bytes = std::size_t{4} << 20;
  /// Text of an MDETR list one simdjson parse takes (small: the parser's memory and the
  /// document it builds stay in cache).
  std::size_t piece_bytes = std::size_t{64} << 10;
  /// First read from the stream (reads then double up to max_read).
  std::size_t first_read = std::size_t{1} << 16;
  std::size_t max_read = std::size_t{1} << 20;
};

/// Threads for a batch of `bytes` (at least 1, at most `threads` or the hardware's).
inline unsigned predictions_threads(std::size_t bytes, unsigned threads,
                                    const predictions_stream_sizes& sizes) {
  const unsigned hw = detail::thread_count(threads);
  const std::size_t by_size =
      std::max<std::size_t>(1, bytes / std::max<std::size_t>(sizes.bytes_per_thread, 1));
  return static_cast<unsigned>(std::min<std::size_t>({hw, by_size, 64}));
}

/// Runs fn(k) for k in [0, n) on n threads (the calling thread being one of them).
template <class Fn>
void run_on_threads(unsigned n, Fn&& fn) {
  parallel_options popt;
  popt.threads = n;
  popt.min_work_per_thread = 1;
  parallel_for(n, 1, popt, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) fn(static_cast<unsigned>(k));
  });
}

/// A std::istream over bytes in memory, without copying them.
class memory_istream : private std::streambuf, public std::istream {
 public:
  explicit memory_istream(std::string_view text)
      : std::istream(static_cast<std::streambuf*>(this)) {
    char* p = const_cast<char*>(text.data());  // only read
    setg(p, p, p + text.size());
  }
};

/// A regular file of at most `max_whole_file_bytes` read whole into memory as a std::istream,
/// followed by at least SIMDJSON_PADDING readable bytes (zeros): stream_buffer reads it in place,
/// without copying it again, and hands the pages it has passed back to the system. The memory is
/// prefaulted in one call (MAP_POPULATE) and filled with pread: on a 2-core VM the page faults
/// of a buffer that grows cost more than parsing the text. The file is copied, not mapped: a
/// mapped file that another process truncates (a program rewriting it, a resumed run dropping a
/// torn line) kills the reader with SIGBUS; a copy sees the bytes it read (a file cut short reads
/// as a truncated file). is_open() is false (use an ordinary stream, in bounded memory) for
/// anything but a non-empty regular file of at most the limit, or where this is not available.
class whole_file_istream : private std::streambuf, public std::istream {
 public:
  /// Largest file read whole (larger ones are read through a bounded buffer).
  static constexpr std::size_t max_whole_file_bytes = std::size_t{64} << 20;

  explicit whole_file_istream(const std::string& path)
      : std::istream(static_cast<std::streambuf*>(this)) {
#if defined(GROUNDEVAL_DETAIL_MAPPED_FILES)
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;
    struct stat st {};
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        static_cast<std::size_t>(st.st_size) <= max_whole_file_bytes && page_size > 0) {
      m_page = static_cast<std::size_t>(page_size);
      const auto size = static_cast<std::size_t>(st.st_size);
      // One more page than the file: the padding (zeros).
      const std::size_t len = (size + m_page - 1) / m_page * m_page + m_page;
      void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (p != MAP_FAILED) {
        char* const b = static_cast<char*>(p);
        std::size_t got = 0;
        bool failed = false;
        while (got < size) {
          const auto n = ::pread(fd, b + got, size - got, static_cast<off_t>(got));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) failed = true;
          if (n <= 0) break;  // an error, or the file was cut short meanwhile
          got += static_cast<std::size_t>(n);
        }
        if (failed || got == 0) {
          ::munmap(p, len);  // the ordinary stream reads it and reports what it finds
        } else {
          m_map = b;
          m_len = len;
          m_size = got;
          setg(m_map, m_map, m_map + m_size);
        }
      }
    }
    ::close(fd);
#else
    (void)path;
#endif
  }
  whole_file_istream(const whole_file_istream&) = delete;
  whole_file_istream& operator=(const whole_file_istream&) = delete;
  ~whole_file_istream() override {
#if defined(GROUNDEVAL_DETAIL_MAPPED_FILES)
    if (m_map) ::munmap(m_map, m_len);
#endif
  }
  bool is_open() const noexcept { return m_map != nullptr; }
  const char* data() const noexcept { return m_map; }
  std::size_t size() const noexcept { return m_size; }
  /// Offset of the stream's read position.
  std::size_t position() const noexcept { return static_cast<std::size_t>(gptr() - eback()); }
  /// Gives the whole pages before `offset` back to the system once `hold` bytes have been
  /// passed (they read as zeros if touched again).
  void release_before(std::size_t offset, std::size_t hold = std::size_t{4} << 20) noexcept {
#if defined(GROUNDEVAL_DETAIL_MAPPED_FILES)
    const std::size_t to = offset / m_page * m_page;
    if (!m_map || to < m_released + hold) return;
    ::madvise(m_map + m_released, to - m_released, MADV_DONTNEED);
    m_released = to;
#else
    (void)offset;
    (void)hold;
#endif
  }

 private:
  char* m_map = nullptr;
  std::size_t m_len = 0, m_size = 0, m_page = 4096, m_released = 0;
};

/// A read buffer over a stream: bytes [0, end()) are held, followed by SIMDJSON_PADDING
/// readable bytes; reads grow from `first_read` bytes to `max_read` at a time. Over a
/// whole_file_istream the bytes are its memory's, read in place (from its read position).
class stream_buffer {
 public:
  explicit stream_buffer(std::istream& is, std::size_t first_read = std::size_t{1} << 16,
                         std::size_t max_read = std::size_t{1} << 20)
      : m_is(is),
        m_read(std::max<std::size_t>(first_read, 1)),
        m_max_read(std::max(max_read, m_read)) {
    if (auto* m = dynamic_cast<whole_file_istream*>(&is); m && m->is_open()) {
      m_whole = m;
      m_origin = m->position();
    }
  }
  const char* data() const noexcept {
    return m_whole ? m_whole->data() + m_origin + m_base : m_data.get();
  }
  std::size_t end() const noexcept { return m_end; }
  bool eof() const noexcept { return m_eof; }
  bool bad() const noexcept { return m_bad; }
  /// Bytes of the stream before data()[0].
  std::uint64_t base() const noexcept { return m_base; }
  /// Drops the bytes before `keep_from` and reads more (nothing at the end of the stream);
  /// returns how far the kept bytes moved down.
  std::size_t refill(std::size_t keep_from) {
    if (m_whole) {  // the window moves on and grows; nothing is copied
      m_base += keep_from;
      m_end -= keep_from;
      const std::size_t at = m_origin + static_cast<std::size_t>(m_base);
      m_whole->release_before(at);
      const std::size_t left = m_whole->size() - at - m_end;
      m_end += std::min(m_read, left);
      m_eof = m_read >= left;
      m_read = std::min(m_read * 2, m_max_read);
      return keep_from;
    }
    const std::size_t keep = m_end - keep_from;
    const std::size_t need = keep + m_read + simdjson::SIMDJSON_PADDING;
    if (need > m_cap) {
      const std::size_t cap = std::max(need, m_cap * 2);
      auto d = std::make_unique_for_overwrite<char[]>(cap);
      if (keep) std::memcpy(d.get(), m_data.get() + keep_from, keep);
      m_data = std::move(d);
      m_cap = cap;
    } else if (keep && keep_from) {
      std::memmove(m_data.get(), m_data.get() + keep_from, keep);
    }
    m_base += keep_from;
    m_end = keep;
    if (!m_eof) {
      m_is.read(m_data.get() + m_end, static_cast<std::streamsize>(m_read));
      const auto got = static_cast<std::size_t>(m_is.gcount());
      m_end += got;
      if (got < m_read) {
        m_eof = true;
        m_bad = m_is.bad();
      }
      m_read = std::min(m_read * 2, m_max_read);
    }
    return keep_from;
  }

 private:
  std::istream& m_is;
  whole_file_istream* m_whole = nullptr;
  std::size_t m_origin = 0;  // offset in the mapping of the stream's start
  std::unique_ptr<char[]> m_data;
  std::size_t m_cap = 0, m_end = 0, m_read, m_max_read;
  std::uint64_t m_base = 0;
  bool m_eof = false, m_bad = false;
};

/// Reads JSON Lines records a batch at a time: the lines are found on the calling thread, then
/// decoded on up to opt.threads threads.
class jsonl_batch_reader {
 public:
  jsonl_batch_reader(std::istream& is, std::string source, predictions_read_options opt,
                     predictions_stream_sizes sizes = {})
      : m_buf(is, sizes.first_read, sizes.max_read),
        m_source(std::move(source)),
        m_opt(opt),
        m_sizes(sizes) {}

  /// Reads up to `max_records` records into records()[0, n) and returns n (0 at the end).
  /// Throws the error of the first bad line in file order (as reading the lines one by one with
  /// the reference parser would); with `valid_prefix`, the records before that line are
  /// returned first and the next call throws.
  std::size_t next(std::size_t max_records, bool valid_prefix = false) {
    if (m_deferred) std::rethrow_exception(std::exchange(m_deferred, nullptr));
    max_records = std::max<std::size_t>(max_records, 1);
    m_lines.clear();
    std::size_t bytes = 0;
    std::exception_ptr stop;  // met while finding lines: thrown after the lines before it
    while (m_lines.size() < max_records && bytes < m_sizes.jsonl_batch_bytes) {
      const char* d = m_buf.data();
      const std::size_t have = m_buf.end() - m_pos;
      const void* nl = have ? std::memchr(d + m_pos, '\n', have) : nullptr;
      std::size_t len = have, next = m_buf.end();
      if (nl) {
        len = static_cast<std::size_t>(static_cast<const char*>(nl) - (d + m_pos));
        next = m_pos + len + 1;
      } else if (have <= max_jsonl_line_bytes && !m_buf.eof()) {
        const std::size_t keep = m_lines.empty() ? m_pos : m_lines.front().begin;
        const std::size_t shift = m_buf.refill(keep);
        m_pos -= shift;
        for (auto& l : m_lines) l.begin -= shift;
        continue;
      } else if (have == 0) {
        if (m_buf.bad()) stop = make_error(error_kind::io, m_line, "read error");
        break;
      }
      if (len > max_jsonl_line_bytes) {
        stop = make_error(error_kind::parse, m_line + 1,
                          "a line longer than the " + std::to_string(max_jsonl_line_bytes >> 20) +
                              " MiB limit of a JSON Lines record");
        break;
      }
      ++m_line;
      std::size_t size = len;
      if (size && d[m_pos + size - 1] == '\r') --size;
      bool blank = true;
      for (std::size_t i = 0; i < size && blank; ++i)
        blank = d[m_pos + i] == ' ' || d[m_pos + i] == '\t';
      if (!blank) {
        m_lines.push_back({m_pos, size, m_line});
        bytes += size;
      }
      m_pos = next;
    }
    std::size_t n = m_lines.size();
    if (m_records.size() < n) m_records.resize(n);
    if (m_offsets.size() < n) m_offsets.resize(n);
    for (std::size_t i = 0; i < n; ++i) m_offsets[i] = m_buf.base() + m_lines[i].begin;
    auto [bad, why] = decode(bytes);
    if (bad < n) {
      if (!valid_prefix || bad == 0) std::rethrow_exception(why);
      m_deferred = why;
      return bad;
    }
    if (stop) {
      if (!valid_prefix || n == 0) std::rethrow_exception(stop);
      m_deferred = stop;
    }
    return n;
  }

  std::vector<phrase_prediction_record>& records() noexcept { return m_records; }
  /// Byte offset (from where the stream was at construction) of record i's line.
  std::uint64_t offset(std::size_t i) const noexcept { return m_offsets[i]; }
  /// Lines read so far (blank ones included).
  std::size_t line() const noexcept { return m_line; }

 private:
  struct line_ref {
    std::size_t begin, size, line;
  };

  std::exception_ptr make_error(error_kind kind, std::size_t line, const std::string& what) const {
    return std::make_exception_ptr(error(kind, m_source, line, what));
  }

  /// Decodes m_lines into m_records; returns the index of the first bad line (m_lines.size()
  /// when none) and its error.
  std::pair<std::size_t, std::exception_ptr> decode(std::size_t bytes) {
    const std::size_t n = m_lines.size();
    if (n == 0) return {0, nullptr};
    const unsigned t = static_cast<unsigned>(
        std::min<std::size_t>(predictions_threads(bytes, m_opt.threads, m_sizes), n));
    while (m_decoders.size() < t)
      m_decoders.push_back(std::make_unique<simdjson_predictions::record_decoder>());
    // Contiguous ranges of about equal bytes.
    std::vector<std::size_t> cut(t + 1, n);
    cut[0] = 0;
    for (std::size_t i = 0, k = 1, acc = 0; i < n && k < t; ++i) {
      acc += m_lines[i].size;
      if (acc * t >= bytes * k) cut[k++] = i + 1;
    }
    std::vector<std::pair<std::size_t, std::exception_ptr>> failed(t, {n, nullptr});
    const char* d = m_buf.data();
    run_on_threads(t, [&](unsigned k) {
      auto& dec = *m_decoders[k];
      for (std::size_t i = cut[k]; i < cut[k + 1]; ++i) {
        const line_ref& l = m_lines[i];
        try {
          if (!dec.decode(d + l.begin, l.size, l.line, m_opt, m_records[i]))
            m_records[i] = reference_predictions::parse_jsonl_record(
                std::string_view(d + l.begin, l.size), m_source, l.line, m_opt);
          check_config_hash(m_records[i].config_hash, m_opt.config_hash, m_source, l.line);
        } catch (...) {
          failed[k] = {i, std::current_exception()};
          return;
        }
      }
    });
    for (const auto& f : failed)
      if (f.second) return f;
    return {n, nullptr};
  }

  stream_buffer m_buf;
  std::string m_source;
  predictions_read_options m_opt;
  predictions_stream_sizes m_sizes;
  std::size_t m_pos = 0, m_line = 0;
  std::vector<line_ref> m_lines;
  std::vector<phrase_prediction_record> m_records;
  std::vector<std::uint64_t> m_offsets;
  std::vector<std::unique_ptr<simdjson_predictions::record_decoder>> m_decoders;
  std::exception_ptr m_deferred;
};

/// Thrown by stream_mdetr_predictions for valid JSON that simdjson does not read (integers
/// beyond 64 bits, nesting deeper than 1024): the caller reads the file with the reference.
struct use_reference_parser {};

namespace mdetr_stream {

inline bool json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// True when the ',' at d[c] has '}' as its previous non-space byte (not before `lo`) and '{' as
/// its next one (before `end`): the separator of two entries in every MDETR file seen. A false
/// match (inside a string or a nested list of objects) makes the parse of its pieces fail; the
/// caller then finds the separators exactly (top_level_commas).
inline bool is_cut(const char* d, std::size_t c, std::size_t lo, std::size_t end) noexcept {
  std::size_t a = c, b = c + 1;
  while (a > lo && json_space(d[a - 1])) --a;
  while (b < end && json_space(d[b])) ++b;
  return a > lo && d[a - 1] == '}' && b < end && d[b] == '{';
}

/// The last separator (is_cut) in [lo, hi), or npos.
inline std::size_t find_cut(const char* d, std::size_t lo, std::size_t hi, std::size_t end) {
  while (hi > lo) {
    const void* hit = memrchr(d + lo, ',', hi - lo);
    if (!hit) return std::string_view::npos;
    const std::size_t c = static_cast<std::size_t>(static_cast<const char*>(hit) - d);
    if (is_cut(d, c, lo, end)) return c;
    hi = c;
  }
  return std::string_view::npos;
}

/// The first separator (is_cut, looking back no further than `lo`) in [from, end), or npos.
inline std::size_t find_cut_after(const char* d, std::size_t lo, std::size_t from,
                                  std::size_t end) {
  for (std::size_t at = from; at < end;) {
    const void* hit = std::memchr(d + at, ',', end - at);
    if (!hit) return std::string_view::npos;
    const std::size_t c = static_cast<std::size_t>(static_cast<const char*>(hit) - d);
    if (is_cut(d, c, lo, end)) return c;
    at = c + 1;
  }
  return std::string_view::npos;
}

/// Follows the JSON text from `b` (just inside the top-level list) to `e`: appends the position
/// of each ',' between two entries to `commas` and returns the position of the list's closing
/// ']', or npos when it is not in [b, e). Malformed text is left for the parser to reject.
inline std::size_t top_level_commas(const char* d, std::size_t b, std::size_t e,
                                    std::vector<std::size_t>& commas) {
  std::size_t depth = 0, close = std::string_view::npos;
  reference_predictions::for_each_json_structural(std::string_view(d + b, e - b),
                                                  [&](std::size_t i) {
                                                    const char c = d[b + i];
                                                    if (c == '[' || c == '{') {
                                                      ++depth;
                                                    } else if (c == ',') {
                                                      if (depth == 0) commas.push_back(b + i);
                                                    } else if (depth > 0) {
                                                      --depth;
                                                    } else {
                                                      if (c == ']') close = b + i;
                                                      return false;
                                                    }
                                                    return true;
                                                  });
  return close;
}

/// A run of entries between two separators of a batch; a thread decodes several in a row.
struct piece {
  std::size_t begin = 0, end = 0;     ///< in the stream buffer; d[begin] is '[' or ','
  bool last = false;                  ///< ends with the list's ']'
  sentence_prediction_block entries;  ///< decoded; kept to reuse its memory
  enum { ok, syntax, structure } state = ok;

  /// The piece as a JSON list: "[" + its entries + "]".
  std::string_view bracketed(const char* d, std::unique_ptr<char[]>& text, std::size_t& cap) const {
    const std::size_t body = end - begin - 1, size = body + (last ? 1 : 2);
    if (cap < size + simdjson::SIMDJSON_PADDING) {
      cap = size + simdjson::SIMDJSON_PADDING + (size >> 2);
      text = std::make_unique_for_overwrite<char[]>(cap);
    }
    text[0] = '[';
    std::memcpy(text.get() + 1, d + begin + 1, body);
    if (!last) text[size - 1] = ']';
    std::memset(text.get() + size, 0, simdjson::SIMDJSON_PADDING);  // read, never used
    return {text.get(), size};
  }
};

/// What one thread needs to decode pieces: a simdjson parser, a padded copy of the piece and
/// an entry for the simdjson path.
struct piece_decoder {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> text;
  std::size_t cap = 0;
  sentence_prediction entry;

  /// Parses `p`; with `decode`, its entries into p.entries. The plain reader reads the piece in
  /// place; simdjson gets a padded copy of it as a list of its own.
  void parse(const char* d, piece& p, bool decode, const predictions_read_options& opt) {
    if (decode && simdjson_predictions::plain_mdetr_reader::read_piece(
                      std::string_view(d + p.begin, p.end - p.begin), p.last, p.entries)) {
      p.state = piece::ok;
      return;
    }
    p.entries.clear();
    const std::string_view t = p.bracketed(d, text, cap);
    simdjson::dom::element doc;
    simdjson::dom::array list;
    if (parser.parse(t.data(), t.size(), false).get(doc) != simdjson::SUCCESS ||
        doc.get_array().get(list) != simdjson::SUCCESS) {
      p.state = piece::syntax;
      return;
    }
    p.state = piece::ok;
    if (!decode) return;
    for (simdjson::dom::element e : list) {
      if (!simdjson_predictions::mdetr_entry(e, opt, entry)) {
        p.state = piece::structure;
        return;
      }
      p.entries.append(entry);
    }
  }
};

}  // namespace mdetr_stream

/// Streams the MDETR predictions list read from `is` through consume() in file order, calling
/// end_batch() after each batch: consume(sentence_prediction_block&) takes the entries a piece
/// of a batch at a time (and may swap the block for another: the next piece is decoded into
/// whatever block is left, emptied), consume(sentence_prediction&) an entry at a time.
/// `reopen()` returns the same bytes again from their start (a std::unique_ptr<std::istream>),
/// only used to locate a syntax error. Throws the reference parser's error (see the top of this
/// file for which one), or use_reference_parser. consume() must not throw.
template <class Reopen, class Consume, class EndBatch>
void stream_mdetr_predictions(std::istream& is, const std::string& source,
                              const predictions_read_options& opt, Reopen reopen, Consume consume,
                              EndBatch end_batch, const predictions_stream_sizes& sizes = {}) {
  using mdetr_stream::json_space;
  using mdetr_stream::piece;
  const std::size_t batch_bytes = std::max<std::size_t>(sizes.mdetr_batch_bytes, 1);
  stream_buffer buf(is, sizes.first_read, sizes.max_read);
  auto syntax_error = [&]() {
    auto again = reopen();
    reference_predictions::check_json_syntax(*again, source, reopen);
    throw use_reference_parser{};  // valid JSON that simdjson rejected
  };
  // The list starts at the first non-space byte (after a UTF-8 byte-order mark).
  std::size_t pos = 0;
  for (bool bom_checked = false;;) {
    if (buf.end() - pos < 3 && !buf.eof()) {
      pos -= buf.refill(pos);
      continue;
    }
    const char* d = buf.data();
    if (!bom_checked) {
      bom_checked = true;
      if (buf.end() >= 3 && std::memcmp(d, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    }
    while (pos < buf.end() && json_space(d[pos])) ++pos;
    if (pos < buf.end()) break;
    if (buf.eof()) throw use_reference_parser{};  // empty: the reference reports it
    pos -= buf.refill(pos);
  }
  if (buf.data()[pos] != '[') throw use_reference_parser{};  // not a list: the reference says so

  std::vector<std::unique_ptr<piece>> pieces;
  std::vector<std::unique_ptr<mdetr_stream::piece_decoder>> decoders;
  std::unique_ptr<char[]> text;  // a piece for the reference parser
  std::size_t text_cap = 0;
  std::vector<std::size_t> commas;
  std::size_t item = 0;
  std::exception_ptr malformed;  // the first malformed entry, reported after the syntax check
  constexpr bool by_block = std::is_invocable_v<Consume&, sentence_prediction_block&>;
  std::size_t want = batch_bytes;
  bool exact = false;  // find the separators exactly (after a parse failure)
  for (bool done = false; !done;) {
    while (!buf.eof() && buf.end() - pos < want) pos -= buf.refill(pos);
    const char* d = buf.data();
    const std::size_t end = buf.end();
    // The batch [pos, stop): up to a separator, or to the list's ']' at the end.
    std::size_t stop = std::string_view::npos;
    bool last = false;
    commas.clear();
    if (exact) {
      const std::size_t close = mdetr_stream::top_level_commas(d, pos + 1, end, commas);
      if (close != std::string_view::npos) {
        for (std::size_t i = close + 1; i < end; ++i)
          if (!json_space(d[i])) syntax_error();
        if (!buf.eof()) {  // what follows the list must be space up to the end
          want = end - pos + batch_bytes;
          continue;
        }
        stop = close + 1;
        last = true;
      } else if (!commas.empty() && !buf.eof()) {
        stop = commas.back();
        commas.pop_back();
      }
    } else if (buf.eof()) {
      std::size_t l = end;
      while (l > pos + 1 && json_space(d[l - 1])) --l;
      if (d[l - 1] != ']' || l == pos + 1) syntax_error();
      stop = l;
      last = true;
    } else {
      stop = mdetr_stream::find_cut(d, pos + 1, std::min(end, pos + want), end);
      if (stop == std::string_view::npos) stop = mdetr_stream::find_cut(d, pos + 1, end, end);
    }
    if (stop == std::string_view::npos) {
      if (buf.eof()) syntax_error();
      if (end - pos > max_jsonl_line_bytes)  // memory: no entry is held beyond the limit
        throw error(error_kind::parse, source + ": entry #" + std::to_string(item), 0,
                    "longer than the " + std::to_string(max_jsonl_line_bytes >> 20) +
                        " MiB limit of an MDETR predictions entry (a list never closed?)");
      want = end - pos + batch_bytes;  // one entry longer than a batch: read more
      continue;
    }
    want = batch_bytes;
    // Pieces of about sizes.piece_bytes, cut at separators; each thread decodes a run of them.
    std::vector<std::size_t> bounds{pos};
    for (;;) {
      const std::size_t target = bounds.back() + std::max<std::size_t>(sizes.piece_bytes, 1);
      if (target >= stop) break;
      std::size_t c = std::string_view::npos;
      if (exact) {
        auto it = std::lower_bound(commas.begin(), commas.end(), target);
        if (it != commas.end()) c = *it;
      } else {
        c = mdetr_stream::find_cut_after(d, bounds.back() + 1, target, stop);
      }
      if (c == std::string_view::npos) break;
      bounds.push_back(c);
    }
    bounds.push_back(stop);
    const std::size_t np = bounds.size() - 1;
    while (pieces.size() < np) pieces.push_back(std::make_unique<piece>());
    for (std::size_t k = 0; k < np; ++k) {
      pieces[k]->begin = bounds[k];
      pieces[k]->end = bounds[k + 1];
      pieces[k]->last = last && k + 1 == np;
    }
    const bool decode = !malformed;
    const unsigned t = static_cast<unsigned>(
        std::min<std::size_t>(predictions_threads(stop - pos, opt.threads, sizes), np));
    while (decoders.size() < t) decoders.push_back(std::make_unique<mdetr_stream::piece_decoder>());
    run_on_threads(t, [&](unsigned k) {
      for (std::size_t i = np * k / t; i < np * (k + 1) / t; ++i)
        decoders[k]->parse(d, *pieces[i], decode, opt);
    });
    bool retry = false;
    for (std::size_t k = 0; k < np && !retry; ++k)
      if (pieces[k]->state == piece::syntax) {
        if (exact) syntax_error();
        retry = exact = true;  // a separator may have been a false match: find them exactly
      }
    if (retry) continue;
    for (std::size_t k = 0; k < np; ++k) {
      piece& p = *pieces[k];
      if (!decode) break;
      if (p.state == piece::structure && !malformed) {
        // The reference decides this piece: it names the malformed entry, or reads it.
        std::vector<sentence_prediction> ref;
        try {
          const std::string_view list = p.bracketed(d, text, text_cap);
          const nlohmann::json doc = nlohmann::json::parse(list.begin(), list.end());
          reference_predictions::parse_mdetr_entries(doc, source, item, opt, ref);
        } catch (const nlohmann::json::exception&) {
          syntax_error();
        } catch (const error&) {
          malformed = std::current_exception();
        }
        if (!malformed) {
          if constexpr (by_block) {
            p.entries.clear();  // the piece's own block: blocks live until end_batch()
            for (const auto& sp : ref) p.entries.append(sp);
            consume(p.entries);
          } else {
            for (auto& sp : ref) consume(sp);
          }
          item += ref.size();
        }
        continue;
      }
      if (malformed) break;
      for (std::size_t i = 0; i < p.entries.size(); ++i) p.entries[i].item = item++;
      if constexpr (by_block) {
        consume(p.entries);
      } else {
        for (std::size_t i = 0; i < p.entries.size(); ++i) {
          sentence_prediction sp = p.entries.to_sentence_prediction(i);
          consume(sp);
        }
      }
    }
    if (!malformed) end_batch();
    exact = false;
    pos = stop;
    done = last;
  }
  if (malformed) std::rethrow_exception(malformed);
}

}  // namespace groundeval::detail
