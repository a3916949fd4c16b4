// SPDX-License-Identifier: Apache-2.0
// Fuzzes the .npy reader (interop/npy.hpp, parse_npy) with every element type the library reads
// arrays as (float, double, long long, unsigned char). groundeval::error is the documented
// outcome for bad bytes; on success the shape must account for every element.
#include "fuzz_util.hpp"

#include <groundeval/interop/npy.hpp>

#include <cstdlib>

namespace {

template <class T>
void one(std::string_view bytes) {
  try {
    const auto a = groundeval::parse_npy<T>(bytes, "fuzz.npy");
    std::size_t n = 1;
    for (const std::size_t d : a.shape) n *= d;
    if (n != a.data.size()) std::abort();
  } catch (const groundeval::error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = groundeval_fuzz::as_text(data, size);
  one<float>(bytes);
  one<double>(bytes);
  one<long long>(bytes);
  one<unsigned char>(bytes);
  return 0;
}
