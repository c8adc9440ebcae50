// SPDX-License-Identifier: Apache-2.0
// An app's own parts plugged into edgebert at compile time: an exit policy (leave once the two most likely labels
// are at least a margin apart at two consecutive off-ramps) and an observer (multiply-adds and weight bytes read per
// layer), instantiated as edgebert::basic_pipeline<margin_twice, work_per_layer> on the bundled model.
//
//   custom_pipeline [MODEL_FOLDER] [MARGIN]      (default: the bundled model, margin 0.6)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <edgebert/pipeline.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-tiny-sst2-lang"
#endif

namespace {

/// Exit after layer i when softmax's two largest probabilities differ by more than `margin` after layer i and
/// after layer i - 1.
struct margin_twice {
    double margin = 0.6;

    static double top2_margin(const edgebert::exit::ramp_history& h, std::size_t layer) {
        const float* logits = h.logits_at(layer);
        std::vector<double> p(logits, logits + h.labels);
        double z = 0;
        for (double& x : p) z += x = std::exp(x - double(logits[h.argmax_at(layer)]));
        std::sort(p.rbegin(), p.rend());
        return (p[0] - (p.size() > 1 ? p[1] : 0.0)) / z;
    }
    bool exits_at(std::size_t layer, const edgebert::exit::ramp_history& h) const {
        return layer >= 2 && top2_margin(h, layer) > margin && top2_margin(h, layer - 1) > margin;
    }
};

/// Multiply-adds executed and weight bytes read per layer (index 0: outside the layers, i.e. the embedding
/// projection and the final head), as the run reports them.
struct work_per_layer {
    std::vector<double> macs, weight_bytes;

    void on(const edgebert::trace::matmul_event& e) {
        grow(e.layer);
        macs[e.layer] += double(e.work.rows) * double(e.work.weight_nonzeros);
        weight_bytes[e.layer] += double(e.work.weight_nonzeros) * double(e.work.weight_bits) / 8;
    }
    void on(const edgebert::trace::attention_event& e) {  // Q·Kᵀ and P·V over the keys actually computed
        grow(e.layer);
        macs[e.layer] += 2.0 * double(e.work.keys_computed) * double(e.work.head_size);
    }

private:
    void grow(std::size_t layer) {
        if (macs.size() <= layer) macs.resize(layer + 1), weight_bytes.resize(layer + 1);
    }
};

}  // namespace

int main(int argc, char** argv) try {
    const std::string folder = argc > 1 ? argv[1] : EDGEBERT_BUNDLED_MODEL;
    margin_twice policy;
    if (argc > 2) policy.margin = edgebert::parse_number(argv[2], "margin");

    using custom_pipeline = edgebert::basic_pipeline<margin_twice, work_per_layer>;
    const auto nlp = custom_pipeline::load(folder, {}, policy);
    std::printf("exit policy: top-2 margin > %.2f at two consecutive off-ramps\n\n", policy.margin);

    const char* sentences[] = {"a gorgeous , witty and deeply moving film .",
                               "the plot is a tired mess and the acting is even worse .",
                               "it 's a film that may not be for everyone , but it is not without charm ."};
    for (const char* s : sentences) {
        const auto r = nlp.classify("sst2", s);
        std::printf("\"%s\"\n  %s (%.2f), left at layer %zu of %zu\n", s, r.label_name.c_str(), r.confidence, r.exit_layer,
                    r.layers);
        for (std::size_t l = 1; l < r.observed.macs.size(); ++l)
            std::printf("    layer %zu: %8.0f multiply-adds, %7.0f weight bytes read\n", l, r.observed.macs[l],
                        r.observed.weight_bytes[l]);
        if (!r.observed.macs.empty())
            std::printf("    outside the layers: %.0f multiply-adds, %.0f weight bytes\n", r.observed.macs[0], r.observed.weight_bytes[0]);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "custom_pipeline: %s\n", e.what());
    return 1;
}
