// SPDX-License-Identifier: Apache-2.0
// core/limits.hpp: every limit, exceeded, is a limit_error naming the limit and the value, raised before
// the reader allocates for the value (the sizes used here would not fit in memory if it tried).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/core/limits.hpp>
#include <edgebert/core/read_file.hpp>
#include <edgebert/model/adapterhub.hpp>
#include <edgebert/io/input_json.hpp>
#include <edgebert/io/npy.hpp>
#include <edgebert/io/safetensors.hpp>
#include <edgebert/core/albert_config.hpp>

using namespace edgebert;

namespace {

std::vector<std::uint8_t> safetensors_image(const std::string& header, std::size_t data_bytes, std::uint64_t length) {
    std::vector<std::uint8_t> out(8 + header.size() + data_bytes, 0);
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = std::uint8_t(length >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = test_util::temp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// f() must throw a limit_error for `limit` reporting `value` and `maximum`, with both numbers in what().
template <class F>
void expect_limit(F&& f, const char* limit, std::uint64_t value, std::uint64_t maximum) {
    try {
        f();
        FAIL("no limit_error for " << limit);
    } catch (const limit_error& e) {
        CHECK(e.limit_name() == limit);
        CHECK(e.value() == value);
        CHECK(e.maximum() == maximum);
        const std::string what = e.what();
        CHECK(what.find(std::string("limits::") + limit) != std::string::npos);
        CHECK(what.find(value == UINT64_MAX ? std::string("2^64 or more") : std::to_string(value)) != std::string::npos);
        CHECK(what.find(std::to_string(maximum)) != std::string::npos);
    }
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("defaults, set_limits and scoped_limits", "[limits]") {
    const limits d;
    CHECK(d.max_header_bytes == 100u << 20);
    CHECK(d.max_tensor_bytes == std::uint64_t(1) << 34);
    CHECK(d.max_text_file_bytes == std::uint64_t(64) << 20);
    CHECK(d.max_json_depth == 64);
    CHECK(d.max_batch_size == 1u << 16);
    CHECK(d.max_sequence_length == 1u << 16);
    CHECK(current_limits().max_json_depth == d.max_json_depth);
    {
        limits tight;
        tight.max_json_depth = 3;
        const scoped_limits scope(tight);
        CHECK(current_limits().max_json_depth == 3);
    }
    CHECK(current_limits().max_json_depth == d.max_json_depth);
    // A limit_error is a format_error, so existing handlers of malformed files catch it.
    CHECK_THROWS_AS(limits::check(2, 1, "max_json_depth", "x"), format_error);
    CHECK_NOTHROW(limits::check(1, 1, "max_json_depth", "x"));  // the limit itself is allowed
}

TEST_CASE("safetensors: header length and tensor bytes", "[limits][safetensors]") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    // A length of 2^62 for an image of 70 bytes: rejected by the limit, nothing reserved for it.
    const auto huge = safetensors_image(header, 8, std::uint64_t(1) << 62);
    expect_limit([&] { (void)io::parse_safetensors(huge.data(), huge.size(), "x"); }, "max_header_bytes",
                 std::uint64_t(1) << 62, 100u << 20);
    const auto ok = safetensors_image(header, 8, header.size());
    limits l;
    l.max_header_bytes = header.size() - 1;
    expect_limit([&] { (void)io::parse_safetensors(ok.data(), ok.size(), "x", l); }, "max_header_bytes", header.size(),
                 header.size() - 1);
    l = limits{};
    l.max_tensor_bytes = 7;
    expect_limit([&] { (void)io::parse_safetensors(ok.data(), ok.size(), "x", l); }, "max_tensor_bytes", 8, 7);
    l.max_tensor_bytes = 8;
    CHECK_NOTHROW(io::parse_safetensors(ok.data(), ok.size(), "x", l));
    // The process-wide limits apply when none are passed.
    l.max_tensor_bytes = 4;
    const scoped_limits scope(l);
    CHECK_THROWS_AS(io::parse_safetensors(ok.data(), ok.size(), "x"), limit_error);
    // 2^70 bytes of U8: the saturated byte count is reported, nothing overflows.
    const std::string big = R"({"b":{"dtype":"U8","shape":[1099511627776,1099511627776],"data_offsets":[0,1]}})";
    const auto b = safetensors_image(big, 1, big.size());
    expect_limit([&] { (void)io::parse_safetensors(b.data(), b.size(), "x", limits{}); }, "max_tensor_bytes", UINT64_MAX,
                 std::uint64_t(1) << 34);
}

TEST_CASE("npy: header length and data bytes", "[limits][npy]") {
    const std::string path = test_util::temp_path("limits.npy");
    const std::vector<float> v{1, 2, 3, 4, 5, 6};
    io::write_npy(path, v.data(), {2, 3});
    limits l;
    l.max_tensor_bytes = 23;
    expect_limit([&] { (void)io::read_npy(path, l); }, "max_tensor_bytes", 24, 23);
    l.max_tensor_bytes = 24;
    CHECK(io::read_npy(path, l).data == v);
    std::ifstream in(path, std::ios::binary);
    unsigned char prefix[10] = {};
    in.read(reinterpret_cast<char*>(prefix), 10);
    const std::uint64_t hlen = prefix[8] | prefix[9] << 8;  // version 1.0: 2-byte little-endian length
    l.max_header_bytes = hlen - 1;
    expect_limit([&] { (void)io::read_npy(path, l); }, "max_header_bytes", hlen, hlen - 1);
    // A version 2.0 header of 1100 bytes (present in the image) against a limit of 1000.
    std::vector<std::uint8_t> v2(12 + 1100, ' ');
    const std::uint8_t prefix2[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x4C, 0x04, 0, 0};
    std::copy(prefix2, prefix2 + 12, v2.begin());
    l = limits{};
    l.max_header_bytes = 1000;
    expect_limit([&] { (void)io::parse_npy(v2.data(), v2.size(), "x", l); }, "max_header_bytes", 1100, 1000);
}

TEST_CASE("text files: size checked before reading", "[limits][json]") {
    const std::string text = R"({"hidden_size": 8, "num_attention_heads": 2})";
    const std::string path = write_file("limits_config.json", text);
    limits l;
    l.max_text_file_bytes = text.size() - 1;
    expect_limit([&] { (void)detail::read_text_file(path, l); }, "max_text_file_bytes", text.size(), text.size() - 1);
    {
        const scoped_limits scope(l);  // the file readers use the process-wide limits
        expect_limit([&] { (void)model::albert_config::load(path); }, "max_text_file_bytes", text.size(), text.size() - 1);
        CHECK_THROWS_AS(io::read_token_batch(path), limit_error);
    }
    CHECK(model::albert_config::load(path).hidden_size == 8);
}

TEST_CASE("JSON nesting depth", "[limits][json]") {
    limits l;
    CHECK_NOTHROW(detail::parse_json_text<config_error>(nested_arrays(64), "deep.json", l));
    expect_limit([&] { (void)detail::parse_json_text<config_error>(nested_arrays(65), "deep.json", l); }, "max_json_depth",
                 65, 64);
    // A bracket bomb far deeper than the limit is refused at depth 65, before the rest is read or built.
    expect_limit([&] { (void)detail::parse_json_text<config_error>(nested_arrays(1000000), "deep.json", l); },
                 "max_json_depth", 65, 64);
    l.max_json_depth = 1;
    CHECK_NOTHROW(detail::parse_json_text<config_error>(R"({"a": 1})", "x", l));
    expect_limit([&] { (void)detail::parse_json_text<config_error>(R"({"a": [1]})", "x", l); }, "max_json_depth", 2, 1);
    const std::string path = write_file("limits_deep.json", R"({"id2label": )" + nested_arrays(100) + "}");
    CHECK_THROWS_AS(model::albert_config::load(path), limit_error);
    // A raw NUL byte is not JSON; nlohmann alone would stop reading at it.
    CHECK_THROWS_AS(detail::parse_json_text<config_error>(std::string("{}\0{\"x\":", 7), "x", l), config_error);
}

TEST_CASE("input JSON: sequence length and batch size", "[limits][input]") {
    limits l;
    l.max_sequence_length = 3;
    l.max_batch_size = 2;
    const auto j = [](const char* text) { return nlohmann::json::parse(text); };
    CHECK(io::parse_token_batch(j(R"({"input_ids": [[1, 2, 3], [4, 5, 6]]})"), "in", l).tokens() == 6);
    expect_limit([&] { (void)io::parse_token_batch(j(R"({"input_ids": [[1, 2, 3, 4]]})"), "in", l); },
                 "max_sequence_length", 4, 3);
    expect_limit([&] { (void)io::parse_token_batch(j(R"({"input_ids": [1, 2, 3, 4]})"), "in", l); }, "max_sequence_length",
                 4, 3);
    expect_limit([&] { (void)io::parse_token_batch(j(R"({"input_ids": [[1], [2], [3]]})"), "in", l); }, "max_batch_size",
                 3, 2);
    // The mask and the token types are bounded too.
    expect_limit([&] { (void)io::parse_token_batch(j(R"({"input_ids": [[1]], "attention_mask": [[1], [1], [1]]})"), "in", l); },
                 "max_batch_size", 3, 2);
    const limits defaults;
    std::string row = "{\"input_ids\": [1";
    for (int i = 1; i < 70000; ++i) row += ",1";
    row += "]}";
    expect_limit([&] { (void)io::parse_token_batch(nlohmann::json::parse(row), "in", defaults); }, "max_sequence_length",
                 70000, 1u << 16);
}

TEST_CASE("label counts: config.json and AdapterHub heads", "[limits][labels]") {
    // Found by fuzzing: {"num_labels": 7941717} made the config reader name every label before any check.
    limits l;
    l.max_labels = 1000;
    const scoped_limits scope(l);
    expect_limit([] { (void)model::albert_config::from_json(nlohmann::json::parse(R"({"num_labels": 7941717})"), "c"); },
                 "max_labels", 7941717, 1000);
    CHECK(model::albert_config::from_json(nlohmann::json::parse(R"({"num_labels": 1000})"), "c").num_labels == 1000);
    expect_limit([] { (void)io::parse_head_config(nlohmann::json::parse(R"({"config": {"num_labels": 888888882}})"), "h"); },
                 "max_labels", 888888882, 1000);
}
