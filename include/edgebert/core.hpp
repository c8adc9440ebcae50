// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/core: value types at the bottom: errors, limits, config, token batches, dtypes, number parsing, and the layers below it (docs/architecture.md).

#include "core/activation_kind.hpp"
#include "core/albert_config.hpp"
#include "core/aligned_buffer.hpp"
#include "core/config.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/matrix.hpp"
#include "core/parse.hpp"
#include "core/read_file.hpp"
#include "core/thread_pool.hpp"
#include "core/token_batch.hpp"
#include "core/version.hpp"
