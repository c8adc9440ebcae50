// SPDX-License-Identifier: Apache-2.0
// Quick start: load a multi-task model folder (tokenizer, backbone, tasks), classify one sentence with every task,
// each with its own early exit.
//
//   quickstart [MODEL_FOLDER] [TEXT]        (default: the bundled model and a sentence of its own)

#include <cstdio>
#include <string>

#include <edgebert/pipeline.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-tiny-sst2-lang"
#endif

int main(int argc, char** argv) try {
    const std::string folder = argc > 1 ? argv[1] : EDGEBERT_BUNDLED_MODEL;
    const std::string text = argc > 2 ? argv[2] : "a gorgeous , witty and deeply moving film .";

    const auto nlp = edgebert::pipeline::load(folder);  // tokenizer, backbone, tasks/*; golden cases checked
    for (const std::string& task : nlp.task_names()) {
        const auto r = nlp.classify(task, text);
        std::printf("%s: %s (%.2f), left at layer %zu of %zu\n", task.c_str(), r.label_name.c_str(), r.confidence, r.exit_layer,
                    r.layers);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
}
