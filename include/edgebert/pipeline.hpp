// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/pipeline: folder to answers: tokenizer + model + tasks + accelerator pricing, and the layers below it (docs/architecture.md).

#include "pipeline/pipeline.hpp"
