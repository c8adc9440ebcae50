// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/exit: exit policies, the EdgeBERT exit predictor, entropy traces, and the layers below it (docs/architecture.md).

#include "exit/calibrate.hpp"
#include "exit/entropy_trace.hpp"
#include "exit/evaluate.hpp"
#include "exit/logit_policy.hpp"
#include "exit/policy.hpp"
#include "exit/predictor.hpp"
