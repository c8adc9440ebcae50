// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whether this processor runs an instruction set's kernels, asked at run time: the dispatcher's choice
// (kernels/dispatch.hpp) and the tests of each set's variant ask the same question here.

#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define EDGEBERT_X86_CPUID 1
#else
#define EDGEBERT_X86_CPUID 0
#endif

namespace edgebert::kernels {

/// AVX-VNNI (the VEX-encoded vpdpbusd of Alder Lake and later): CPUID leaf 7, sub-leaf 1, EAX bit 4. Asked
/// directly: clang 14's __builtin_cpu_supports does not know the name.
inline bool cpu_has_avx_vnni() noexcept {
#if EDGEBERT_X86_CPUID
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
    return (a >> 4) & 1u;
#else
    return false;
#endif
}

/// AMX-TILE and AMX-INT8 (CPUID leaf 7, sub-leaf 0, EDX bits 24 and 25), with the tile state enabled by the OS
/// in XCR0 (bits 17 and 18). Linux also wants a per-process request before the first tile instruction
/// (kernels/detail/amx_tiles.hpp).
inline bool cpu_has_amx_int8() noexcept {
#if EDGEBERT_X86_CPUID && defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1u)) return false;  // OSXSAVE: xgetbv is allowed
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((d >> 24) & 1u) || !((d >> 25) & 1u)) return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((lo >> 17) & 3u) == 3u;
#else
    return false;
#endif
}

/// Whether this processor has every instruction the set `set` (sse2, avx2, avx2_vnni, avx512, avx512_icl:
/// cmake/edgebertDispatch.cmake) was compiled for. Not x86: only "sse2" is false too; other names: false.
inline bool cpu_runs(const char* set) noexcept {
#if EDGEBERT_X86_CPUID
    __builtin_cpu_init();
    if (std::strcmp(set, "sse2") == 0) return true;  // every x86-64 processor
    if (std::strcmp(set, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    if (std::strcmp(set, "avx2_vnni") == 0) return cpu_runs("avx2") && cpu_has_avx_vnni();
    const bool v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512cd") && cpu_runs("avx2");
    if (std::strcmp(set, "avx512") == 0) return v4;
    if (std::strcmp(set, "avx512_icl") == 0)
        return v4 && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni");
    return false;
#else
    (void)set;
    return false;
#endif
}

}  // namespace edgebert::kernels

#undef EDGEBERT_X86_CPUID
