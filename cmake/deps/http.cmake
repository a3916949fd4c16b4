# groundeval::http dependencies: Debian's libcpp-httplib-dev ships only a pkg-config file
# (cpp-httplib, built with OpenSSL/zlib/brotli); recreate PkgConfig::cpp_httplib, find OpenSSL
# (TLS, SHA-256), nlohmann/json (the chat-completions wire format) and stb (Debian's libstb:
# decoding and PNG-encoding the images it pads client-side).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::cpp_httplib)
  pkg_check_modules(cpp_httplib QUIET IMPORTED_TARGET cpp-httplib)
endif()
# OpenSSL only matters with cpp-httplib (FindOpenSSL itself needs pkg-config's module).
# GROUNDEVAL_STATIC_OPENSSL (an option of groundeval's own build; unset for installed consumers,
# who get the shared libraries) links the static archives where libssl-dev has them: loading and
# relocating the shared libssl + libcrypto cost every command of the CLI, most of which never
# open a TLS connection, ~0.5 ms of its start on the 2-core VM (`groundeval version` 2.3 -> 1.7 ms
# CPU). The price: an OpenSSL security update needs a rebuild.
if(TARGET PkgConfig::cpp_httplib AND NOT TARGET OpenSSL::SSL)
  if(DEFINED GROUNDEVAL_STATIC_OPENSSL)
    # Library paths an earlier configure found with the other setting are looked up again.
    foreach(_ge_v OPENSSL_SSL_LIBRARY OPENSSL_CRYPTO_LIBRARY)
      if(DEFINED CACHE{${_ge_v}})
        string(REGEX MATCH "[.]a$" _ge_archive "$CACHE{${_ge_v}}")
        if((GROUNDEVAL_STATIC_OPENSSL AND NOT _ge_archive)
           OR (NOT GROUNDEVAL_STATIC_OPENSSL AND _ge_archive))
          unset(${_ge_v} CACHE)
        endif()
      endif()
    endforeach()
  endif()
  if(GROUNDEVAL_STATIC_OPENSSL)
    set(OPENSSL_USE_STATIC_LIBS TRUE)
    find_package(OpenSSL QUIET)
    unset(OPENSSL_USE_STATIC_LIBS)
    if(NOT TARGET OpenSSL::SSL)  # no archives: the shared libraries
      message(STATUS "groundeval: no static OpenSSL libraries; linking the shared ones")
      unset(OPENSSL_SSL_LIBRARY CACHE)
      unset(OPENSSL_CRYPTO_LIBRARY CACHE)
    endif()
  endif()
  if(NOT TARGET OpenSSL::SSL)
    find_package(OpenSSL QUIET)
  endif()
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
