#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/weight_source.hpp>

using namespace edgebert;
using namespace edgebert::io;

TEST_CASE("the binder hands out tensors by exact shape and reports the rest", "[weight_source]") {
    memory_source src({{"a.weight", {{2, 3}, {1, 2, 3, 4, 5, 6}}},
                       {"a.bias", {{2}, {7, 8}}},
                       {"junk", {{1}, {0}}},
                       {"buffer", {{1}, {0}}}},
                      "mem");
    tensor_binder bind(src);
    CHECK(bind.has("a.bias"));
    const const_matrix w = bind.take("a.weight", {2, 3});
    CHECK(w.rows() == 2);
    CHECK(w.cols() == 3);
    CHECK(w.row(1)[2] == 6.f);
    const const_matrix b = bind.take("a.bias", {2});
    CHECK(b.rows() == 1);
    CHECK(b.cols() == 2);
    REQUIRE_THROWS_AS(bind.take("a.weight", {3, 2}), shape_error);
    REQUIRE_THROWS_WITH(bind.take("a.weight", {3, 2}), Catch::Contains("a.weight") && Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
    REQUIRE_THROWS_AS(bind.take("missing", {1}), missing_tensor_error);
    REQUIRE_THROWS_WITH(bind.take("missing", {1}), Catch::Contains("missing") && Catch::Contains("mem"));
    REQUIRE_THROWS_AS(bind.finish(nullptr), unexpected_tensor_error);
    REQUIRE_THROWS_WITH(bind.finish(nullptr), Catch::Contains("'buffer'") && Catch::Contains("'junk'"));
    const auto ignored = bind.finish([](const std::string& n) { return n == "buffer" || n == "junk"; });
    CHECK(ignored == std::vector<std::string>{"buffer", "junk"});
}

TEST_CASE("a safetensors source views aligned F32 in place and widens F16", "[weight_source]") {
    safetensors_writer w;
    const float f[4] = {1, 2, 3, 4};
    w.add_f32("f", {2, 2}, f);
    const std::uint16_t h[2] = {float_to_half(0.5f), float_to_half(-1.f)};
    w.add("h", dtype::F16, {2}, h, sizeof h);
    w.write(test_util::temp_path("w.safetensors"));
    auto file = std::make_shared<const safetensors_file>(test_util::temp_path("w.safetensors"));
    safetensors_source src(file);
    const const_matrix m = src.values("f", 2, 2);
    CHECK(m.row(1)[0] == 3.f);
    CHECK(m.borrowed() == (file->f32_view(file->at("f")) != nullptr));
    const const_matrix hm = src.values("h", 1, 2);
    CHECK_FALSE(hm.borrowed());
    CHECK(hm.row(0)[1] == -1.f);
    REQUIRE_THROWS_AS(src.values("f", 3, 1), shape_error);
    CHECK(src.describe() == test_util::temp_path("w.safetensors"));
}
