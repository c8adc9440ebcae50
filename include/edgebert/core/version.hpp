// edgebert: multi-task ALBERT inference with early exit, after EdgeBERT and adapter-ALBERT.
// SPDX-License-Identifier: Apache-2.0
#pragma once

// The single source of the version: CMake parses these three lines.
#define EDGEBERT_VERSION_MAJOR 0
#define EDGEBERT_VERSION_MINOR 1
#define EDGEBERT_VERSION_PATCH 0

namespace edgebert {

struct version_info {
    int major, minor, patch;
};

inline constexpr version_info version{EDGEBERT_VERSION_MAJOR, EDGEBERT_VERSION_MINOR, EDGEBERT_VERSION_PATCH};

}  // namespace edgebert
