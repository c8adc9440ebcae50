// A downstream program built with the kernels compiled separately (EDGEBERT_SEPARATE_KERNELS on the target,
// kernels_impl.cpp the one translation unit that compiles them): one packed GEMM against the scalar reference.
#include <cmath>
#include <cstdio>
#include <vector>

#include <edgebert/kernels/gemm.hpp>

int main() {
    const std::size_t m = 3, k = 37, n = 19;  // odd sizes: edge tiles on both sides
    std::vector<float> a(m * k), w(n * k), bias(n), fast(m * n), ref(m * n);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 7 % 23) - 11) / 8.f;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(int(i * 5 % 19) - 9) / 16.f;
    for (std::size_t j = 0; j < n; ++j) bias[j] = float(j) / 4.f;
    edgebert::kernels::epilogue ep;
    ep.bias = bias.data();
    ep.act = edgebert::kernels::activation::relu;
    const auto packed = edgebert::kernels::packed_matrix::from_weight(w.data(), n, k, k);
    edgebert::kernels::gemm(a.data(), m, k, packed, fast.data(), n, ep);
    edgebert::kernels::reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), n, ep);
    double worst = 0;
    for (std::size_t i = 0; i < fast.size(); ++i) worst = std::fmax(worst, std::fabs(double(fast[i]) - double(ref[i])));
    std::printf("separate kernels: gemm %zux%zux%zu, max abs difference from the reference %g\n", m, k, n, worst);
    return worst <= 1e-4 ? 0 : 1;
}
