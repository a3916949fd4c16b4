// SPDX-License-Identifier: Apache-2.0
// groundeval/run/lock.hpp — the exclusive lock of a run directory (or any output directory):
// flock(2) on DIR/.lock, held for the writer's life, so that two processes never write one
// directory at once. Target: groundeval::core (standard library plus POSIX open/flock).
//
// The lock is the flock, not the file: the kernel releases it when the holder exits however it
// ends (kill -9 included), so a stale DIR/.lock never blocks. The file holds the holder's pid,
// host, start time and command, read back for the error a second writer gets. flock is
// advisory and local to one machine (on NFS it depends on the server): two hosts writing one
// network directory are not detected.
#pragma once

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/detail/system.hpp>
#include <groundeval/error.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace groundeval {

/// The name of the lock file inside a locked directory.
inline constexpr std::string_view dir_lock_file_name = ".lock";

/// An exclusive lock on a directory; movable, released by the destructor (or by the process's
/// end, however it ends).
class dir_lock {
 public:
  dir_lock() = default;
  /// Creates `dir` when needed and takes the lock without waiting. Another process holding it
  /// throws error_kind::config: "DIR is in use by another groundeval process (pid P on host H
  /// since T: COMMAND); wait for it to end or choose another directory". `command` is recorded
  /// for that message.
  static dir_lock acquire(const std::filesystem::path& dir, std::string_view command);

  dir_lock(dir_lock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  dir_lock& operator=(dir_lock&& o) noexcept {
    if (this != &o) {
      release();
      m_fd = std::exchange(o.m_fd, -1);
    }
    return *this;
  }
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;
  ~dir_lock() { release(); }

  bool held() const noexcept { return m_fd >= 0; }
  void release() noexcept {
    if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the flock
    m_fd = -1;
  }

 private:
  int m_fd = -1;
};

/// Throws the error of dir_lock::acquire() when another process holds the lock of `dir` (e.g.
/// a run still writing a shard that is about to be merged); does nothing when `dir` has no lock
/// file or it is free. Never creates anything.
void check_dir_not_locked(const std::filesystem::path& dir);

/// Claims `dir` as the output folder of a tool that rewrites its own files there (`groundeval
/// demo`): `dir` must not exist, be empty (apart from a lock file), or hold the file `marker`
/// that an earlier claim wrote; anything else throws error_kind::config ("DIR is not empty and
/// was not written by ...: choose a new or empty directory") before anything is created. Then
/// the folder is locked (dir_lock::acquire) and `marker` is written (its text: `what`). The
/// caller may then replace what it writes there, and nothing else.
dir_lock claim_output_directory(const std::filesystem::path& dir, std::string_view marker,
                                std::string_view what, std::string_view command);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

/// The holder description stored in a lock file, as one line for messages.
inline std::string lock_holder_text(int fd) {
  std::string text;
  char buf[1024];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; text.size() < 8192 && (n = ::read(fd, buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  std::string pid, host, since, command;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    const std::string_view line(text.data() + pos, e - pos);
    const std::size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      const std::string_view k = line.substr(0, sp), v = line.substr(sp + 1);
      if (k == "pid") pid = v;
      if (k == "host") host = v;
      if (k == "since") since = v;
      if (k == "command") command = v;
    }
    pos = e + 1;
  }
  if (pid.empty()) return "holder unknown: it is starting";
  return "pid " + pid + " on " + (host.empty() ? "?" : host) + " since " +
         (since.empty() ? "?" : since) + ": " + (command.empty() ? "?" : command);
}

[[noreturn]] inline void throw_dir_locked(const std::filesystem::path& dir, int fd) {
  throw error(error_kind::config, dir.string(), 0,
              "is in use by another groundeval process (" + lock_holder_text(fd) +
                  "); wait for it to end or choose another directory");
}

}  // namespace detail

inline dir_lock dir_lock::acquire(const std::filesystem::path& dir, std::string_view command) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw error(error_kind::io, dir.string(), 0, "cannot create: " + ec.message());
  const std::filesystem::path file = dir / dir_lock_file_name;
  dir_lock l;
  l.m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (l.m_fd < 0)
    throw error(error_kind::io, file.string(), 0, "cannot open the lock: " + detail::errno_text());
  if (::flock(l.m_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) detail::throw_dir_locked(dir, l.m_fd);
    throw error(error_kind::io, file.string(), 0, "cannot lock: " + detail::errno_text());
  }
  std::string cmd(command);
  for (char& c : cmd)
    if (c == '\n' || c == '\r') c = ' ';
  const std::string text = "pid " + std::to_string(::getpid()) + "\nhost " + detail::host_name() +
                           "\nsince " + detail::utc_time("%Y-%m-%dT%H:%M:%SZ") + "\ncommand " +
                           cmd + "\n";
  // Informational only (the flock is the lock): a failed write leaves a lock without details.
  if (::ftruncate(l.m_fd, 0) == 0) {
    ::lseek(l.m_fd, 0, SEEK_SET);
    try {
      detail::write_all(l.m_fd, text, file.string());
    } catch (const error&) {
    }
  }
  return l;
}

inline void check_dir_not_locked(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / dir_lock_file_name;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    try {
      detail::throw_dir_locked(dir, fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  ::close(fd);
}

inline dir_lock claim_output_directory(const std::filesystem::path& dir, std::string_view marker,
                                       std::string_view what, std::string_view command) {
  namespace fs = std::filesystem;
  auto check = [&] {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return;
    if (!fs::is_directory(dir, ec))
      throw error(error_kind::config, dir.string(), 0, "exists and is not a directory");
    if (fs::exists(dir / marker, ec)) return;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename() != dir_lock_file_name)
        throw error(error_kind::config, dir.string(), 0,
                    "is not empty and was not written by " + std::string(what) + " (no " +
                        std::string(marker) +
                        " in it); choose a new or empty directory, nothing was changed");
    if (ec) throw error(error_kind::io, dir.string(), 0, "cannot list: " + ec.message());
  };
  check();
  dir_lock l = dir_lock::acquire(dir, command);
  check();  // again under the lock: another process may have written it meanwhile
  detail::write_file_atomically(dir / marker, std::string(what) + " output folder\n");
  return l;
}

}  // namespace groundeval
