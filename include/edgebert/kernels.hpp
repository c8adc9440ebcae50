// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/kernels: GEMM (dense, 8-bit, sparse), attention, LayerNorm, softmax, activations, with scalar references, and the layers below it (docs/architecture.md).

#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/attention_span.hpp"
#include "kernels/gemm.hpp"
#include "kernels/gemm_i8.hpp"
#include "kernels/gemm_q8.hpp"
#include "kernels/instruction_set.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/softmax.hpp"
#include "kernels/sparse_gemm.hpp"
#include "kernels/sparse_gemm_i8.hpp"
