// SPDX-License-Identifier: Apache-2.0
// Fuzzes the npy-detector inputs (grounders/interop/npy_detector.hpp): byte 0 even: the rest is
// a detector dump (.npz archive: the zip reader of interop/npy.hpp, every array, the shape checks
// of load_detector_dump and the outputs view); byte 0 odd: the rest is the dump manifest
// ("<image id> <dump path>" lines) read by the grounder's constructor. Inputs go through a
// scratch file (both loaders take a path). groundeval::error is the documented outcome.
#include "fuzz_util.hpp"

#include <groundeval/grounders/interop/npy_detector.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = groundeval_fuzz::as_text(data + 1, size - 1);
  auto& dir = groundeval_fuzz::scratch();
  try {
    if ((data[0] & 1u) == 0) {
      const std::string path = dir.write("dump.npz", rest);
      const auto d = groundeval::load_detector_dump(path);
      (void)d.view();
    } else {
      (void)dir.write("dump.npz", "");  // an existing dump for relative paths to name
      const std::string path = dir.write("manifest.txt", rest);
      groundeval::npy_detector_grounder grounder(path, groundeval::postprocess_options{});
      (void)grounder.describe();
    }
  } catch (const groundeval::error&) {
  }
  return 0;
}
