// Deterministic random numbers for tests, so that failures reproduce.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace test_util {

/// xorshift64* (fast, seedable, the same on every platform).
struct rng {
    std::uint64_t s;
    explicit rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint32_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return std::uint32_t((s * 0x2545F4914F6CDD1Dull) >> 32);
    }
    double uniform() { return (next() + 0.5) / 4294967296.0; }
    /// Roughly Gaussian (sum of six uniforms), like trained weights.
    double normal() {
        double t = 0;
        for (int i = 0; i < 6; ++i) t += uniform();
        return (t - 3.0) * std::sqrt(2.0);
    }
    float normal(double scale) { return float(normal() * scale); }
};

/// n values mean + scale * N(0, 1).
inline std::vector<float> normal_values(std::size_t n, unsigned seed, float scale, float mean = 0.f) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = mean + scale * nd(gen);
    return v;
}

}  // namespace test_util
