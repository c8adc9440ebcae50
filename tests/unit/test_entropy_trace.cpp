#include <catch2/catch.hpp>
#include <edgebert/exit/entropy_trace.hpp>

using edgebert::format_error;
using edgebert::exit::entropy_traces;

TEST_CASE("traces parse one sentence per line, one entropy per layer", "[entropy_trace]") {
    const auto t = entropy_traces::parse(" 0.5, 0.25,1e-3\n\n0.7,0.6,0.69314\r\n", "t.txt");
    CHECK(t.layers == 3);
    REQUIRE(t.sentences() == 2);
    CHECK(t.sentence(1)[2] == Approx(0.69314));
    CHECK(t.sentence(0)[2] == Approx(0.001));
}

TEST_CASE("bad traces are format_errors naming line and column", "[entropy_trace]") {
    REQUIRE_THROWS_WITH(entropy_traces::parse("0.1,0.2\n0.1,x\n", "t.txt"), Catch::Contains("t.txt line 2 column 2") && Catch::Contains("\"x\""));
    REQUIRE_THROWS_WITH(entropy_traces::parse("0.1,0.2\n0.1\n", "t.txt"), Catch::Contains("line 2 has 1 values"));
    REQUIRE_THROWS_WITH(entropy_traces::parse("0.1,nan\n", "t.txt"), Catch::Contains("column 2"));
    REQUIRE_THROWS_WITH(entropy_traces::parse("0.1,-0.2\n", "t.txt"), Catch::Contains("non-negative"));
    REQUIRE_THROWS_WITH(entropy_traces::parse("0.1,\n", "t.txt"), Catch::Contains("column 2"));
    REQUIRE_THROWS_AS(entropy_traces::parse("\n\n", "t.txt"), format_error);
    REQUIRE_THROWS_AS(entropy_traces::load("/nonexistent/traces.txt"), edgebert::io_error);
}
