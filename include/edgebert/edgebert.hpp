// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert: header-only multi-task ALBERT inference with early exit, after EdgeBERT (Tambe et al.,
// MICRO 2021) and adapter-ALBERT (Fu, Avaliani, Donato, 2023). This includes every layer; an app that needs less
// includes one layer's header (edgebert/pipeline.hpp, edgebert/model.hpp, ...; docs/architecture.md).

#include "core.hpp"
#include "numeric.hpp"
#include "sparse.hpp"
#include "kernels.hpp"
#include "io.hpp"
#include "names.hpp"
#include "text.hpp"
#include "trace.hpp"
#include "exit.hpp"
#include "nn.hpp"
#include "model.hpp"
#include "compress.hpp"
#include "hw.hpp"
#include "pipeline.hpp"
