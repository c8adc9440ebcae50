// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/names: every tensor name (HuggingFace, EdgeBERT, AdapterHub), and the layers below it (docs/architecture.md).

#include "names/tensor_names.hpp"
