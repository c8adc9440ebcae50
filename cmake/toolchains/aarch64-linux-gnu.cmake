# Cross build for 64-bit ARM Linux with Debian's cross compiler (apt-get install g++-aarch64-linux-gnu), tests
# run under QEMU user-mode emulation (apt-get install qemu-user-static). docs/building.md has the steps.
#
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake -S . -B build-aarch64-dotprod -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DEDGEBERT_MARCH=armv8.2-a+dotprod
#
# EDGEBERT_MARCH is the -march the tests, examples and benchmarks get (-march=native has no meaning when the
# build machine is not the target): armv8-a (plain NEON, every AArch64 core) by default.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(_eb_triple aarch64-linux-gnu)
if(NOT CMAKE_CXX_COMPILER)
  find_program(CMAKE_CXX_COMPILER NAMES ${_eb_triple}-g++ ${_eb_triple}-g++-12 REQUIRED)
endif()

# The target's libraries and headers come from the cross sysroot; programs (python3, the emulator) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${_eb_triple})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# Eigen, xsimd, nlohmann_json and Catch2 are header-only: the host's packages (their headers and CMake configs
# hold nothing specific to x86) serve the target as they are, without arm64 multiarch packages.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
if(NOT xsimd_DIR)
  # Debian installs xsimd's (architecture-independent) config under the host's multiarch folder.
  file(GLOB _eb_xsimd_dirs /usr/lib/*-linux-gnu/cmake/xsimd)
  if(_eb_xsimd_dirs)
    list(GET _eb_xsimd_dirs 0 _eb_xsimd_dir)
    set(xsimd_DIR "${_eb_xsimd_dir}" CACHE PATH "xsimd's CMake config (header-only, host package)")
  endif()
endif()

# Run test programs (and Catch2's test discovery) under QEMU, with the cross sysroot's loader and libraries.
# -cpu max emulates every extension QEMU knows (dot product, SVE, ...), so a +dotprod build runs too.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(EDGEBERT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
  if(EDGEBERT_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${EDGEBERT_QEMU_AARCH64};-cpu;max;-L;/usr/${_eb_triple}")
  endif()
endif()

set(EDGEBERT_MARCH "armv8-a" CACHE STRING "-march of the tests, examples and benchmarks")
set(EDGEBERT_NATIVE OFF CACHE BOOL "-march=native (meaningless when cross compiling)")
set(EDGEBERT_BUILD_BENCHMARKS OFF CACHE BOOL "Google Benchmark is not installed for the target")
