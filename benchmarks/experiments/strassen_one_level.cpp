// SPDX-License-Identifier: Apache-2.0
// Experiment, not part of the build: one level of Strassen's algorithm on top of edgebert's fp32 GEMM, to see
// whether 7/8 of the multiplications can beat the classical product on ALBERT's shapes (docs/performance.md,
// session 14). It did not pay at 128 tokens; the code is kept so the numbers can be reproduced:
//
//   c++ -std=c++17 -Iinclude -O3 -DNDEBUG -fopenmp -march=native benchmarks/experiments/strassen_one_level.cpp \
//       -o /tmp/strassen && /tmp/strassen [threads] [--one-b]
//
// C = A·B with A [m x k], B [k x n] split into 2 x 2 blocks. B's seven sums (B11 + B22, B11, B12 - B22, ...) are
// packed once, as weights would be at load. For each column panel of the quadrants, the seven products
// M1..M7 are computed into an L1 strip and added with their signs into four quadrant strips, which are then
// written to C once. --one-b uses the first packed sum for all seven products (wrong results, but all of B
// stays in cache), which shows how much of the cost is streaming the 1.75x larger packed B.
#include <edgebert/kernels/gemm.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace edgebert;
using namespace edgebert::kernels;

namespace {

double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct strassen_weights {
    packed_matrix sums[7];
    std::size_t k2 = 0, n2 = 0;
};

strassen_weights pack_sums(const float* b, std::size_t k, std::size_t n) {
    strassen_weights s;
    s.k2 = k / 2;
    s.n2 = n / 2;
    auto block = [&](int i, int j) { return b + i * s.k2 * n + j * s.n2; };
    std::vector<float> t(s.k2 * s.n2);
    auto sum = [&](const float* x, const float* y, float sign_y) {
        for (std::size_t r = 0; r < s.k2; ++r)
            for (std::size_t c = 0; c < s.n2; ++c) t[r * s.n2 + c] = x[r * n + c] + (y ? sign_y * y[r * n + c] : 0.f);
        return packed_matrix::from_kn(t.data(), s.k2, s.n2, s.n2);
    };
    s.sums[0] = sum(block(0, 0), block(1, 1), 1.f);   // M1 = (A11 + A22)(B11 + B22)
    s.sums[1] = sum(block(0, 0), nullptr, 0.f);       // M2 = (A21 + A22) B11
    s.sums[2] = sum(block(0, 1), block(1, 1), -1.f);  // M3 = A11 (B12 - B22)
    s.sums[3] = sum(block(1, 0), block(0, 0), -1.f);  // M4 = A22 (B21 - B11)
    s.sums[4] = sum(block(1, 1), nullptr, 0.f);       // M5 = (A11 + A12) B22
    s.sums[5] = sum(block(0, 0), block(0, 1), 1.f);   // M6 = (A21 - A11)(B11 + B12)
    s.sums[6] = sum(block(1, 0), block(1, 1), 1.f);   // M7 = (A12 - A22)(B21 + B22)
    return s;
}

// Sign of M_i in C11, C12, C21, C22.
constexpr float coefficient[7][4] = {{1, 0, 0, 1}, {0, 0, 1, -1}, {0, 1, 0, 1}, {1, 0, 1, 0},
                                     {-1, 1, 0, 0}, {0, 0, 0, 1}, {1, 0, 0, 0}};

void strassen_gemm(const float* a, std::size_t m, std::size_t k, const strassen_weights& s, float* c, std::size_t n,
                   int threads, bool one_b) {
    using namespace detail;
    constexpr std::size_t MR = gemm_mr, NR = gemm_nr, KC = gemm_kc;
    const std::size_t m2 = m / 2, k2 = s.k2, n2 = s.n2, mpanels = m2 / MR;
    thread_local aligned_buffer<float> a_sums;
    float* sums = scratch(a_sums, 5 * m2 * k2);
    auto block = [&](int i, int j) { return a + i * m2 * k + j * k2; };
    auto a_sum = [&](int slot, const float* x, const float* y, float sign_y) {
        float* d = sums + slot * m2 * k2;
        for (std::size_t r = 0; r < m2; ++r)
            for (std::size_t j = 0; j < k2; ++j) d[r * k2 + j] = x[r * k + j] + sign_y * y[r * k + j];
        return static_cast<const float*>(d);
    };
    const float* op[7] = {a_sum(0, block(0, 0), block(1, 1), 1.f), a_sum(1, block(1, 0), block(1, 1), 1.f),
                          block(0, 0), block(1, 1), a_sum(2, block(0, 0), block(0, 1), 1.f),
                          a_sum(3, block(1, 0), block(0, 0), -1.f), a_sum(4, block(0, 1), block(1, 1), -1.f)};
    const std::size_t ld[7] = {k2, k2, k, k, k2, k2, k2};
    for_each_tile_block(threads, s.sums[0].panels(), 1, [&](std::size_t p0, std::size_t p1, std::size_t, std::size_t) {
        thread_local aligned_buffer<float> strips;
        float* product = scratch(strips, 5 * m2 * NR);
        float* quadrant = product + m2 * NR;
        for (std::size_t p = p0; p < p1; ++p) {
            const std::size_t n0 = p * NR, w = std::min(NR, n2 - n0);
            bool written[4] = {false, false, false, false};
            for (int i = 0; i < 7; ++i) {
                const packed_matrix& b = s.sums[one_b ? 0 : i];
                for (std::size_t k0 = 0; k0 < k2; k0 += KC) {
                    const std::size_t kc = std::min(KC, k2 - k0);
                    for (std::size_t ip = 0; ip < mpanels; ++ip)
                        micro_kernel<false>(kc, op[i] + ip * MR * ld[i] + k0, ld[i], b.panel(p) + k0 * NR,
                                            product + ip * MR * NR, NR, k0 != 0);
                }
                for (int q = 0; q < 4; ++q) {
                    const float sign = coefficient[i][q];
                    if (sign == 0.f) continue;
                    float* dst = quadrant + q * m2 * NR;
                    for (std::size_t t = 0; t < m2 * NR; ++t) dst[t] = (written[q] ? dst[t] : 0.f) + sign * product[t];
                    written[q] = true;
                }
            }
            for (int q = 0; q < 4; ++q)
                for (std::size_t r = 0; r < m2; ++r)
                    std::memcpy(c + ((q / 2) * m2 + r) * n + (q % 2) * n2 + n0, quadrant + q * m2 * NR + r * NR,
                                w * sizeof(float));
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    const bool one_b = argc > 2 && std::string(argv[2]) == "--one-b";
    const std::size_t shapes[][3] = {{128, 768, 3072}, {128, 3072, 768}, {128, 768, 2304}, {128, 768, 768},
                                     {384, 768, 3072}, {384, 3072, 768}, {384, 768, 2304}, {384, 768, 768}};
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (const auto& shape : shapes) {
        const std::size_t m = shape[0], k = shape[1], n = shape[2];
        if (m % (2 * detail::gemm_mr) || k % 2 || n % 2) continue;
        std::vector<float> a(m * k), b(k * n), classical(m * n), strassen(m * n);
        for (float& v : a) v = normal(rng);
        for (float& v : b) v = 0.03f * normal(rng);
        const packed_matrix packed = packed_matrix::from_kn(b.data(), k, n, n);
        const strassen_weights sums = pack_sums(b.data(), k, n);
        const int iters = std::max(3, int(2e9 / (2.0 * m * k * n)));
        std::vector<double> t_classical, t_strassen;
        for (int round = 0; round < 9; ++round) {  // interleaved rounds, medians
            double t0 = seconds();
            for (int i = 0; i < iters; ++i) gemm(a.data(), m, k, packed, classical.data(), n, {}, threads);
            t_classical.push_back((seconds() - t0) / iters);
            t0 = seconds();
            for (int i = 0; i < iters; ++i) strassen_gemm(a.data(), m, k, sums, strassen.data(), n, threads, one_b);
            t_strassen.push_back((seconds() - t0) / iters);
        }
        std::sort(t_classical.begin(), t_classical.end());
        std::sort(t_strassen.begin(), t_strassen.end());
        double largest_difference = 0, largest = 0;
        for (std::size_t i = 0; i < m * n; ++i) {
            largest_difference = std::max(largest_difference, double(std::abs(classical[i] - strassen[i])));
            largest = std::max(largest, double(std::abs(classical[i])));
        }
        const double tc = t_classical[4], ts = t_strassen[4];
        std::printf("%zu x %zu x %zu: classical %.1f us (%.0f GFLOP/s), Strassen %.1f us, ratio %.3f, "
                    "largest difference %.2e (largest |C| %.1f)\n",
                    m, k, n, tc * 1e6, 2.0 * m * k * n / tc * 1e-9, ts * 1e6, ts / tc, largest_difference, largest);
    }
}
