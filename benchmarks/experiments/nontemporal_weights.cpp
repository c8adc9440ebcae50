// SPDX-License-Identifier: Apache-2.0
// Experiment, not part of the build: can part of a core's weights be read so that they do not push the rest out
// of its L3? On 2 threads at 128 tokens each core reads its 14 MB share of a layer's weights at every layer, a
// little more than the 12-16 MiB of L3 it keeps (docs/performance.md, sessions 21 and 26), and a pass takes
// what its products take with cold weights. If `prefetchnta` reads of a few MB did not allocate in L3, the other
// part of the share would stay there from one layer to the next (docs/performance.md, session 28).
//
//   c++ -std=c++17 -O2 -march=native benchmarks/experiments/nontemporal_weights.cpp -o /tmp/nontemporal_weights
//   taskset -c 0 /tmp/nontemporal_weights
//
// Each line: a buffer X (the weights meant to stay) and a buffer Y (the weights streamed past) read one after the
// other, 30 times; Y with plain loads or with `prefetchnta` 16 lines ahead of the loads. Medians of the last 25
// reads, GB/s. If the hint kept Y out of L3, X would read at its alone speed whatever Y's size.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

float* make_buffer(std::size_t floats) {
    auto* p = static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float)));
    if (!p) {
        std::perror("aligned_alloc");
        std::exit(1);
    }
    std::fill(p, p + floats, 1.f);
    return p;
}

// Sum of a buffer, one 64-byte line per step; non_temporal: prefetchnta 16 lines ahead of the load.
float sweep(const float* p, std::size_t floats, bool non_temporal) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (std::size_t i = 0; i < floats; i += 16) {
        if (non_temporal && i + 256 < floats) _mm_prefetch(reinterpret_cast<const char*>(p + i + 256), _MM_HINT_NTA);
        acc0 = _mm256_add_ps(acc0, _mm256_load_ps(p + i));
        acc1 = _mm256_add_ps(acc1, _mm256_load_ps(p + i + 8));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
    float s = 0.f;
    for (float v : lanes) s += v;
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void measure(std::size_t x_mib, std::size_t y_mib, bool non_temporal) {
    const std::size_t nx = x_mib << 18, ny = y_mib << 18;  // floats
    float* x = make_buffer(nx);
    float* y = ny ? make_buffer(ny) : nullptr;
    std::vector<double> tx, ty;
    volatile float sink = 0.f;
    for (int r = 0; r < 30; ++r) {
        const double t0 = now();
        sink = sink + sweep(x, nx, false);
        const double t1 = now();
        if (y) sink = sink + sweep(y, ny, non_temporal);
        const double t2 = now();
        if (r >= 5) {
            tx.push_back(t1 - t0);
            ty.push_back(t2 - t1);
        }
    }
    std::printf("X %2zu MiB: %6.1f GB/s", x_mib, double(nx) * 4 / median(tx) / 1e9);
    if (y) std::printf("   Y %2zu MiB %-12s: %6.1f GB/s", y_mib, non_temporal ? "prefetchnta" : "plain", double(ny) * 4 / median(ty) / 1e9);
    std::printf("\n");
    std::free(x);
    std::free(y);
}

}  // namespace

int main() {
    measure(8, 0, false);
    measure(128, 0, false);
    for (bool nt : {false, true})
        for (std::size_t y : {4, 8, 16}) measure(8, y, nt);
}
