find_package(CUDAToolkit QUIET)
if(NOT TARGET CUDA::cudart OR NOT TARGET CUDA::cublas)
  set(_ge_deps_ok FALSE)
endif()
