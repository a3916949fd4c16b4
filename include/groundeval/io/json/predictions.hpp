// SPDX-License-Identifier: Apache-2.0
// groundeval/io/json/predictions.hpp — reading and writing predictions: MDETR's JSON list
// ({image_id, sentence_id, boxes}) and the project's JSON Lines format (one line per phrase
// query; schema in docs/metrics.md). Target: groundeval::json (simdjson to read, nlohmann/json
// to write and as the reference reader).
//
// Coordinates are read as double, never rounded to float. Errors name the file and the line
// (JSON Lines) or the entry (MDETR JSON, plus the line of a syntax error). A non-numeric
// coordinate (JSON null, which is how NaN and infinities are written) is an error unless
// allow_non_finite is set; then it reads as NaN and the evaluator counts the box.
//
// How: files are read a batch at a time (a regular file up to 64 MiB read whole, in place) and
// decoded on several threads (predictions_stream.hpp: simdjson, and a one-pass reader for MDETR
// lists in their plain form); whatever that fast path does not decide itself goes to the reference
// parser on nlohmann/json (predictions_reference.hpp), which therefore defines every result and
// every error message. Both formats are read in bounded memory.
#pragma once

#include <groundeval/detail/batch_channel.hpp>
#include <groundeval/detail/file.hpp>
#include <groundeval/detail/text_encoding.hpp>
#include <groundeval/error.hpp>
#include <groundeval/eval/evaluate.hpp>
#include <groundeval/eval/predictions.hpp>
#include <groundeval/io/json/predictions_format.hpp>
#include <groundeval/io/json/predictions_reference.hpp>
#include <groundeval/io/json/predictions_stream.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <istream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace groundeval {

/// Parses MDETR-format predictions from `text`; `source` names the file in messages.
inline prediction_set parse_mdetr_predictions(std::string_view text, std::string source,
                                              const predictions_read_options& opt = {});
/// Reads MDETR-format predictions from a file.
inline prediction_set read_mdetr_predictions(const std::string& path,
                                             const predictions_read_options& opt = {});
/// Writes the per-sentence entries of `p` as an MDETR JSON list.
inline void write_mdetr_predictions(std::ostream& os, const prediction_set& p);

/// Parses one JSON Lines record (`line` is its 1-based line, for messages).
inline phrase_prediction_record parse_jsonl_record(std::string_view text, const std::string& source,
                                                   std::size_t line,
                                                   const predictions_read_options& opt = {});
/// Streams JSON Lines records one at a time; blank lines are skipped. It reads ahead of the
/// record it returns (a little at first, up to 4 MiB at a time on a long file).
class jsonl_prediction_reader {
 public:
  jsonl_prediction_reader(std::istream& is, std::string source, predictions_read_options opt = {})
      : m_reader(is, std::move(source), opt, {.first_read = std::size_t{1} << 13}) {}
  /// Reads the next record into `out`; false at the end of the input.
  bool next(phrase_prediction_record& out);
  /// 1-based number of the last line read.
  std::size_t line() const noexcept { return m_line; }
  /// Byte offset of the last record's line, counted from where the stream was when the reader
  /// was made (seek there and read again to get the record back: the replay grounder does).
  std::uint64_t offset() const noexcept { return m_record_offset; }

 private:
  detail::jsonl_batch_reader m_reader;
  std::size_t m_have = 0, m_next = 0, m_batch = 1, m_line = 0;
  std::uint64_t m_record_offset = 0;
};
/// Reads a whole JSON Lines file.
inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt = {});
/// Reads the JSON Lines records for which `keep(record)` is true; the others are parsed (and
/// checked) and dropped, so memory holds only what is kept (e.g. the few cases a report draws).
template <class Keep>
prediction_set read_jsonl_predictions_if(const std::string& path, Keep keep,
                                         const predictions_read_options& opt = {});
/// Writes one record as one line (with the trailing newline).
inline void write_jsonl_record(std::ostream& os, const phrase_prediction_record& r);
/// Writes the per-phrase records of `p`.
inline void write_jsonl_predictions(std::ostream& os, const prediction_set& p);

/// Format of a predictions file, from its first non-blank character ('[' or '{').
inline predictions_format detect_predictions_format(const std::string& path);
/// Reads either format (detected from the content).
inline prediction_set read_predictions(const std::string& path,
                                       const predictions_read_options& opt = {});

/// Evaluates a predictions file (either format) against `data` without holding the file in
/// memory: it is streamed through evaluator<D> a batch at a time (`batch` records of JSON
/// Lines, 4 MiB of an MDETR list), so memory is the data set plus one small record per phrase
/// whatever the file size. Same result and same errors as evaluate(data, read_predictions(path)).
/// A batch is large enough for the evaluator to measure it on two threads. A regular file is
/// read and decoded on a thread of its own, at most two batches ahead (predictions_input).
template <Dataset D>
evaluation_result evaluate_predictions_file(const D& data, const std::string& path,
                                            const evaluation_options& eopt = {},
                                            const predictions_read_options& ropt = {},
                                            std::size_t batch = 8192);

class predictions_input;
/// evaluate_predictions_file() on a file opened beforehand (see predictions_input). `in` is
/// read once, from its start. When its decoding has started already
/// (predictions_input::start_decoding), the reading options and batch given there apply.
template <Dataset D>
evaluation_result evaluate_predictions(const D& data, predictions_input& in,
                                       const evaluation_options& eopt = {},
                                       const predictions_read_options& ropt = {},
                                       std::size_t batch = 8192);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

/// A predictions file open for reading: a regular file (seekable, can be opened again), or a
/// pipe, FIFO or device (`<(zcat p.jsonl.gz)`, `/dev/stdin`), read once as a stream.
struct input_file {
  std::unique_ptr<std::istream> in;
  bool regular = true;
};

/// Opens `path`; a directory, a missing file and a FIFO nobody writes to are errors naming it
/// (never a hang: see open_for_reading).
inline input_file open_input(const std::string& path) {
  std::string prefix;
  const int fd = open_for_reading(path, prefix);
  if (fd < 0) {
    if (errno == EISDIR)
      throw error(error_kind::io, path, 0,
                  "is a directory, not a predictions file (a run directory's predictions are "
                  "DIR/predictions.jsonl)");
    throw error(error_kind::io, path, 0, "cannot open the file" + read_failure_reason());
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    ::close(fd);
    auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*f) throw error(error_kind::io, path, 0, "cannot open the file");
    return {std::move(f), true};
  }
  return {std::make_unique<fd_istream>(fd, std::move(prefix)), false};
}

inline std::ifstream open_input_file(const std::string& path) {
  input_file in = open_input(path);
  if (!in.regular)
    throw error(error_kind::io, path, 0,
                "is a pipe or a device, and this reads the file twice: write it to a file first");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw error(error_kind::io, path, 0, "cannot open the file");
  return f;
}

/// The rest of the stream `f` of the file `path`.
inline std::string read_stream(std::istream& f, const std::string& path) {
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw error(error_kind::io, path, 0, "read error");
  return std::move(ss).str();
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream f = open_input_file(path);
  return read_stream(f, path);
}

/// The format of the file `path` open in `f`, from its first non-blank character (the stream is
/// left after it).
inline predictions_format sniff_predictions_format(std::istream& f, const std::string& path);

/// A predictions file opened once: its format, and the stream back at the start of the file.
struct opened_predictions {
  std::unique_ptr<std::istream> in;
  predictions_format format;
  bool regular = false;  ///< a regular file (not a pipe or a device)
};
/// Opens a predictions file and reads its format. A pipe or device (`<(zcat p.jsonl.gz)`,
/// `/dev/stdin`) is read as a stream when it holds JSON Lines; MDETR JSON must be a regular file
/// (a malformed list is read twice: once to decode, once to locate the error).
inline opened_predictions open_predictions(const std::string& path);

inline nlohmann::json box_json(const box_xyxy<double>& b) {
  return nlohmann::json::array({b.x1, b.y1, b.x2, b.y2});
}

inline bool is_canonical_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || (s[i] == '0' && s.size() > i + 1)) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return s != "-0";
}

/// Streams the MDETR list of the file `path` (open in `in`, at its start) into consume().
template <class Consume, class EndBatch>
void stream_mdetr_file(std::istream& in, const std::string& path,
                       const predictions_read_options& opt, Consume consume, EndBatch end_batch) {
  stream_mdetr_predictions(
      in, path, opt,
      [&path]() -> std::unique_ptr<std::istream> {
        auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
        if (!*f) throw error(error_kind::io, path, 0, "cannot open the file again");
        return f;
      },
      consume, end_batch);
}

/// Deepest nesting the reference reader of an MDETR list accepts (an entry needs 5 levels: the
/// list, the entry, its phrase lists, a list, a box).
inline constexpr std::size_t max_mdetr_nesting = 64;

/// The reference reader over the MDETR list read from `in`, for a file that is valid JSON which
/// the fast path does not read (integers beyond 64 bits, nesting deeper than simdjson's limit):
/// entry by entry, so memory is a batch of entries and not the file (the whole file as one
/// nlohmann document took ~40 times its size). Calls consume(sentence_prediction&) for each
/// entry in file order and end_batch() after each batch. Errors: nesting deeper than
/// max_mdetr_nesting or an entry above max_jsonl_line_bytes (FILE:LINE), and the reference's
/// errors for malformed entries ("FILE: entry #N: ..."). False, having read nothing into
/// consume(), when the text does not start with a list (the caller asks the reference).
template <class Consume, class EndBatch>
bool reference_stream_mdetr(std::istream& in, const std::string& path,
                            const predictions_read_options& opt, Consume consume,
                            EndBatch end_batch) {
  constexpr std::size_t batch_bytes = std::size_t{4} << 20;
  std::string entries = "[";  // the entries of a batch, as a JSON list
  std::size_t depth = 0, line = 1, item = 0, at = 0;
  bool started = false, ended = false, in_string = false, escape = false;
  std::vector<sentence_prediction> out;
  auto decode = [&] {
    entries += ']';
    const nlohmann::json doc = reference_predictions::parse_json_document(entries, path);
    out.clear();
    reference_predictions::parse_mdetr_entries(doc, path, item, opt, out);
    for (auto& sp : out) consume(sp);
    end_batch();
    item += out.size();
    entries = "[";
  };
  std::vector<char> buf(std::size_t{1} << 20);
  while (!ended &&
         (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)) {
    const auto got = static_cast<std::size_t>(in.gcount());
    for (std::size_t i = 0; i < got && !ended; ++i, ++at) {
      const char c = buf[i];
      if (c == '\n') ++line;
      if (!started) {  // a UTF-8 byte-order mark and spaces before the list
        const bool bom = at < 3 && c == "\xEF\xBB\xBF"[at];
        if (c == '[')
          started = true, depth = 1;
        else if (!bom && c != ' ' && c != '\t' && c != '\r' && c != '\n')
          return false;
        continue;
      }
      if (in_string) {
        if (escape)
          escape = false;
        else if (c == '\\')
          escape = true;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        if (++depth > max_mdetr_nesting)
          throw error(error_kind::parse, path, line,
                      "JSON nested deeper than " + std::to_string(max_mdetr_nesting) +
                          " levels (an MDETR predictions entry needs 5)");
      } else if ((c == ']' || c == '}') && --depth == 0) {
        ended = true;  // the list's end: valid JSON (checked), only spaces follow
        continue;
      } else if (c == ',' && depth == 1 && entries.size() >= batch_bytes) {
        decode();
        continue;
      }
      entries += c;
      if (entries.size() > batch_bytes + max_jsonl_line_bytes)
        throw error(error_kind::parse, path, line,
                    "an MDETR predictions entry longer than the " +
                        std::to_string(max_jsonl_line_bytes >> 20) + " MiB limit");
    }
  }
  if (in.bad()) throw error(error_kind::io, path, 0, "read error");
  if (!started) return false;
  decode();
  return true;
}

/// All JSON Lines records of `f` for which keep(record) is true.
template <class Keep>
prediction_set read_jsonl_stream_if(std::istream& f, const std::string& path, Keep keep,
                                    const predictions_read_options& opt) {
  prediction_set out;
  out.source = path;
  jsonl_batch_reader reader(f, path, opt);
  while (const std::size_t n = reader.next(4096))
    for (std::size_t i = 0; i < n; ++i)
      if (keep(std::as_const(reader.records()[i])))
        out.phrases.push_back(std::move(reader.records()[i]));
  return out;
}

/// The whole MDETR list of the file `path` open in `f` (at its start).
inline prediction_set read_mdetr_stream(std::istream& f, const std::string& path,
                                        const predictions_read_options& opt) {
  prediction_set out;
  out.source = path;
  try {
    stream_mdetr_file(
        f, path, opt, [&](sentence_prediction& sp) { out.sentences.push_back(std::move(sp)); },
        [] {});
  } catch (const use_reference_parser&) {
    out.sentences.clear();
    std::ifstream again = open_input_file(path);
    if (!reference_stream_mdetr(
            again, path, opt,
            [&](sentence_prediction& sp) { out.sentences.push_back(std::move(sp)); }, [] {}))
      return reference_predictions::parse_mdetr_predictions(read_text_file(path), path, opt);
  }
  return out;
}

}  // namespace detail

inline prediction_set parse_mdetr_predictions(std::string_view text, std::string source,
                                              const predictions_read_options& opt) {
  prediction_set out;
  out.source = std::move(source);
  try {
    detail::memory_istream in(text);
    detail::stream_mdetr_predictions(
        in, out.source, opt,
        [text]() -> std::unique_ptr<std::istream> {
          return std::make_unique<detail::memory_istream>(text);
        },
        [&](sentence_prediction& sp) { out.sentences.push_back(std::move(sp)); }, [] {});
  } catch (const detail::use_reference_parser&) {
    return detail::reference_predictions::parse_mdetr_predictions(text, out.source, opt);
  }
  return out;
}

inline prediction_set read_mdetr_predictions(const std::string& path,
                                             const predictions_read_options& opt) {
  std::ifstream f = detail::open_input_file(path);
  return detail::read_mdetr_stream(f, path, opt);
}

inline void write_mdetr_predictions(std::ostream& os, const prediction_set& p) {
  os << "[";
  bool first = true;
  for (const auto& s : p.sentences) {
    nlohmann::json e;
    e["image_id"] = s.image_id;
    if (detail::is_canonical_int(s.sentence_id))
      e["sentence_id"] = std::stoll(s.sentence_id);
    else
      e["sentence_id"] = s.sentence_id;
    auto lists = nlohmann::json::array();
    for (const auto& l : s.boxes) {
      auto arr = nlohmann::json::array();
      for (const auto& b : l) arr.push_back(detail::box_json(b.box));
      lists.push_back(std::move(arr));
    }
    e["boxes"] = std::move(lists);
    os << (first ? "\n" : ",\n") << e.dump();
    first = false;
  }
  os << "\n]\n";
}

inline phrase_prediction_record parse_jsonl_record(std::string_view text, const std::string& source,
                                                   std::size_t line,
                                                   const predictions_read_options& opt) {
  std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  phrase_prediction_record r;
  detail::simdjson_predictions::record_decoder dec;
  if (dec.decode(padded.data(), text.size(), line, opt, r)) return r;
  return detail::reference_predictions::parse_jsonl_record(text, source, line, opt);
}

inline bool jsonl_prediction_reader::next(phrase_prediction_record& out) {
  if (m_next == m_have) {
    // Batches grow from one record, so reading a single record (the replay grounder seeks to
    // one and reads it) reads little; records before a bad line come out before its error.
    m_have = m_reader.next(m_batch, true);
    m_next = 0;
    m_batch = std::min<std::size_t>(m_batch * 2, 4096);
    if (m_have == 0) {
      m_line = m_reader.line();
      return false;
    }
  }
  out = std::move(m_reader.records()[m_next]);
  m_record_offset = m_reader.offset(m_next);
  m_line = out.line;
  ++m_next;
  return true;
}

template <class Keep>
prediction_set read_jsonl_predictions_if(const std::string& path, Keep keep,
                                         const predictions_read_options& opt) {
  auto f = detail::open_input(path);  // JSON Lines are read once: a pipe is fine
  return detail::read_jsonl_stream_if(*f.in, path, keep, opt);
}

inline prediction_set read_jsonl_predictions(const std::string& path,
                                             const predictions_read_options& opt) {
  return read_jsonl_predictions_if(
      path, [](const phrase_prediction_record&) { return true; }, opt);
}

inline void write_jsonl_record(std::ostream& os, const phrase_prediction_record& r) {
  nlohmann::ordered_json e;
  e["image_id"] = r.image_id;
  e["sentence_id"] = r.sentence_id;
  e["phrase_index"] = r.phrase_index;
  e["chain_id"] = r.chain_id;
  e["phrase"] = r.phrase;
  auto boxes = nlohmann::ordered_json::array();
  auto scores = nlohmann::ordered_json::array();
  for (const auto& b : r.result.boxes) {
    boxes.push_back({b.box.x1, b.box.y1, b.box.x2, b.box.y2});
    scores.push_back(b.score);
  }
  e["boxes"] = std::move(boxes);
  e["scores"] = std::move(scores);
  if (!r.result.points.empty()) {
    auto points = nlohmann::ordered_json::array();
    for (const auto& pt : r.result.points) points.push_back({pt.x, pt.y});
    e["points"] = std::move(points);
  }
  e["status"] = std::string(to_string(r.result.status));
  e["message"] = r.result.message;
  e["raw_text"] = r.result.raw_text;
  if (r.result.latency_s >= 0)
    e["latency_s"] = r.result.latency_s;
  else
    e["latency_s"] = nullptr;
  e["config_hash"] = r.config_hash;
  if (!r.result.geometry.empty()) {
    // The geometry contract is JSON text: embedded as a JSON value when it parses, else a string.
    auto g = nlohmann::ordered_json::parse(r.result.geometry, nullptr, false);
    if (g.is_discarded())
      e["geometry"] = r.result.geometry;
    else
      e["geometry"] = std::move(g);
  }
  // Invalid UTF-8 in model text is replaced rather than aborting the whole file.
  const std::string line = e.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // never write what the readers refuse (grounders cut raw_text and message: io/limits.hpp)
  if (line.size() > max_jsonl_line_bytes)
    throw error(error_kind::invalid, "predictions record", 0,
                "image " + r.image_id + " sentence " + std::to_string(r.sentence_id) + " phrase " +
                    std::to_string(r.phrase_index) + ": the record is " +
                    std::to_string(line.size()) + " bytes, above the " +
                    std::to_string(max_jsonl_line_bytes >> 20) +
                    " MiB limit of a JSON Lines record");
  os << line << '\n';
}

inline void write_jsonl_predictions(std::ostream& os, const prediction_set& p) {
  for (const auto& r : p.phrases) write_jsonl_record(os, r);
}

inline detail::opened_predictions detail::open_predictions(const std::string& path) {
  input_file file = open_input(path);
  std::istream& f = *file.in;
  const predictions_format format = sniff_predictions_format(f, path);
  f.clear();
  f.seekg(0);
  if (!f) throw error(error_kind::io, path, 0, "cannot read the file again from its start");
  if (!file.regular) {
    if (format == predictions_format::mdetr_json)
      throw error(error_kind::io, path, 0,
                  "MDETR JSON predictions cannot be read from a pipe or a device (a malformed "
                  "list is read a second time to find the error): write them to a file first, "
                  "or give JSON Lines, which are read as a stream");
    static_cast<fd_istream&>(f).forget_start();
  }
  return {std::move(file.in), format, file.regular};
}

inline predictions_format detect_predictions_format(const std::string& path) {
  return detail::open_predictions(path).format;
}

/// A predictions file opened for evaluation: its format read and, for a regular file up to 64
/// MiB, its bytes read whole (detail::whole_file_istream; a larger file, a pipe or a device is
/// read later through a bounded buffer). Opening needs no data set, so it can run on another
/// thread while the data set loads (`groundeval evaluate` does). Errors as
/// evaluate_predictions_file's (a missing file, a directory, a FIFO nobody writes to, a file
/// that is not predictions, MDETR JSON from a pipe), each naming the file.
///
/// start_decoding() goes further: a thread of its own reads and decodes the file a batch at a
/// time, at most two batches ahead of the evaluation (so memory stays bounded whatever the file's
/// size), and evaluate_predictions() takes the decoded batches in file order. `groundeval
/// evaluate` starts it while the data set loads, so that the two overlap; evaluate_predictions()
/// starts it itself otherwise (the evaluator's index is then built while the first batch is
/// decoded). The results, and which error is reported, do not change. A pipe or a device is
/// always read on the evaluating thread (a writer that stalls must not keep an error waiting).
class predictions_input {
 public:
  explicit predictions_input(std::string path)
      : m_path(std::move(path)), m_opened(detail::open_predictions(m_path)) {
    if (m_opened.regular) {
      m_whole = std::make_unique<detail::whole_file_istream>(m_path);
      if (!m_whole->is_open()) m_whole.reset();
    }
  }
  predictions_input(predictions_input&&) noexcept = default;
  predictions_input& operator=(predictions_input&& o) noexcept {
    if (this != &o) {
      m_decoder.reset();  // the decoding thread stops before the stream it reads goes
      m_path = std::move(o.m_path);
      m_opened = std::move(o.m_opened);
      m_whole = std::move(o.m_whole);
      m_decoder = std::move(o.m_decoder);
    }
    return *this;
  }
  /// Stops the decoding thread, if any, and waits for it.
  ~predictions_input() { m_decoder.reset(); }

  const std::string& path() const noexcept { return m_path; }
  predictions_format format() const noexcept { return m_opened.format; }
  /// The file's bytes from its start (the whole-file copy where there is one). Not to be read
  /// once decoding has started.
  std::istream& stream() noexcept { return m_whole ? *m_whole : *m_opened.in; }

  /// Starts reading and decoding the file on another thread with `opt` (evaluate_predictions()
  /// then uses these options for reading): `jsonl_batch` records of JSON Lines or 4 MiB of an
  /// MDETR list per batch. Does nothing when decoding has started or the input is not a regular
  /// file. Call at most once before evaluate_predictions().
  void start_decoding(const predictions_read_options& opt, std::size_t jsonl_batch = 8192) {
    if (m_decoder || !m_opened.regular) return;
    auto st = std::make_unique<decoder>();
    st->options = opt;
    std::istream* f = &stream();
    if (m_opened.format == predictions_format::mdetr_json) {
      st->mdetr =
          std::make_unique<detail::batch_channel<sentence_prediction_block>>(decoder::ahead);
      st->thread = std::thread([ch = st->mdetr.get(), f, path = m_path, opt] {
        produce(*ch, [&] {
          auto cur = ch->take_free();
          detail::stream_mdetr_file(
              *f, path, opt,
              [&](sentence_prediction_block& b) {  // a piece's entries
                if (cur.used == cur.records.size()) cur.records.emplace_back();
                std::swap(cur.records[cur.used++], b);  // the reader reuses what it gets back
              },
              [&] {
                ch->push(std::move(cur));
                cur = ch->take_free();
              });
        });
      });
    } else {
      st->jsonl = std::make_unique<detail::batch_channel<phrase_prediction_record>>(decoder::ahead);
      st->thread = std::thread([ch = st->jsonl.get(), f, path = m_path, opt, jsonl_batch] {
        produce(*ch, [&] {
          detail::jsonl_batch_reader reader(*f, path, opt);
          while (const std::size_t n = reader.next(jsonl_batch)) {
            auto b = ch->take_free();
            std::swap(b.records, reader.records());  // the reader reuses the recycled records
            b.used = n;
            ch->push(std::move(b));
          }
        });
      });
    }
    m_decoder = std::move(st);
  }
  /// Waits for the decoding thread to end (after its batches were all taken), keeping them.
  void wait_decoding() {
    if (m_decoder && m_decoder->thread.joinable()) m_decoder->thread.join();
  }
  /// The options decoding was started with, or null.
  const predictions_read_options* decoding_options() const noexcept {
    return m_decoder ? &m_decoder->options : nullptr;
  }
  /// The decoded batches of an MDETR list (a block per piece of the file) / of JSON Lines once
  /// decoding has started, else null.
  detail::batch_channel<sentence_prediction_block>* mdetr_batches() noexcept {
    return m_decoder ? m_decoder->mdetr.get() : nullptr;
  }
  detail::batch_channel<phrase_prediction_record>* jsonl_batches() noexcept {
    return m_decoder ? m_decoder->jsonl.get() : nullptr;
  }

 private:
  struct decoder {
    static constexpr std::size_t ahead = 2;  // decoded batches waiting at most
    predictions_read_options options;
    std::unique_ptr<detail::batch_channel<sentence_prediction_block>> mdetr;
    std::unique_ptr<detail::batch_channel<phrase_prediction_record>> jsonl;
    std::thread thread;
    ~decoder() {
      if (mdetr) mdetr->cancel();
      if (jsonl) jsonl->cancel();
      if (thread.joinable()) thread.join();
    }
  };
  /// Runs read() on the decoding thread and closes `ch` with how it ended.
  template <class Channel, class Read>
  static void produce(Channel& ch, Read read) noexcept {
    try {
      read();
      ch.close(nullptr);
    } catch (const detail::batch_channel_cancelled&) {
      ch.close(nullptr);  // the evaluation gave up: nobody reads on
    } catch (...) {
      ch.close(std::current_exception());
    }
  }

  std::string m_path;
  detail::opened_predictions m_opened;
  std::unique_ptr<detail::whole_file_istream> m_whole;
  std::unique_ptr<decoder> m_decoder;  // last: destroyed (joined) before the streams it reads
};

inline predictions_format detail::sniff_predictions_format(std::istream& f,
                                                           const std::string& path) {
  char c = 0;
  std::size_t line = 1;
  char head[3] = {0, 0, 0};
  f.read(head, 3);
  const std::string_view h(head, static_cast<std::size_t>(f.gcount()));
  if (auto why = detail::utf16_problem(h); !why.empty())
    throw error(error_kind::parse, path, 1, why);
  f.clear();
  f.seekg(h == "\xEF\xBB\xBF" ? 3 : 0);  // a UTF-8 byte-order mark is skipped
  while (f.get(c)) {
    if (c == '\n') ++line;
    if (c == '[') return predictions_format::mdetr_json;
    if (c == '{') return predictions_format::jsonl;
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      throw error(error_kind::parse, path, line,
                  "not a predictions file (expected '[' for MDETR JSON or '{' for JSON Lines)");
  }
  throw error(error_kind::parse, path, line, "the predictions file is empty");
}

inline prediction_set read_predictions(const std::string& path,
                                       const predictions_read_options& opt) {
  auto opened = detail::open_predictions(path);
  std::istream& f = *opened.in;
  if (opened.format == predictions_format::mdetr_json)
    return detail::read_mdetr_stream(f, path, opt);
  return detail::read_jsonl_stream_if(
      f, path, [](const phrase_prediction_record&) { return true; }, opt);
}

template <Dataset D>
evaluation_result evaluate_predictions_file(const D& data, const std::string& path,
                                            const evaluation_options& eopt,
                                            const predictions_read_options& ropt,
                                            std::size_t batch) {
  predictions_input in(path);  // opened once
  return evaluate_predictions(data, in, eopt, ropt, batch);
}

namespace detail {

/// Takes the batches of `ch` in order through fn(batch), then rethrows how the producer ended,
/// if it failed. On any exit the channel is cancelled (a producer still reading stops).
template <class Record, class Fn>
void drain_batches(batch_channel<Record>& ch, Fn&& fn) {
  struct cancel_on_exit {
    batch_channel<Record>& ch;
    ~cancel_on_exit() { ch.cancel(); }
  } guard{ch};
  while (auto b = ch.pop()) {
    fn(*b);
    ch.recycle(std::move(*b));
  }
  if (auto e = ch.error()) std::rethrow_exception(e);
}

}  // namespace detail

template <Dataset D>
evaluation_result evaluate_predictions(const D& data, predictions_input& in,
                                       const evaluation_options& eopt,
                                       const predictions_read_options& ropt, std::size_t batch) {
  const std::string& path = in.path();
  const predictions_format format = in.format();
  predictions_read_options opt = ropt;
  if (!opt.threads) opt.threads = eopt.threads;
  in.start_decoding(opt, batch);  // the evaluator is built while the first batch is decoded
  if (const predictions_read_options* started = in.decoding_options()) opt = *started;
  evaluator<D> ev(data, eopt, path);
  if (format == predictions_format::mdetr_json) {
    // An entry the evaluator rejects is reported once the whole list is known to be readable:
    // reading it first (a syntax error anywhere, a malformed entry) takes precedence.
    // (A block's entries after a rejected one are not matched: the first rejection is final.)
    std::exception_ptr rejected;
    evaluator<D>* to = &ev;
    auto add = [&](const auto& entries) {  // a sentence_prediction or a block of them
      if (rejected) return;
      try {
        to->add(entries);
      } catch (const error&) {
        rejected = std::current_exception();
      }
    };
    try {
      if (auto* ch = in.mdetr_batches())
        detail::drain_batches(*ch, [&](auto& b) {
          for (std::size_t i = 0; i < b.used; ++i) add(b.records[i]);
          ev.measure_pending();
        });
      else
        detail::stream_mdetr_file(in.stream(), path, opt, add, [&] { ev.measure_pending(); });
    } catch (const detail::use_reference_parser&) {
      // valid JSON the fast path does not read: the reference, an entry at a time
      evaluator<D> again(data, eopt, path);
      to = &again;
      rejected = nullptr;
      std::ifstream f2 = detail::open_input_file(path);
      if (!detail::reference_stream_mdetr(f2, path, opt, add, [&] { again.measure_pending(); }))
        return evaluate(data,
                        detail::reference_predictions::parse_mdetr_predictions(
                            detail::read_text_file(path), path, opt),
                        eopt);
      if (rejected) std::rethrow_exception(rejected);
      return again.finish();
    }
    in.wait_decoding();
    if (rejected) std::rethrow_exception(rejected);
    return ev.finish();
  }
  if (auto* ch = in.jsonl_batches()) {
    detail::drain_batches(*ch, [&](auto& b) {
      for (std::size_t i = 0; i < b.used; ++i) {
        if (const std::size_t a = i + detail::prefetch_distance; a < b.used) {  // as above
          detail::prefetch(b.records[a].result.boxes.data());
          detail::prefetch(b.records[a].image_id.data());
        }
        ev.add(b.records[i]);
      }
      ev.measure_pending();  // the records may be reused from here on
    });
    in.wait_decoding();
    return ev.finish();
  }
  detail::jsonl_batch_reader reader(in.stream(), path, opt);
  while (const std::size_t n = reader.next(batch)) {
    for (std::size_t i = 0; i < n; ++i) ev.add(reader.records()[i]);
    ev.measure_pending();  // the records may be overwritten from here on
  }
  return ev.finish();
}

}  // namespace groundeval
