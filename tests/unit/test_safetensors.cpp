#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/safetensors.hpp>

using namespace edgebert;
using namespace edgebert::io;

namespace {

using test_util::temp_path;

void write_bytes(const std::string& path, const std::uint8_t* p, std::size_t n) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(p), std::streamsize(n));
}

// A hand-made file: 8-byte little-endian length (the header's own unless overridden), the header
// text, then `data_bytes` bytes of data.
std::vector<std::uint8_t> make_file(const std::string& header, std::size_t data_bytes,
                                    std::uint64_t length = std::uint64_t(-1)) {
    std::vector<std::uint8_t> out(8 + header.size() + data_bytes, 0xAB);
    const std::uint64_t n = length == std::uint64_t(-1) ? header.size() : length;
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = std::uint8_t(n >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}

safetensors_file parse(const std::vector<std::uint8_t>& b, const safetensors_limits& limits = {}) {
    return parse_safetensors(b.data(), b.size(), "bad.safetensors", limits);
}

// The failure must be a format_error whose message names the file and contains every needle.
void expect_format_error(const std::vector<std::uint8_t>& bytes, std::initializer_list<const char*> needles,
                         const safetensors_limits& limits = {}) {
    REQUIRE_THROWS_AS(parse(bytes, limits), format_error);
    REQUIRE_THROWS_WITH(parse(bytes, limits), Catch::Contains("'bad.safetensors'"));
    for (const char* needle : needles) REQUIRE_THROWS_WITH(parse(bytes, limits), Catch::Contains(needle));
}
void expect_header_error(const std::string& header, std::size_t data_bytes, std::initializer_list<const char*> needles,
                         const safetensors_limits& limits = {}) {
    INFO("header: " << header);
    expect_format_error(make_file(header, data_bytes), needles, limits);
}

// An entry "name": {"dtype", "shape", "data_offsets"} in JSON.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}
const std::string one = "{" + entry("a", "F32", "[2]", "[0,8]") + "}";  // valid with 8 data bytes

// A small valid file with metadata and several dtypes, used by the truncation and mutation tests.
std::vector<std::uint8_t> small_valid_file() {
    safetensors_writer w;
    w.set_metadata("format", "pt");
    const float f[5] = {1, 2, 3, 4, 5};
    w.add_f32("x", {5}, f);
    const std::uint16_t h[3] = {0x3C00, 0xC000, 0x7BFF};
    w.add("y.half", dtype::F16, {3, 1}, h, sizeof h);
    w.add("z.bf", dtype::BF16, {1}, h, 2);
    w.add("empty", dtype::I64, {0}, nullptr, 0);
    return w.serialize();
}

struct rng {
    std::uint64_t s = 0x243F6A8885A308D3ull;
    std::uint64_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
};

// Parse hostile bytes: either a format_error, or a file whose every tensor can be touched in bounds
// (AddressSanitizer checks that) and converted when it is a float type.
bool parse_and_touch(const std::vector<std::uint8_t>& bytes) {
    try {
        const safetensors_file f = parse_safetensors(bytes.data(), bytes.size(), "mutant");
        const std::uint8_t* begin = bytes.data();
        const std::uint8_t* end = begin + bytes.size();
        for (const tensor_info& t : f.tensors()) {
            const auto* p = reinterpret_cast<const std::uint8_t*>(f.data(t));
            REQUIRE(p >= begin);
            REQUIRE(p + t.nbytes() <= end);
            REQUIRE(t.nbytes() == t.numel() * dtype_size(t.type));
            volatile std::uint8_t sink = 0;
            for (std::size_t i = 0; i < t.nbytes(); ++i) sink = sink ^ p[i];
            if (t.type == dtype::F32 || t.type == dtype::F16 || t.type == dtype::BF16) {
                std::vector<float> out(t.numel());
                f.read_float(t, out.data(), out.size());
            }
        }
        return true;
    } catch (const format_error&) {
        return false;  // any other exception type fails the test
    }
}

}  // namespace

TEST_CASE("round trip: F32, F16 and BF16 tensors read back as the same floats", "[safetensors]") {
    const std::vector<float> values = {1.f, -2.f, 3.5f, 0.f, -0.f, 65504.f, 5.9604644775390625e-08f, 0.333251953125f};
    std::vector<std::uint16_t> half, bf;
    for (float v : values) half.push_back(float_to_half(v)), bf.push_back(float_to_bfloat16(v));
    const float odd[3] = {std::numeric_limits<float>::infinity(), -1e-30f, 1e30f};

    safetensors_writer w;
    w.set_metadata("format", "pt");
    w.set_metadata("note", "ünïcödé");
    w.add_f32("w.f32", {2, 4}, values.data());
    w.add("w.f16", dtype::F16, {8}, half.data(), half.size() * 2);
    w.add("w.bf16", dtype::BF16, {4, 2}, bf.data(), bf.size() * 2);
    w.add_f32("w.odd", {3}, odd);
    w.add_f32("scalar", {}, values.data() + 2);
    w.add("empty", dtype::F16, {0, 4}, nullptr, 0);
    const auto bytes = w.serialize();

    const std::uint64_t header_len = bytes[0] | bytes[1] << 8 | bytes[2] << 16;
    CHECK(header_len % 8 == 0);  // padded with spaces
    CHECK(bytes[8] == '{');
    CHECK(bytes.size() == 8 + header_len + 8 * 4 + 8 * 2 + 8 * 2 + 3 * 4 + 4);

    const safetensors_file file = parse_safetensors(bytes.data(), bytes.size());
    CHECK(file.path() == "<memory>");
    CHECK(file.file_size() == bytes.size());
    CHECK(file.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"note", "ünïcödé"}});
    REQUIRE(file.tensors().size() == 6);
    std::vector<std::string> names;
    for (const auto& t : file.tensors()) names.push_back(t.name);
    CHECK(names == std::vector<std::string>{"empty", "scalar", "w.bf16", "w.f16", "w.f32", "w.odd"});  // sorted

    CHECK(file.read_float("w.f32") == values);
    CHECK(file.read_float("w.f16") == values);  // every value is exact in binary16
    const auto b = file.read_float("w.bf16");
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(b[i] == bfloat16_to_float(float_to_bfloat16(values[i])));
    CHECK(b[0] == 1.f);
    CHECK(b[1] == -2.f);
    CHECK(file.read_float("w.odd") == std::vector<float>(odd, odd + 3));
    CHECK(file.read_float("scalar") == std::vector<float>{3.5f});
    CHECK(file.at("scalar").shape.empty());
    CHECK(file.at("scalar").numel() == 1);
    CHECK(file.read_float("empty").empty());
    CHECK(file.at("empty").numel() == 0);
    CHECK(file.at("w.bf16").shape == std::vector<std::size_t>{4, 2});
    CHECK(file.at("w.f16").nbytes() == 16);
    CHECK(std::memcmp(file.data(file.at("w.f16")), half.data(), 16) == 0);
}

TEST_CASE("round trip of every dtype's raw bytes; only float types convert", "[safetensors]") {
    safetensors_writer w;
    std::vector<std::uint8_t> payload(3 * 8);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = std::uint8_t(i * 37 + 1);
    for (int i = 0; i <= int(dtype::U64); ++i) {
        const dtype d = dtype(i);
        w.add(std::string("t_") + to_string(d), d, {3}, payload.data(), 3 * dtype_size(d));
    }
    const auto bytes = w.serialize();
    const safetensors_file f = parse_safetensors(bytes.data(), bytes.size(), "all.safetensors");
    REQUIRE(f.tensors().size() == 15);
    for (int i = 0; i <= int(dtype::U64); ++i) {
        const dtype d = dtype(i);
        const tensor_info& t = f.at(std::string("t_") + to_string(d));
        CHECK(t.type == d);
        CHECK(t.nbytes() == 3 * dtype_size(d));
        CHECK(std::memcmp(f.data(t), payload.data(), t.nbytes()) == 0);
        if (d == dtype::F32 || d == dtype::F16 || d == dtype::BF16) {
            CHECK(f.read_float(t.name).size() == 3);
        } else {
            INFO(to_string(d));
            REQUIRE_THROWS_AS(f.read_float(t.name), shape_error);
            REQUIRE_THROWS_WITH(f.read_float(t.name), Catch::Contains("'" + t.name + "'") &&
                                                          Catch::Contains(to_string(d)) && Catch::Contains("all.safetensors"));
        }
    }
}

TEST_CASE("lookup and conversion errors name the tensor and the file", "[safetensors]") {
    const auto bytes = make_file(one, 8);
    const safetensors_file f = parse(bytes);
    CHECK(f.find("a") != nullptr);
    CHECK(f.find("b") == nullptr);
    CHECK(f.find("") == nullptr);
    REQUIRE_THROWS_AS(f.at("missing.weight"), missing_tensor_error);
    REQUIRE_THROWS_WITH(f.at("missing.weight"), "tensor 'missing.weight' not found in 'bad.safetensors'");
    std::vector<float> out(3);
    REQUIRE_THROWS_AS(f.read_float(f.at("a"), out.data(), out.size()), shape_error);
    REQUIRE_THROWS_WITH(f.read_float(f.at("a"), out.data(), out.size()),
                        Catch::Contains("'a'") && Catch::Contains("bad.safetensors") && Catch::Contains("3"));
}

TEST_CASE("files on disk are mapped; F32 is viewed in place when aligned, copied otherwise", "[safetensors]") {
    safetensors_writer w;
    const std::uint16_t h[3] = {0x3C00, 0x4000, 0x4200};  // 1, 2, 3: 6 bytes, so what follows is misaligned
    const float f[4] = {1.5f, -2.f, 3.f, 4.f};
    w.add("a.half", dtype::F16, {3}, h, sizeof h);
    w.add_f32("b.f32", {4}, f);
    w.add_f32("0.first", {2, 2}, f);
    const std::string path = temp_path("model.safetensors");
    w.write(path);

    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(on_disk == w.serialize());  // write() streams exactly serialize()'s bytes

    const safetensors_file mapped(path);
    CHECK(mapped.path() == path);
    CHECK(mapped.file_size() == on_disk.size());
    const tensor_info& first = mapped.at("0.first");  // at data offset 0: mapping and header are 8-aligned
    const float* view = mapped.f32_view(first);
    REQUIRE(view != nullptr);
    CHECK(view[1] == -2.f);
    const tensor_info& b = mapped.at("b.f32");  // at data offset 16 + 6
    CHECK(b.begin == 22);
    CHECK(mapped.f32_view(b) == nullptr);
    CHECK(mapped.read_float("b.f32") == std::vector<float>(f, f + 4));
    CHECK(mapped.f32_view(mapped.at("a.half")) == nullptr);  // not F32
    CHECK(mapped.read_float("a.half") == std::vector<float>{1.f, 2.f, 3.f});

    // Copies and moves share the mapping, which lives as long as any of them.
    safetensors_file copy = mapped;
    {
        safetensors_file moved(std::move(copy));
        CHECK(moved.read_float("0.first") == std::vector<float>(f, f + 4));
        copy = moved;
    }
    CHECK(copy.f32_view(copy.at("0.first")) == view);
}

TEST_CASE("valid edge cases are accepted", "[safetensors]") {
    CHECK(parse(make_file("{}", 0)).tensors().empty());
    CHECK(parse(make_file("{}       ", 0)).tensors().empty());  // trailing spaces (the writer's padding)
    CHECK(parse(make_file("{\"__metadata__\":{}}", 0)).metadata().empty());
    CHECK(parse(make_file("{\n \"a\" : {\"shape\":[2], \"data_offsets\":[0,8], \"dtype\":\"F32\"}\n}\n", 8)).at("a").numel() == 2);
    // Empty tensors may sit at any boundary, including where another tensor starts or at the very end.
    const auto f = parse(make_file("{" + entry("z0", "F32", "[0]", "[0,0]") + "," + entry("a", "F32", "[2]", "[0,8]") + "," +
                                       entry("z1", "BF16", "[3,0,5]", "[8,8]") + "," + entry("b", "U8", "[]", "[8,9]") + "," +
                                       entry("z2", "I64", "[0,18446744073709551615]", "[9,9]") + "}",
                                   9));
    CHECK(f.tensors().size() == 5);
    CHECK(f.at("z2").numel() == 0);
    CHECK(f.at("b").numel() == 1);
    // "-0" is a non-negative integer even though it is written with a sign.
    CHECK(parse(make_file("{" + entry("a", "F32", "[2]", "[-0,8]") + "}", 8)).at("a").begin == 0);
}

TEST_CASE("rule: the file holds at least the 8-byte header length", "[safetensors][hostile]") {
    for (std::size_t n = 0; n < 8; ++n) {
        const std::vector<std::uint8_t> bytes(n, 0x01);
        expect_format_error(bytes, {"shorter than the 8-byte header length"});
    }
    // parse_safetensors accepts a null pointer for an empty buffer.
    REQUIRE_THROWS_AS(parse_safetensors(nullptr, 0), format_error);
}

TEST_CASE("rule: header length is neither 0, over the limit, nor past the end", "[safetensors][hostile]") {
    expect_format_error(make_file(one, 8, 0), {"header length is 0"});
    expect_format_error(make_file(one, 8, 1000), {"header length 1000 runs past the end of the file"});
    expect_format_error(make_file(one, 0, one.size() + 1), {"runs past the end"});
    // Lengths that would overflow "8 + length" or any allocation are caught by the limit first.
    expect_format_error(make_file(one, 8, std::uint64_t(-2)), {"exceeds the limit of 104857600 bytes"});
    expect_format_error(make_file(one, 8, (100u << 20) + 1), {"exceeds the limit"});
    safetensors_limits small;
    small.max_header_bytes = 16;
    expect_format_error(make_file(one, 8), {"exceeds the limit of 16 bytes"}, small);
    small.max_header_bytes = one.size();  // the limit itself is allowed
    CHECK_NOTHROW(parse(make_file(one, 8), small));
}

TEST_CASE("rule: the header is a UTF-8 JSON object", "[safetensors][hostile]") {
    expect_header_error(R"(["a"])", 0, {"does not start with '{'"});
    expect_header_error(" {}", 0, {"does not start with '{'"});
    expect_header_error("\xEF\xBB\xBF{}", 0, {"does not start with '{'"});  // a BOM
    expect_header_error("{", 0, {"not valid JSON"});
    expect_header_error("{\"a\":}", 0, {"not valid JSON"});
    expect_header_error("{}{}", 0, {"not valid JSON"});                 // trailing text
    expect_header_error(std::string("{}\0\0", 4), 0, {"NUL byte"});  // NUL padding
    // nlohmann alone would stop at the NUL and see only {}: the tensor after it must not be ignored.
    expect_header_error(std::string("{}\0,", 4) + entry("a", "F32", "[2]", "[0,8]") + "}", 8, {"NUL byte"});
    expect_header_error("{} // comment", 0, {"not valid JSON"});
    expect_header_error("{\"a\xFF\":1}", 0, {"not valid JSON"});          // invalid UTF-8 in a name
    expect_header_error("{\"\xC0\xAF\":1}", 0, {"not valid JSON"});       // overlong encoding
    expect_header_error("{\"\\uD800\":1}", 0, {"not valid JSON"});        // lone surrogate
    expect_format_error(make_file(one, 8, 3), {"not valid JSON"});       // length cuts the JSON short
}

TEST_CASE("rule: an entry is an object with exactly dtype, shape, data_offsets", "[safetensors][hostile]") {
    expect_header_error(R"({"a": 1})", 0, {"tensor 'a'", "not an object"});
    expect_header_error(R"({"a": [1, 2]})", 0, {"tensor 'a'", "not an object"});
    expect_header_error(R"({"a": "F32"})", 0, {"tensor 'a'", "not an object"});
    expect_header_error(R"({"a": null})", 0, {"tensor 'a'", "not an object"});
    expect_header_error(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, {"tensor 'a'", "lacks field 'dtype'"});
    expect_header_error(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, {"tensor 'a'", "lacks field 'shape'"});
    expect_header_error(R"({"a":{"dtype":"F32","shape":[2]}})", 8, {"tensor 'a'", "lacks field 'data_offsets'"});
    expect_header_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8,
                        {"tensor 'a'", "unknown field 'x'"});
}

TEST_CASE("rule: dtype is a known dtype string", "[safetensors][hostile]") {
    expect_header_error("{" + entry("a", "F33", "[2]", "[0,8]") + "}", 8, {"tensor 'a'", "unknown dtype 'F33'"});
    expect_header_error("{" + entry("a", "f32", "[2]", "[0,8]") + "}", 8, {"tensor 'a'", "'f32'"});
    expect_header_error(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8, {"tensor 'a'", "'dtype'", "not a string"});
    expect_header_error(R"({"a":{"dtype":["F32"],"shape":[2],"data_offsets":[0,8]}})", 8, {"tensor 'a'", "'dtype'"});
}

TEST_CASE("rule: shape is an array of non-negative integers", "[safetensors][hostile]") {
    expect_header_error("{" + entry("a", "F32", "2", "[0,8]") + "}", 8, {"tensor 'a'", "'shape'", "not an array"});
    expect_header_error("{" + entry("a", "F32", "{}", "[0,8]") + "}", 8, {"tensor 'a'", "'shape'", "not an array"});
    expect_header_error("{" + entry("a", "F32", "[-2]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[0] is -2"});
    expect_header_error("{" + entry("a", "F32", "[1,2.0]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[1] is 2.0"});
    expect_header_error("{" + entry("a", "F32", "[\"2\"]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[0]", "string"});
    expect_header_error("{" + entry("a", "F32", "[null]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[0]", "null"});
    expect_header_error("{" + entry("a", "F32", "[true]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[0]", "boolean"});
    expect_header_error("{" + entry("a", "F32", "[18446744073709551616]", "[0,8]") + "}", 8, {"tensor 'a'", "shape[0]"});
    expect_header_error("{" + entry("a", "F32", "[[2]]", "[0,8]") + "}", 8, {"tensor 'a'", "deeper"});
}

TEST_CASE("rule: the byte size neither overflows nor exceeds the tensor limit", "[safetensors][hostile]") {
    // 2^32 * 2^32 * 2^32 elements overflow 64 bits; the product is checked before it is formed.
    expect_header_error("{" + entry("big", "U8", "[4294967296,4294967296,4294967296]", "[0,1]") + "}", 1,
                        {"tensor 'big'", "exceeds the tensor size limit"});
    // 2^62 elements of 8 bytes: the element count fits, the byte count does not.
    expect_header_error("{" + entry("big", "F64", "[4611686018427387904]", "[0,8]") + "}", 8,
                        {"tensor 'big'", "F64", "exceeds the tensor size limit"});
    expect_header_error("{" + entry("big", "F32", "[1099511627776]", "[0,8]") + "}", 8, {"tensor 'big'", "limit"});
    safetensors_limits tight;
    tight.max_tensor_bytes = 4;
    expect_header_error(one, 8, {"tensor 'a'", "exceeds the tensor size limit of 4 bytes"}, tight);
    tight.max_tensor_bytes = 8;
    CHECK_NOTHROW(parse(make_file(one, 8), tight));
}

TEST_CASE("rule: data_offsets is [begin, end] of non-negative integers inside the data section", "[safetensors][hostile]") {
    for (const char* bad : {"[0]", "[0,8,8]", "[]", "8", "{\"0\":8}", "[-1,8]", "[0,8.0]", "[\"0\",8]", "[0,null]"}) {
        INFO(bad);
        expect_header_error("{" + entry("a", "F32", "[2]", bad) + "}", 8, {"tensor 'a'", "'data_offsets'"});
    }
    expect_header_error("{" + entry("a", "F32", "[2]", "[8,0]") + "}", 8, {"tensor 'a'", "begin 8 > end 0"});
    expect_header_error("{" + entry("a", "F32", "[2]", "[8,16]") + "}", 8, {"tensor 'a'", "end 16", "past the data section"});
    expect_header_error("{" + entry("a", "F32", "[2]", "[0,18446744073709551615]") + "}", 8, {"tensor 'a'", "past the data section"});
    expect_format_error(make_file(one, 4), {"tensor 'a'", "past the data section of 4 bytes"});  // truncated data
    expect_header_error("{" + entry("a", "F32", "[3]", "[0,8]") + "}", 8, {"tensor 'a'", "span 8 bytes", "need 12"});
    expect_header_error("{" + entry("a", "F16", "[2]", "[0,8]") + "}", 8, {"tensor 'a'", "F16", "need 4"});
    expect_header_error("{" + entry("a", "F32", "[0]", "[0,8]") + "}", 8, {"tensor 'a'", "need 0"});
}

TEST_CASE("rule: tensors tile the data section (no overlap, no hole, no tail)", "[safetensors][hostile]") {
    // Overlap: b lies inside a.
    expect_header_error("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[1]", "[4,8]") + "}", 8,
                        {"tensor 'b'", "overlaps tensor 'a'"});
    // Two tensors claiming the same bytes.
    expect_header_error("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}", 8,
                        {"overlaps"});
    // An empty tensor inside another one is an overlap too (the reference rejects it as well).
    expect_header_error("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("e", "F32", "[0]", "[4,4]") + "}", 8,
                        {"tensor 'e'", "overlaps tensor 'a'"});
    // Hole at the start, and between two tensors.
    expect_header_error("{" + entry("a", "F32", "[1]", "[4,8]") + "}", 8, {"tensor 'a'", "starts at byte 4", "hole"});
    expect_header_error("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", 12,
                        {"tensor 'b'", "hole after byte 4"});
    // Bytes after the last tensor, and data with no tensor at all.
    expect_format_error(make_file(one, 12), {"4 bytes after the last tensor"});
    expect_format_error(make_file("{}", 1), {"1 bytes after the last tensor"});
}

TEST_CASE("rule: __metadata__ is an object of strings", "[safetensors][hostile]") {
    expect_header_error(R"({"__metadata__":[]})", 0, {"'__metadata__'", "not an object"});
    expect_header_error(R"({"__metadata__":"pt"})", 0, {"'__metadata__'", "not an object"});
    expect_header_error(R"({"__metadata__":null})", 0, {"'__metadata__'", "not an object"});
    expect_header_error(R"({"__metadata__":{"format":1}})", 0, {"'__metadata__'", "key 'format'", "not a string"});
    expect_header_error(R"({"__metadata__":{"format":{"x":"y"}}})", 0, {"'__metadata__'", "key 'format'"});
}

TEST_CASE("rule: no key appears twice, nor nests deeper than the format", "[safetensors][hostile]") {
    expect_header_error("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("a", "F32", "[2]", "[8,16]") + "}", 16,
                        {"tensor 'a' appears twice"});
    expect_header_error(R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8,
                        {"tensor 'a'", "key 'dtype' twice"});
    expect_header_error(R"({"__metadata__":{},"__metadata__":{}})", 0, {"'__metadata__' appears twice"});
    expect_header_error(R"({"__metadata__":{"k":"1","k":"2"}})", 0, {"'__metadata__'", "key 'k' twice"});
    // A bracket bomb is refused as soon as it goes deeper than a header ever does.
    expect_header_error(R"({"a":{"dtype":"F32","shape":[)" + std::string(100000, '[') + "}", 0, {"tensor 'a'", "deeper"});
    expect_header_error(R"({"__metadata__":{"k":{"x":{}}}})", 0, {"'__metadata__'", "deeper"});
}

TEST_CASE("parsing never reads the data section", "[safetensors][hostile]") {
    // Lay the file out so that its data section is a page we cannot read: a parse that touched it would crash.
    const std::size_t page = std::size_t(::sysconf(_SC_PAGESIZE));
    void* mem = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mem != MAP_FAILED);
    auto* bytes = static_cast<std::uint8_t*>(mem);
    std::string header = "{" + entry("a", "F32", "[" + std::to_string(page / 4) + "]", "[0," + std::to_string(page) + "]") + "}";
    header.resize(page - 8, ' ');
    const auto prefix = make_file(header, 0);
    std::memcpy(bytes, prefix.data(), prefix.size());
    REQUIRE(::mprotect(bytes + page, page, PROT_NONE) == 0);
    {
        const safetensors_file f = parse_safetensors(bytes, 2 * page, "guarded");
        CHECK(f.at("a").numel() == page / 4);
        CHECK(f.f32_view(f.at("a")) == reinterpret_cast<const float*>(bytes + page));
    }
    ::munmap(mem, 2 * page);
}

TEST_CASE("every truncation of a valid file fails cleanly, in memory and on disk", "[safetensors][hostile]") {
    const auto bytes = small_valid_file();
    REQUIRE_NOTHROW(parse_safetensors(bytes.data(), bytes.size()));
    const std::string path = temp_path("truncated.safetensors");
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        INFO("prefix of " << len << " of " << bytes.size() << " bytes");
        // An exact-size heap copy, so that AddressSanitizer sees any read past the end.
        const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + std::ptrdiff_t(len));
        REQUIRE_THROWS_AS(parse_safetensors(prefix.data(), prefix.size(), "cut"), format_error);
        write_bytes(path, prefix.data(), prefix.size());
        try {
            safetensors_file f(path);
            FAIL("a truncated file was accepted");
        } catch (const format_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(path));
        } catch (const io_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(path));
        }
    }
}

TEST_CASE("random corruption is either rejected or yields tensors that stay in bounds", "[safetensors][hostile]") {
    const auto good = small_valid_file();
    const std::uint64_t header_end = 8 + (good[0] | good[1] << 8);
    rng r;
    int accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        INFO("round " << round);
        std::vector<std::uint8_t> b = good;
        const int edits = 1 + int(r.next() % 4);
        for (int e = 0; e < edits; ++e) {
            // Mostly the header; its bytes are where the structure lives. Replace with a random byte or
            // with a character that is meaningful in JSON.
            const std::size_t pos = r.next() % 4 ? std::size_t(r.next() % header_end) : std::size_t(r.next() % b.size());
            static const char interesting[] = "{}[],:\"0123456789-. e";
            b[pos] = r.next() % 2 ? std::uint8_t(r.next()) : std::uint8_t(interesting[r.next() % (sizeof interesting - 1)]);
        }
        if (r.next() % 8 == 0) b.resize(std::size_t(r.next() % b.size()));
        if (r.next() % 8 == 0) b.push_back(std::uint8_t(r.next()));
        accepted += parse_and_touch(b);
    }
    CHECK(accepted > 0);  // edits of data bytes (and some of the header) leave a valid file
}

TEST_CASE("opening files: missing, a folder, an empty file", "[safetensors]") {
    const std::string missing = temp_path("missing.safetensors");
    REQUIRE_THROWS_AS(safetensors_file(missing), io_error);
    REQUIRE_THROWS_WITH(safetensors_file(missing), Catch::Contains(missing) && Catch::Contains("No such file"));
    REQUIRE_THROWS_AS(safetensors_file(temp_path("")), io_error);
    const std::string empty = temp_path("empty.safetensors");
    write_bytes(empty, nullptr, 0);
    REQUIRE_THROWS_AS(safetensors_file(empty), format_error);
    REQUIRE_THROWS_WITH(safetensors_file(empty), Catch::Contains(empty) && Catch::Contains("0 bytes"));
}

TEST_CASE("the writer refuses what the reader would refuse", "[safetensors]") {
    safetensors_writer w;
    const float f[2] = {1, 2};
    w.add_f32("a", {2}, f);
    REQUIRE_THROWS_AS(w.add_f32("a", {2}, f), format_error);
    REQUIRE_THROWS_WITH(w.add_f32("a", {2}, f), Catch::Contains("'a'"));
    REQUIRE_THROWS_AS(w.add("b", dtype::F32, {3}, f, 8), shape_error);
    REQUIRE_THROWS_WITH(w.add("b", dtype::F32, {3}, f, 8), Catch::Contains("'b'") && Catch::Contains("12"));
    REQUIRE_THROWS_AS(w.add("huge", dtype::F64, {std::size_t(1) << 62, 4}, f, 8), shape_error);
    REQUIRE_THROWS_AS(w.add_f32("huge", {std::size_t(1) << 62, 4}, f), shape_error);
    REQUIRE_THROWS_AS(w.add_f32("__metadata__", {2}, f), format_error);
    REQUIRE_THROWS_AS(w.add_f32("bad\xFF", {2}, f), format_error);
    REQUIRE_THROWS_AS(w.set_metadata("k", "\xC3"), format_error);
    w.add("empty", dtype::F32, {std::size_t(1) << 62, 0}, nullptr, 0);  // zero elements, however large the rest

    const std::string bad_dir = temp_path("no-such-dir") + "/out.safetensors";
    REQUIRE_THROWS_AS(w.write(bad_dir), io_error);
    REQUIRE_THROWS_WITH(w.write(bad_dir), Catch::Contains(bad_dir) && Catch::Contains("No such file"));
    if (std::ifstream("/dev/full")) {  // a full disk is only reported when the buffer is flushed
        REQUIRE_THROWS_AS(w.write("/dev/full"), io_error);
        REQUIRE_THROWS_WITH(w.write("/dev/full"), Catch::Contains("No space left"));
    }
    const auto bytes = w.serialize();
    CHECK(parse_safetensors(bytes.data(), bytes.size()).tensors().size() == 2);
}
