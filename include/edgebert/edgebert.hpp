// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert: header-only multi-task ALBERT inference with early exit, after EdgeBERT (Tambe et al.,
// MICRO 2021) and adapter-ALBERT (Fu, Avaliani, Donato, 2023). Include this for everything.

#include "core/aligned_buffer.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/matrix.hpp"
#include "core/version.hpp"
#include "io/hf_checkpoint.hpp"
#include "io/input_json.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"
#include "io/weight_source.hpp"
#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/gemm.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/softmax.hpp"
#include "model/albert_config.hpp"
#include "model/albert_encoder.hpp"
#include "model/albert_model.hpp"
#include "model/token_batch.hpp"
#include "nn/embeddings.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
