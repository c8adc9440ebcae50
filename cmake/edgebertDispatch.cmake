# Runtime instruction-set dispatch of the kernels (docs/building.md, "Runtime dispatch"; kernels/dispatch.hpp).
#
#   include(edgebertDispatch)                    # from edgebert's cmake/ folder
#   edgebert_add_dispatched_kernels(my_app)      # x86-64 only
#
# adds to the target the dispatcher and the default pipeline (compiled without instruction-set flags) and the
# kernels compiled once per instruction set with that set's flags, and defines EDGEBERT_SEPARATE_KERNELS and EDGEBERT_KERNEL_DISPATCH on it
# (PUBLIC: every translation unit that includes edgebert must see them). The rest of the program must be compiled
# without -march (or with the lowest one it should run on). The dispatcher comes first among the sources: where an
# inline function of the standard library is compiled in several of these files, the linker keeps the first copy
# it meets, which is then one without instruction-set flags.
set(EDGEBERT_DISPATCH_SETS
  "sse2|"
  "avx2|-march=x86-64-v3"
  "avx2_vnni|-march=x86-64-v3,-mavxvnni"
  "avx512|-march=x86-64-v4"
  "avx512_icl|-march=x86-64-v4,-mavx512vbmi,-mavx512vnni"
  CACHE INTERNAL "instruction set|compile flags (comma-separated), in the order of kernel_choices()")

function(edgebert_add_dispatched_kernels target)
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/edgebert_dispatch")
  file(MAKE_DIRECTORY "${dir}")
  set(src "${dir}/dispatcher.cpp")
  if(NOT EXISTS "${src}")
    file(WRITE "${src}" "#include <edgebert/kernels/dispatcher.inc>\n")
  endif()
  target_sources(${target} PRIVATE "${src}")
  # The compiled mode's default pipeline (pipeline/pipeline.hpp), compiled once here, without instruction-set
  # flags like everything that is not a kernel; the program's other files only declare it.
  set(src "${dir}/pipeline_instance.cpp")
  if(NOT EXISTS "${src}")
    file(WRITE "${src}" "#define EDGEBERT_PIPELINE_IMPLEMENTATION\n#include <edgebert/pipeline.hpp>\n")
  endif()
  target_sources(${target} PRIVATE "${src}")
  foreach(entry IN LISTS EDGEBERT_DISPATCH_SETS)
    string(REPLACE "|" ";" parts "${entry}")
    string(REPLACE "," ";" parts "${parts}")
    list(GET parts 0 isa)
    list(LENGTH parts n)
    set(flags "")
    if(n GREATER 1)
      list(SUBLIST parts 1 -1 flags)
    endif()
    set(src "${dir}/kernels_${isa}.cpp")
    if(NOT EXISTS "${src}")
      file(WRITE "${src}" "#include <edgebert/kernels/dispatch_isa.inc>\n")
    endif()
    set_source_files_properties("${src}" PROPERTIES
      COMPILE_DEFINITIONS "EDGEBERT_KERNELS_IMPLEMENTATION;EDGEBERT_KERNEL_ISA=${isa}"
      COMPILE_OPTIONS "${flags}")
    target_sources(${target} PRIVATE "${src}")
  endforeach()
  target_compile_definitions(${target} PUBLIC EDGEBERT_SEPARATE_KERNELS EDGEBERT_KERNEL_DISPATCH)
endfunction()
