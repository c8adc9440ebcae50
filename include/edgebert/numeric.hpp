// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/numeric: number formats: AdaptivFloat, FP8, fp16/bf16, and the layers below it (docs/architecture.md).

#include "numeric/adaptivfloat.hpp"
#include "numeric/format.hpp"
#include "numeric/fp8.hpp"
