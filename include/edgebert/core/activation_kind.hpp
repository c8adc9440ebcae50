// SPDX-License-Identifier: Apache-2.0
#pragma once
// The activation functions a model can name (HuggingFace's `hidden_act` strings): a value type that configs
// and adapters carry; kernels/activation.hpp evaluates them.

#include <string>
#include <utility>

#include "error.hpp"

namespace edgebert::kernels {

enum class activation {
    identity,    ///< "linear"
    relu,        ///< max(x, 0)
    relu6,       ///< min(max(x, 0), 6)
    leaky_relu,  ///< x if x >= 0 else 0.01 x (PyTorch default slope)
    gelu_erf,    ///< "gelu", "gelu_python": 0.5 x (1 + erf(x / sqrt 2))
    gelu_tanh,   ///< "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate": tanh approximation
    quick_gelu,  ///< x sigmoid(1.702 x)
    silu,        ///< "silu", "swish": x sigmoid(x)
    mish,        ///< x tanh(softplus(x))
    tanh,
    sigmoid,
};

/// Parse a HuggingFace `hidden_act` string; throws config_error naming the value if unknown.
inline activation parse_activation(const std::string& name) {
    static const std::pair<const char*, activation> table[] = {
        {"linear", activation::identity},     {"identity", activation::identity},
        {"relu", activation::relu},           {"relu6", activation::relu6},
        {"leaky_relu", activation::leaky_relu},
        {"gelu", activation::gelu_erf},       {"gelu_python", activation::gelu_erf},
        {"gelu_new", activation::gelu_tanh},  {"gelu_pytorch_tanh", activation::gelu_tanh},
        {"gelu_fast", activation::gelu_tanh}, {"gelu_accurate", activation::gelu_tanh},
        {"quick_gelu", activation::quick_gelu},
        {"silu", activation::silu},           {"swish", activation::silu},
        {"mish", activation::mish},           {"tanh", activation::tanh},
        {"sigmoid", activation::sigmoid},
    };
    for (const auto& [key, value] : table)
        if (name == key) return value;
    throw config_error("unknown activation \"" + name +
                       "\" (supported: linear, relu, relu6, leaky_relu, gelu, gelu_python, gelu_new, "
                       "gelu_pytorch_tanh, gelu_fast, gelu_accurate, quick_gelu, silu, swish, mish, tanh, sigmoid)");
}

inline const char* to_string(activation a) noexcept {
    switch (a) {
        case activation::identity: return "linear";
        case activation::relu: return "relu";
        case activation::relu6: return "relu6";
        case activation::leaky_relu: return "leaky_relu";
        case activation::gelu_erf: return "gelu";
        case activation::gelu_tanh: return "gelu_new";
        case activation::quick_gelu: return "quick_gelu";
        case activation::silu: return "silu";
        case activation::mish: return "mish";
        case activation::tanh: return "tanh";
        case activation::sigmoid: return "sigmoid";
    }
    return "?";
}

}  // namespace edgebert::kernels
