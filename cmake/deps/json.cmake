# groundeval::json dependencies: nlohmann/json (predictions, manifests, reports) and simdjson
# (MDETR-format annotation files).
find_package(nlohmann_json 3.10 CONFIG QUIET)
find_package(simdjson 3.0 CONFIG QUIET)
if(NOT TARGET nlohmann_json::nlohmann_json OR NOT TARGET simdjson::simdjson)
  set(_ge_deps_ok FALSE)
endif()
