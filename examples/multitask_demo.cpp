// SPDX-License-Identifier: Apache-2.0
// The main example: the bundled multi-task model (one ALBERT backbone, an SST-2 sentiment task and a language
// identification task, each with its adapters, off-ramps and exit policy) classifies the dev sentences of both
// tasks with early exit, and reports per task the accuracy, the mean exit layer and the time per sentence.
//
//   multitask_demo [MODEL_FOLDER] [--threads N]
//
// Until the C++ SentencePiece tokenizer lands, sentences come as the token ids the bundled model's Python
// tokenizer produced (MODEL/reference/<task>_dev.jsonl, written with the model).

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <edgebert/edgebert.hpp>
#include <nlohmann/json.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-tiny-sst2-lang"
#endif

namespace {
struct example {
    std::vector<std::int64_t> ids;
    std::size_t gold = 0;
    std::string text;
};

std::vector<example> read_reference(const std::string& model, const std::string& task) {
    const std::string path = model + "/reference/" + task + "_dev.jsonl";
    std::ifstream in(path);
    if (!in) throw edgebert::io_error("cannot open '" + path + "'");
    std::vector<example> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        out.push_back({j.at("input_ids").get<std::vector<std::int64_t>>(), j.at("gold").get<std::size_t>(), ""});
    }
    std::ifstream tsv(model + "/reference/" + task + "_dev.tsv");  // texts, where the model ships them
    for (std::size_t i = 0; tsv && std::getline(tsv, line) && i < out.size(); ++i)
        out[i].text = line.substr(line.find('\t') + 1);
    return out;
}
}  // namespace

int main(int argc, char** argv) try {
    using namespace edgebert;
    std::string folder = EDGEBERT_BUNDLED_MODEL;
    int threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
        else folder = a;
    }
    const auto t_load = std::chrono::steady_clock::now();
    const model::multi_task_model mt = model::multi_task_model::load(folder);
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
    const auto& c = mt.config();
    std::printf("%s: ALBERT %zu layers sharing %zu, hidden %zu, %zu heads; loaded in %.0f ms\n", folder.c_str(),
                c.num_hidden_layers, c.num_hidden_groups * c.inner_group_num, c.hidden_size, c.num_attention_heads, load_ms);
    std::printf("backbone %.2f MB shared by %zu tasks:", double(mt.backbone_bytes()) / 1e6, mt.task_names().size());
    for (const auto& t : mt.task_names())
        std::printf(" %s (+%.2f MB, exit %s)", t.c_str(), double(mt.task_bytes(t)) / 1e6,
                    exit::describe(mt.get(t).policy).c_str());
    std::printf("\n\n");

    model::infer_options opt;
    opt.threads = threads;
    for (const std::string& task : mt.task_names()) {
        const auto data = read_reference(folder, task);
        std::size_t correct = 0, layers = 0, keys = 0, keys_dense = 0;
        double ms = 0;
        for (std::size_t i = 0; i < data.size(); ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const model::inference_result r = mt.infer(task, data[i].ids, opt);
            ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            correct += r.label == data[i].gold;
            layers += r.exit_layer;
            for (const auto& l : r.trace.layers) keys += l.attention.keys_computed, keys_dense += l.attention.keys_dense;
            if (i < 4) {
                const std::string shown = data[i].text.empty() ? std::to_string(data[i].ids.size()) + " tokens"
                                                                : "\"" + data[i].text.substr(0, 60) + (data[i].text.size() > 60 ? "...\"" : "\"");
                std::printf("  %-5s %-64s -> %-9s %.2f  layer %zu  (gold %s)\n", task.c_str(), shown.c_str(),
                            r.label_name.c_str(), r.confidence, r.exit_layer, mt.get(task).label_name(data[i].gold).c_str());
            }
        }
        const double n = double(data.size());
        std::printf("  %s dev: %zu sentences, accuracy %.2f%%, mean exit layer %.2f of %zu, attention keys computed %.0f%%, "
                    "%.2f ms per sentence\n\n",
                    task.c_str(), data.size(), 100.0 * double(correct) / n, double(layers) / n, c.num_hidden_layers,
                    keys_dense ? 100.0 * double(keys) / double(keys_dense) : 100.0, ms / n);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "multitask_demo: %s\n", e.what());
    return 1;
}
