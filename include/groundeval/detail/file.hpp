// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/file.hpp — whole-file reads for the loaders (private helper).
// Target: groundeval::core. Uses POSIX open/read where available (several times faster than
// iostreams for the ~64k small files of Flickr30k Entities), std::FILE otherwise.
#pragma once

#include <groundeval/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#if __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#define GROUNDEVAL_DETAIL_POSIX_IO 1
#endif

namespace groundeval::detail {

/// Reads the whole file into `out` (reusing its capacity). Returns false if it cannot be
/// opened or read, or holds more than `max_bytes` (then nothing beyond the limit is read and
/// errno is EFBIG); `out` is then unspecified and errno says why (see read_failure_reason).
inline bool read_whole_file(const std::string& path, std::string& out,
                            std::size_t max_bytes = static_cast<std::size_t>(-1)) {
  out.clear();
#if defined(GROUNDEVAL_DETAIL_POSIX_IO)
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  if (out.capacity() < 4096) out.reserve(4096);
  std::size_t size = 0;
  for (;;) {
    if (size > max_bytes) {
      ::close(fd);
      errno = EFBIG;
      return false;
    }
    if (out.capacity() - size < 1024) out.reserve(out.capacity() * 2);
    out.resize(out.capacity());
    const auto n = ::read(fd, out.data() + size, out.size() - size);
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return false;
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

/// Why the last read_whole_file failed, from errno: " (No such file or directory)", or
/// " (larger than the N MiB limit for one file)" for EFBIG with `max_bytes`.
inline std::string read_failure_reason(std::size_t max_bytes = 0) {
  const int e = errno;
  if (e == EFBIG && max_bytes > 0)
    return " (larger than the " + std::to_string(max_bytes >> 20) + " MiB limit for one file)";
  if (e == 0) return {};
  return std::string(" (") + std::strerror(e) + ")";
}

/// The whole file as bytes; throws groundeval::error (io) naming the path when it cannot be read.
/// `what` names the kind of file in the message ("cannot open image").
inline std::string read_file_bytes(const std::string& path, const char* what = "file") {
  std::string out;
  if (!read_whole_file(path, out))
    throw error(error_kind::io, path, 0,
                std::string("cannot open or read ") + what + read_failure_reason());
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
