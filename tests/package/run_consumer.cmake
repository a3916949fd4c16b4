# SPDX-License-Identifier: Apache-2.0
# cmake -DMODE=package|subdirectory|fetchcontent -DBUILD_DIR=... -DWORK_DIR=... -DSOURCE_DIR=...
#       -DPROJECT_SOURCE=... -DVERSION=... -DCOMPONENTS="core;xml" -P run_consumer.cmake
# package: installs the build tree into WORK_DIR/prefix and finds it there; subdirectory and
# fetchcontent: the consumer builds groundeval from PROJECT_SOURCE itself. Then configures, builds
# and runs the consumer.
file(REMOVE_RECURSE ${WORK_DIR})
set(extra)
if(MODE STREQUAL "package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
  set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  # CUDA stays off in the subproject: the test is about the CMake wiring, and nvcc is slow.
  set(extra -DGROUNDEVAL_SOURCE_DIR=${PROJECT_SOURCE} -DGROUNDEVAL_ENABLE_CUDA=OFF)
endif()
string(REPLACE ";" "\\;" comps "${COMPONENTS}")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
                        -DGROUNDEVAL_CONSUME=${MODE} -DGROUNDEVAL_CONSUMER_COMPONENTS=${comps}
                        -DGROUNDEVAL_EXPECTED_VERSION=${VERSION} ${extra}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer configure failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer build failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer run failed: ${rc}")
endif()
