// SPDX-License-Identifier: Apache-2.0
// groundeval/interop/npy.hpp — reading NumPy .npy arrays and .npz archives (np.savez, stored
// entries) into typed row-major arrays, with zero-copy xtensor views over them.
// Target: groundeval::interop (xtensor 0.24; no zip library).
//
// .npy: the header dictionary is parsed by xtensor's xnpy.hpp (xt::detail::parse_header);
// everything around it is checked here first, because xnpy trusts its input (an empty header,
// a header length byte >= 0x80 in format 1.0, or a truncated body are undefined behaviour or
// silent garbage there). Supported: format versions 1.0 and 2.0, little-endian or byte-sized
// bool / int / uint / float of 1, 2, 4, 8 bytes (no float16), C or Fortran order (converted to
// C order), converted to the requested element type.
// .npz: a small reader of the zip container written here (stored entries, i.e. np.savez, with
// zip64 extra fields as NumPy writes them). Deflated entries (np.savez_compressed) are rejected
// with a clear error: Debian's zlib is not part of the interop target.
// Every error is a groundeval::error naming the file (and the array inside an archive).
#pragma once

#include <groundeval/detail/file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/io/limits.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace groundeval {

/// A dense array in C (row-major) order.
template <class T>
struct npy_array {
  std::vector<std::size_t> shape;
  std::vector<T> data;

  std::size_t dim() const noexcept { return shape.size(); }
  std::size_t size() const noexcept { return data.size(); }
  /// A zero-copy xtensor view (xt::adapt) over data with this shape.
  auto view() { return xt::adapt(data, shape); }
  auto view() const { return xt::adapt(data.data(), data.size(), xt::no_ownership(), shape); }
};

namespace detail {

inline std::uint64_t le_uint(std::string_view b, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

/// Converts n values of S at src to T. Floating values read into an integer type are truncated
/// toward zero; NaN, infinities and values outside T's range are an error naming `item` (the
/// conversion would be undefined behaviour).
template <class T, class S>
void convert_values(const char* src, std::size_t n, std::vector<T>& out, const std::string& item) {
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    S v;
    std::memcpy(&v, src + i * sizeof(S), sizeof(S));
    if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
      // Both bounds are exact doubles: T's minimum (0 or -2^k) and T's maximum + 1 (2^k).
      constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
      constexpr double hi = static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
      const double d = static_cast<double>(v);
      if (!((std::is_signed_v<T> ? d >= lo : d > -1.0) && d < hi))
        throw error(error_kind::invalid, item, 0,
                    "value " + std::to_string(d) + " at index " + std::to_string(i) +
                        " does not fit the integer array it is read as");
    }
    out[i] = static_cast<T>(v);
  }
}

/// Fortran-order values to C order for the given shape (in place through a copy).
template <class T>
void fortran_to_c(std::vector<T>& v, const std::vector<std::size_t>& shape) {
  const std::size_t nd = shape.size();
  if (nd < 2 || v.empty()) return;
  std::vector<std::size_t> fstride(nd, 1);
  for (std::size_t k = 1; k < nd; ++k) fstride[k] = fstride[k - 1] * shape[k - 1];
  std::vector<T> c(v.size());
  std::vector<std::size_t> idx(nd, 0);
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::size_t f = 0;
    for (std::size_t k = 0; k < nd; ++k) f += idx[k] * fstride[k];
    c[i] = v[f];
    for (std::size_t k = nd; k-- > 0;) {  // advance the C-order multi-index
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  v.swap(c);
}

}  // namespace detail

/// Parses .npy bytes; `item` names them in errors (a path, or "archive.npz:key").
template <class T>
npy_array<T> parse_npy(std::string_view b, const std::string& item) {
  const auto fail = [&](const std::string& what) {
    return error(error_kind::parse, item, 0, "not a valid .npy array: " + what);
  };
  if (b.size() < 10 || b.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    throw fail("missing the \\x93NUMPY magic");
  const auto major = static_cast<unsigned char>(b[6]);
  std::size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = detail::le_uint(b, 8, 2), hstart = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw fail("truncated header");
    hlen = detail::le_uint(b, 8, 4), hstart = 12;
  } else {
    throw fail("unsupported format version " + std::to_string(major));
  }
  if (hlen == 0 || hstart + hlen > b.size()) throw fail("truncated header");
  std::string header(b.substr(hstart, hlen));
  if (header.back() != '\n') throw fail("header does not end with a newline");
  // numpy pads the dictionary with spaces before the newline; xnpy expects exactly "}\n".
  header.pop_back();
  while (!header.empty() && header.back() == ' ') header.pop_back();
  if (header.empty() || header.back() != '}') throw fail("header is not a dictionary");
  header += '\n';
  // xnpy's parser indexes into the pieces without checking them; accept only the exact shape
  // of dictionary numpy writes (keys in sorted order, spaces ignored) before handing it over.
  {
    std::string compact;
    for (const char c : header)
      if (c != ' ' && c != '\n') compact += c;
    static const std::regex dict(
        R"(\{'descr':'[<>|][a-zA-Z][0-9]+','fortran_order':(True|False),'shape':\(([0-9]+,)*[0-9]*\),?\})");
    if (!std::regex_match(compact, dict)) throw fail("unrecognized header " + compact);
  }
  std::string descr;
  bool fortran = false;
  std::vector<std::size_t> shape;
  try {
    xt::detail::parse_header(header, descr, &fortran, shape);
  } catch (const std::exception& e) {
    throw fail(std::string("bad header (") + e.what() + ")");
  }
  if (descr.size() < 3) throw fail("bad dtype '" + descr + "'");
  const char order = descr[0], kind = descr[1];
  std::size_t word = 0;
  for (std::size_t i = 2; i < descr.size(); ++i) {
    if (descr[i] < '0' || descr[i] > '9') throw fail("bad dtype '" + descr + "'");
    word = word * 10 + static_cast<std::size_t>(descr[i] - '0');
    if (word > 16) throw fail("bad dtype '" + descr + "'");
  }
  if (order == '>' && word > 1)
    throw error(error_kind::unsupported, item, 0, "big-endian dtype '" + descr + "'");
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d / 16)
      throw fail("shape too large");
    n *= d;
  }
  const std::size_t data_at = hstart + hlen;
  if (b.size() - data_at != n * word)
    throw fail("body holds " + std::to_string(b.size() - data_at) + " bytes, shape and dtype '" +
               descr + "' need " + std::to_string(n * word));
  const char* src = b.data() + data_at;
  npy_array<T> a;
  a.shape = shape;
  const auto unsupported = [&] {
    return error(error_kind::unsupported, item, 0, "unsupported dtype '" + descr + "'");
  };
  switch (kind) {
    case 'f':
      if (word == 4)
        detail::convert_values<T, float>(src, n, a.data, item);
      else if (word == 8)
        detail::convert_values<T, double>(src, n, a.data, item);
      else
        throw unsupported();
      break;
    case 'i':
      if (word == 1)
        detail::convert_values<T, std::int8_t>(src, n, a.data, item);
      else if (word == 2)
        detail::convert_values<T, std::int16_t>(src, n, a.data, item);
      else if (word == 4)
        detail::convert_values<T, std::int32_t>(src, n, a.data, item);
      else if (word == 8)
        detail::convert_values<T, std::int64_t>(src, n, a.data, item);
      else
        throw unsupported();
      break;
    case 'u':
    case 'b':
      if (word == 1)
        detail::convert_values<T, std::uint8_t>(src, n, a.data, item);
      else if (word == 2 && kind == 'u')
        detail::convert_values<T, std::uint16_t>(src, n, a.data, item);
      else if (word == 4 && kind == 'u')
        detail::convert_values<T, std::uint32_t>(src, n, a.data, item);
      else if (word == 8 && kind == 'u')
        detail::convert_values<T, std::uint64_t>(src, n, a.data, item);
      else
        throw unsupported();
      break;
    default:
      throw unsupported();
  }
  if (fortran) detail::fortran_to_c(a.data, a.shape);
  return a;
}

/// Reads a .npy file, converting its values to T.
template <class T>
npy_array<T> read_npy(const std::string& path) {
  return parse_npy<T>(detail::read_file_bytes(path, max_array_file_bytes, "array file"), path);
}

/// A .npz archive held in memory; arrays are parsed on demand.
class npz_file {
 public:
  explicit npz_file(std::string path) : m_path(std::move(path)) {
    m_bytes = detail::read_file_bytes(m_path, max_array_file_bytes, "array file");
    index();
  }

  const std::string& path() const noexcept { return m_path; }
  /// Array names, without the ".npy" suffix, in archive order.
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& e : m_order) k.push_back(e);
    return k;
  }
  bool contains(const std::string& key) const { return m_entries.count(key) != 0; }

  /// The array `key` converted to T; errors name "archive:key".
  template <class T>
  npy_array<T> get(const std::string& key) const {
    const auto it = m_entries.find(key);
    if (it == m_entries.end())
      throw error(error_kind::invalid, m_path, 0, "no array '" + key + "' in the archive");
    const entry& e = it->second;
    const std::string item = m_path + ":" + key;
    if (e.method != 0)
      throw error(error_kind::unsupported, item, 0,
                  "compressed entry (zip method " + std::to_string(e.method) +
                      "): write the archive with np.savez, not np.savez_compressed");
    return parse_npy<T>(std::string_view(m_bytes).substr(e.data, e.size), item);
  }

 private:
  struct entry {
    std::size_t data = 0, size = 0;
    unsigned method = 0;
  };

  [[noreturn]] void bad(const std::string& what) const {
    throw error(error_kind::parse, m_path, 0, "not a valid .npz (zip) archive: " + what);
  }
  std::uint64_t u(std::size_t at, std::size_t n) const {
    if (at > m_bytes.size() || m_bytes.size() - at < n) bad("truncated");
    return detail::le_uint(m_bytes, at, n);
  }

  void index() {
    const std::string_view b = m_bytes;
    // End of central directory: 22 bytes + comment (<= 65535), searched from the end.
    if (b.size() < 22) bad("too short");
    std::size_t eocd = std::string_view::npos;
    const std::size_t lo = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
    for (std::size_t i = b.size() - 22 + 1; i-- > lo;)
      if (u(i, 4) == 0x06054b50) {
        eocd = i;
        break;
      }
    if (eocd == std::string_view::npos) bad("no end-of-central-directory record");
    const std::size_t count = u(eocd + 10, 2);
    std::size_t cd = u(eocd + 16, 4);
    if (count == 0xFFFF || cd == 0xFFFFFFFF) bad("zip64 central directory is not supported");
    for (std::size_t k = 0; k < count; ++k) {
      if (u(cd, 4) != 0x02014b50) bad("bad central directory entry " + std::to_string(k));
      const auto method = static_cast<unsigned>(u(cd + 10, 2));
      std::uint64_t csize = u(cd + 20, 4), usize = u(cd + 24, 4);
      const std::size_t nlen = u(cd + 28, 2), xlen = u(cd + 30, 2), clen = u(cd + 32, 2);
      std::uint64_t local = u(cd + 42, 4);
      if (cd + 46 + nlen > b.size()) bad("truncated entry name");
      std::string name(b.substr(cd + 46, nlen));
      // zip64 extra field (id 1): the 8-byte values whose 32-bit fields are 0xFFFFFFFF.
      for (std::size_t x = cd + 46 + nlen; x + 4 <= cd + 46 + nlen + xlen;) {
        const std::size_t id = u(x, 2), len = u(x + 2, 2);
        if (id == 1) {
          std::size_t p = x + 4;
          if (usize == 0xFFFFFFFF) usize = u(p, 8), p += 8;
          if (csize == 0xFFFFFFFF) csize = u(p, 8), p += 8;
          if (local == 0xFFFFFFFF) local = u(p, 8), p += 8;
        }
        x += 4 + len;
      }
      if (u(local, 4) != 0x04034b50) bad("bad local header of '" + name + "'");
      const std::size_t data = local + 30 + u(local + 26, 2) + u(local + 28, 2);
      if (data > b.size() || b.size() - data < csize) bad("entry '" + name + "' is truncated");
      if (method == 0 && csize != usize) bad("entry '" + name + "' has inconsistent sizes");
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
        name.resize(name.size() - 4);
      m_entries[name] = entry{data, static_cast<std::size_t>(csize), method};
      m_order.push_back(name);
      cd += 46 + nlen + xlen + clen;
    }
  }

  std::string m_path;
  std::string m_bytes;
  std::map<std::string, entry> m_entries;
  std::vector<std::string> m_order;
};

}  // namespace groundeval
