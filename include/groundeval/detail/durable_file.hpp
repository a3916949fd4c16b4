// SPDX-License-Identifier: Apache-2.0
// groundeval/detail/durable_file.hpp — the one write-and-fsync path of the library: whole-buffer
// write(2) retried on EINTR and partial writes, fsync(2), atomic replacement of a file (temporary
// file, fsync, rename, fsync of the directory; the fsyncs skipped for derived outputs) and a
// durable append-only file. Errors are
// groundeval::error (io) naming the file. Target: groundeval::core (standard library plus POSIX).
#pragma once

#include <groundeval/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace groundeval::detail {

/// strerror(errno), for messages.
inline std::string errno_text() { return std::strerror(errno); }

/// write(2) of the whole buffer, retrying on EINTR and partial writes; `where` names the file.
inline void write_all(int fd, std::string_view data, const std::string& where) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw error(error_kind::io, where, 0, "write failed: " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// fsync(2), retried on EINTR.
inline void fsync_file(int fd, const std::string& where) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    throw error(error_kind::io, where, 0, "fsync failed: " + errno_text());
  }
}

/// fsync of a directory, so a rename or a new file in it survives a crash. Best effort: some
/// file systems do not allow opening directories.
inline void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

/// What an atomic replacement of a file guarantees beyond atomicity.
enum class durability {
  /// The new content survives a crash or power loss once the call returns (two fsyncs): run
  /// directories' manifests and anything else that cannot be computed again.
  durable,
  /// Readers still see the old or the new content, never a mix, but a power loss shortly after
  /// may leave the old content (or an empty file on some file systems). For outputs derived from
  /// durable inputs and cheap to compute again, such as evaluation and statistics reports: the
  /// fsyncs cost 1-3 ms on ext4, up to a tenth of a whole `groundeval evaluate`.
  atomic_only
};

/// write_file_atomically (below), the content written by fill(fd, tmp_path): a stream of writes,
/// for content that is not held in memory whole.
template <class Fill>
void write_file_atomically_by(const std::filesystem::path& file, Fill fill,
                              durability d = durability::durable) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw error(error_kind::io, tmp.string(), 0, "cannot create: " + errno_text());
  try {
    fill(fd, tmp.string());
    if (d == durability::durable) fsync_file(fd, tmp.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), file.c_str()) != 0)
    throw error(error_kind::io, file.string(), 0, "cannot rename from " + tmp.string());
  if (d == durability::durable)
    fsync_directory(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
}

/// Replaces `file` by `content` atomically and (by default) durably: FILE.tmp is written and
/// fsync'ed, then renamed over `file`, then the directory is fsync'ed. Readers see the old or the
/// new content, never a mix, whatever happens in between. durability::atomic_only skips the two
/// fsyncs.
inline void write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                  durability d = durability::durable) {
  write_file_atomically_by(
      file, [&](int fd, const std::string& where) { write_all(fd, content, where); }, d);
}

/// A file opened for durable appends: each append() is one write of the whole buffer followed by
/// fsync, so after a crash the file holds every acknowledged append plus at most a torn tail.
class append_only_file {
 public:
  append_only_file() = default;
  /// Opens (creating) `file` for appending.
  explicit append_only_file(std::filesystem::path file) : m_path(std::move(file)) {
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
      throw error(error_kind::io, m_path.string(), 0, "cannot open for appending: " + errno_text());
  }
  append_only_file(append_only_file&& o) noexcept
      : m_path(std::move(o.m_path)), m_fd(std::exchange(o.m_fd, -1)) {}
  append_only_file& operator=(append_only_file&& o) noexcept {
    if (this != &o) {
      close();
      m_path = std::move(o.m_path);
      m_fd = std::exchange(o.m_fd, -1);
    }
    return *this;
  }
  append_only_file(const append_only_file&) = delete;
  append_only_file& operator=(const append_only_file&) = delete;
  ~append_only_file() { close(); }

  bool is_open() const noexcept { return m_fd >= 0; }
  const std::filesystem::path& path() const noexcept { return m_path; }
  /// Appends `data` and waits until it is on disk.
  void append(std::string_view data) {
    if (m_fd < 0) throw error(error_kind::invalid, m_path.string(), 0, "the file is closed");
    write_all(m_fd, data, m_path.string());
    fsync_file(m_fd, m_path.string());
  }
  void close() noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  std::filesystem::path m_path;
  int m_fd = -1;
};

}  // namespace groundeval::detail
