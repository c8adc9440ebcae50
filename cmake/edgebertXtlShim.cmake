# Debian 12's xsimd 8.1 package exports `xsimd` with INTERFACE_LINK_LIBRARIES "xtl" although xtl is
# neither packaged nor needed by the headers we use; the link line then asks for -lxtl and fails.
# Provide an empty `xtl` target when none exists so that plain name resolves to nothing.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_eb_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_eb_xsimd_links MATCHES "(^|;)xtl(;|$)")
    add_library(xtl INTERFACE IMPORTED)
  endif()
  unset(_eb_xsimd_links)
endif()
