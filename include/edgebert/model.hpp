// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/model: the ALBERT encoder and model, tasks, the multi-task model, golden checks: runs models on token ids, and the layers below it (docs/architecture.md).

#include "model/adapterhub.hpp"
#include "model/albert_encoder.hpp"
#include "model/albert_model.hpp"
#include "model/golden.hpp"
#include "model/multi_task_model.hpp"
#include "model/off_ramp_binding.hpp"
#include "model/task.hpp"
#include "model/weight_storage.hpp"
