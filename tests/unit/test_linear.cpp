#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/nn/linear.hpp>
#include <edgebert/sparse/block_sparse_matrix.hpp>
#include <edgebert/compress.hpp>

#include "support/test_random.hpp"

using namespace edgebert;

TEST_CASE("linear computes act(x Wᵀ + b) + residual with PyTorch's weight layout", "[linear]") {
    const float w[6] = {1, 2, 3, -1, 0, 1};  // out 2, in 3
    const float b[2] = {0.5f, -0.5f};
    const nn::linear lin(w, 2, 3, b);
    CHECK(lin.in_features() == 3);
    CHECK(lin.out_features() == 2);
    CHECK(lin.has_bias());
    const float x[6] = {1, 1, 1, 2, 0, -1};
    float y[4];
    lin.forward(x, 2, 3, y, 2);
    CHECK(y[0] == 6.5f);   // 1+2+3 + .5
    CHECK(y[1] == -0.5f);  // -1+0+1 - .5
    CHECK(y[2] == -0.5f);  // 2+0-3 + .5
    CHECK(y[3] == -3.5f);  // -2+0-1 - .5
    const float res[4] = {1, 1, 1, 1};
    lin.forward(x, 2, 3, y, 2, 2, kernels::activation::relu, res, 2);
    CHECK(y[0] == 7.5f);
    CHECK(y[1] == 1.f);
    CHECK(y[3] == 1.f);
    const nn::linear no_bias(w, 2, 3, nullptr);
    CHECK_FALSE(no_bias.has_bias());
    no_bias.forward(x, 1, 3, y, 2);
    CHECK(y[0] == 6.f);
    CHECK(lin.bytes() >= 6 * sizeof(float));
}

TEST_CASE("linear holds fp32, 8-bit, bit-mask and block-sparse weights behind one forward", "[linear]") {
    const std::size_t out = 37, in = 70, rows = 33;
    auto w = test_util::normal_values(out * in, 21, 0.5f);
    compress::prune_by_magnitude(w.data(), out, in, in, {0.7, 4, 4});
    const auto b = test_util::normal_values(out, 22, 1.f);
    const auto x = test_util::normal_values(rows * in, 23, 1.f);
    const auto res = test_util::normal_values(rows * out, 24, 1.f);
    const auto f = numeric::parse_format("af8e3");

    const nn::linear dense(w.data(), out, in, b.data());
    CHECK(dense.kind() == nn::linear::storage_kind::dense_f32);
    CHECK(dense.packed_weight().n() == out);
    std::vector<float> want(rows * out), got(rows * out);
    dense.forward(x.data(), rows, in, want.data(), out, 2, kernels::activation::gelu_tanh, res.data(), out);

    // fp32 sparse storages: the same function, to rounding
    const nn::linear bm = nn::linear::bitmask(w.data(), out, in, b.data());
    const nn::linear bs = nn::linear::block_sparse(w.data(), out, in, b.data(), 4, 4);
    const nn::linear bs18 = nn::linear::block_sparse(w.data(), out, in, b.data(), 1, 8);
    for (const nn::linear* l : {&bm, &bs, &bs18}) {
        CHECK(l->in_features() == in);
        CHECK(l->out_features() == out);
        CHECK(l->nonzeros() == dense.nonzeros());
        CHECK(l->bytes() < dense.bytes());
        CHECK_THROWS_AS(l->packed_weight(), config_error);
        l->forward(x.data(), rows, in, got.data(), out, 2, kernels::activation::gelu_tanh, res.data(), out);
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-4));
    }
    CHECK(bm.kind() == nn::linear::storage_kind::bitmask);
    CHECK(bs.kind() == nn::linear::storage_kind::block_sparse);
    const auto& bsm = std::get<sparse::block_sparse_matrix>(bs.weight_storage());
    CHECK(bs.bytes() == bsm.bytes() + out * sizeof(float));

    // 8-bit storages: equal to a dense layer on the decoded weights
    const auto qt = numeric::quantized_tensor::quantize(w.data(), {out, in}, f);
    const std::vector<float> wq = qt.dequantize();
    const nn::linear dq(wq.data(), out, in, b.data());
    std::vector<float> wantq(rows * out);
    dq.forward(x.data(), rows, in, wantq.data(), out, 1, kernels::activation::relu);
    const nn::linear q8 = nn::linear::quantized(w.data(), out, in, b.data(), f);
    CHECK(q8.kind() == nn::linear::storage_kind::q8);
    CHECK(q8.nonzeros() == dq.nonzeros());
    q8.forward(x.data(), rows, in, got.data(), out, 2, kernels::activation::relu);
    CHECK(got == wantq);  // same micro-kernel on the same decoded values: bit for bit
    const nn::linear bmq = nn::linear::bitmask(w.data(), out, in, b.data(), f);
    const nn::linear bsq = nn::linear::block_sparse(w.data(), out, in, b.data(), 4, 4, f);
    for (const nn::linear* l : {&bmq, &bsq}) {
        CHECK(l->nonzeros() == dq.nonzeros());
        l->forward(x.data(), rows, in, got.data(), out, 1, kernels::activation::relu);
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(wantq[i]).margin(1e-4));
    }
    CHECK(bmq.bytes() < bm.bytes());

    // from_storage keeps the shape of the storage; no bias
    const nn::linear fs = nn::linear::from_storage(sparse::bitmask_matrix::from_dense(w.data(), out, in, in), nullptr);
    CHECK(fs.out_features() == out);
    CHECK_FALSE(fs.has_bias());
    CHECK(fs.bytes() == std::get<sparse::bitmask_matrix>(fs.weight_storage()).bytes());
}
