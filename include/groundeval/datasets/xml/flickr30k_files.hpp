// SPDX-License-Identifier: Apache-2.0
// groundeval/datasets/xml/flickr30k_files.hpp — reading the ~64k small files of a
// Flickr30k Entities folder: each opened relative to its folder (openat) into a reused per-thread
// buffer, with a size limit. Target: groundeval::xml (POSIX where available).
#pragma once

#include <groundeval/detail/file.hpp>

#if defined(GROUNDEVAL_DETAIL_POSIX_IO) && __has_include(<sys/stat.h>)
#include <sys/stat.h>
#define GROUNDEVAL_DETAIL_FLICKR_OPENAT 1
#endif

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace groundeval::detail {

inline std::string path_join(const std::string& a, std::string_view b) {
  std::string p = a;
  if (!p.empty() && p.back() != '/') p += '/';
  p += b;
  return p;
}

/// Largest Annotations or Sentences file read (the real ones are below 10 KiB): a bigger one is
/// an io problem naming the limit, so a stray huge file cannot exhaust memory.
inline constexpr std::size_t flickr30k_max_file_bytes = std::size_t{64} << 20;

/// A folder opened once for the whole load, so that each file is opened relative to it (openat:
/// no walk of the root path per file). fd < 0 when unavailable: files are then opened by path.
struct flickr30k_folder {
  int fd = -1;
  flickr30k_folder() = default;
  explicit flickr30k_folder(const std::string& path) {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#else
    (void)path;
#endif
  }
  flickr30k_folder(const flickr30k_folder&) = delete;
  flickr30k_folder& operator=(const flickr30k_folder&) = delete;
  ~flickr30k_folder() {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
    if (fd >= 0) ::close(fd);
#endif
  }
};

/// read_whole_file into a per-thread std::string (one per `slot`, 0 or 1) that `out` views.
inline bool read_flickr30k_file_whole(const std::string& path, std::size_t max_bytes,
                                      std::string_view& out, int slot) {
  thread_local std::string bufs[2];
  std::string& buf = bufs[slot & 1];
  if (!read_whole_file(path, buf, max_bytes)) return false;
  out = buf;
  return true;
}

/// Reads one small file into a per-thread buffer that is reused and never zero-filled: openat
/// (relative to `dir`) + fstat + one read of the file's size + close. `out` views the buffer
/// until the next call on this thread with the same `slot` (two buffers: 0 and 1). Returns false
/// with errno set (EFBIG above `max_bytes`), like read_whole_file; `path` is opened instead when
/// `dir` is not open.
inline bool read_flickr30k_file(const flickr30k_folder& dir, const std::string& name,
                                const std::string& path, std::size_t max_bytes,
                                std::string_view& out, int slot = 0) {
#if defined(GROUNDEVAL_DETAIL_FLICKR_OPENAT)
  struct buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };
  thread_local buffer bufs[2];
  buffer& buf = bufs[slot & 1];
  // O_NONBLOCK: opening a FIFO nobody writes to must not block; anything but a regular file is
  // read by read_whole_file, which waits for a FIFO's writer a bounded time.
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  const int fd = dir.fd >= 0 ? ::openat(dir.fd, name.c_str(), flags) : ::open(path.c_str(), flags);
  if (fd < 0) return false;
  auto fail = [fd](int e) {
    ::close(fd);
    errno = e;
    return false;
  };
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!regular && !S_ISDIR(st.st_mode)) {
    ::close(fd);
    return read_flickr30k_file_whole(path, max_bytes, out, slot);
  }
  const std::size_t expected = regular ? static_cast<std::size_t>(st.st_size) : 0;
  if (expected > max_bytes) return fail(EFBIG);
  std::size_t size = 0;
  auto reserve = [&](std::size_t cap) {
    if (buf.capacity >= cap) return;
    cap = std::max({cap, buf.capacity * 2, std::size_t{16384}});
    std::unique_ptr<char[]> d(new char[cap]);
    if (size) std::memcpy(d.get(), buf.data.get(), size);
    buf.data = std::move(d);
    buf.capacity = cap;
  };
  reserve(expected + 1);  // +1: a short read then proves the end of the file
  for (;;) {
    if (size == buf.capacity) reserve(size + 1);
    const auto n = ::read(fd, buf.data.get() + size, buf.capacity - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
    if (size > max_bytes) return fail(EFBIG);
    if (regular && size >= expected && size < buf.capacity) break;  // short read: end of file
  }
  ::close(fd);
  out = std::string_view(buf.data.get(), size);
  return true;
#else
  (void)dir;
  (void)name;
  return read_flickr30k_file_whole(path, max_bytes, out, slot);
#endif
}

}  // namespace groundeval::detail
