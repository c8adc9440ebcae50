#include <fstream>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/input_json.hpp>

using edgebert::input_error;
using edgebert::io::parse_token_batch;
using nlohmann::json;

TEST_CASE("run-tool input JSON parses into a token batch", "[input_json]") {
    const auto t = parse_token_batch(json::parse(
        R"({"input_ids": [[2, 7, 3], [2, 8, 0]], "attention_mask": [[1, 1, 1], [1, 1, 0]], "token_type_ids": [[0, 0, 1], [0, 1, 0]]})"));
    CHECK(t.batch == 2);
    CHECK(t.seq == 3);
    CHECK(t.input_ids[4] == 8);
    CHECK(t.mask(1, 2) == 0);
    CHECK(t.token_type(0, 2) == 1);
    const auto flat = parse_token_batch(json::parse(R"({"input_ids": [2, 7, 3]})"));
    CHECK(flat.batch == 1);
    CHECK(flat.seq == 3);
}

TEST_CASE("bad input JSON is an input_error naming the element", "[input_json]") {
    auto bad = [](const char* text, const char* needle) {
        INFO(text);
        REQUIRE_THROWS_AS(parse_token_batch(json::parse(text), "in.json"), input_error);
        REQUIRE_THROWS_WITH(parse_token_batch(json::parse(text), "in.json"),
                            Catch::Contains(needle) && Catch::Contains("in.json"));
    };
    bad(R"([1, 2])", "object");
    bad(R"({"ids": [[1]]})", "ids");
    bad(R"({"attention_mask": [[1]]})", "input_ids");
    bad(R"({"input_ids": [[1, 2.5]]})", "input_ids[0][1] = 2.5");
    bad(R"({"input_ids": [[1, "7"]]})", "input_ids[0][1]");
    bad(R"({"input_ids": [[1, 2], [3]]})", "input_ids[1]");
    bad(R"({"input_ids": [[1, 2]], "attention_mask": [[1]]})", "attention_mask[0]");
    bad(R"({"input_ids": 5})", "array");
}

TEST_CASE("reading input files reports the path", "[input_json]") {
    REQUIRE_THROWS_AS(edgebert::io::read_token_batch("/nonexistent/in.json"), edgebert::io_error);
    { std::ofstream(test_util::temp_path("bad.json")) << "{\"input_ids\": [[1, 2]"; }
    REQUIRE_THROWS_WITH(edgebert::io::read_token_batch(test_util::temp_path("bad.json")),
                        Catch::Contains("bad.json"));
}
