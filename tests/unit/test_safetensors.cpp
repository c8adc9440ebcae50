#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/io/safetensors.hpp>

using namespace edgebert;
using namespace edgebert::io;

namespace {
// Hand-made file: 8-byte length, header text, data bytes.
std::vector<std::uint8_t> make_file(const std::string& header, std::size_t data_bytes, std::uint64_t length_override = 0) {
    std::vector<std::uint8_t> out(8 + header.size() + data_bytes, 0);
    const std::uint64_t n = length_override ? length_override : header.size();
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = std::uint8_t(n >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}
void expect_format_error(const std::vector<std::uint8_t>& bytes, const std::string& needle) {
    INFO("expecting a format_error containing: " << needle);
    REQUIRE_THROWS_AS(safetensors_file::from_memory(bytes.data(), bytes.size(), "bad.safetensors"), format_error);
    REQUIRE_THROWS_WITH(safetensors_file::from_memory(bytes.data(), bytes.size(), "bad.safetensors"),
                        Catch::Contains(needle) && Catch::Contains("bad.safetensors"));
}
const std::string one_tensor = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
}  // namespace

TEST_CASE("writer and reader round-trip every dtype, metadata and zero-sized tensors", "[safetensors]") {
    safetensors_writer w;
    w.set_metadata("format", "pt");
    const float f[6] = {1.f, -2.f, 3.5f, 0.f, 1e-8f, -7.f};
    w.add_f32("w.f32", {2, 3}, f);
    std::uint16_t h[3] = {float_to_half(1.f), float_to_half(-2.5f), float_to_half(65504.f)};
    w.add("w.f16", dtype::F16, {3}, h, sizeof h);
    std::uint16_t bf[2] = {float_to_bfloat16(3.f), float_to_bfloat16(-0.5f)};
    w.add("w.bf16", dtype::BF16, {2, 1}, bf, sizeof bf);
    const std::int64_t ids[2] = {7, -9};
    w.add("ids", dtype::I64, {2}, ids, sizeof ids);
    w.add("empty", dtype::F32, {0, 4}, nullptr, 0);
    const auto bytes = w.serialize();
    CHECK((bytes.size() - 8 - (bytes[0] | bytes[1] << 8)) == 24 + 6 + 4 + 16);
    CHECK((bytes[0] | bytes[1] << 8) % 8 == 0);  // header padded to 8

    const auto file = safetensors_file::from_memory(bytes.data(), bytes.size());
    CHECK(file.metadata().at("format") == "pt");
    REQUIRE(file.tensors().size() == 5);
    CHECK(file.tensors()[0].name == "empty");  // sorted by name
    CHECK(file.read_float("w.f32") == std::vector<float>(f, f + 6));
    CHECK(file.read_float("w.f16") == std::vector<float>{1.f, -2.5f, 65504.f});
    CHECK(file.read_float("w.bf16") == std::vector<float>{3.f, -0.5f});
    CHECK(file.read_float("empty").empty());
    CHECK(file.at("w.f32").shape == std::vector<std::size_t>{2, 3});
    CHECK(file.find("nope") == nullptr);
    REQUIRE_THROWS_AS(file.at("nope"), missing_tensor_error);
    REQUIRE_THROWS_WITH(file.at("nope"), Catch::Contains("nope"));
    REQUIRE_THROWS_AS(file.read_float("ids"), shape_error);  // wrong dtype for a float consumer
    REQUIRE_THROWS_WITH(file.read_float("ids"), Catch::Contains("ids") && Catch::Contains("I64"));
    std::vector<float> small(2);
    REQUIRE_THROWS_AS(file.read_float(file.at("w.f32"), small.data(), small.size()), shape_error);

    // From disk: memory-mapped, F32 viewed in place when aligned.
    const std::string path = "test_safetensors_roundtrip.safetensors";
    w.write(path);
    const safetensors_file mapped(path);
    CHECK(mapped.file_size() == bytes.size());
    const tensor_info& t = mapped.at("w.f32");
    const float* view = mapped.f32_view(t);
    if (reinterpret_cast<std::uintptr_t>(mapped.data(t)) % 4 == 0) {
        REQUIRE(view != nullptr);
        CHECK(view[2] == 3.5f);
    }
    CHECK(mapped.f32_view(mapped.at("w.f16")) == nullptr);
}

TEST_CASE("every header rule is checked, naming the culprit", "[safetensors]") {
    expect_format_error(std::vector<std::uint8_t>(5, 0), "shorter than the 8-byte");
    expect_format_error(make_file(one_tensor, 8, 1), "header is not valid JSON");  // length cuts the JSON
    expect_format_error(make_file(one_tensor, 8, 1000), "runs past the end");
    {
        auto b = make_file(one_tensor, 8);
        std::memset(b.data(), 0, 8);
        expect_format_error(b, "header length is 0");
    }
    {
        safetensors_limits small;
        small.max_header_bytes = 16;
        const auto b = make_file(one_tensor, 8);
        REQUIRE_THROWS_WITH(safetensors_file::from_memory(b.data(), b.size(), "x", small), Catch::Contains("exceeds the limit"));
    }
    expect_format_error(make_file(R"(["a"])", 0), "does not start with '{'");
    expect_format_error(make_file(R"({"a": 1})", 0), "tensor 'a' is not an object");
    expect_format_error(make_file(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8), "F33");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "shape entry");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), "shape entry");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "unknown field 'x'");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin 8 > end 0");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12");
    expect_format_error(make_file(one_tensor, 4), "tensor 'a' ends");  // truncated data
    expect_format_error(make_file(one_tensor, 12), "4 bytes after the last tensor");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                        "overlaps");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "hole");
    expect_format_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16),
                        "appears twice");
    expect_format_error(make_file(R"({"__metadata__":{"k":1}})", 0), "__metadata__");
    expect_format_error(make_file(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,1]}})", 1),
                        "size limit");
}

TEST_CASE("every truncation of a valid file fails cleanly", "[safetensors]") {
    safetensors_writer w;
    const float f[5] = {1, 2, 3, 4, 5};
    w.add_f32("x", {5}, f);
    w.add_f32("y", {1}, f);
    const auto bytes = w.serialize();
    REQUIRE_NOTHROW(safetensors_file::from_memory(bytes.data(), bytes.size()));
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        INFO("prefix of " << len << " bytes");
        REQUIRE_THROWS_AS(safetensors_file::from_memory(bytes.data(), len), format_error);
    }
}

TEST_CASE("opening files: missing, a folder, an empty file", "[safetensors]") {
    REQUIRE_THROWS_AS(safetensors_file("/nonexistent/model.safetensors"), io_error);
    REQUIRE_THROWS_WITH(safetensors_file("/nonexistent/model.safetensors"), Catch::Contains("/nonexistent/model.safetensors"));
    REQUIRE_THROWS_AS(safetensors_file("."), io_error);
    { std::ofstream("test_safetensors_empty.safetensors"); }
    REQUIRE_THROWS_AS(safetensors_file("test_safetensors_empty.safetensors"), format_error);
}

TEST_CASE("writer rejects bad tensors", "[safetensors]") {
    safetensors_writer w;
    const float f[2] = {1, 2};
    w.add_f32("a", {2}, f);
    REQUIRE_THROWS_AS(w.add_f32("a", {2}, f), format_error);
    REQUIRE_THROWS_AS(w.add("b", dtype::F32, {3}, f, 8), shape_error);
    REQUIRE_THROWS_AS(w.add_f32("__metadata__", {2}, f), format_error);
    REQUIRE_THROWS_AS(w.write("/nonexistent/dir/out.safetensors"), io_error);
}
