// SPDX-License-Identifier: Apache-2.0
// Quick start: load an ALBERT checkpoint (or, with no argument, build a small ALBERT with seeded random
// weights in memory), classify a padded batch of two sequences and print the logits and the time taken.
// The bundled trained model is shown by multitask_demo.
//
//   quickstart [HF_MODEL_FOLDER]

#include <chrono>
#include <cstdio>

#include <edgebert/edgebert.hpp>

int main(int argc, char** argv) try {
    using namespace edgebert::model;

    albert_config small;  // a 4-layer ALBERT with 2 shared groups, 8 heads, gelu_new
    small.vocab_size = 1000, small.embedding_size = 64, small.hidden_size = 256, small.num_hidden_layers = 4;
    small.num_hidden_groups = 2, small.num_attention_heads = 8, small.intermediate_size = 1024;
    const albert_model model = argc > 1 ? albert_model::load(argv[1]) : albert_model::random(small, 42);

    // Two sequences padded to one length; the second attends to its first 4 tokens only.
    const auto batch = token_batch::from_rows({{2, 48, 311, 97, 12, 3}, {2, 77, 56, 3, 0, 0}},
                                              {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}});
    run_options options;
    options.threads = 0;  // all processors
    const auto t0 = std::chrono::steady_clock::now();
    const albert_output out = model.forward(batch, options);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    const auto& cfg = model.config();
    std::printf("%s: %zu layers (%zu groups x %zu inner), hidden %zu, %zu heads, %s\n",
                argc > 1 ? argv[1] : "seeded random ALBERT", cfg.num_hidden_layers,
                cfg.num_hidden_groups, cfg.inner_group_num, cfg.hidden_size, cfg.num_attention_heads,
                cfg.hidden_act.c_str());
    for (std::size_t b = 0; b < out.batch; ++b) {
        std::printf("sequence %zu logits:", b);
        std::size_t best = 0;
        for (std::size_t c = 0; c < out.num_labels; ++c) {
            std::printf(" %+.5f", out.logits[b * out.num_labels + c]);
            if (out.logits[b * out.num_labels + c] > out.logits[b * out.num_labels + best]) best = c;
        }
        std::printf("  -> %s\n", out.num_labels ? cfg.id2label[best].c_str() : "(no classifier)");
    }
    std::printf("forward pass: %.2f ms on %d thread(s)\n", ms, edgebert::resolve_threads(options.threads));
    return 0;
} catch (const edgebert::error& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
