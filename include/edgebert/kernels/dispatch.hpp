// SPDX-License-Identifier: Apache-2.0
#pragma once
// Runtime instruction-set dispatch of the kernels (docs/building.md, "Runtime dispatch"): one x86 program built
// without -march runs the best kernels the CPU has, chosen once, at the first kernel call or packing.
//
// A program with EDGEBERT_KERNEL_DISPATCH (and EDGEBERT_SEPARATE_KERNELS) in all its translation units compiles
// kernels/dispatch_isa.inc once per instruction set (sse2, avx2, avx2_vnni, avx512, avx512_icl; see
// cmake/edgebertDispatch.cmake for the flags) and kernels/dispatcher.inc once without flags. Each instruction
// set's file fills one kernel_table with its own entry points (kernels in an inline namespace of that name, see
// EDGEBERT_ISA_BEGIN in core/config.hpp); the dispatcher defines the ordinary entry points (kernels::gemm, ...)
// as calls through the table it chose.
//
// A new entry point joins in three places: a member of kernel_table, one line in dispatch_isa.inc filling it
// from the instruction set's namespace, and its forwarding definition in dispatcher.inc. An instruction set
// without a faster path compiles the same generic code with its flags.

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/config.hpp"
#include "attention.hpp"
#include "attention_span.hpp"
#include "gemm.hpp"
#include "gemm_i8.hpp"
#include "gemm_q8.hpp"
#include "instruction_set.hpp"
#include "layer_norm.hpp"
#include "sparse_gemm.hpp"
#include "sparse_gemm_i8.hpp"

namespace edgebert::kernels {

/// One instruction set's kernels, as function pointers (the entry points of the separate mode).
struct kernel_table {
    const char* name;           ///< "sse2", "avx2", "avx2_vnni", "avx512", "avx512_icl"
    std::size_t panel_width;    ///< NR of its GEMM: B operands are packed in panels this wide
    void (*gemm)(const float*, std::size_t, std::size_t, const packed_matrix&, float*, std::size_t, const epilogue&, int);
    void (*gemm_nt)(std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*, std::size_t,
                    float*, std::size_t);
    void (*gemm_nn)(std::size_t, std::size_t, std::size_t, const float*, std::size_t, const float*, std::size_t, float*,
                    std::size_t);
    void (*gemm_q8)(const float*, std::size_t, std::size_t, const q8_packed_matrix&, float*, std::size_t, const epilogue&,
                    int);
    void (*gemm_i8)(const float*, std::size_t, std::size_t, const i8_packed_matrix&, float*, std::size_t, const epilogue&,
                    int);
    const char* (*gemm_i8_isa)() noexcept;  ///< its integer path: "amx-int8", "avx512-vnni", "avx-vnni", "avx2", "portable"
    void (*sparse_gemm_bitmask)(const float*, std::size_t, std::size_t, const sparse::bitmask_matrix&, float*,
                                std::size_t, const epilogue&, int);
    void (*sparse_gemm_blocks)(const float*, std::size_t, std::size_t, const sparse::block_sparse_matrix&, float*,
                               std::size_t, const epilogue&, int);
    void (*sparse_gemm_i8)(const float*, std::size_t, std::size_t, const i8_block_sparse_matrix&, float*, std::size_t,
                           const epilogue&, int);
    void (*attention)(const attention_shape&, const float*, std::size_t, const std::uint8_t*, float*, std::size_t, int,
                      const attention_span*, attention_stats*);
    void (*layer_norm)(const float*, std::size_t, std::size_t, std::size_t, const float*, const float*, float, float*,
                       std::size_t, int) noexcept;
    std::string (*instruction_set)();
};

namespace detail {
// One per instruction set, each defined by its own translation unit (dispatch_isa.inc).
const kernel_table& kernel_table_sse2() noexcept;
const kernel_table& kernel_table_avx2() noexcept;
const kernel_table& kernel_table_avx2_vnni() noexcept;
const kernel_table& kernel_table_avx512() noexcept;
const kernel_table& kernel_table_avx512_icl() noexcept;
}  // namespace detail

/// The instruction sets this program has kernels for, best last, and whether this CPU runs each.
struct kernel_choice {
    const kernel_table* table;
    bool supported;
};
/// How many sets a dispatched program has kernels for: sse2, avx2, avx2_vnni, avx512, avx512_icl.
inline constexpr std::size_t kernel_set_count = 5;
/// Every compiled set (sse2, avx2, avx2_vnni, avx512, avx512_icl) with whether the CPU supports it.
std::size_t kernel_choices(kernel_choice* out, std::size_t capacity) noexcept;

/// The kernels in use: the best set the CPU supports, chosen at the first call; EDGEBERT_KERNELS=NAME in the
/// environment asks for a set by name (one the CPU does not support, or an unknown name, is refused with a
/// message on stderr and the best set is used).
const kernel_table& active_kernels() noexcept;

}  // namespace edgebert::kernels
