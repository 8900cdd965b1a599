include(CMakePackageConfigHelpers)
set(_targets atdata)
foreach(_l ${ATDATA_LAYERS})
  list(APPEND _targets atdata_${_l})
endforeach()
install(TARGETS ${_targets} EXPORT atdataTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/atdata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT atdataTargets NAMESPACE atdata:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata)
configure_package_config_file(cmake/atdataConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/atdataConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/atdataConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/atdataConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/atdataConfigVersion.cmake
  cmake/AtdataDeps.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/atdata)
