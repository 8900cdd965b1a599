# The library package (component Development): static libraries, headers and
# the CMake config for find_package(atdata). The CLI is component Runtime.
# tests/consumer checks that a fresh project can use what this installs.
include(CMakePackageConfigHelpers)
set(_targets atdata)
foreach(_l ${ATDATA_LAYERS})
  list(APPEND _targets atdata_${_l})
endforeach()
install(TARGETS ${_targets} EXPORT atdataTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development)
install(DIRECTORY include/atdata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
install(EXPORT atdataTargets NAMESPACE atdata:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata
  COMPONENT Development)
configure_package_config_file(cmake/atdataConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/atdataConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/atdataConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/atdataConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/atdataConfigVersion.cmake
  cmake/AtdataDeps.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata COMPONENT Development)
