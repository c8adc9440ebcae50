// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/compress: pruning and writing compressed model files, and the layers below it (docs/architecture.md).

#include "compress/compressor.hpp"
#include "compress/pruning.hpp"
