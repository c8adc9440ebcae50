# ctest helper: run PROGRAM (through EMULATOR, a command line, when cross compiling) and compare its standard output
# with the file EXPECTED.
#   cmake -DPROGRAM=... -DEXPECTED=... [-DEMULATOR="qemu-aarch64-static -L ..."] -P compare_output.cmake
separate_arguments(EMULATOR UNIX_COMMAND "${EMULATOR}")
execute_process(COMMAND ${EMULATOR} ${PROGRAM} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}:\n${err}")
endif()
file(READ "${EXPECTED}" expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "${PROGRAM}: output differs from ${EXPECTED}\n--- expected\n${expected}--- got\n${out}")
endif()
message(STATUS "same output as ${EXPECTED}:\n${out}")
