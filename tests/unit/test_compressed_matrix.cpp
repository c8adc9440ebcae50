// io/compressed_matrix.hpp: a compressed file's matrix in its three layouts, and the checks parse() makes.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/albert_model.hpp>
#include <edgebert/compress.hpp>

#include "support/albert_test_util.hpp"
#include "support/compressed_test_util.hpp"
#include "support/temp_path.hpp"

using namespace edgebert;

namespace {
const std::string ffn = "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight";  // [50 x 36]

std::string write(const char* name, compress::compress_options opt) {
    const auto cfg = test_util::odd_config();
    const std::string path = test_util::temp_path(name);
    test_util::compress_model(path, cfg, model::albert_model::random_weights(cfg, 8), opt, false);
    return path;
}
}  // namespace

TEST_CASE("every layout expands to the element codes and decodes to the values", "[compress]") {
    compress::compress_options dense, mask, block, wide;
    dense.bitmask = false;
    mask.encoder_sparsity = 0.6;
    mask.per_row = true;
    block.encoder_sparsity = 0.6;
    block.block_rows = 4, block.block_cols = 8;
    wide.format = "fp16";
    wide.encoder_sparsity = 0.6;
    for (auto [opt, layout] : {std::pair{dense, io::compressed_matrix::layout::dense}, {mask, io::compressed_matrix::layout::bitmask},
                               {block, io::compressed_matrix::layout::block}, {wide, io::compressed_matrix::layout::bitmask}}) {
        const auto c = io::compressed_model::open(write("m.safetensors", opt));
        const io::compressed_matrix* m = c.weights().compressed(ffn);
        REQUIRE(m != nullptr);
        CHECK(m->storage == layout);
        CHECK(m->rows == 50);
        CHECK(m->cols == 36);
        CHECK(m->per_row == opt.per_row);
        CHECK(m->params.size() == (opt.per_row ? 50u : 1u));
        std::vector<std::uint16_t> codes(50 * 36);
        m->expand_codes(codes.data());
        const std::vector<float> values = m->decode();
        std::size_t nonzeros = 0;
        for (std::size_t i = 0; i < codes.size(); ++i) {
            INFO("element " << i);
            REQUIRE(values[i] == numeric::decode(m->format, codes[i], m->param(i / 36)));
            nonzeros += values[i] != 0.f;
        }
        CHECK(m->nonzeros == nonzeros);
        if (layout == io::compressed_matrix::layout::block) CHECK(nonzeros <= m->code_count);
        else if (opt.encoder_sparsity > 0) CHECK(nonzeros <= std::size_t(0.4 * 50 * 36) + 1);
        // what values() gives is the same decode
        const auto v = c.weights().values(ffn, 50, 36);
        CHECK(std::vector<float>(v.data(), v.data() + 50 * 36) == values);
        CHECK_THROWS_AS(c.weights().values(ffn, 36, 36), shape_error);
        CHECK(c.weights().shape(ffn + ".__mask") == nullptr);  // side tensors are not model tensors
    }
}

TEST_CASE("corrupt block storage is refused with the tensor and the fault named", "[compress]") {
    compress::compress_options opt;
    opt.encoder_sparsity = 0.5;
    opt.block_rows = 4, opt.block_cols = 8;
    const std::string good = write("good_block.safetensors", opt), bad = test_util::temp_path("bad_block.safetensors");
    const auto c = io::compressed_model::open(good);
    const io::compressed_matrix* m = c.weights().compressed(ffn);
    REQUIRE(m->storage == io::compressed_matrix::layout::block);
    REQUIRE(m->block_grid_rows() == 13);  // 50 rows: the last block row is half padding
    REQUIRE(m->block_grid_cols() == 5);   // 36 columns: the last block column is half padding
    using meta_t = test_util::file_metadata;
    using data_t = test_util::file_data;
    using kind_t = test_util::file_kinds;
    auto edit_entry = [&](const std::function<void(nlohmann::json&)>& f) {
        test_util::rewrite(good, bad, [&](meta_t& meta, data_t&, kind_t&) {
            auto j = nlohmann::json::parse(meta["tensors"]);
            f(j[ffn]);
            meta["tensors"] = j.dump();
        });
    };
    auto refused = [&](const std::string& why) {
        CHECK_THROWS_AS(io::compressed_model::open(bad), format_error);
        CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains(ffn) && Catch::Contains(why));
    };
    edit_entry([](nlohmann::json& j) { j.erase("block"); });
    refused("block storage needs \"block\"");
    edit_entry([](nlohmann::json& j) { j["block"] = {4, 0}; });
    refused("sides in 1..64");
    edit_entry([](nlohmann::json& j) { j["block"] = {4}; });
    refused("sides in 1..64");
    edit_entry([](nlohmann::json& j) { j["block"] = {8, 4}; });  // another grid: the mask size no longer fits
    refused("'.__block_mask' must be U8");
    test_util::rewrite(good, bad, [&](meta_t&, data_t& d, kind_t& k) {
        d.erase(ffn + ".__block_mask");
        k.erase(ffn + ".__block_mask");
    });
    refused("__block_mask' is missing");
    // 65 blocks in 9 bytes: bits 65..71 must be clear
    test_util::rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn + ".__block_mask"].back() |= 0x80; });
    refused("bits set past the last block");
    // one more block claimed than there are codes for
    std::size_t absent = 0;
    while ((m->mask[absent / 8] >> (absent % 8)) & 1u) ++absent;
    test_util::rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn + ".__block_mask"][absent / 8] |= std::uint8_t(1u << (absent % 8)); });
    refused("but there are");
    // a nonzero code in the padding of a right-edge block (columns 36..39 of block column 4)
    std::size_t k = 0, edge = SIZE_MAX;
    for (std::size_t b = 0; b < 65 && edge == SIZE_MAX; ++b)
        if ((m->mask[b / 8] >> (b % 8)) & 1u) {
            if (b % 5 == 4) edge = k;
            ++k;
        }
    REQUIRE(edge != SIZE_MAX);
    test_util::rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn][edge * 32 + 7] = 1; });  // row 0, column 39
    refused("past the matrix edge");
    test_util::rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn][0] = 0xFF; d[ffn][1] = 0x7F; });  // still valid af8e3 codes
    CHECK_NOTHROW(io::compressed_model::open(bad));
    edit_entry([](nlohmann::json& j) { j["format"] = "af6e2"; });  // now 8-bit codes exceed 6 bits
    refused("does not fit in 6 bits");
}
