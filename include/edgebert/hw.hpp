// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/hw: the EdgeBERT 12 nm accelerator and energy model, and the layers below it (docs/architecture.md).

#include "hw/adapter_memory.hpp"
#include "hw/cycle_model.hpp"
#include "hw/dvfs.hpp"
#include "hw/energy_model.hpp"
#include "hw/energy_report.hpp"
#include "hw/hw_params.hpp"
#include "hw/memory_model.hpp"
#include "hw/operating_points.hpp"
#include "hw/run_pricer.hpp"
#include "hw/trace_builder.hpp"
