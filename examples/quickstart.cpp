// SPDX-License-Identifier: Apache-2.0
// Quick start: load a multi-task model folder and its tokenizer, classify one sentence with early exit.
//
//   quickstart [MODEL_FOLDER] [TEXT]        (default: the bundled model and a sentence of its own)

#include <cstdio>
#include <string>

#include <edgebert/edgebert.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-tiny-sst2-lang"
#endif

int main(int argc, char** argv) try {
    const std::string folder = argc > 1 ? argv[1] : EDGEBERT_BUNDLED_MODEL;
    const std::string text = argc > 2 ? argv[2] : "a gorgeous , witty and deeply moving film .";

    const auto model = edgebert::model::multi_task_model::load(folder);  // backbone + tasks/*
    const auto tokenizer = edgebert::text::albert_tokenizer::load(folder);  // spiece.model
    const std::vector<int> ids = tokenizer.encode(text);                    // [CLS] ... [SEP]
    for (const std::string& task : model.task_names()) {
        const auto r = model.infer(task, std::vector<std::int64_t>(ids.begin(), ids.end()));
        std::printf("%s: %s (%.2f), left at layer %zu of %zu\n", task.c_str(), r.label_name.c_str(), r.confidence,
                    r.exit_layer, model.config().num_hidden_layers);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
