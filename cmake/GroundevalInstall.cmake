# SPDX-License-Identifier: Apache-2.0
# Install rules and the exported CMake package:
#   find_package(groundeval CONFIG REQUIRED COMPONENTS xml json ...)
#   target_link_libraries(app PRIVATE groundeval::xml)
# Each component has its own export set and a deps file (cmake/deps/<name>.cmake) that finds its
# third-party dependency, so requesting `core` alone never looks for TinyXML2, CUDA, ...
include(CMakePackageConfigHelpers)
set(_ge_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/groundeval)

install(DIRECTORY include/groundeval DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")  # the .cuh kernels are build-internal (kernels/)
install(FILES ${GROUNDEVAL_GENERATED_INCLUDE_DIR}/groundeval/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/groundeval)
if(EXISTS ${PROJECT_SOURCE_DIR}/data)
  install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/groundeval)
endif()

foreach(c IN LISTS GROUNDEVAL_COMPONENTS)
  install(TARGETS groundeval_${c} EXPORT groundeval-${c}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT groundeval-${c}-targets NAMESPACE groundeval:: DESTINATION ${_ge_cmake_dir})
  if(EXISTS ${PROJECT_SOURCE_DIR}/cmake/deps/${c}.cmake)
    install(FILES cmake/deps/${c}.cmake DESTINATION ${_ge_cmake_dir}/deps)
  endif()
endforeach()
if(TARGET groundeval_project_options)
  # never exported; listed here only so nothing else accidentally depends on it
endif()

configure_package_config_file(cmake/groundevalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/groundevalConfig.cmake INSTALL_DESTINATION ${_ge_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/groundevalConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/groundevalConfig.cmake
              ${PROJECT_BINARY_DIR}/groundevalConfigVersion.cmake
        DESTINATION ${_ge_cmake_dir})
