#include <catch2/catch.hpp>
#include <edgebert/core/token_batch.hpp>

using edgebert::input_error;
using edgebert::model::albert_config;
using edgebert::model::token_batch;

static albert_config small_config() {
    albert_config c;
    c.vocab_size = 100, c.max_position_embeddings = 8, c.type_vocab_size = 2;
    c.hidden_size = 16, c.num_attention_heads = 2, c.intermediate_size = 32, c.embedding_size = 8;
    return c;
}

TEST_CASE("rows flatten into a rectangular batch with defaults for mask and types", "[token_batch]") {
    const auto t = token_batch::from_rows({{2, 5, 3}, {2, 9, 0}}, {{1, 1, 1}, {1, 1, 0}});
    CHECK(t.batch == 2);
    CHECK(t.seq == 3);
    CHECK(t.mask(1, 2) == 0);
    CHECK(t.token_type(1, 2) == 0);
    REQUIRE_NOTHROW(t.validate(small_config()));
}

TEST_CASE("bad batches are input_errors naming the culprit", "[token_batch]") {
    const auto c = small_config();
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 2}, {1}}), Catch::Contains("input_ids[1]"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 2}}, {{1, 1}, {1, 1}}), Catch::Contains("attention_mask"));
    REQUIRE_THROWS_AS(token_batch::from_rows({}).validate(c), input_error);
    REQUIRE_THROWS_WITH(token_batch::from_rows({}).validate(c), Catch::Contains("empty batch"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{}}).validate(c), Catch::Contains("empty sequence"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 100}}).validate(c),
                        Catch::Contains("input_ids[0][1] = 100") && Catch::Contains("vocab_size 100"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, -1}}).validate(c), Catch::Contains("input_ids[0][1] = -1"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 2, 3, 4, 5, 6, 7, 8, 9}}).validate(c),
                        Catch::Contains("max_position_embeddings 8"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 2}}, {}, {{0, 2}}).validate(c),
                        Catch::Contains("token_type_ids[0][1] = 2"));
    REQUIRE_THROWS_WITH(token_batch::from_rows({{1, 2}}, {{1, 3}}).validate(c), Catch::Contains("attention_mask[0][1] = 3"));
}
