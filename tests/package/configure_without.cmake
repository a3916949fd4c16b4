# SPDX-License-Identifier: Apache-2.0
# cmake -DPROJECT_SOURCE=... -DWORK_DIR=... -P configure_without.cmake
# Configures groundeval with tests on once per optional package, that package hidden
# (CMAKE_DISABLE_FIND_PACKAGE_<name>), and fails when a configure fails: a missing optional
# dependency must only drop its component and the tests that need it.
set(packages tinyxml2 nlohmann_json simdjson Eigen3 xtensor PkgConfig Python3 benchmark)
foreach(p IN LISTS packages)
  file(REMOVE_RECURSE ${WORK_DIR}/${p})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${PROJECT_SOURCE} -B ${WORK_DIR}/${p}
                          -DGROUNDEVAL_ENABLE_CUDA=OFF -DGROUNDEVAL_BUILD_TESTS=ON
                          -DCMAKE_DISABLE_FIND_PACKAGE_${p}=ON
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "configure without ${p} failed (${rc}):\n${out}\n${err}")
  endif()
  string(REGEX MATCH "groundeval components: [^\n]*" comps "${out}")
  message(STATUS "without ${p}: ${comps}")
  file(REMOVE_RECURSE ${WORK_DIR}/${p})
endforeach()
