#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/nn/embeddings.hpp>
#include <edgebert/kernels/layer_norm.hpp>
#include <edgebert/numeric/format.hpp>

using namespace edgebert;

TEST_CASE("embeddings sum word, token type and absolute position, then LayerNorm", "[embeddings]") {
    const std::size_t V = 5, P = 4, T = 2, E = 3;
    std::vector<float> word(V * E), pos(P * E), type(T * E);
    for (std::size_t i = 0; i < word.size(); ++i) word[i] = float(i) * 0.1f;
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = float(i) * -0.03f;
    for (std::size_t i = 0; i < type.size(); ++i) type[i] = float(i) * 0.7f;
    const float g[3] = {1, 1.5f, 0.5f}, b[3] = {0.1f, 0, -0.1f};
    const nn::embeddings emb(const_matrix(word, V, E), const_matrix(pos, P, E), const_matrix(type, T, E),
                             nn::layer_norm(g, b, E, 1e-12f));
    CHECK(emb.width() == E);
    const auto in = model::token_batch::from_rows({{4, 1, 0}, {2, 3, 0}}, {{1, 1, 1}, {1, 1, 0}}, {{0, 1, 1}, {1, 0, 0}});
    std::vector<float> out(6 * E);
    emb.forward(in, out.data(), 2);
    for (std::size_t r = 0; r < 6; ++r) {
        const std::size_t bb = r / 3, s = r % 3;
        float expect[3];
        for (std::size_t i = 0; i < E; ++i)
            expect[i] = (word[std::size_t(in.input_ids[r]) * E + i] + type[std::size_t(in.token_type(bb, s)) * E + i]) + pos[s * E + i];
        kernels::reference::layer_norm(expect, 1, E, E, g, b, 1e-12f, expect, E);
        for (std::size_t i = 0; i < E; ++i) CHECK(out[r * E + i] == Approx(expect[i]).margin(1e-5));
    }
}

TEST_CASE("8-bit word embeddings give the decoded table's output bit for bit", "[embeddings]") {
    const std::size_t V = 7, P = 5, T = 2, E = 9;  // odd sizes
    std::vector<float> word(V * E), pos(P * E), type(T * E);
    for (std::size_t i = 0; i < word.size(); ++i) word[i] = std::sin(float(i) * 0.7f) * (i % 4 ? 1.f : 0.f);  // some zeros
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = float(i) * -0.03f;
    for (std::size_t i = 0; i < type.size(); ++i) type[i] = float(i) * 0.2f;
    const float g[9] = {1, 1.5f, 0.5f, 1, 1, 1, 2, 1, 1}, b[9] = {0.1f, 0, -0.1f, 0, 0, 0, 0, 0, 0.3f};
    const auto in = model::token_batch::from_rows({{6, 1, 0, 3}, {2, 5, 0, 0}}, {{1, 1, 1, 1}, {1, 1, 0, 0}}, {{0, 1, 1, 0}, {1, 0, 0, 0}});
    for (bool per_row : {false, true}) {
        INFO("per row " << per_row);
        numeric::quantize_options qo;
        qo.per_row = per_row;
        const auto q = numeric::quantized_tensor::quantize(word, {V, E}, numeric::parse_format("af8e3"), qo);
        const std::vector<float> decoded = q.dequantize();
        const nn::embeddings fp32(const_matrix(decoded, V, E), const_matrix(pos, P, E), const_matrix(type, T, E), nn::layer_norm(g, b, E, 1e-12f));
        const nn::embeddings q8(q.codes8(), sparse::code_tables::of(q), V, E, const_matrix(pos, P, E), const_matrix(type, T, E),
                                nn::layer_norm(g, b, E, 1e-12f));
        CHECK(q8.word_quantized());
        CHECK_FALSE(fp32.word_quantized());
        CHECK(q8.vocab_size() == V);
        CHECK(q8.word_density() == fp32.word_density());
        CHECK(q8.word_density() < 0.8);
        // one byte per word value plus the decode tables (1 KiB: more than this tiny table saves)
        CHECK(fp32.bytes() == (V + P + T) * E * 4);
        CHECK(q8.bytes() == V * E + sparse::code_tables::of(q).memory_bytes() + (P + T) * E * 4);
        for (std::size_t id = 0; id < V; ++id)
            for (std::size_t i = 0; i < E; ++i) REQUIRE(q8.word_value(id, i) == decoded[id * E + i]);
        std::vector<float> a(8 * E), c(8 * E);
        fp32.forward(in, a.data(), 1);
        q8.forward(in, c.data(), 2);
        CHECK(a == c);
    }
    const auto q = numeric::quantized_tensor::quantize(word, {V, E}, numeric::parse_format("af6e2"));
    auto codes = q.codes8();
    auto make = [&](std::vector<std::uint8_t> c, std::size_t vocab) {
        return nn::embeddings(std::move(c), sparse::code_tables::of(q), vocab, E, const_matrix(pos, P, E), const_matrix(type, T, E),
                              nn::layer_norm(g, b, E, 1e-12f));
    };
    CHECK_NOTHROW(make(codes, V));
    CHECK_THROWS_AS(make(std::vector<std::uint8_t>(codes.begin(), codes.end() - 1), V), shape_error);
    codes[3] = 64;  // af6e2 codes are 6 bits
    CHECK_THROWS_WITH(make(codes, V), Catch::Contains("word embeddings") && Catch::Contains("does not fit"));
}
