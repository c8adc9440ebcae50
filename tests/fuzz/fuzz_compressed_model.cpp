// SPDX-License-Identifier: Apache-2.0
// The compressed model file (io/compressed_model.hpp): a safetensors container whose __metadata__ holds the
// config, each tensor's number format, bias, mask and shape, and golden inputs and outputs. An accepted file
// decodes every tensor to finite-shaped fp32 values that match the declared shapes, and every 8-bit matrix
// becomes a layer in each storage the loader can pick (dense codes, bit mask, blocks) without an error.

#include <edgebert/io/compressed_model.hpp>
#include <edgebert/model/weight_storage.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert::io;
    const safetensors_file f = parse_safetensors(data, size, "fuzz.safetensors");
    const compressed_model m = compressed_model::from_file(f, "fuzz.safetensors");
    fuzz_must_succeed("reading an accepted compressed model", [&] {
        FUZZ_REQUIRE(m.golden_inputs().size() == m.golden_logits().size());
        for (const std::string& name : m.weights().names()) {
            const auto* shape = m.weights().shape(name);
            FUZZ_REQUIRE(shape != nullptr);
            std::size_t n = 1;
            for (std::size_t d : *shape) n *= d;
            const std::size_t rows = shape->size() >= 2 ? (*shape)[0] : 1;
            const auto v = m.weights().values(name, rows, rows ? n / rows : 0);
            FUZZ_REQUIRE(v.rows() * v.cols() == n);
            if (const compressed_matrix* c = m.weights().compressed(name)) {
                for (auto storage : {edgebert::model::weight_storage::stored, edgebert::model::weight_storage::fastest}) {
                    edgebert::model::load_options opt;
                    opt.weights = storage;
                    const auto l = edgebert::model::compressed_linear({c}, nullptr, opt);
                    FUZZ_REQUIRE(l.has_value() == c->format.byte_codes());
                    if (l) FUZZ_REQUIRE(l->out_features() == c->rows && l->in_features() == c->cols);
                }
            }
        }
    });
}
