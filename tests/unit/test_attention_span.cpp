#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/attention.hpp>

using namespace edgebert::kernels;

namespace {
std::vector<float> random_qkv(const attention_shape& s, std::size_t ld, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> qkv(s.batch * s.seq * ld);
    for (auto& v : qkv) v = nd(rng);
    return qkv;
}

std::size_t last_kept(const std::uint8_t* kb, std::size_t seq) {
    std::size_t keys = seq;
    if (kb) {
        while (keys > 0 && !kb[keys - 1]) --keys;
        if (keys == 0) keys = seq;
    }
    return keys;
}
}  // namespace

TEST_CASE("span masks follow the two formulas", "[span]") {
    attention_span d{span_variant::distance, 4.0, {2.0}, 0};
    CHECK(d.mask(0, 10, 10, 20) == 1.f);               // (4 + 2 - 0) / 4 clamps to 1
    CHECK(d.mask(0, 10, 12, 20) == 1.f);               // (6 - 2) / 4
    CHECK(d.mask(0, 10, 13, 20) == Approx(0.75f));     // (6 - 3) / 4
    CHECK(d.mask(0, 10, 5, 20) == Approx(0.25f));      // (6 - 5) / 4
    CHECK(d.mask(0, 10, 4, 20) == 0.f);                // (6 - 6) / 4
    attention_span a{span_variant::absolute, 8.0, {3.0}, 0};
    // clamp((j - (S - 1) + z) / R + 1): S = 16, z = 3, R = 8
    CHECK(a.mask(0, 0, 15, 16) == 1.f);
    CHECK(a.mask(0, 0, 10, 16) == Approx(1.f - 2.f / 8.f));  // (10 - 15 + 3) / 8 + 1
    CHECK(a.mask(0, 0, 4, 16) == 0.f);                        // (4 - 15 + 3) / 8 + 1 = 0
    CHECK(a.mask(0, 0, 5, 16) == Approx(0.125f));
    attention_span fixed{span_variant::absolute, 8.0, {3.0}, 32};  // trained at 32 tokens, run on 16
    CHECK(fixed.mask(0, 0, 15, 16) == 0.f);                        // (15 - 31 + 3) / 8 + 1 < 0
}

TEST_CASE("nonzero key windows are exactly the keys with a nonzero mask", "[span]") {
    for (auto variant : {span_variant::distance, span_variant::absolute})
        for (double ramp : {1.0, 2.5, 4.0, 7.0})
            for (double z : {-9.0, -2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 3.5, 12.0, 40.0}) {
                attention_span s{variant, ramp, {z}, 0};
                const std::size_t seq = 17;
                for (std::size_t keys : {std::size_t(17), std::size_t(11)})
                    for (std::size_t i = 0; i < seq; ++i) {
                        std::size_t lo, hi;
                        s.nonzero_keys(0, i, keys, seq, lo, hi);
                        for (std::size_t j = 0; j < keys; ++j) {
                            INFO("variant " << span_variant_name(variant) << " R=" << ramp << " z=" << z << " i=" << i
                                            << " j=" << j << " keys=" << keys);
                            CHECK((s.mask(0, i, j, seq) > 0.f) == (j >= lo && j < hi));
                        }
                    }
            }
}

TEST_CASE("span attention equals the dense masked and renormalised reference", "[span]") {
    for (auto variant : {span_variant::distance, span_variant::absolute})
        for (std::size_t seq : {1u, 5u, 33u, 70u})
            for (int threads : {1, 2}) {
                const attention_shape s{2, seq, 4, 9};
                const std::size_t H = s.hidden(), ld = 3 * H + 3, ldc = H + 1, M = s.batch * seq;
                const auto qkv = random_qkv(s, ld, unsigned(seq * 7 + 1));
                std::vector<std::uint8_t> keep(M, 1);
                for (std::size_t t = seq * 3 / 4; t < seq; ++t) keep[t] = 0;  // sentence 0 padded
                if (seq > 3) keep[seq + 1] = 0;                                // a hole in sentence 1
                // head 0 full, head 1 short, head 2 switched off, head 3 mid
                attention_span span{variant, 4.0, {1000.0, 1.5, -50.0, double(seq) / 3}, 0};
                std::vector<float> ref(M * ldc, -7.f), fast(M * ldc, -7.f);
                reference::attention(s, qkv.data(), ld, keep.data(), ref.data(), ldc, &span);
                attention_stats stats;
                attention(s, qkv.data(), ld, keep.data(), fast.data(), ldc, threads, &span, &stats);
                for (std::size_t i = 0; i < M * ldc; ++i) {
                    INFO(span_variant_name(variant) << " seq=" << seq << " threads=" << threads << " i=" << i);
                    REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f);
                }
                // the work counted is the keys with a nonzero mask, up to the last attended key
                std::size_t keys_expected = 0, heads_expected = 0;
                for (std::size_t b = 0; b < s.batch; ++b)
                    for (std::size_t h = 0; h < s.heads; ++h) {
                        const std::size_t keys = last_kept(keep.data() + b * seq, seq);
                        std::size_t n = 0;
                        for (std::size_t i = 0; i < seq; ++i)
                            for (std::size_t j = 0; j < keys; ++j) n += span.mask(h, i, j, seq) > 0.f;
                        keys_expected += n;
                        heads_expected += n > 0;
                    }
                CHECK(stats.keys_computed == keys_expected);
                CHECK(stats.heads_computed == heads_expected);
            }
}

TEST_CASE("spans at their maximum give plain attention bit for bit", "[span]") {
    const attention_shape s{2, 21, 3, 8};
    const std::size_t H = s.hidden(), ld = 3 * H, M = s.batch * s.seq;
    const auto qkv = random_qkv(s, ld, 5);
    std::vector<std::uint8_t> keep(M, 1);
    keep[M - 1] = keep[M - 2] = 0;
    for (auto variant : {span_variant::distance, span_variant::absolute}) {
        attention_span span{variant, 16.0, {64.0, 64.0, 64.0}, 0};
        std::vector<float> plain(M * H), spanned(M * H);
        attention_stats plain_stats, span_stats;
        attention(s, qkv.data(), ld, keep.data(), plain.data(), H, 1, nullptr, &plain_stats);
        attention(s, qkv.data(), ld, keep.data(), spanned.data(), H, 1, &span, &span_stats);
        CHECK(plain == spanned);
        CHECK(span_stats.keys_computed == plain_stats.keys_computed);
        CHECK(plain_stats.heads_computed == s.batch * s.heads);
    }
}

TEST_CASE("a switched-off head writes zeros and costs nothing", "[span]") {
    const attention_shape s{1, 12, 2, 4};
    const std::size_t H = s.hidden(), ld = 3 * H;
    const auto qkv = random_qkv(s, ld, 9);
    attention_span span{span_variant::distance, 2.0, {-2.0, 3.0}, 0};  // R + z = 0: head 0 off
    std::vector<float> out(s.seq * H, 5.f);
    attention_stats stats;
    attention(s, qkv.data(), ld, nullptr, out.data(), H, 1, &span, &stats);
    for (std::size_t i = 0; i < s.seq; ++i)
        for (std::size_t t = 0; t < 4; ++t) CHECK(out[i * H + t] == 0.f);
    CHECK(stats.heads_computed == 1);
}

TEST_CASE("span parameters are validated", "[span]") {
    CHECK_THROWS_AS((attention_span{span_variant::distance, 0.0, {1.0}, 0}.validate(1)), edgebert::config_error);
    CHECK_THROWS_AS((attention_span{span_variant::distance, 1.0, {1.0, 2.0}, 0}.validate(3)), edgebert::shape_error);
    CHECK_THROWS_AS((attention_span{span_variant::distance, 1.0, {NAN}, 0}.validate(1)), edgebert::config_error);
    CHECK_THROWS_AS(parse_span_variant("relative"), edgebert::config_error);
    const attention_shape s{1, 4, 2, 2};
    std::vector<float> qkv(4 * 12), out(4 * 4);
    attention_span wrong{span_variant::distance, 1.0, {1.0}, 0};
    CHECK_THROWS_AS(attention(s, qkv.data(), 12, nullptr, out.data(), 4, 1, &wrong), edgebert::shape_error);
}
