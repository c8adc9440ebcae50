// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/nn: layers: linear over any storage, adapters, embeddings, off-ramps, heads, and the layers below it (docs/architecture.md).

#include "nn/adapter.hpp"
#include "nn/classification_head.hpp"
#include "nn/embeddings.hpp"
#include "nn/layer_norm.hpp"
#include "nn/linear.hpp"
#include "nn/off_ramp.hpp"
