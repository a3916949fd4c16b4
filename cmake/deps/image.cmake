# Debian's stb ships only a pkg-config file; recreate the PkgConfig::stb target.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::stb)
  pkg_check_modules(stb QUIET IMPORTED_TARGET stb)
endif()
if(NOT TARGET PkgConfig::stb)
  set(_ge_deps_ok FALSE)
endif()
