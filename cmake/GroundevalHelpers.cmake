# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the groundeval build: components, tests and header checks.

# groundeval_add_component(NAME dep...) — an INTERFACE target groundeval::NAME that brings core
# plus the given dependency targets, exported under its own component name.
function(groundeval_add_component name)
  add_library(groundeval_${name} INTERFACE)
  add_library(groundeval::${name} ALIAS groundeval_${name})
  set_target_properties(groundeval_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(groundeval_${name} INTERFACE groundeval::core ${ARGN})
  set(GROUNDEVAL_COMPONENTS ${GROUNDEVAL_COMPONENTS} ${name} PARENT_SCOPE)
endfunction()

# groundeval_add_test(NAME SOURCES src... [LIBS target...] [LABELS label...])
# One Catch2 executable registered as one CTest test.
function(groundeval_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE groundeval::core groundeval_project_options
                                        groundeval_catch_main ${T_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
