# cmake -P build-consumer.cmake: installs the atdata build BUILD_DIR into
# WORK_DIR/prefix (component Development only) and builds the project
# SOURCE_DIR (tests/consumer) against it in WORK_DIR/build. Variables:
#   BUILD_DIR, WORK_DIR, SOURCE_DIR, GENERATOR, CXX_COMPILER, BUILD_TYPE,
#   LAUNCHER (may be empty), CXX_FLAGS / LINKER_FLAGS (may be empty: the
#   sanitizer flags the libraries were built with).
foreach(_v BUILD_DIR WORK_DIR SOURCE_DIR GENERATOR CXX_COMPILER BUILD_TYPE)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "build-consumer.cmake: ${_v} is not set")
  endif()
endforeach()

set(_prefix ${WORK_DIR}/prefix)
set(_build ${WORK_DIR}/build)
# From scratch every time: a stale prefix could hide a file the install lost.
file(REMOVE_RECURSE ${_prefix} ${_build})

execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${_prefix} --component Development
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${_build} -G ${GENERATOR}
          -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
          -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
          -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}
          "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
          "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
          -DCMAKE_PREFIX_PATH=${_prefix}
          -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  COMMAND_ERROR_IS_FATAL ANY)

# The package must come from the prefix, not from the source or build tree.
file(STRINGS ${_build}/CMakeCache.txt _dir REGEX "^atdata_DIR:")
string(REGEX REPLACE "^atdata_DIR:[A-Z]+=" "" _dir "${_dir}")
file(REAL_PATH "${_dir}" _dir)
file(REAL_PATH "${_prefix}" _real_prefix)
string(FIND "${_dir}" "${_real_prefix}/" _at)
if(NOT _at EQUAL 0)
  message(FATAL_ERROR "find_package(atdata) used ${_dir}, not the installed package in ${_prefix}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} --build ${_build} COMMAND_ERROR_IS_FATAL ANY)
message(STATUS "consumer built against ${_dir}: ${_build}/consumer")
