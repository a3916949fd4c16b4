// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/flickr30k_sentences.hpp — parser for Flickr30k Entities `Sentences/<id>.txt`
// (`[/EN#<chain>/<type>... words]` markup). Target: groundeval::core (standard library only).
// Reproduces MDETR's copy of get_sentence_data exactly on well-formed input (sentence index,
// word index, spans); malformed markup is a problem (strict: error with file and line).
#pragma once

#include <groundeval/datasets/in_memory.hpp>
#include <groundeval/datasets/problems.hpp>
#include <groundeval/detail/text_encoding.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval {

/// One non-empty line of a Sentences file, already split into the cleaned sentence and its
/// phrases (boxes left empty; the annotation loader fills them).
struct flickr30k_sentence {
  std::string text;             ///< words joined by single spaces, markup removed
  std::size_t line = 0;         ///< 1-based physical line in the file (universal newlines)
  std::vector<phrase> phrases;  ///< in order of appearance
};

namespace detail {

/// Length in bytes of the Python `str.isspace()` character starting at s[i] (UTF-8), or 0.
/// Covers ASCII \t \n \v \f \r, \x1c-\x1f, space, and U+0085, U+00A0, U+1680, U+2000-U+200A,
/// U+2028, U+2029, U+202F, U+205F, U+3000 — what `str.split()` splits on.
constexpr std::size_t python_space_length(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c < 0xc2) return 0;
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  if (c == 0xc2) return (at(1) == 0x85 || at(1) == 0xa0) ? 2 : 0;
  if (c == 0xe1) return (at(1) == 0x9a && at(2) == 0x80) ? 3 : 0;
  if (c == 0xe2) {
    if (at(1) == 0x80) {
      const unsigned d = at(2);
      return ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf) ? 3 : 0;
    }
    return (at(1) == 0x81 && at(2) == 0x9f) ? 3 : 0;
  }
  if (c == 0xe3) return (at(1) == 0x80 && at(2) == 0x80) ? 3 : 0;
  return 0;
}

/// Byte classes for python_split: 0 = part of a word, 1 = ASCII whitespace, 2 = lead byte that
/// may start a multi-byte Unicode space (python_space_length decides).
struct python_space_table {
  unsigned char cls[256] = {};
  constexpr python_space_table() {
    for (unsigned c = 0; c < 256; ++c) {
      const char ch[1] = {static_cast<char>(c)};
      if (python_space_length(std::string_view(ch, 1), 0) == 1) cls[c] = 1;
    }
    cls[0xc2] = cls[0xe1] = cls[0xe2] = cls[0xe3] = 2;
  }
};
inline constexpr python_space_table python_space_classes{};

/// Length of the whitespace character at s[i] (0: none), with the table's fast path.
inline std::size_t python_space_at(std::string_view s, std::size_t i) noexcept {
  const unsigned k = python_space_classes.cls[static_cast<unsigned char>(s[i])];
  return k == 0 ? 0 : k == 1 ? 1 : python_space_length(s, i);
}

/// Python `str.split()` on UTF-8 bytes. `ascii`: the text is known to be pure ASCII, so only
/// the one-byte whitespace characters can occur (same result, fewer branches).
inline void python_split(std::string_view s, std::vector<std::string_view>& out,
                         bool ascii = false) {
  out.clear();
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (ascii) {
    const auto space = [&](std::size_t k) {
      return python_space_classes.cls[static_cast<unsigned char>(s[k])] != 0;
    };
    while (i < n) {
      while (i < n && space(i)) ++i;
      if (i >= n) break;
      const std::size_t b = i;
      while (i < n && !space(i)) ++i;
      out.push_back(s.substr(b, i - b));
    }
    return;
  }
  while (i < n) {
    std::size_t sp;
    while (i < n && (sp = python_space_at(s, i)) != 0) i += sp;
    if (i >= n) break;
    const std::size_t b = i;
    while (i < n && python_space_at(s, i) == 0) ++i;
    out.push_back(s.substr(b, i - b));
  }
}

/// End of the line starting at `i`: the first '\n' or '\r' at or after i, or content.size()
/// (two memchr scans instead of a byte loop; lines are ~100 bytes).
inline std::size_t line_end(std::string_view content, std::size_t i) noexcept {
  const char* const b = content.data() + i;
  const std::size_t rest = content.size() - i;
  const void* nl = std::memchr(b, '\n', rest);
  const std::size_t upto = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - b) : rest;
  const void* cr = upto ? std::memchr(b, '\r', upto) : nullptr;
  return i + (cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - b) : upto);
}

/// Checks the header token `[/EN#<digits>/<type>[/<type>...]`; on success fills id and types.
inline bool parse_phrase_header(std::string_view tok, std::string& id,
                                std::vector<std::string>& types, std::string& why) {
  constexpr std::string_view prefix = "[/EN#";
  if (tok.substr(0, prefix.size()) != prefix) {
    why = "phrase header must start with '[/EN#'";
    return false;
  }
  std::size_t i = prefix.size();
  const std::size_t id_begin = i;
  while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') ++i;
  if (i == id_begin || (i < tok.size() && tok[i] != '/')) {
    why = "chain id after '[/EN#' must be a non-empty run of digits";
    return false;
  }
  id.assign(tok.substr(id_begin, i - id_begin));
  types.clear();
  if (i >= tok.size()) {
    why = "phrase header has no type (expected '[/EN#<id>/<type>')";
    return false;
  }
  while (i < tok.size()) {  // tok[i] == '/'
    const std::size_t b = ++i;
    while (i < tok.size() && tok[i] != '/') ++i;
    if (i == b) {
      why = "empty type in phrase header";
      return false;
    }
    types.emplace_back(tok.substr(b, i - b));
  }
  return true;
}

inline std::string quoted(std::string_view s) {
  std::string q = "'";
  q.append(s.substr(0, 60));
  if (s.size() > 60) q += "...";
  q += "'";
  return q;
}

}  // namespace detail

/// Parses one line (without its line break). Appends nothing and reports nothing for an empty
/// line; callers skip empty lines before calling (they have no sentence index).
///
/// Rules (MDETR datasets/flickr_eval.py get_sentence_data): tokens = Python str.split(); a token
/// starting with '[' opens a phrase (header `[/EN#id/type...]`, not a word); inside a phrase a
/// token ending in ']' closes it (the ']' is stripped, the rest is the phrase's last word).
/// Span: char_begin = bytes of the preceding words + one space per preceding word.
/// Problems (strict → error "FILE:LINE: ..."): malformed header, header without words
/// (`[/EN#1/people]` or a lone `]`), '[' inside an open phrase (nesting), unterminated phrase.
/// Lenient mode then does what the reference parser does (or drops the broken phrase where the
/// reference would crash) and records the problem.
inline flickr30k_sentence parse_flickr30k_sentence_line(std::string_view line,
                                                        const std::string& file,
                                                        std::size_t line_no, problem_sink& sink,
                                                        bool ascii = false) {
  flickr30k_sentence out;
  out.line = line_no;
  thread_local std::vector<std::string_view> tokens;
  detail::python_split(line, tokens, ascii);

  // The sentence is never longer than the line (words joined by one space, markup removed):
  // written in place, sized once.
  std::string& text = out.text;
  text.resize(line.size());
  char* const tp = text.data();
  std::size_t len = 0;
  int n_words = 0;
  auto add_word = [&](std::string_view w) {
    if (n_words > 0) tp[len++] = ' ';
    if (!w.empty()) std::memcpy(tp + len, w.data(), w.size());
    len += w.size();
    ++n_words;
  };
  {
    std::size_t headers = 0;
    for (const std::string_view tok : tokens) headers += tok.front() == '[';
    out.phrases.reserve(headers);
  }

  // The open phrase is built in place at the back of out.phrases (no copy or move); a phrase
  // whose header is broken is removed when it ends.
  bool open = false;
  bool open_valid = false;  // header of the open phrase was well formed
  std::string why;
  for (const std::string_view tok : tokens) {
    if (!open) {
      if (tok.front() != '[') {
        add_word(tok);
        continue;
      }
      if (tok.back() == ']') {
        sink.report(error_kind::parse, file, line_no,
                    "phrase header without words: " + detail::quoted(tok));
        continue;  // lenient: the header is dropped
      }
      open = true;
      phrase& cur = out.phrases.emplace_back();
      cur.first_word_index = n_words;
      open_valid = detail::parse_phrase_header(tok, cur.chain_id, cur.types, why);
      if (!open_valid)
        sink.report(error_kind::parse, file, line_no, why + ": " + detail::quoted(tok));
      cur.char_begin = len + (n_words > 0 ? 1 : 0);
      continue;
    }
    // inside a phrase
    if (tok.front() == '[')
      sink.report(
          error_kind::parse, file, line_no,
          "'[' inside an open phrase (nested markup is not supported): " + detail::quoted(tok));
    if (tok.back() == ']') {
      const std::string_view w = tok.substr(0, tok.size() - 1);
      if (w.empty())
        sink.report(error_kind::parse, file, line_no,
                    "']' must close the phrase's last word, found a lone ']'");
      add_word(w);
      open = false;
      phrase& cur = out.phrases.back();
      if (open_valid) {
        cur.char_end = len;
        cur.text = std::string(tp + cur.char_begin, cur.char_end - cur.char_begin);
      } else {
        out.phrases.pop_back();
      }
      continue;
    }
    add_word(tok);
  }
  if (open) {
    sink.report(error_kind::parse, file, line_no,
                "unterminated phrase markup (no closing ']' before the end of the line)");
    out.phrases.pop_back();  // lenient: the unterminated phrase is dropped
  }
  text.resize(len);
  return out;
}

/// Parses a whole Sentences file. Lines are split with Python's universal newlines (\n, \r\n,
/// lone \r); empty lines are skipped and do not get a sentence index; a whitespace-only line is
/// a sentence without words or phrases (as in the reference). Text must be UTF-8: a UTF-16 file
/// is a problem at line 1, a line with invalid UTF-8 a problem at its line; a UTF-8 byte-order
/// mark is skipped.
inline std::vector<flickr30k_sentence> parse_flickr30k_sentences(std::string_view content,
                                                                 const std::string& file,
                                                                 problem_sink& sink) {
  std::vector<flickr30k_sentence> out;
  if (auto why = detail::utf16_problem(content); !why.empty()) {
    sink.report(error_kind::parse, file, 1, why);
    return out;
  }
  detail::strip_utf8_bom(content);  // not in the real data; Python would keep it as U+FEFF
  // Pure ASCII (nearly every file) cannot hold invalid UTF-8: skip the per-line check.
  bool ascii = true;
  {
    std::size_t k = 0;
    std::uint64_t high = 0;  // eight bytes at a time
    for (; k + 8 <= content.size(); k += 8) {
      std::uint64_t w;
      std::memcpy(&w, content.data() + k, 8);
      high |= w;
    }
    for (; k < content.size(); ++k) high |= static_cast<unsigned char>(content[k]);
    ascii = (high & 0x8080808080808080ULL) == 0;
  }
  out.reserve(6);
  std::size_t i = 0, line_no = 0;
  const std::size_t n = content.size();
  while (i < n) {
    const std::size_t e = detail::line_end(content, i);
    ++line_no;
    if (e > i) {
      const std::string_view line = content.substr(i, e - i);
      // MDETR reads the files as UTF-8 and fails on anything else; lenient mode keeps the bytes.
      if (auto why = ascii ? std::string() : detail::utf8_line_problem(line); !why.empty())
        sink.report(error_kind::parse, file, line_no, why);
      out.push_back(parse_flickr30k_sentence_line(line, file, line_no, sink, ascii));
    }
    std::size_t next = e;
    if (next < n && content[next] == '\r' && next + 1 < n && content[next + 1] == '\n') ++next;
    i = next + 1;
  }
  return out;
}

}  // namespace groundeval
