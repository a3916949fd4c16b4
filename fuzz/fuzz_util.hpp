// SPDX-License-Identifier: Apache-2.0
// fuzz/fuzz_util.hpp — shared helpers of the libFuzzer harnesses (docs/fuzzing.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace groundeval_fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A scratch folder of this process (for the loaders that only take a path), removed at exit.
class scratch_dir {
 public:
  scratch_dir() {
    std::error_code ec;
    // tmpfs where there is one: the answer cache fdatasyncs, which is slow on a disk.
    if (std::filesystem::is_directory("/dev/shm", ec)) {
      m_dir = "/dev/shm";
    } else {
      m_dir = std::filesystem::temp_directory_path(ec);
      if (ec) m_dir = "/tmp";
    }
    m_dir /= "groundeval-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(m_dir, ec);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  /// Writes `bytes` to `<dir>/<name>` (replacing it) and returns the path.
  std::string write(const std::string& name, std::string_view bytes) const {
    const std::string path = (m_dir / name).string();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) std::abort();  // the harness itself is broken, not the parser
    return path;
  }
  const std::filesystem::path& path() const noexcept { return m_dir; }

 private:
  std::filesystem::path m_dir;
};

inline scratch_dir& scratch() {
  static scratch_dir d;
  return d;
}

}  // namespace groundeval_fuzz
