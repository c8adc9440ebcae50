// SPDX-License-Identifier: Apache-2.0
// The main example: the bundled multi-task model (one frozen ALBERT backbone shared by SST-2 sentiment, MRPC
// paraphrase of sentence pairs and TREC question type, each task with its adapters, off-ramps and exit policy) reads
// text, tokenizes it with the model's spiece.model, and classifies every line with every task that takes that kind
// of input (a line TEXT_A<TAB>TEXT_B is a pair) with early exit. Each answer comes with its confidence, the layer it
// left at, and its energy and latency on EdgeBERT's 12 nm accelerator model with sentence-level DVFS under a
// latency target. Then every task's dev set is scored.
//
//   multitask_demo [--model DIR] [--input FILE|-] [--target-ms X] [--threads N] [--no-dev]
//
// Without --input a few built-in lines are shown; `--input -` reads one text (or TAB-separated pair) per line.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <edgebert/pipeline.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-imdb-multitask"
#endif

namespace {
using namespace edgebert;

std::string clip(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

bool takes_pairs(const pipeline& nlp, const std::string& task) { return nlp.model().get(task).sentence_pairs; }

answer classify_line(const pipeline& nlp, const std::string& task, const std::string& line) {
    if (!takes_pairs(nlp, task)) return nlp.classify(task, line);
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw input_error(task + " takes sentence pairs (TEXT_A<TAB>TEXT_B): " + line);
    return nlp.classify(task, std::string_view(line).substr(0, tab), std::string_view(line).substr(tab + 1));
}

void score_dev_set(const pipeline& nlp, const std::string& folder, const std::string& task) {
    std::ifstream in(folder + "/reference/" + task + "_dev.tsv");  // LABEL<TAB>TEXT[<TAB>TEXT_B], label = index
    if (!in) return;
    std::vector<hw::sentence_energy> priced;
    std::size_t n = 0, correct = 0, layers = 0;
    double cpu_ms = 0;
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        const auto t0 = std::chrono::steady_clock::now();
        const answer r = classify_line(nlp, task, line.substr(tab + 1));
        cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        correct += r.label == std::stoul(line.substr(0, tab));
        layers += r.exit_layer;
        priced.push_back(*r.energy);
        ++n;
    }
    const hw::energy_summary s = nlp.pricer(task).summarize(priced);
    std::printf("  %-4s dev: %4zu examples, accuracy %.2f%%, mean exit layer %.2f of %zu | per sentence: %.2f uJ "
                "(all layers %.2f uJ, early exit at nominal V/f %.2f uJ), %zu deadline misses | CPU %.2f ms\n",
                task.c_str(), n, 100.0 * double(correct) / double(n), double(layers) / double(n), nlp.model().config().num_hidden_layers,
                s.edgebert.energy.total_uj(), s.all_layers.energy.total_uj(), s.early_exit.energy.total_uj(),
                s.edgebert.deadline_misses, cpu_ms / double(n));
}
}  // namespace

int main(int argc, char** argv) try {
    std::string folder = EDGEBERT_BUNDLED_MODEL, input;
    pipeline_options options;
    options.accelerator = hw::hw_params{};  // EdgeBERT's 12 nm accelerator, defaults of docs/hw.md
    bool dev = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool value = i + 1 < argc;
        if (a == "--model" && value) folder = argv[++i];
        else if (a == "--input" && value) input = argv[++i];
        else if (a == "--target-ms" && value) options.target_ms = parse_number(argv[++i], "--target-ms");
        else if (a == "--threads" && value) options.threads = int(parse_number(argv[++i], "--threads"));
        else if (a == "--no-dev") dev = false;
        else throw std::invalid_argument("usage: multitask_demo [--model DIR] [--input FILE|-] [--target-ms X] [--threads N] [--no-dev]");
    }

    const auto t_load = std::chrono::steady_clock::now();
    const pipeline nlp = pipeline::load(folder, options);  // tokenizer, backbone, tasks; golden cases checked
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();

    const model::multi_task_model& mt = nlp.model();
    const auto& c = mt.config();
    std::printf("%s: ALBERT, %zu layers sharing %zu set of weights, hidden %zu, %zu heads; loaded and verified in %.0f ms\n",
                folder.c_str(), c.num_hidden_layers, c.num_hidden_groups * c.inner_group_num, c.hidden_size, c.num_attention_heads,
                load_ms);
    std::printf("backbone %.2f MB shared by %zu tasks:", double(mt.backbone_bytes()) / 1e6, mt.task_names().size());
    for (const auto& t : mt.task_names())
        std::printf(" %s (+%.2f MB, exit %s)", t.c_str(), double(mt.task_bytes(t)) / 1e6, exit::describe(mt.get(t).policy).c_str());
    std::printf("\naccelerator: EdgeBERT 12 nm model (docs/hw.md), sentence-level DVFS, latency target per task:");
    for (const auto& t : mt.task_names()) std::printf(" %s %.3f ms", t.c_str(), nlp.pricer(t).options().target_ms);
    std::printf("\n\n");

    std::vector<std::string> sentences;
    if (input.empty()) {
        sentences = {"a gorgeous , witty and deeply moving film .",
                     "the plot is a tired mess and the acting is even worse .",
                     "Who wrote the screenplay for Casablanca ?",
                     "How many films did Hitchcock direct ?",
                     "The film opened in 3,000 theaters on Friday .\tThe movie was released in about 3,000 cinemas on Friday .",
                     "The film opened in 3,000 theaters on Friday .\tThe studio announced a sequel for next summer ."};
    } else {
        std::ifstream file;
        if (input != "-") {
            file.open(input);
            if (!file) throw io_error("cannot open '" + input + "'");
        }
        std::istream& in = input == "-" ? std::cin : file;
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) sentences.push_back(line);
    }
    for (const std::string& s : sentences) {
        const auto tab = s.find('\t');
        const bool pair = tab != std::string::npos;
        if (pair) std::printf("pair \"%s\"\n", clip(s.substr(0, tab) + "\" | \"" + s.substr(tab + 1), 110).c_str());
        else std::printf("\"%s\"\n", clip(s, 110).c_str());
        for (const std::string& task : nlp.task_names()) {
            if (takes_pairs(nlp, task) != pair) continue;
            const answer r = classify_line(nlp, task, s);
            std::printf("  %-4s -> %-8s %.2f  exit layer %zu  %6.2f uJ  %.3f ms at %.2f V / %.0f MHz\n", task.c_str(),
                        r.label_name.c_str(), r.confidence, r.exit_layer, r.energy_uj(), r.latency_ms(), r.voltage_v(), r.freq_mhz());
        }
    }
    if (dev) {
        std::printf("\ndev sets (text -> tokenizer -> model, each task's own exit policy):\n");
        for (const std::string& task : nlp.task_names()) score_dev_set(nlp, folder, task);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "multitask_demo: %s\n", e.what());
    return 1;
}
