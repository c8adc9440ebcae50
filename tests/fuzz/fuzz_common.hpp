// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared by every fuzz target. A target defines fuzz_one(data, size); the entry point below runs it and
// treats an edgebert::error as the reader doing its job. Anything else is a finding: another exception
// escapes (libFuzzer reports it as a crash, the replay driver as a failed test), a sanitizer fires, or
// an invariant check below aborts.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <edgebert/core/error.hpp>

void fuzz_one(const std::uint8_t* data, std::size_t size);

/// A property the reader promises failed: print it and abort, which both drivers report as a crash.
#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

/// Run f, which must not throw at all: a step that cannot fail once the reader has accepted the input
/// (a round trip, a read of an accepted tensor). Any exception is a finding.
template <class F>
void fuzz_must_succeed(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: %s threw after the input was accepted: %s\n", what, e.what());
        std::abort();
    }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        fuzz_one(data, size);
    } catch (const edgebert::error&) {
        // a typed rejection: the expected outcome for most inputs
    }
    return 0;
}
