// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert classify`: text in, labels out. Each line is tokenized with the model's spiece.model (ALBERT's
// conventions), run through one task of a multi-task model with early exit, and priced on the accelerator
// model; a JSON line per text on stdout, a progress bar on stderr, and a summary line last.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <edgebert/core/parse.hpp>
#include <edgebert/pipeline.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"
#include "load_options.hpp"
#include "policy_options.hpp"

namespace edgebert_cli {

inline const std::string classify_help = std::string(R"(usage: edgebert classify --model PATH --input FILE [--task NAME] [--exit POLICY] [--labeled] [--pairs]
                         [--target-ms X] [--hw hw.json] [--threads N] [--no-progress] [--weights MODE]

  Classifies one text per line of FILE (or /dev/stdin) with one task of a multi-task model folder
  (config.json, model.safetensors, spiece.model, tasks/NAME/). Prints a JSON object per text:
    {"line", "label", "confidence", "exit_layer", "tokens", "energy_uj", "latency_ms", ...}
  and a summary object last: sentences, accuracy (with --labeled), mean_exit_layer, energy_uj_per_sentence,
  and the three schemes of `edgebert energy` (all layers, early exit at nominal V/f, DVFS under the target).
  energy_uj and latency_ms are those of the run on EdgeBERT's accelerator model with sentence-level DVFS
  under --target-ms (docs/hw.md): the layers this text actually ran, at the voltage and clock chosen after
  layer 1.

  --model PATH      model folder with tasks (see docs/multitask.md); its model.safetensors may be a
                    compressed model (`edgebert compress` of a model folder copies the tasks and tokenizer)
  --task NAME       the task (required when the model has several)
  --exit POLICY     none, fixed:K, entropy:T, predictor:T (the task's predictor.csv unless --lut),
                    maxprob:P, patience:K (default: the task's own policy)
  --lut FILE.csv    exit-predictor table for predictor:T; --mode as `edgebert exits`
  --labeled         lines are LABEL<TAB>TEXT; LABEL is a label name or index; a first line whose label is
                    "label" is a header and skipped
  --pairs           sentence pairs: TEXT is TEXT_A<TAB>TEXT_B, run as [CLS] a [SEP] b [SEP] with token types
                    0 then 1 (GLUE's MRPC, QNLI); the default for a task whose task.json says "input": "pair"
  --target-ms X     latency target per sentence on the accelerator (default: the nominal-speed latency of
                    all layers at the model's longest input, so every sentence fits without scaling up)
  --hw FILE         accelerator parameters (as `edgebert energy --hw`)
  --threads N       CPU threads per inference (default 1)
  --no-progress     no progress bar
)") + weights_option_help;

namespace detail {
/// One-line progress bar, redrawn in place on a terminal and every 10 % otherwise.
class progress_bar {
public:
    progress_bar(std::size_t total, bool enabled) : total_(total), enabled_(enabled && total > 0), tty_(::isatty(2) != 0) {}
    void update(std::size_t done) {
        if (!enabled_) return;
        const int pct = int(100 * done / total_);
        if (tty_ ? pct == last_ && done != total_ : pct / 10 == last_ / 10 && last_ >= 0) return;
        last_ = pct;
        const int width = 30, filled = int(width * done / total_);
        std::fprintf(stderr, "%s[%s%s] %3d%% %zu/%zu%s", tty_ ? "\r" : "", std::string(std::size_t(filled), '#').c_str(),
                     std::string(std::size_t(width - filled), '.').c_str(), pct, done, total_, tty_ ? "" : "\n");
        if (tty_ && done == total_) std::fputc('\n', stderr);
        std::fflush(stderr);
    }

private:
    std::size_t total_;
    bool enabled_, tty_;
    int last_ = -1;
};

inline std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw edgebert::io_error("cannot open '" + path + "'");
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    if (in.bad()) throw edgebert::io_error("cannot read '" + path + "'");
    return lines;
}

inline std::size_t parse_label(const edgebert::model::task& t, std::size_t num_labels, const std::string& s, const std::string& where) {
    for (std::size_t i = 0; i < t.labels.size(); ++i)
        if (t.labels[i] == s) return i;
    std::size_t used = 0;
    unsigned long v = 0;
    try {
        v = std::stoul(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != s.size() || v >= num_labels)
        throw edgebert::input_error(where + ": label \"" + s + "\" is neither a label name of task '" + t.name +
                                    "' nor an index below " + std::to_string(num_labels));
    return std::size_t(v);
}
}  // namespace detail

inline int cmd_classify(int argc, char** argv) {
    namespace ex = edgebert::exit;
    const args a(argc, argv, 2, {"model", "input", "task", "exit", "lut", "mode", "target-ms", "hw", "threads", "weights"},
                 {"labeled", "pairs", "no-progress", "verify"});
    if (a.help()) {
        std::cout << classify_help;
        return 0;
    }
    const std::string model_path = a.get("model"), input = a.get("input");
    const int threads = int(a.integer("threads", 1, 0));
    std::optional<double> target_ms;
    if (a.has("target-ms")) {
        const std::string v = a.get("target-ms");
        const std::optional<double> parsed = edgebert::to_number(v);
        const double x = parsed ? *parsed : 0.0;
        if (!parsed || !(x > 0) || std::isnan(x))
            throw usage_error("option '--target-ms' expects a positive number, got '" + v + "'");
        target_ms = x;
    }
    edgebert::pipeline_options po;
    po.load = parse_load_options(a);
    po.accelerator = a.has("hw") ? edgebert::hw::hw_params::load(a.get("hw")) : edgebert::hw::hw_params{};
    po.threads = threads;
    if (target_ms) po.target_ms = *target_ms;
    auto nlp = edgebert::pipeline::load(model_path, po);
    const auto names = nlp.task_names();
    std::string task_name;
    if (a.has("task")) task_name = a.get("task");
    else if (names.size() == 1) task_name = names[0];
    else throw usage_error(names.empty() ? "the model has no task (tasks/NAME/)" : "the model has several tasks; pick one with --task");
    if (!nlp.model().has_task(task_name)) throw usage_error("the model has no task '" + task_name + "'");
    const auto& task = nlp.model().get(task_name);

    ex::exit_policy policy = task.policy;
    if (a.has("exit")) {
        const std::string spec = a.get("exit");
        if (spec.rfind("predictor:", 0) == 0 && !a.has("lut")) {
            const std::string lut = model_path + "/tasks/" + task_name + "/predictor.csv";
            if (!std::ifstream(lut)) throw usage_error("--exit predictor:T needs --lut FILE.csv (task '" + task_name + "' has no predictor.csv)");
            try {
                policy = ex::parse_exit_policy(spec, lut, a.get("mode", "ee-before"));
            } catch (const edgebert::config_error& e) {
                throw usage_error(std::string("--exit: ") + e.what());
            }
        } else {
            policy = parse_exit_option(a, "exit");
        }
        po.exit = policy;
        nlp = nlp.with_options(po);
    }

    const auto lines = detail::read_lines(input);
    const bool labeled = a.has("labeled"), pairs = a.has("pairs") || nlp.model().get(task_name).sentence_pairs;
    std::size_t first = 0;
    if (labeled && !lines.empty() && lines[0].substr(0, lines[0].find('\t')) == "label") first = 1;
    // Every line is checked before the first is classified, so a bad file fails without partial output.
    struct item {
        std::string text, text_b;
        std::optional<std::size_t> gold;
    };
    std::vector<item> items;
    for (std::size_t i = first; i < lines.size(); ++i) {
        const std::string where = input + ":" + std::to_string(i + 1);
        item it;
        std::string rest = lines[i];
        if (labeled) {
            const auto tab = rest.find('\t');
            if (tab == std::string::npos) throw edgebert::input_error(where + ": expected LABEL<TAB>TEXT (--labeled)");
            it.gold = detail::parse_label(task, nlp.model().num_labels(task_name), rest.substr(0, tab), where);
            rest = rest.substr(tab + 1);
        }
        if (pairs) {
            const auto tab = rest.find('\t');
            if (tab == std::string::npos) throw edgebert::input_error(where + ": expected TEXT_A<TAB>TEXT_B (--pairs)");
            it.text_b = rest.substr(tab + 1);
            rest = rest.substr(0, tab);
        }
        it.text = std::move(rest);
        items.push_back(std::move(it));
    }
    detail::progress_bar bar(items.size(), !a.has("no-progress"));

    std::vector<edgebert::hw::sentence_energy> priced;
    std::size_t correct = 0, layers = 0, n = 0;
    double cpu_ms = 0;
    for (std::size_t k = 0; k < items.size(); ++k) {
        const item& it = items[k];
        const auto t0 = std::chrono::steady_clock::now();
        const edgebert::answer r = pairs ? nlp.classify(task_name, it.text, it.text_b) : nlp.classify(task_name, it.text);
        cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        priced.push_back(*r.energy);

        nlohmann::ordered_json j{{"line", first + k + 1},
                                 {"label", r.label_name},
                                 {"confidence", r.confidence},
                                 {"exit_layer", r.exit_layer},
                                 {"tokens", r.ids.size()},
                                 {"energy_uj", r.energy_uj()},
                                 {"latency_ms", r.latency_ms()},
                                 {"voltage_v", r.voltage_v()},
                                 {"freq_mhz", r.freq_mhz()}};
        if (it.gold) {
            j["gold"] = task.label_name(*it.gold);
            correct += r.label == *it.gold;
        }
        std::cout << j.dump() << "\n";
        layers += r.exit_layer;
        ++n;
        bar.update(n);
    }

    nlohmann::ordered_json s;
    s["summary"] = true;
    s["model"] = model_path;
    s["task"] = task_name;
    s["exit"] = ex::describe(policy);
    s["sentences"] = n;
    if (labeled) s["accuracy"] = n ? double(correct) / double(n) : 0.0;
    s["mean_exit_layer"] = n ? double(layers) / double(n) : 0.0;
    s["layers"] = nlp.model().config().num_hidden_layers;
    const auto& pricer = nlp.pricer(task_name);
    const auto summary = pricer.summarize(priced);
    s["energy_uj_per_sentence"] = summary.edgebert.energy.total_uj();
    s["cpu_ms_per_sentence"] = n ? cpu_ms / double(n) : 0.0;
    const auto report = edgebert::hw::to_json(summary, pricer.params());
    for (const char* k : {"target_ms", "baselines", "ratios"}) s[k] = report[k];
    std::cout << s.dump() << std::endl;
    return 0;
}

}  // namespace edgebert_cli
