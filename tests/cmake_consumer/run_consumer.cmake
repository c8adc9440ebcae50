# Driver for one CMake integration test; run as
#   cmake -DMODE=<find_package|add_subdirectory|fetch_content|version_mismatch>
#         -DSOURCE_DIR=<edgebert checkout> -DCONSUMER_DIR=<tests/cmake_consumer/project>
#         -DWORK_DIR=<scratch dir, wiped first> -DEXPECTED_VERSION=<x.y.z>
#         [-DGENERATOR=... -DGENERATOR_PLATFORM=... -DGENERATOR_TOOLSET=... -DMAKE_PROGRAM=...]
#         [-DCXX_COMPILER=... -DTOOLCHAIN_FILE=... -DBUILD_TYPE=Release -DKEEP_WORK_DIR=ON]
#         [-DCONSUMER_FLAGS="-O1 -DNDEBUG"]   (the consumer's flags for BUILD_TYPE, instead of CMake's default)
#         -P run_consumer.cmake
# find_package / version_mismatch: configure the library with its tests, examples and benchmarks off,
# install it into WORK_DIR/prefix, then configure the consumer against that prefix only.
# add_subdirectory / fetch_content: configure the consumer on the library source directly.
# Then build the consumer, run it and compare the version it prints with EXPECTED_VERSION; find_package mode also
# builds and runs a program with the kernels compiled separately (EDGEBERT_SEPARATE_KERNELS).
cmake_minimum_required(VERSION 3.16)

foreach(_var IN ITEMS MODE SOURCE_DIR CONSUMER_DIR WORK_DIR EXPECTED_VERSION)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory|fetch_content|version_mismatch)$")
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

# Run one step; on failure print the command and everything it wrote, then stop.
# run_step(<description> <expect: SUCCESS|FAILURE> <output var> COMMAND ...)
function(run_step what expect out_var)
  set(_cmd ${ARGN})
  list(REMOVE_AT _cmd 0)  # the COMMAND keyword
  string(REPLACE ";" " " _cmdline "${_cmd}")
  message(STATUS "[${MODE}] ${what}")
  execute_process(COMMAND ${_cmd}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out
                  TIMEOUT 300)
  set(${out_var} "${_out}" PARENT_SCOPE)
  if(expect STREQUAL "SUCCESS" AND NOT _rc EQUAL 0)
    set(_why "exited with ${_rc}")
  elseif(expect STREQUAL "FAILURE" AND _rc EQUAL 0)
    set(_why "succeeded but was expected to fail")
  else()
    return()
  endif()
  # Unformatted, so that the tool's own messages stay readable.
  message("---- command: ${_cmdline}\n---- output:\n${_out}\n---- end of output")
  message(FATAL_ERROR "[${MODE}] FAILED: ${what} ${_why} (its output is above)")
endfunction()

# A fresh scratch directory per run.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(_prefix "${WORK_DIR}/prefix")
set(_lib_build "${WORK_DIR}/edgebert-build")
set(_consumer_build "${WORK_DIR}/consumer-build")

# What every configure step gets: the parent's generator and compiler, and no package registries
# (so that nothing but what this test provides can satisfy find_package(edgebert)).
set(_common_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
                 -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND _common_args -G "${GENERATOR}")
endif()
if(GENERATOR_PLATFORM)
  list(APPEND _common_args -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
  list(APPEND _common_args -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM)
  list(APPEND _common_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND _common_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(TOOLCHAIN_FILE)
  list(APPEND _common_args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()

set(_consumer_args -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
if(CONSUMER_FLAGS)
  string(TOUPPER "${BUILD_TYPE}" _bt)
  list(APPEND _consumer_args "-DCMAKE_CXX_FLAGS_${_bt}=${CONSUMER_FLAGS}")
endif()
if(MODE STREQUAL "find_package" OR MODE STREQUAL "version_mismatch")
  # ---- install the library into a private prefix ----
  run_step("configure edgebert (tests/examples/benchmarks off)" SUCCESS _out
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${_lib_build}" ${_common_args}
            "-DCMAKE_INSTALL_PREFIX=${_prefix}"
            -DEDGEBERT_BUILD_TESTS=OFF -DEDGEBERT_BUILD_EXAMPLES=OFF -DEDGEBERT_BUILD_BENCHMARKS=OFF)
  run_step("build edgebert" SUCCESS _out
    COMMAND "${CMAKE_COMMAND}" --build "${_lib_build}" --config ${BUILD_TYPE})
  run_step("install edgebert into ${_prefix}" SUCCESS _out
    COMMAND "${CMAKE_COMMAND}" --install "${_lib_build}" --prefix "${_prefix}" --config ${BUILD_TYPE})
  # Where CMAKE_INSTALL_DATADIR / INCLUDEDIR put things for a plain prefix.
  foreach(_f IN ITEMS share/cmake/edgebert/edgebertConfig.cmake share/cmake/edgebert/edgebertConfigVersion.cmake
                      share/cmake/edgebert/edgebertTargets.cmake share/cmake/edgebert/edgebertXtlShim.cmake
                      include/edgebert/core/version.hpp include/edgebert/kernels/activation.hpp)
    if(NOT EXISTS "${_prefix}/${_f}")
      file(GLOB_RECURSE _installed RELATIVE "${_prefix}" "${_prefix}/*")
      string(REPLACE ";" "\n  " _installed "${_installed}")
      message(FATAL_ERROR "[${MODE}] FAILED: the install did not produce ${_prefix}/${_f}; installed:\n  ${_installed}")
    endif()
  endforeach()
  # The README's C++ block, verbatim: it must compile against the installed package and run from the checkout.
  file(READ "${SOURCE_DIR}/README.md" _readme)
  string(FIND "${_readme}" "```cpp\n" _begin)
  if(_begin LESS 0)
    message(FATAL_ERROR "[${MODE}] FAILED: README.md has no ```cpp block")
  endif()
  math(EXPR _begin "${_begin} + 7")
  string(SUBSTRING "${_readme}" ${_begin} -1 _rest)
  string(FIND "${_rest}" "```" _end)
  string(SUBSTRING "${_rest}" 0 ${_end} _readme_code)
  file(WRITE "${WORK_DIR}/readme_main.cpp" "${_readme_code}")
  list(APPEND _consumer_args -DEDGEBERT_CONSUME_MODE=find_package -DEDGEBERT_CONSUMER_SEPARATE_KERNELS=ON
                             "-DEDGEBERT_CONSUMER_README_SOURCE=${WORK_DIR}/readme_main.cpp"
                             "-DCMAKE_PREFIX_PATH=${_prefix}" "-DEDGEBERT_EXPECTED_PREFIX=${_prefix}")
else()
  list(APPEND _consumer_args -DEDGEBERT_CONSUME_MODE=${MODE} "-DEDGEBERT_SOURCE_DIR=${SOURCE_DIR}")
endif()

if(MODE STREQUAL "version_mismatch")
  # ---- the version file must reject newer requests: a new major and a new minor ----
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _mm "${EXPECTED_VERSION}")
  math(EXPR _next_minor "${CMAKE_MATCH_2} + 1")
  set(_newer_minor "${CMAKE_MATCH_1}.${_next_minor}")
  foreach(_want IN ITEMS 99.0 ${_newer_minor})
    run_step("configure consumer asking find_package(edgebert ${_want}) (must fail)" FAILURE _out
      COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${_consumer_build}-${_want}" ${_common_args}
              ${_consumer_args} -DEDGEBERT_REQUIRED_VERSION=${_want})
    # Fail for the right reason: the installed config was seen and its version refused.
    string(REGEX REPLACE "[ \t\r\n]+" " " _flat "${_out}")
    if(NOT _flat MATCHES "compatible with requested version \"${_want}\""
       OR NOT _flat MATCHES "edgebertConfig\\.cmake, version: ${EXPECTED_VERSION}")
      message(FATAL_ERROR "[${MODE}] FAILED: find_package(edgebert ${_want}) failed, but not because the "
                          "installed ${EXPECTED_VERSION} was rejected by its version file:\n${_out}")
    endif()
  endforeach()
  message(STATUS "[${MODE}] OK: edgebert ${EXPECTED_VERSION} refuses requests for 99.0 and ${_newer_minor}")
  if(NOT KEEP_WORK_DIR)
    file(REMOVE_RECURSE "${WORK_DIR}")
  endif()
  return()
endif()

# ---- configure, build and run the consumer ----
run_step("configure consumer (${MODE})" SUCCESS _out
  COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${_consumer_build}" ${_common_args} ${_consumer_args})
if(MODE STREQUAL "find_package")
  # The package's own version (edgebertConfigVersion.cmake) must be the project version too.
  if(NOT _out MATCHES "edgebert ([^ ]*) found in ([^\n]*)")
    message("${_out}")
    message(FATAL_ERROR "[${MODE}] FAILED: the consumer's configure did not report edgebert_VERSION")
  endif()
  if(NOT CMAKE_MATCH_1 STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "[${MODE}] FAILED: find_package found edgebert version '${CMAKE_MATCH_1}' "
                        "(${CMAKE_MATCH_2}), the project version is ${EXPECTED_VERSION}")
  endif()
endif()
run_step("build consumer" SUCCESS _out
  COMMAND "${CMAKE_COMMAND}" --build "${_consumer_build}" --config ${BUILD_TYPE})

# With Makefile/Ninja generators, check the real compile line too: no -march reached the consumer.
if(EXISTS "${_consumer_build}/compile_commands.json")
  file(READ "${_consumer_build}/compile_commands.json" _cc)
  if(_cc MATCHES "-march=[^ \"]*")
    message(FATAL_ERROR "[${MODE}] FAILED: the consumer was compiled with ${CMAKE_MATCH_0}:\n${_cc}")
  endif()
endif()

set(_exe_file "${_consumer_build}/consumer_exe_${BUILD_TYPE}.txt")
if(NOT EXISTS "${_exe_file}")
  message(FATAL_ERROR "[${MODE}] FAILED: ${_exe_file} missing (the consumer did not record its executable)")
endif()
file(READ "${_exe_file}" _exe)
run_step("run ${_exe}" SUCCESS _out COMMAND "${_exe}")
if(NOT _out MATCHES "edgebert version ([0-9]+\\.[0-9]+\\.[0-9]+)")
  message(FATAL_ERROR "[${MODE}] FAILED: the consumer printed no version:\n${_out}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "[${MODE}] FAILED: the consumer reports edgebert ${CMAKE_MATCH_1}, "
                      "the project version is ${EXPECTED_VERSION}")
endif()
string(STRIP "${_out}" _out)
message(STATUS "[${MODE}] OK: ${_out}")

# find_package mode also builds a program with the kernels compiled separately; it checks its own result.
set(_kernels_exe_file "${_consumer_build}/consumer_kernels_exe_${BUILD_TYPE}.txt")
if(MODE STREQUAL "find_package")
  if(NOT EXISTS "${_kernels_exe_file}")
    message(FATAL_ERROR "[${MODE}] FAILED: ${_kernels_exe_file} missing (the separate-kernels program was not built)")
  endif()
  file(READ "${_kernels_exe_file}" _kernels_exe)
  run_step("run ${_kernels_exe}" SUCCESS _out COMMAND "${_kernels_exe}")
  string(STRIP "${_out}" _out)
  message(STATUS "[${MODE}] OK: ${_out}")
  file(READ "${_consumer_build}/consumer_readme_exe_${BUILD_TYPE}.txt" _readme_exe)
  run_step("run the README's program ${_readme_exe} in ${SOURCE_DIR}" SUCCESS _out COMMAND "${_readme_exe}"
           WORKING_DIRECTORY "${SOURCE_DIR}")
  if(NOT _out MATCHES "left at layer [0-9]+ of [0-9]+")
    message(FATAL_ERROR "[${MODE}] FAILED: the README's program printed no answer:\n${_out}")
  endif()
  string(STRIP "${_out}" _out)
  message(STATUS "[${MODE}] OK (README program): ${_out}")
  file(READ "${_consumer_build}/consumer_readme_compiled_exe_${BUILD_TYPE}.txt" _compiled_exe)
  run_step("run the README's program in the compiled mode ${_compiled_exe}" SUCCESS _compiled_out
           COMMAND "${_compiled_exe}" WORKING_DIRECTORY "${SOURCE_DIR}")
  string(STRIP "${_compiled_out}" _compiled_out)
  if(NOT _compiled_out STREQUAL _out)
    message(FATAL_ERROR "[${MODE}] FAILED: the README's program answers differently in the compiled mode:\n"
                        "header-only:\n${_out}\ncompiled:\n${_compiled_out}")
  endif()
  message(STATUS "[${MODE}] OK (README program, compiled mode): the same answers")
endif()
if(NOT KEEP_WORK_DIR)
  file(REMOVE_RECURSE "${WORK_DIR}")
endif()
