// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/io: bytes in and out: safetensors, .npy, HF checkpoints, the compressed file, JSON inputs, and the layers below it (docs/architecture.md).

#include "io/compressed_matrix.hpp"
#include "io/compressed_model.hpp"
#include "io/hf_checkpoint.hpp"
#include "io/input_json.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"
#include "io/weight_source.hpp"
