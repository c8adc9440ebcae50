// SPDX-License-Identifier: Apache-2.0
#pragma once
// Element-wise activations under HuggingFace's `hidden_act` names, each with a scalar reference
// (double-free, float in / float out, PyTorch's formula) and an xsimd batch version.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "../core/config.hpp"
#include "../core/activation_kind.hpp"
#include "../core/error.hpp"

namespace edgebert::kernels {


namespace detail {
inline constexpr float sqrt_2_over_pi = 0.7978845608028654f;
inline constexpr float inv_sqrt_2 = 0.7071067811865476f;

/// e^x for float batches with -87.3 <= x <= 88.3 (e^-87.3 is 1.04 times the smallest normal float, e^88.3 0.65
/// times the largest), within 2 ulp of std::exp: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so n ln2 is
/// exact), e^r by its Taylor series to r^7 (truncation < 6e-9 relative), 2^n put into the exponent bits. Outside
/// that range the result is meaningless (NaN in gives NaN); exp_float and exp_nonpositive replace it there.
template <class B>
inline B exp_in_range(const B& x) noexcept {
    static_assert(std::is_same_v<typename B::value_type, float>, "exp_in_range is for float batches");
    const B n = xsimd::nearbyint(x * B(1.44269504088896341f));
    B r = xsimd::fma(n, B(-0.693359375f), x);  // ln2 = 0.693359375 - 2.12194440e-4 (the first part is exact)
    r = xsimd::fma(n, B(2.12194440e-4f), r);
    B p(1.f / 5040.f);
    p = xsimd::fma(p, r, B(1.f / 720.f));
    p = xsimd::fma(p, r, B(1.f / 120.f));
    p = xsimd::fma(p, r, B(1.f / 24.f));
    p = xsimd::fma(p, r, B(1.f / 6.f));
    p = xsimd::fma(p, r, B(0.5f));
    p = xsimd::fma(p, r, B(1.f));
    p = xsimd::fma(p, r, B(1.f));
    const auto exponent = xsimd::to_int(n) + decltype(xsimd::to_int(n))(127);
    return p * xsimd::bitwise_cast<B>(exponent << 23);
}

/// e^x for float batches: exp_in_range, +inf above 88.3, 0 below -87.3, NaN stays NaN. Written out because GELU
/// with xsimd's exp (or tanh) took 1.6x as long, and ALBERT's FFN runs it on 128 x 3072 values per layer.
template <class B>
inline B exp_float(const B& x) noexcept {
    const B hi(88.3f), lo(-87.3f);
    B y = exp_in_range(xsimd::min(xsimd::max(x, lo), hi));
    y = xsimd::select(x > hi, B(std::numeric_limits<float>::infinity()), y);
    y = xsimd::select(x < lo, B(0.f), y);
    return xsimd::select(xsimd::isnan(x), x, y);  // NaN in, NaN out (the clamp above would have made it finite)
}

/// e^z for z <= 0, as the softmax needs it (z = scale (x - max)): exp_in_range, 0 below -87.3 and for -inf (a
/// masked key), NaN stays NaN; positive z is not handled. Without exp_float's clamps and its overflow and NaN
/// selects, the loop of exp_shifted issues about a third fewer instructions. -inf and NaN need no select of their
/// own: the reduction turns both into NaN, and only z < -87.3 is replaced.
template <class B>
inline B exp_nonpositive(const B& z) noexcept {
    return xsimd::select(z < B(-87.3f), B(0.f), exp_in_range(z));
}

/// e^x of a batch: exp_float for float, xsimd's exp otherwise.
template <class B>
inline B exp_batch(const B& x) noexcept {
    if constexpr (std::is_same_v<typename B::value_type, float>) return exp_float(x);
    else return xsimd::exp(x);
}
}  // namespace detail

/// Scalar reference, the formula PyTorch evaluates.
inline float activate_reference(activation a, float x) noexcept {
    switch (a) {
        case activation::identity: return x;
        case activation::relu: return x > 0.f ? x : 0.f;
        case activation::relu6: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
        case activation::leaky_relu: return x >= 0.f ? x : 0.01f * x;
        case activation::gelu_erf: return 0.5f * x * (1.f + std::erf(x * detail::inv_sqrt_2));
        case activation::gelu_tanh:
            return 0.5f * x * (1.f + std::tanh(detail::sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
        case activation::quick_gelu: return x / (1.f + std::exp(-1.702f * x));
        case activation::silu: return x / (1.f + std::exp(-x));
        case activation::mish: return x * std::tanh(std::log1p(std::exp(x)));
        case activation::tanh: return std::tanh(x);
        case activation::sigmoid: return 1.f / (1.f + std::exp(-x));
    }
    return x;
}

/// Compile-time-selected activation on one xsimd batch.
template <activation A, class B>
inline B activate(const B& x) noexcept {
    using T = typename B::value_type;
    if constexpr (A == activation::identity) {
        return x;
    } else if constexpr (A == activation::relu) {
        return xsimd::max(x, B(T(0)));
    } else if constexpr (A == activation::relu6) {
        return xsimd::min(xsimd::max(x, B(T(0))), B(T(6)));
    } else if constexpr (A == activation::leaky_relu) {
        return xsimd::select(x >= B(T(0)), x, x * B(T(0.01)));
    } else if constexpr (A == activation::gelu_erf) {
        return B(T(0.5)) * x * (B(T(1)) + xsimd::erf(x * B(T(detail::inv_sqrt_2))));
    } else if constexpr (A == activation::gelu_tanh) {
        // 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u)): one exp, and no cancellation in 1 + tanh(u) for x < 0.
        const B minus_two_u = x * xsimd::fma(x * x, B(T(-2 * 0.044715 * detail::sqrt_2_over_pi)), B(T(-2 * detail::sqrt_2_over_pi)));
        return x / (B(T(1)) + detail::exp_batch(minus_two_u));
    } else if constexpr (A == activation::quick_gelu) {
        return x / (B(T(1)) + detail::exp_batch(B(T(-1.702)) * x));
    } else if constexpr (A == activation::silu) {
        return x / (B(T(1)) + detail::exp_batch(-x));
    } else if constexpr (A == activation::mish) {
        return x * xsimd::tanh(xsimd::log1p(xsimd::exp(x)));
    } else if constexpr (A == activation::tanh) {
        return xsimd::tanh(x);
    } else {
        static_assert(A == activation::sigmoid);
        return B(T(1)) / (B(T(1)) + detail::exp_batch(-x));
    }
}

/// Call f(std::integral_constant<activation, A>{}) for the runtime value a: one switch, then a
/// loop compiled for that activation.
template <class F>
decltype(auto) dispatch_activation(activation a, F&& f) {
    using A = activation;
    switch (a) {
        case A::identity: return f(std::integral_constant<A, A::identity>{});
        case A::relu: return f(std::integral_constant<A, A::relu>{});
        case A::relu6: return f(std::integral_constant<A, A::relu6>{});
        case A::leaky_relu: return f(std::integral_constant<A, A::leaky_relu>{});
        case A::gelu_erf: return f(std::integral_constant<A, A::gelu_erf>{});
        case A::gelu_tanh: return f(std::integral_constant<A, A::gelu_tanh>{});
        case A::quick_gelu: return f(std::integral_constant<A, A::quick_gelu>{});
        case A::silu: return f(std::integral_constant<A, A::silu>{});
        case A::mish: return f(std::integral_constant<A, A::mish>{});
        case A::tanh: return f(std::integral_constant<A, A::tanh>{});
        case A::sigmoid: return f(std::integral_constant<A, A::sigmoid>{});
    }
    return f(std::integral_constant<A, A::identity>{});
}

EDGEBERT_ISA_BEGIN
/// In-place activation of n floats with the SIMD path. The tail goes through the same batch code
/// (padded), so a value's result never depends on its position in the array.
inline void apply_activation(activation a, float* x, std::size_t n) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    dispatch_activation(a, [&](auto tag) {
        constexpr activation A = decltype(tag)::value;
        if constexpr (A == activation::identity) return;
        std::size_t i = 0;
        for (; i + W <= n; i += W) activate<A>(batch::load_unaligned(x + i)).store_unaligned(x + i);
        if (i < n) {
            alignas(64) float tail[W] = {};
            for (std::size_t j = i; j < n; ++j) tail[j - i] = x[j];
            activate<A>(batch::load_aligned(tail)).store_aligned(tail);
            for (std::size_t j = i; j < n; ++j) x[j] = tail[j - i];
        }
    });
}

EDGEBERT_ISA_END
}  // namespace edgebert::kernels
