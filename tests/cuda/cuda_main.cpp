// SPDX-License-Identifier: Apache-2.0
// The Catch2 runner of test_cuda. Without a CUDA device it exits with 77, which ctest reports as
// "skipped" (SKIP_RETURN_CODE), so a machine without a GPU never counts the GPU tests as passed;
// `test_cuda --host-only` runs the tests tagged [cuda-host] (argument checks, workspace
// arithmetic, host helpers), which need no device and run everywhere (ctest test_cuda_host).
#define CATCH_CONFIG_RUNNER
#include <groundeval/cuda/api.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  bool host_only = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--host-only") == 0)
      host_only = true;
    else
      args.push_back(argv[i]);
  }
  static char host_tag[] = "[cuda-host]";
  if (host_only) {
    args.push_back(host_tag);
  } else if (groundeval::cuda::device_count() == 0) {
    std::fprintf(stderr, "no CUDA device: the GPU tests are skipped (exit code 77)\n");
    return 77;
  }
  return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
