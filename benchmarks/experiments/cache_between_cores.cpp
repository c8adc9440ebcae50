// SPDX-License-Identifier: Apache-2.0
// Experiment, not part of the build: how fast one core re-reads a buffer, by size, and whether a buffer another
// core has just read is in a cache both share. It is the evidence behind core/thread_pool.hpp's per-thread shares
// (docs/performance.md, session 21): on the 2-core VMs of this project, data warmed by core 1 comes back to core 0
// at memory speed, so the two cores do not share an L3, and a GEMM's weights stay cached only on the core that
// read them last.
//
//   c++ -std=c++17 -O3 -march=native benchmarks/experiments/cache_between_cores.cpp -o /tmp/cache_between_cores
//   /tmp/cache_between_cores            (Linux: pins itself to CPUs 0 and 1 in turn)
//
// Part 1: a buffer of S MiB read repeatedly on CPU 0, GB/s (where it stops rising is the L3 this core gets).
// Part 2: a buffer evicted (256 MiB read in between), read twice on CPU 0 or on CPU 1, then once on CPU 0, timed.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        std::perror("sched_setaffinity");
        std::exit(1);
    }
}

// Sum with four independent 64-byte vector accumulators (GCC/Clang vector extensions), so the loop is bound by
// loads, not by the latency of the additions.
using v16f = float __attribute__((vector_size(64)));
float read_all(const std::vector<float>& v) {
    v16f acc[4] = {};
    const std::size_t n = v.size() / 64 * 64;
    for (std::size_t i = 0; i < n; i += 64)
        for (int j = 0; j < 4; ++j) {
            v16f x;
            std::memcpy(&x, v.data() + i + 16 * std::size_t(j), sizeof x);
            acc[j] += x;
        }
    const v16f total = acc[0] + acc[1] + acc[2] + acc[3];
    float s = 0;
    for (int j = 0; j < 16; ++j) s += total[j];
    return s;
}

double seconds_to_read(const std::vector<float>& v, float& sink) {
    const auto t0 = std::chrono::steady_clock::now();
    sink += read_all(v);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
    float sink = 0;
    pin(0);
    std::printf("part 1: re-reading one buffer on CPU 0\n");
    for (std::size_t mib : {1, 4, 8, 12, 16, 20, 24, 32, 48, 128}) {
        const std::vector<float> v(mib << 18, 1.f);
        sink += read_all(v);
        const int reps = int(std::max<std::size_t>(4, 2048 / mib));
        double t = 0;
        for (int r = 0; r < reps; ++r) t += seconds_to_read(v, sink);
        std::printf("  %4zu MiB: %6.1f GB/s\n", mib, double(mib << 20) * reps / t / 1e9);
    }
    std::printf("part 2: read on CPU 0 after the buffer was read on CPU 0 or on CPU 1\n");
    const std::vector<float> evict(std::size_t(256) << 18, 1.f);
    for (std::size_t mib : {8, 16})
        for (int trial = 0; trial < 3; ++trial)
            for (int warm_on : {0, 1}) {
                const std::vector<float> v(mib << 18, 1.f);
                pin(0);
                sink += read_all(evict);
                pin(warm_on);
                sink += read_all(v);
                sink += read_all(v);
                pin(0);
                const double t = seconds_to_read(v, sink);
                std::printf("  %2zu MiB warmed on CPU %d: %6.1f GB/s\n", mib, warm_on, double(mib << 20) / t / 1e9);
            }
    return sink == 0.f ? 1 : 0;  // keeps the reads
}
