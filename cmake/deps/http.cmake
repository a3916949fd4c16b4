# groundeval::http dependencies: Debian's libcpp-httplib-dev ships only a pkg-config file
# (cpp-httplib, built with OpenSSL/zlib/brotli); recreate PkgConfig::cpp_httplib, find OpenSSL
# (TLS, SHA-256), nlohmann/json (the chat-completions wire format) and stb (Debian's libstb:
# decoding and PNG-encoding the images it pads client-side).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::cpp_httplib)
  pkg_check_modules(cpp_httplib QUIET IMPORTED_TARGET cpp-httplib)
endif()
# OpenSSL only matters with cpp-httplib (FindOpenSSL itself needs pkg-config's module).
if(TARGET PkgConfig::cpp_httplib AND NOT TARGET OpenSSL::SSL)
  find_package(OpenSSL QUIET)
endif()
if(NOT TARGET nlohmann_json::nlohmann_json)
  find_package(nlohmann_json 3.10 CONFIG QUIET)
endif()
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::stb)
  pkg_check_modules(stb QUIET IMPORTED_TARGET stb)
endif()
if(NOT TARGET PkgConfig::cpp_httplib OR NOT TARGET OpenSSL::SSL OR NOT TARGET nlohmann_json::nlohmann_json
   OR NOT TARGET PkgConfig::stb)
  set(_ge_deps_ok FALSE)
endif()
