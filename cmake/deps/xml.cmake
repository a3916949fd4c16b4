find_package(tinyxml2 CONFIG QUIET)
if(NOT TARGET tinyxml2::tinyxml2)
  set(_ge_deps_ok FALSE)
endif()
