#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/attention.hpp>

using namespace edgebert::kernels;

namespace {
void check_against_reference(const attention_shape& s, const std::vector<std::uint8_t>& keep, int threads) {
    std::mt19937 rng(unsigned(s.seq * 31 + s.head_dim));
    std::normal_distribution<float> nd(0.f, 1.f);
    const std::size_t H = s.hidden(), ld = 3 * H + 5, M = s.batch * s.seq, ldc = H + 3;
    std::vector<float> qkv(M * ld);
    for (auto& v : qkv) v = nd(rng);
    std::vector<float> ref(M * ldc, -9.f), fast(M * ldc, -9.f);
    const std::uint8_t* mask = keep.empty() ? nullptr : keep.data();
    reference::attention(s, qkv.data(), ld, mask, ref.data(), ldc);
    attention(s, qkv.data(), ld, mask, fast.data(), ldc, threads);
    for (std::size_t i = 0; i < M * ldc; ++i) {
        INFO("seq=" << s.seq << " heads=" << s.heads << " d=" << s.head_dim << " i=" << i);
        REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f);
    }
}
}  // namespace

TEST_CASE("attention matches the scalar reference on odd shapes", "[attention]") {
    for (std::size_t seq : {1u, 2u, 7u, 17u, 40u})
        for (std::size_t d : {1u, 9u, 16u, 23u})
            for (int threads : {1, 2}) check_against_reference({2, seq, 3, d}, {}, threads);
}

TEST_CASE("padding masks: trailing, interior and fully masked sequences", "[attention]") {
    const std::size_t seq = 13;
    std::vector<std::uint8_t> keep(3 * seq, 1);
    for (std::size_t s = 9; s < seq; ++s) keep[s] = 0;          // sequence 0: trailing padding
    keep[seq + 0] = keep[seq + 5] = keep[seq + 6] = 0;          // sequence 1: holes, including the first key
    for (std::size_t s = 0; s < seq; ++s) keep[2 * seq + s] = 0;  // sequence 2: nothing attended (uniform)
    check_against_reference({3, seq, 2, 11}, keep, 1);
    check_against_reference({3, seq, 2, 11}, keep, 2);
}

TEST_CASE("masked keys do not influence the result", "[attention]") {
    const attention_shape s{1, 6, 1, 4};
    std::vector<float> qkv(6 * 12);
    for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = std::sin(float(i));
    std::vector<std::uint8_t> keep{1, 1, 0, 1, 0, 0};
    std::vector<float> a(6 * 4), b(6 * 4);
    attention(s, qkv.data(), 12, keep.data(), a.data(), 4);
    for (std::size_t t = 4; t < 12; ++t) qkv[2 * 12 + t] = 1e6f, qkv[5 * 12 + t] = -1e6f;  // change masked K and V
    attention(s, qkv.data(), 12, keep.data(), b.data(), 4);
    CHECK(a == b);
}

TEST_CASE("a keep mask of ones gives the bits of no mask, one masked key changes them", "[attention]") {
    // An unpadded sentence's mask (all ones) is dropped rather than tested per key: the result must be bit for
    // bit that of no mask, on the short (two-pass) and the long (tiled) path; a single hole must still count.
    for (std::size_t seq : {13u, 300u})
        for (int threads : {1, 2}) {
            const attention_shape s{1, seq, 2, 16};
            const std::size_t H = s.hidden(), ld = 3 * H;
            std::mt19937 rng{unsigned(seq)};
            std::normal_distribution<float> nd(0.f, 1.f);
            std::vector<float> qkv(seq * ld);
            for (auto& v : qkv) v = nd(rng);
            const std::vector<std::uint8_t> ones(seq, 1);
            std::vector<float> none(seq * H), masked(seq * H);
            attention(s, qkv.data(), ld, nullptr, none.data(), H, threads);
            attention(s, qkv.data(), ld, ones.data(), masked.data(), H, threads);
            INFO("seq=" << seq << " threads=" << threads);
            CHECK(none == masked);
            std::vector<std::uint8_t> holes = ones;  // one masked key in the middle: the mask is applied
            holes[seq / 2] = 0;
            attention(s, qkv.data(), ld, holes.data(), masked.data(), H, threads);
            CHECK(none != masked);
        }
}

TEST_CASE("long sequences take the tiled online-softmax path and match the reference", "[attention]") {
    // more attended keys than the two-pass path takes (256): queries in blocks, keys in blocks of 512 with a
    // running max and sum (600: two key blocks)
    for (std::size_t seq : {257u, 301u, 400u, 600u}) {
        check_against_reference({1, seq, 2, 16}, {}, 1);
        std::vector<std::uint8_t> keep(2 * seq, 1);
        for (std::size_t s = seq - 20; s < seq; ++s) keep[s] = 0;          // trailing padding: 237 keys left of 257 (two-pass), 281, 380, 580
        for (std::size_t s = 0; s < std::min<std::size_t>(260, seq); ++s) keep[seq + s] = s % 3 == 0;  // holes: every third kept
        check_against_reference({2, seq, 2, 9}, keep, 2);
    }
}

TEST_CASE("online-softmax attention with small tiles matches the reference", "[attention]") {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.f, 1.f);
    for (std::size_t seq : {1u, 5u, 23u, 64u})
        for (std::size_t d : {1u, 7u, 17u})
            for (const detail::attention_tiles tiles : {detail::attention_tiles{1, 1}, detail::attention_tiles{3, 5},
                                                         detail::attention_tiles{8, 16}, detail::attention_tiles{64, 7}})
                for (int masked : {0, 1})
                    for (float spread : {1.f, 4.f}) {  // 4: scores up to ~100 apart, the running max moves by a lot
                        const attention_shape s{1, seq, 1, d};
                        const std::size_t ld = 3 * d + 2;
                        std::vector<float> qkv(seq * ld);
                        for (auto& x : qkv) x = spread * nd(rng);
                        // keys 0..5 masked (whole first blocks of the small tiles), every 4th after; the last kept
                        std::vector<std::uint8_t> keep(seq);
                        for (std::size_t j = 0; j < seq; ++j) keep[j] = j + 1 == seq || (j > 5 && j % 4 != 0);
                        const std::uint8_t* kb = masked ? keep.data() : nullptr;
                        std::vector<float> ref(seq * d), fast(seq * d, -9.f);
                        reference::attention(s, qkv.data(), ld, kb, ref.data(), d);
                        detail::online_softmax_attention(seq, seq, d, qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld,
                                                         kb, 1.f / std::sqrt(float(d)), fast.data(), d, tiles);
                        for (std::size_t i = 0; i < seq * d; ++i) {
                            INFO("seq=" << seq << " d=" << d << " tiles=" << tiles.query_block << "x" << tiles.key_block
                                        << " masked=" << masked << " spread=" << spread << " i=" << i);
                            // float scores of magnitude ~spread² carry ~spread² times the rounding of spread 1
                            REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f * spread * spread * std::max(1.f, std::abs(ref[i])));
                        }
                    }
}
