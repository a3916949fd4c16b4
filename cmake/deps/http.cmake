# groundeval::http dependencies: Debian's libcpp-httplib-dev ships only a pkg-config file
# (cpp-httplib, built with OpenSSL/zlib/brotli); recreate PkgConfig::cpp_httplib, find OpenSSL
# (TLS, SHA-256) and nlohmann/json (the chat-completions wire format).
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
if(NOT TARGET PkgConfig::cpp_httplib OR NOT TARGET OpenSSL::SSL OR NOT TARGET nlohmann_json::nlohmann_json)
  set(_ge_deps_ok FALSE)
endif()
