// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/sparse: bit-mask and block-sparse weight storage, and the layers below it (docs/architecture.md).

#include "sparse/bitmask_matrix.hpp"
#include "sparse/block_sparse_matrix.hpp"
#include "sparse/code_tables.hpp"
