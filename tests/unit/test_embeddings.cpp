#include <catch2/catch.hpp>
#include <edgebert/nn/embeddings.hpp>
#include <edgebert/kernels/layer_norm.hpp>

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
