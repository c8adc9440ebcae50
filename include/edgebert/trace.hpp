// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/trace: the typed events of a run, observers and the work trace, and the layers below it (docs/architecture.md).

#include "trace/events.hpp"
#include "trace/recorder.hpp"
#include "trace/work_trace.hpp"
