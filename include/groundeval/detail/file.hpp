// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/file.hpp — whole-file reads for the loaders (private helper).
// Target: groundeval::core. Uses POSIX open/read where available (several times faster than
// iostreams for the ~64k small files of Flickr30k Entities), std::FILE otherwise.
#pragma once

#include <groundeval/error.hpp>

#include <cstddef>
#include <cstdio>
#include <string>

#if __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#define GROUNDEVAL_DETAIL_POSIX_IO 1
#endif

namespace groundeval::detail {

/// Reads the whole file into `out` (reusing its capacity). Returns false if it cannot be
/// opened or read; `out` is then unspecified.
inline bool read_whole_file(const std::string& path, std::string& out) {
  out.clear();
#if defined(GROUNDEVAL_DETAIL_POSIX_IO)
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  if (out.capacity() < 4096) out.reserve(4096);
  std::size_t size = 0;
  for (;;) {
    if (out.capacity() - size < 1024) out.reserve(out.capacity() * 2);
    out.resize(out.capacity());
    const auto n = ::read(fd, out.data() + size, out.size() - size);
    if (n < 0) {
      ::close(fd);
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
    if (n < sizeof buf) break;
  }
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
#endif
}

/// The whole file as bytes; throws groundeval::error (io) naming the path when it cannot be read.
/// `what` names the kind of file in the message ("cannot open image").
inline std::string read_file_bytes(const std::string& path, const char* what = "file") {
  std::string out;
  if (!read_whole_file(path, out))
    throw error(error_kind::io, path, 0, std::string("cannot open or read ") + what);
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
