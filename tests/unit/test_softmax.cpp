#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/softmax.hpp>

using namespace edgebert::kernels;

TEST_CASE("softmax rows match the reference with and without masks, odd lengths", "[softmax]") {
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.f, 4.f);
    for (std::size_t n : {1u, 2u, 5u, 15u, 16u, 17u, 33u, 129u}) {
        std::vector<float> x(n), ref(n);
        for (auto& v : x) v = nd(rng);
        std::vector<std::uint8_t> keep(n);
        for (std::size_t j = 0; j < n; ++j) keep[j] = (j % 3 != 1);
        const std::uint8_t* masks[] = {nullptr, keep.data()};
        for (const std::uint8_t* mask : masks) {
            reference::softmax(x.data(), n, mask, ref.data());
            std::vector<float> y = x;
            softmax_row(y.data(), n, mask);
            double total = 0;
            for (std::size_t j = 0; j < n; ++j) {
                INFO("n=" << n << " j=" << j);
                CHECK(std::abs(y[j] - ref[j]) <= 1e-6f);
                if (mask && !mask[j]) CHECK(y[j] == 0.f);
                total += y[j];
            }
            CHECK(total == Approx(1.0).margin(1e-5));
        }
    }
}

TEST_CASE("softmax with every key masked is uniform, as HF's float-min additive mask", "[softmax]") {
    std::vector<float> x{3.f, -1.f, 7.f};
    std::vector<std::uint8_t> none(3, 0);
    softmax_row(x.data(), 3, none.data());
    for (float v : x) CHECK(v == Approx(1.f / 3.f));
}

TEST_CASE("softmax is stable for huge logits", "[softmax]") {
    std::vector<float> x{1000.f, 999.f, -1000.f};
    softmax_row(x.data(), 3);
    CHECK(x[0] == Approx(0.7310586f));
    CHECK(x[1] == Approx(0.2689414f));
    CHECK(x[2] == 0.f);
}

TEST_CASE("entropy of softmax(logits) from logits", "[softmax]") {
    const float uniform[4] = {2.f, 2.f, 2.f, 2.f};
    CHECK(reference::softmax_entropy(uniform, 4) == Approx(std::log(4.0)));
    const float peaked[2] = {1000.f, -1000.f};
    CHECK(reference::softmax_entropy(peaked, 2) == Approx(0.0).margin(1e-12));
    const float two[2] = {0.f, std::log(3.f)};  // p = (1/4, 3/4)
    CHECK(reference::softmax_entropy(two, 2) == Approx(-(0.25 * std::log(0.25) + 0.75 * std::log(0.75))));
}
