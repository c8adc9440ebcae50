// SPDX-License-Identifier: Apache-2.0
// The main example: the bundled multi-task model (one ALBERT backbone shared by an SST-2 sentiment task and a
// language-identification task, each with its adapters, off-ramps and exit policy) reads text, tokenizes it with
// the model's spiece.model, and classifies every sentence for every task with early exit. Each answer comes with
// its confidence, the layer it left at, and its energy and latency on EdgeBERT's 12 nm accelerator model with
// sentence-level DVFS under a latency target. Then both dev sets are scored.
//
//   multitask_demo [--model DIR] [--input FILE|-] [--target-ms X] [--threads N] [--no-dev]
//
// Without --input a few built-in sentences are shown; `--input -` reads one sentence per line from stdin.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <edgebert/edgebert.hpp>

#ifndef EDGEBERT_BUNDLED_MODEL
#define EDGEBERT_BUNDLED_MODEL "models/albert-tiny-sst2-lang"
#endif

namespace {
using namespace edgebert;

struct outcome {
    model::inference_result result;
    hw::sentence_energy energy;
};

struct demo {
    model::multi_task_model mt;
    text::albert_tokenizer tokenizer;
    hw::run_pricer pricer;
    model::infer_options options;

    outcome classify(const std::string& task, const std::string& sentence) const {
        const std::vector<int> ids = tokenizer.encode(sentence);
        outcome o;
        o.result = mt.infer(task, std::vector<std::int64_t>(ids.begin(), ids.end()), options);
        o.energy = pricer.price(o.result.trace, o.result.entropies, mt.get(task).policy);
        return o;
    }
};

std::string clip(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

hw::run_pricer make_pricer(const model::multi_task_model& mt, const text::albert_tokenizer& tok, double target_ms) {
    const auto& c = mt.config();
    // The deadline: all layers of the longest input at the nominal clock.
    const hw::albert_shape shape = hw::shape_of(c, tok.options().max_length ? tok.options().max_length : c.max_position_embeddings);
    hw::energy_options o;
    o.target_ms = target_ms > 0 ? target_ms : hw::run_pricer::all_layers_latency_ms(hw::hw_params{}, shape);
    return hw::run_pricer(hw::hw_params{}, o);
}

void score_dev_set(const demo& d, const std::string& folder, const std::string& task) {
    std::ifstream in(folder + "/reference/" + task + "_dev.tsv");  // LABEL<TAB>TEXT, label = index
    if (!in) return;
    std::vector<hw::sentence_energy> priced;
    std::size_t n = 0, correct = 0, layers = 0;
    double cpu_ms = 0;
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        const auto t0 = std::chrono::steady_clock::now();
        const outcome o = d.classify(task, line.substr(tab + 1));
        cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        correct += o.result.label == std::stoul(line.substr(0, tab));
        layers += o.result.exit_layer;
        priced.push_back(o.energy);
        ++n;
    }
    const hw::energy_summary s = d.pricer.summarize(priced);
    std::printf("  %-4s dev: %4zu sentences, accuracy %.2f%%, mean exit layer %.2f of %zu | per sentence: %.2f uJ "
                "(all layers %.2f uJ, early exit at nominal V/f %.2f uJ), %zu deadline misses | CPU %.2f ms\n",
                task.c_str(), n, 100.0 * double(correct) / double(n), double(layers) / double(n), d.mt.config().num_hidden_layers,
                s.edgebert.energy.total_uj(), s.all_layers.energy.total_uj(), s.early_exit.energy.total_uj(),
                s.edgebert.deadline_misses, cpu_ms / double(n));
}
}  // namespace

int main(int argc, char** argv) try {
    std::string folder = EDGEBERT_BUNDLED_MODEL, input;
    double target_ms = 0;
    bool dev = true;
    model::infer_options options;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool value = i + 1 < argc;
        if (a == "--model" && value) folder = argv[++i];
        else if (a == "--input" && value) input = argv[++i];
        else if (a == "--target-ms" && value) target_ms = std::stod(argv[++i]);
        else if (a == "--threads" && value) options.threads = std::stoi(argv[++i]);
        else if (a == "--no-dev") dev = false;
        else throw std::invalid_argument("usage: multitask_demo [--model DIR] [--input FILE|-] [--target-ms X] [--threads N] [--no-dev]");
    }

    const auto t_load = std::chrono::steady_clock::now();
    model::multi_task_model mt = model::multi_task_model::load(folder);
    text::albert_tokenizer tokenizer = text::albert_tokenizer::load(folder);
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
    hw::run_pricer pricer = make_pricer(mt, tokenizer, target_ms);
    const demo d{std::move(mt), std::move(tokenizer), std::move(pricer), options};

    const auto& c = d.mt.config();
    std::printf("%s: ALBERT, %zu layers sharing %zu set of weights, hidden %zu, %zu heads; loaded in %.0f ms\n", folder.c_str(),
                c.num_hidden_layers, c.num_hidden_groups * c.inner_group_num, c.hidden_size, c.num_attention_heads, load_ms);
    std::printf("backbone %.2f MB shared by %zu tasks:", double(d.mt.backbone_bytes()) / 1e6, d.mt.task_names().size());
    for (const auto& t : d.mt.task_names())
        std::printf(" %s (+%.2f MB, exit %s)", t.c_str(), double(d.mt.task_bytes(t)) / 1e6, exit::describe(d.mt.get(t).policy).c_str());
    std::printf("\naccelerator: EdgeBERT 12 nm model (docs/hw.md), sentence-level DVFS, latency target %.3f ms\n\n",
                d.pricer.options().target_ms);

    std::vector<std::string> sentences;
    if (input.empty()) {
        sentences = {"a gorgeous , witty and deeply moving film .",
                     "the plot is a tired mess and the acting is even worse .",
                     "Nothing is so hard that it cannot be done by patience.",
                     "Wer nicht wagt, der nicht gewinnt.",
                     "No hay mal que por bien no venga.",
                     "Chi va piano va sano e va lontano."};
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
        std::printf("\"%s\"\n", clip(s, 90).c_str());
        for (const std::string& task : d.mt.task_names()) {
            const outcome o = d.classify(task, s);
            std::printf("  %-4s -> %-8s %.2f  exit layer %zu  %6.2f uJ  %.3f ms at %.2f V / %.0f MHz\n", task.c_str(),
                        o.result.label_name.c_str(), o.result.confidence, o.result.exit_layer, o.energy.edgebert.energy.total_uj(),
                        o.energy.edgebert.latency_ms, o.energy.edgebert.voltage_v, o.energy.edgebert.freq_mhz);
        }
    }
    if (dev) {
        std::printf("\ndev sets (text -> tokenizer -> model, each task's own exit policy):\n");
        for (const std::string& task : d.mt.task_names()) score_dev_set(d, folder, task);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "multitask_demo: %s\n", e.what());
    return 1;
}
