#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/albert_model.hpp>
#include <edgebert/nn/adapter.hpp>

#include "support/albert_test_util.hpp"
#include "support/test_random.hpp"

using namespace edgebert;

namespace {

struct adapter_weights {
    std::size_t H, m;
    std::vector<float> down_w, down_b, up_w, up_b, scaling, nb_g, nb_b, na_g, na_b;
};

adapter_weights make_weights(std::size_t H, std::size_t m, unsigned seed, float up_scale, std::size_t scaling_n) {
    adapter_weights w{H, m, test_util::normal_values(m * H, seed, 0.3f), test_util::normal_values(m, seed + 1, 0.1f), test_util::normal_values(H * m, seed + 2, up_scale),
                      test_util::normal_values(H, seed + 3, up_scale), test_util::normal_values(scaling_n, seed + 4, 0.3f, 1.f),
                      test_util::normal_values(H, seed + 5, 0.1f, 1.f), test_util::normal_values(H, seed + 6, 0.1f), test_util::normal_values(H, seed + 7, 0.1f, 1.f),
                      test_util::normal_values(H, seed + 8, 0.1f)};
    return w;
}

nn::bottleneck_adapter build(const nn::bottleneck_config& c, const adapter_weights& w) {
    std::optional<nn::layer_norm> before, after;
    if (c.ln_before) before = nn::layer_norm(w.nb_g.data(), w.nb_b.data(), w.H, 1e-5f);
    if (c.ln_after) after = nn::layer_norm(w.na_g.data(), w.na_b.data(), w.H, 1e-5f);
    return nn::bottleneck_adapter(c, nn::linear(w.down_w.data(), w.m, w.H, w.down_b.data()),
                                  nn::linear(w.up_w.data(), w.H, w.m, w.up_b.data()), w.scaling, before, after);
}

void ln_ref(std::vector<double>& x, std::size_t rows, std::size_t H, const float* g, const float* b, double eps) {
    for (std::size_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (std::size_t j = 0; j < H; ++j) mean += x[r * H + j];
        mean /= double(H);
        for (std::size_t j = 0; j < H; ++j) var += (x[r * H + j] - mean) * (x[r * H + j] - mean);
        var /= double(H);
        for (std::size_t j = 0; j < H; ++j) x[r * H + j] = (x[r * H + j] - mean) / std::sqrt(var + eps) * g[j] + b[j];
    }
}

/// AdapterHub's pre_forward / forward / post_forward, written out in double precision.
std::vector<double> reference_apply(const nn::bottleneck_config& c, const adapter_weights& w, const std::vector<float>& h,
                                    const std::vector<float>& t, const std::vector<float>& lg, const std::vector<float>& lb,
                                    std::size_t rows) {
    const std::size_t H = w.H, m = w.m, n = rows * H;
    std::vector<double> hs(h.begin(), h.end()), r;
    if (c.residual_before_ln == nn::adapter_residual::before_ln) r = hs;
    if (c.original_ln_before) {
        for (std::size_t i = 0; i < n; ++i) hs[i] += t[i];
        if (c.residual_before_ln == nn::adapter_residual::post_add) r = hs;
        ln_ref(hs, rows, H, lg.data(), lb.data(), 1e-12);
    }
    if (c.residual_before_ln == nn::adapter_residual::after_ln) r = hs;
    std::vector<double> x = hs;
    if (c.ln_before) ln_ref(x, rows, H, w.nb_g.data(), w.nb_b.data(), 1e-5);
    std::vector<double> down(rows * m), up(n);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t k = 0; k < m; ++k) {
            double acc = w.down_b[k];
            for (std::size_t j = 0; j < H; ++j) acc += x[i * H + j] * w.down_w[k * H + j];
            down[i * m + k] = c.non_linearity == kernels::activation::relu ? std::max(acc, 0.0) : acc / (1 + std::exp(-acc));
        }
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < H; ++j) {
            double acc = w.up_b[j];
            for (std::size_t k = 0; k < m; ++k) acc += down[i * m + k] * w.up_w[j * m + k];
            up[i * H + j] = acc * (w.scaling.size() == 1 ? w.scaling[0] : w.scaling[j]);
        }
    std::vector<double> o(n);
    if (c.adapter_residual_before_ln) {
        for (std::size_t i = 0; i < n; ++i) o[i] = up[i] + r[i];
        if (c.ln_after) ln_ref(o, rows, H, w.na_g.data(), w.na_b.data(), 1e-5);
    } else {
        if (c.ln_after) ln_ref(up, rows, H, w.na_g.data(), w.na_b.data(), 1e-5);
        for (std::size_t i = 0; i < n; ++i) o[i] = up[i] + r[i];
    }
    for (std::size_t i = 0; i < n; ++i) o[i] += t[i];
    if (c.original_ln_after) ln_ref(o, rows, H, lg.data(), lb.data(), 1e-12);
    return o;
}
}  // namespace

TEST_CASE("adapter algebra matches AdapterHub's equations in every configuration", "[adapter]") {
    const std::size_t H = 19, m = 5, rows = 7;
    const auto h = test_util::normal_values(rows * H, 1, 1.f), t = test_util::normal_values(rows * H, 2, 1.f);
    const auto lg = test_util::normal_values(H, 3, 0.1f, 1.f), lb = test_util::normal_values(H, 4, 0.1f);
    const nn::layer_norm ln(lg.data(), lb.data(), H, 1e-12f);
    int cases = 0;
    for (bool ln_before_orig : {false, true})
        for (bool ln_after_orig : {false, true})
            for (auto residual : {nn::adapter_residual::before_ln, nn::adapter_residual::after_ln, nn::adapter_residual::post_add})
                for (bool ln_before : {false, true})
                    for (bool ln_after : {false, true})
                        for (bool res_before : {false, true})
                            for (std::size_t scaling_n : {std::size_t(1), H}) {
                                nn::bottleneck_config c;
                                c.non_linearity = (cases % 2) ? kernels::activation::relu : kernels::activation::silu;
                                c.original_ln_before = ln_before_orig;
                                c.original_ln_after = ln_after_orig;
                                c.residual_before_ln = residual;
                                c.ln_before = ln_before;
                                c.ln_after = ln_after;
                                c.adapter_residual_before_ln = res_before;
                                const auto w = make_weights(H, m, unsigned(10 + cases), 0.3f, scaling_n);
                                if (residual == nn::adapter_residual::post_add && !ln_before_orig) {
                                    // AdapterHub leaves the residual undefined here (a Python error)
                                    CHECK_THROWS_AS(build(c, w), config_error);
                                    ++cases;
                                    continue;
                                }
                                const auto a = build(c, w);
                                std::vector<float> y(rows * H);
                                a.apply(h.data(), t.data(), ln, y.data(), rows, 1 + cases % 2);
                                const auto ref = reference_apply(c, w, h, t, lg, lb, rows);
                                for (std::size_t i = 0; i < y.size(); ++i) {
                                    INFO("case " << cases << " element " << i);
                                    REQUIRE(std::abs(double(y[i]) - ref[i]) <= 1e-4 * (1 + std::abs(ref[i])));
                                }
                                ++cases;
                            }
    CHECK(cases == 2 * 2 * 3 * 2 * 2 * 2 * 2);
}

TEST_CASE("adapters with a zero up-projection leave the model's outputs unchanged bit for bit", "[adapter]") {
    const auto cfg = test_util::odd_config();
    const auto model = model::albert_model::random(cfg, 21);
    const auto in = test_util::padded_batch(cfg, 3, 11);
    const std::size_t H = cfg.hidden_size, modules = cfg.num_hidden_groups * cfg.inner_group_num;
    for (auto preset : {nn::bottleneck_config::houlsby(), nn::bottleneck_config::pfeiffer()})
        for (auto input : {model::attention_adapter_input::block_input, model::attention_adapter_input::sublayer_output}) {
            model::task t;
            t.name = "zero";
            t.encoder.adapter_input = input;
            t.encoder.layers.resize(modules);
            for (std::size_t i = 0; i < modules; ++i) {
                const auto w = make_weights(H, 4, unsigned(50 + i), 0.f, 1);
                if (!preset.original_ln_before) t.encoder.layers[i].attention_adapter = build(preset, w);
                t.encoder.layers[i].output_adapter = build(preset, w);
            }
            model::run_options plain, with;
            plain.output_hidden_states = with.output_hidden_states = true;
            with.task = &t;
            const auto a = model.forward(in, plain), b = model.forward(in, with);
            CHECK(a.hidden_states == b.hidden_states);
            CHECK(a.logits == b.logits);
        }
}

TEST_CASE("a nonzero adapter changes the outputs, and where it reads matters", "[adapter]") {
    const auto cfg = test_util::odd_config();
    const auto model = model::albert_model::random(cfg, 22);
    const auto in = test_util::padded_batch(cfg, 2, 9);
    model::task a, b;
    const std::size_t modules = cfg.num_hidden_groups * cfg.inner_group_num;
    for (model::task* t : {&a, &b}) {
        t->encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i)
            t->encoder.layers[i].attention_adapter =
                build(nn::bottleneck_config::houlsby(), make_weights(cfg.hidden_size, 3, unsigned(70 + i), 0.3f, 1));
        t->encoder.layers.back().output_adapter =
            build(nn::bottleneck_config::houlsby(), make_weights(cfg.hidden_size, 3, 90u, 0.3f, 1));
    }
    b.encoder.adapter_input = model::attention_adapter_input::sublayer_output;
    model::run_options plain, oa, ob;
    oa.task = &a;
    ob.task = &b;
    const auto p = model.forward(in, plain), x = model.forward(in, oa), y = model.forward(in, ob);
    CHECK(test_util::max_abs_diff(p.logits, x.logits) > 1e-4f);
    CHECK(test_util::max_abs_diff(x.logits, y.logits) > 1e-4f);
    // the last layer cut to the first tokens keeps the adapters' logits bit for bit
    for (model::run_options* o : {&oa, &ob}) {
        model::run_options cut = *o;
        cut.logits_only = true;
        CHECK(model.forward(in, cut).logits == model.forward(in, *o).logits);
    }
}

TEST_CASE("adapter shapes and layer norms are checked", "[adapter]") {
    const auto w = make_weights(8, 3, 1, 0.1f, 1);
    nn::linear down(w.down_w.data(), 3, 8, w.down_b.data()), up_bad(w.up_w.data(), 7, 3, nullptr);
    CHECK_THROWS_AS(nn::bottleneck_adapter({}, down, up_bad, {1.f}), shape_error);
    nn::linear up(w.up_w.data(), 8, 3, w.up_b.data());
    CHECK_THROWS_AS(nn::bottleneck_adapter({}, down, up, {1.f, 2.f}), shape_error);
    nn::bottleneck_config ln_after;
    ln_after.ln_after = true;
    CHECK_THROWS_AS(nn::bottleneck_adapter(ln_after, down, up, {1.f}), config_error);
}
