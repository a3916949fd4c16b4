// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/file.hpp — whole-file reads for the loaders (private helper).
// Target: groundeval::core. Uses POSIX open/read where available (several times faster than
// iostreams for the ~64k small files of Flickr30k Entities), std::FILE otherwise.
#pragma once

#include <groundeval/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <istream>
#include <string>

#if __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define GROUNDEVAL_DETAIL_POSIX_IO 1
#endif

namespace groundeval::detail {

/// How long open_for_reading() waits for a program to open a FIFO (named pipe) for writing.
inline constexpr int fifo_writer_wait_ms = 2000;

#if defined(GROUNDEVAL_DETAIL_POSIX_IO)
/// Closes `fd` and sets errno to `e` (for a failure return); returns -1.
inline int close_failing(int fd, int e) noexcept {
  ::close(fd);
  errno = e;
  return -1;
}

/// Opens `path` for reading without ever blocking on the open: a directory fails with EISDIR;
/// a FIFO (named pipe, `<(cmd)`, `/dev/stdin` on a pipe) is opened non-blocking and waited on
/// until a program writes to it or has it open for writing, at most `writer_wait_ms`, then fails
/// with EPIPE (nothing written and no writer: a `mkfifo` nobody writes to would block forever).
/// Bytes read while waiting are appended to `prefix`. Returns the descriptor (blocking reads
/// from here on) or -1 with errno set (see read_failure_reason).
inline int open_for_reading(const std::string& path, std::string& prefix,
                            int writer_wait_ms = fifo_writer_wait_ms) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  auto fail = [fd](int e) { return close_failing(fd, e); };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno);
  if (S_ISDIR(st.st_mode)) return fail(EISDIR);
  if (S_ISFIFO(st.st_mode)) {
    // read() of a non-blocking FIFO: data, EAGAIN (a writer, no data yet) or 0 (no writer)
    for (int waited = 0;; waited += 20) {
      char c = 0;
      const auto n = ::read(fd, &c, 1);
      if (n == 1) {
        prefix += c;
        break;
      }
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0 && errno != EINTR) return fail(errno);
      if (waited >= writer_wait_ms) return fail(EPIPE);
      ::usleep(20000);
    }
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return fail(errno);
  return fd;
}
#endif

#if defined(GROUNDEVAL_DETAIL_POSIX_IO)
/// An input stream over an open file descriptor (a pipe, a FIFO, a device: whatever cannot be
/// reopened or seeked), which it closes. Until forget_start() it keeps every byte from the start
/// (at most `keep_limit`), so that seekg() back to the start works: a reader can look at the
/// first bytes (the format) and then read everything from the start.
class fd_istream : public std::istream {
 public:
  /// `prefix`: bytes already read from `fd` (open_for_reading's), read first.
  explicit fd_istream(int fd, std::string prefix = {},
                      std::size_t keep_limit = std::size_t{1} << 20)
      : std::istream(nullptr), m_buf(fd, std::move(prefix), keep_limit) {
    rdbuf(&m_buf);
  }
  fd_istream(const fd_istream&) = delete;
  fd_istream& operator=(const fd_istream&) = delete;
  /// Stops keeping the bytes before the read position (seeking back is no longer possible).
  void forget_start() noexcept { m_buf.keep = false; }

 private:
  struct buffer : std::streambuf {
    int fd;
    std::string data;  // data[0] is at offset `base` of the stream
    std::uint64_t base = 0;
    std::size_t keep_limit;
    bool keep = true;
    buffer(int f, std::string prefix, std::size_t limit)
        : fd(f), data(std::move(prefix)), keep_limit(limit) {
      setg(data.data(), data.data(), data.data() + data.size());
    }
    ~buffer() override { ::close(fd); }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    int_type underflow() override {
      if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
      std::size_t at = static_cast<std::size_t>(gptr() - eback());
      if (!keep || data.size() >= keep_limit) {  // drop what was read
        keep = false;
        base += at;
        data.clear();
        at = 0;
      }
      const std::size_t old = data.size();
      data.resize(old + (std::size_t{1} << 16));
      ssize_t n;
      do n = ::read(fd, data.data() + old, data.size() - old);
      while (n < 0 && errno == EINTR);
      data.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
      setg(data.data(), data.data() + at, data.data() + data.size());
      if (n < 0) throw std::ios_base::failure("read error");  // sets badbit
      return n == 0 ? traits_type::eof() : traits_type::to_int_type(*gptr());
    }
    std::streamsize xsgetn(char* s, std::streamsize count) override {
      std::streamsize got = 0;
      while (got < count) {
        if (gptr() == egptr() && !keep && count - got >= (1 << 16)) {
          // a large read with nothing buffered: straight into the caller's memory
          ssize_t n;
          do n = ::read(fd, s + got, static_cast<std::size_t>(count - got));
          while (n < 0 && errno == EINTR);
          if (n < 0) throw std::ios_base::failure("read error");
          if (n == 0) break;
          got += n;
          base += static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(egptr() - eback());
          data.clear();
          setg(data.data(), data.data(), data.data());
          continue;
        }
        if (gptr() == egptr() && traits_type::eq_int_type(underflow(), traits_type::eof())) break;
        const std::streamsize take = std::min<std::streamsize>(count - got, egptr() - gptr());
        std::memcpy(s + got, gptr(), static_cast<std::size_t>(take));
        gbump(static_cast<int>(take));
        got += take;
      }
      return got;
    }
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
      const std::uint64_t here = base + static_cast<std::uint64_t>(gptr() - eback());
      std::int64_t to = off;
      if (dir == std::ios_base::cur)
        to += static_cast<std::int64_t>(here);
      else if (dir != std::ios_base::beg)
        return pos_type(off_type(-1));
      if (to < static_cast<std::int64_t>(base) ||
          static_cast<std::uint64_t>(to) > base + data.size())
        return pos_type(off_type(-1));  // only within what is held
      setg(data.data(), data.data() + (static_cast<std::uint64_t>(to) - base),
           data.data() + data.size());
      return pos_type(off_type(to));
    }
    pos_type seekpos(pos_type p, std::ios_base::openmode m) override {
      return seekoff(off_type(p), std::ios_base::beg, m);
    }
  } m_buf;
};
#endif

/// Reads the whole file into `out` (reusing its capacity). Returns false if it cannot be
/// opened or read, or holds more than `max_bytes` (then nothing beyond the limit is read, at
/// most `max_bytes` + 1 bytes are held, and errno is EFBIG); `out` is then unspecified and errno
/// says why (see read_failure_reason). A directory fails with EISDIR; a FIFO is read as a stream
/// (see open_for_reading: it never blocks on one without a writer); a character device such as
/// /dev/zero is read up to the limit. `spare`: capacity to reserve beyond a regular file's size
/// (padding a parser needs after the text, without a copy).
inline bool read_whole_file(const std::string& path, std::string& out,
                            std::size_t max_bytes = static_cast<std::size_t>(-1),
                            std::size_t spare = 0) {
  out.clear();
#if defined(GROUNDEVAL_DETAIL_POSIX_IO)
  const int fd = open_for_reading(path, out);
  if (fd < 0) return false;
  auto fail = [fd](int e) { return close_failing(fd, e) == 0; };
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && static_cast<std::uint64_t>(st.st_size) > max_bytes) return fail(EFBIG);
  // never more than max_bytes + 1 bytes: one byte beyond the limit proves it is passed
  const std::size_t hold = max_bytes == static_cast<std::size_t>(-1) ? max_bytes : max_bytes + 1;
  std::size_t size = out.size();
  // a regular file: its size + 1 (a read of 0 bytes there proves the end) + spare, no growth
  const std::size_t want = regular ? static_cast<std::size_t>(st.st_size) + 1 + spare : 4096;
  const std::size_t most = hold > static_cast<std::size_t>(-1) - spare ? hold : hold + spare;
  if (out.capacity() < std::min(want, most)) out.reserve(std::min(want, most));
  for (;;) {
    if (size > max_bytes) return fail(EFBIG);
    if (out.capacity() - size < (regular ? 1 : 1024) && out.capacity() < hold)
      out.reserve(std::min(out.capacity() * 2, hold));
    out.resize(std::min(out.capacity(), hold));
    const auto n = ::read(fd, out.data() + size, out.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(size);
  return true;
#else
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[16384];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    out.append(buf, n);
    if (out.size() > max_bytes) {
      std::fclose(f);
      errno = EFBIG;
      return false;
    }
    if (n < sizeof buf) break;
  }
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
#endif
}

/// A size limit in words: "64 MiB", "512 KiB", "100 bytes".
inline std::string byte_limit_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

/// Why the last read_whole_file failed, from errno: " (No such file or directory)", or
/// " (larger than the N MiB limit for one file)" for EFBIG with `max_bytes`, or the FIFO case.
inline std::string read_failure_reason(std::size_t max_bytes = 0) {
  const int e = errno;
  if (e == EFBIG && max_bytes > 0)
    return " (larger than the " + byte_limit_text(max_bytes) + " limit for one file)";
  if (e == EPIPE)
    return " (a pipe or FIFO with nothing written to it: no program wrote to it within " +
           std::to_string(fifo_writer_wait_ms / 1000) +
           " s; start the program that writes it first, or give a regular file)";
  if (e == 0) return {};
  return std::string(" (") + std::strerror(e) + ")";
}

/// The whole file, at most `max_bytes`; throws groundeval::error (io) naming the path and the
/// limit when it cannot be read: "PATH: cannot read <what> (larger than the 64 MiB limit for one
/// file)".
inline std::string read_file_bytes(const std::string& path, std::size_t max_bytes,
                                   const std::string& what = "file") {
  std::string out;
  if (!read_whole_file(path, out, max_bytes))
    throw error(error_kind::io, path, 0, "cannot read " + what + read_failure_reason(max_bytes));
  return out;
}

/// True if a regular file or directory can be opened for reading at `path`.
inline bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

}  // namespace groundeval::detail
