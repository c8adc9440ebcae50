// SPDX-License-Identifier: Apache-2.0
#pragma once
// Intel AMX tiles for the integer GEMM (kernels/gemm_i8.hpp): whether this process may use them, and two
// backends with one interface, so the kernel that drives the tiles is one piece of code.
//
//   amx_hardware_tiles   ldtilecfg / tileloadd / tdpbusd / tilestored / tilerelease, as inline assembly (the
//                        assembler knows them; no -mamx flags are needed, and no other code of the translation
//                        unit gets AMX instructions).
//   amx_software_tiles   a plain C++ model of the same instructions on eight 1 KiB tile registers per thread,
//                        after Intel's definitions (Intel 64 and IA-32 Architectures Software Developer's
//                        Manual, vol. 2, TILELOADD, TDPBUSD, TILESTORED; palette 1: 8 tiles of at most 16 rows
//                        of 64 bytes). It checks every use against the configuration and aborts on a misuse the
//                        hardware would fault on. The tests run the whole integer GEMM suite through it
//                        (test_gemm_i8_amx_model), because the processors these tests usually run on have no
//                        AMX.
//
// Linux hands AMX's 8 KiB of tile state to a process only on request (arch_prctl(ARCH_REQ_XCOMP_PERM,
// XFEATURE_XTILEDATA), Linux 5.16 and later); without it the first tile instruction faults. The request is made
// once, the first time the AMX path is asked for, and only when the user opted in (amx_int8_enabled).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../../core/config.hpp"
#include "../cpu_features.hpp"

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#include <sys/syscall.h>
#include <unistd.h>
#define EDGEBERT_AMX_HARDWARE 1
#else
#define EDGEBERT_AMX_HARDWARE 0
#endif

namespace edgebert::kernels::detail {
EDGEBERT_ISA_BEGIN  // everything here, its implicit constructors too, belongs to the set that compiles it

/// The 64-byte operand of ldtilecfg, palette 1: per tile, rows (at most 16) and bytes per row (at most 64).
struct alignas(64) amx_tile_config {
    std::uint8_t palette = 1;
    std::uint8_t start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t colsb[16] = {};
    std::uint8_t rows[16] = {};
};
static_assert(sizeof(amx_tile_config) == 64, "ldtilecfg reads 64 bytes");

/// Ask Linux for the tile data state (once per process; later calls return the first answer).
inline bool amx_request_permission() noexcept {
#if EDGEBERT_AMX_HARDWARE
    static const bool granted = [] {
        constexpr long arch_get_xcomp_perm = 0x1022, arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
        if (syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) != 0) return false;
        unsigned long mask = 0;
        return syscall(SYS_arch_prctl, arch_get_xcomp_perm, &mask) == 0 && ((mask >> xfeature_xtiledata) & 1ul);
    }();
    return granted;
#else
    return false;
#endif
}

/// The processor has AMX-INT8 and this process may use it (requests the permission if it was not yet).
inline bool amx_int8_usable() noexcept { return cpu_has_amx_int8() && amx_request_permission(); }

/// Whether gemm_i8 takes the AMX path: only when the environment says EDGEBERT_AMX=1 and amx_int8_usable().
/// Opt-in because that path has been tested against amx_software_tiles only, never on an AMX processor
/// (docs/performance.md, section 1); read once.
inline bool amx_int8_enabled() noexcept {
    static const bool enabled = [] {
        const char* opt = std::getenv("EDGEBERT_AMX");
        return opt && std::strcmp(opt, "1") == 0 && amx_int8_usable();
    }();
    return enabled;
}

#if EDGEBERT_AMX_HARDWARE
// Tile numbers are part of the instruction: EDGEBERT_AMX_FOR_TILE(T, OP) expands OP(n) for n == T.
#define EDGEBERT_AMX_FOR_TILE(T, OP)                              \
    static_assert(T >= 0 && T < 8, "palette 1 has tiles 0-7");    \
    if constexpr (T == 0) { OP(0) }                               \
    else if constexpr (T == 1) { OP(1) }                          \
    else if constexpr (T == 2) { OP(2) }                          \
    else if constexpr (T == 3) { OP(3) }                          \
    else if constexpr (T == 4) { OP(4) }                          \
    else if constexpr (T == 5) { OP(5) }                          \
    else if constexpr (T == 6) { OP(6) }                          \
    else { OP(7) }
#define EDGEBERT_AMX_ZERO(n) __asm__ volatile("tilezero %%tmm" #n ::);
#define EDGEBERT_AMX_LOAD(n) __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #n : : "r"(base), "r"(s) : "memory");
#define EDGEBERT_AMX_STORE(n) __asm__ volatile("tilestored %%tmm" #n ", (%0,%1,1)" : : "r"(base), "r"(s) : "memory");

/// The tile instructions themselves. Only for a process where amx_int8_usable() is true, between configure()
/// and release() on the same thread.
struct amx_hardware_tiles {
    static void configure(const amx_tile_config& cfg) noexcept { __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory"); }
    static void release() noexcept { __asm__ volatile("tilerelease" ::: "memory"); }
    template <int T>
    static void zero() noexcept {
        EDGEBERT_AMX_FOR_TILE(T, EDGEBERT_AMX_ZERO)
    }
    /// Tile T's rows from base + r · stride (its configured bytes of each).
    template <int T>
    static void load(const void* base, std::size_t stride) noexcept {
        const long s = long(stride);
        EDGEBERT_AMX_FOR_TILE(T, EDGEBERT_AMX_LOAD)
    }
    template <int T>
    static void store(void* base, std::size_t stride) noexcept {
        const long s = long(stride);
        EDGEBERT_AMX_FOR_TILE(T, EDGEBERT_AMX_STORE)
    }
    /// C += A · B: unsigned bytes of A times signed bytes of B, four per int32 (tdpbusd C, A, B).
    template <int C, int A, int B>
    static void dpbusd() noexcept {
        if constexpr (C == 0 && A == 4 && B == 6) __asm__ volatile("tdpbusd %%tmm6, %%tmm4, %%tmm0" ::);
        else if constexpr (C == 1 && A == 4 && B == 7) __asm__ volatile("tdpbusd %%tmm7, %%tmm4, %%tmm1" ::);
        else if constexpr (C == 2 && A == 5 && B == 6) __asm__ volatile("tdpbusd %%tmm6, %%tmm5, %%tmm2" ::);
        else if constexpr (C == 3 && A == 5 && B == 7) __asm__ volatile("tdpbusd %%tmm7, %%tmm5, %%tmm3" ::);
        else static_assert(C < 0, "spell out this combination of tiles");
    }
};
#undef EDGEBERT_AMX_FOR_TILE
#undef EDGEBERT_AMX_ZERO
#undef EDGEBERT_AMX_LOAD
#undef EDGEBERT_AMX_STORE
#endif

/// The same interface in plain C++ (see the top of this file). Each thread has its own tiles, as on hardware.
struct amx_software_tiles {
    struct registers {
        amx_tile_config cfg;
        bool configured = false;
        alignas(64) std::uint8_t tile[8][16 * 64];
    };
    static registers& state() noexcept {
        thread_local registers r;
        return r;
    }
    [[noreturn]] static void fault(const char* what) noexcept {
        std::fprintf(stderr, "amx_software_tiles: %s (the hardware would fault)\n", what);
        std::abort();
    }
    static void check(int t) noexcept {
        const registers& r = state();
        if (!r.configured) fault("tile instruction before ldtilecfg");
        if (r.cfg.rows[t] == 0 || r.cfg.rows[t] > 16 || r.cfg.colsb[t] == 0 || r.cfg.colsb[t] > 64)
            fault("tile used outside its configuration");
    }
    static void configure(const amx_tile_config& cfg) noexcept {
        if (cfg.palette != 1 || cfg.start_row != 0) fault("palette other than 1 or a non-zero start row");
        registers& r = state();
        r.cfg = cfg;
        r.configured = true;
        std::memset(r.tile, 0, sizeof r.tile);  // ldtilecfg zeroes every tile
    }
    static void release() noexcept {
        registers& r = state();
        r.configured = false;
        std::memset(r.tile, 0, sizeof r.tile);
    }
    template <int T>
    static void zero() noexcept {
        check(T);
        std::memset(state().tile[T], 0, 16 * 64);
    }
    template <int T>
    static void load(const void* base, std::size_t stride) noexcept {
        check(T);
        registers& r = state();
        std::memset(r.tile[T], 0, 16 * 64);  // bytes past the configured rows and columns read as zero
        for (std::size_t row = 0; row < r.cfg.rows[T]; ++row)
            std::memcpy(r.tile[T] + row * 64, static_cast<const std::uint8_t*>(base) + row * stride, r.cfg.colsb[T]);
    }
    template <int T>
    static void store(void* base, std::size_t stride) noexcept {
        check(T);
        const registers& r = state();
        for (std::size_t row = 0; row < r.cfg.rows[T]; ++row)
            std::memcpy(static_cast<std::uint8_t*>(base) + row * stride, r.tile[T] + row * 64, r.cfg.colsb[T]);
    }
    /// C[m][n] += sum over k < colsb(A)/4, i < 4 of u8 A[m][4k + i] · s8 B[k][4n + i], in wrapping int32
    /// arithmetic; the shapes must agree as tdpbusd demands (rows(C) = rows(A), colsb(C) = colsb(B),
    /// colsb(A) = 4 · rows(B)).
    template <int C, int A, int B>
    static void dpbusd() noexcept {
        check(C), check(A), check(B);
        registers& r = state();
        const amx_tile_config& cfg = r.cfg;
        if (cfg.rows[C] != cfg.rows[A] || cfg.colsb[C] != cfg.colsb[B] || cfg.colsb[A] != 4 * cfg.rows[B] ||
            cfg.colsb[C] % 4 != 0 || cfg.colsb[A] % 4 != 0)
            fault("tdpbusd on tiles whose shapes do not agree");
        for (std::size_t m = 0; m < cfg.rows[C]; ++m)
            for (std::size_t n = 0; n < cfg.colsb[C] / 4u; ++n) {
                std::int32_t acc;
                std::memcpy(&acc, r.tile[C] + m * 64 + n * 4, 4);
                std::uint32_t sum = std::uint32_t(acc);
                for (std::size_t k = 0; k < cfg.colsb[A] / 4u; ++k)
                    for (std::size_t i = 0; i < 4; ++i) {
                        const std::int32_t a = r.tile[A][m * 64 + 4 * k + i];
                        const std::int32_t b = std::int8_t(r.tile[B][k * 64 + 4 * n + i]);
                        sum += std::uint32_t(a * b);
                    }
                acc = std::int32_t(sum);
                std::memcpy(r.tile[C] + m * 64 + n * 4, &acc, 4);
            }
    }
};

EDGEBERT_ISA_END
}  // namespace edgebert::kernels::detail
