// SPDX-License-Identifier: Apache-2.0
#pragma once
// adapter-ALBERT's multi-task model: one shared ALBERT backbone (embeddings and encoder weights, loaded once
// and never copied) and any number of tasks, each with its own small parts (model/task.hpp). infer() is
// const and safe to call from many threads at once, for any mix of tasks; it returns the answer, the exit
// layer, every off-ramp entropy evaluated and a trace of the work executed for the accelerator model (hw/).
//
// Folder layout (docs/multitask.md): a HuggingFace ALBERT folder (config.json + model.safetensors) for the
// backbone, and one sub-folder per task under tasks/.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../io/hf_checkpoint.hpp"
#include "albert_model.hpp"
#include "task.hpp"
#include "../trace/recorder.hpp"

namespace edgebert::model {

struct infer_options {
    int threads = 1;
    std::optional<exit::exit_policy> exit;      ///< overrides the task's own policy
    token_ids token_type_ids;                   ///< empty: all 0
};

struct inference_result {
    std::string task;
    std::vector<float> logits;   ///< of the classifier that answered (an off-ramp or the final one)
    std::size_t label = 0;       ///< argmax of logits
    std::string label_name;
    double confidence = 0;       ///< softmax probability of the label
    std::size_t exit_layer = 0;  ///< 1-based; the model's depth when the final classifier answered
    std::size_t layers = 0;      ///< the model's depth
    std::vector<double> entropies;  ///< entropy of every off-ramp evaluated, layer 1 first
    inference_trace trace;
};

class multi_task_model {
public:
    multi_task_model() = default;
    /// backbone_weights: the backbone's tensors, kept to build tasks that prune the encoder with masks.
    explicit multi_task_model(albert_model backbone, std::shared_ptr<const io::weight_source> backbone_weights = nullptr)
        : backbone_(std::make_shared<const albert_model>(std::move(backbone))), weights_(std::move(backbone_weights)) {
        }

    /// A HuggingFace folder (or a folder whose model.safetensors is a compressed model, held as opt says) as
    /// the backbone, plus every sub-folder of `folder`/tasks as a task; then the golden cases (golden.json, a
    /// compressed file's) are checked as opt.golden says (albert_model::load).
    static multi_task_model load(const std::string& folder, const load_options& opt = {});

    const albert_model& backbone() const noexcept { return *backbone_; }
    const albert_config& config() const noexcept { return backbone_->config(); }

    /// Add a task; its name must be new. Not thread-safe with concurrent infer() (add tasks first).
    const task& add_task(task t) {
        if (t.name.empty()) throw config_error("a task needs a name");
        if (tasks_.count(t.name)) throw config_error("task '" + t.name + "' exists already");
        check_task(t);
        const std::string n = t.name;
        return *(tasks_[n] = std::make_shared<const task>(std::move(t)));
    }
    /// Read a task folder (model/task.hpp) and add it.
    const task& add_task_folder(const std::string& folder, const std::string& name = "",
                                attention_adapter_input adapter_input = attention_adapter_input::block_input);

    std::vector<std::string> task_names() const {
        std::vector<std::string> n;
        for (const auto& kv : tasks_) n.push_back(kv.first);
        return n;
    }
    bool has_task(const std::string& name) const { return tasks_.count(name) > 0; }
    /// Classes of a task's answers: its own head's, else the backbone classifier's.
    std::size_t num_labels(const std::string& name) const {
        const task& t = get(name);
        return t.head ? t.head->num_labels() : config().num_labels;
    }
    const task& get(const std::string& name) const {
        auto it = tasks_.find(name);
        if (it == tasks_.end()) {
            std::string known;
            for (const auto& kv : tasks_) known += (known.empty() ? "" : ", ") + kv.first;
            throw config_error("no task '" + name + "' (tasks: " + (known.empty() ? "none" : known) + ")");
        }
        return *it->second;
    }

    /// Classify one sentence of token ids with a task. Const and thread-safe.
    inference_result infer(const std::string& task_name, const token_ids& ids, const infer_options& opt = {}) const;
    /// The same with an observer of the run's events (trace/events.hpp) besides the recorded trace.
    template <class Observer>
    inference_result infer(const std::string& task_name, const token_ids& ids, const infer_options& opt, Observer& observer) const {
        const task& t = get(task_name);
        return std::visit([&](const auto& policy) { return infer_with(t, ids, opt, policy, observer); }, opt.exit ? *opt.exit : t.policy);
    }
    /// The same with an exit policy of your own type (exit/logit_policy.hpp says what it needs).
    template <class Policy, class Observer = trace::null_observer>
    inference_result infer_with(const task& t, const token_ids& ids, const infer_options& opt, const Policy& policy,
                                Observer& observer) const {
        if (ids.empty()) throw input_error("infer: empty token id sequence");
        token_batch in;
        in.batch = 1;
        in.seq = ids.size();
        in.input_ids = ids;
        if (!opt.token_type_ids.empty()) {
            if (opt.token_type_ids.size() != ids.size())
                throw input_error("infer: " + std::to_string(opt.token_type_ids.size()) + " token types for " +
                                  std::to_string(ids.size()) + " tokens");
            in.token_type_ids = opt.token_type_ids;
        }
        run_options ro;
        ro.threads = opt.threads;
        ro.task = &t;
        ro.off_ramps = true;
        trace::recorder rec;
        rec.set_depth(config().num_hidden_layers);
        trace::fan_out<trace::recorder, Observer> both(rec, observer);
        const albert_output out = backbone_->forward(in, ro, policy, both);
        if (out.num_labels == 0) throw config_error("task '" + t.name + "' has no classifier");

        inference_result r;
        r.task = t.name;
        const std::size_t C = out.num_labels;
        r.logits.assign(out.logits.begin(), out.logits.begin() + std::ptrdiff_t(C));
        r.label = std::size_t(std::max_element(r.logits.begin(), r.logits.end()) - r.logits.begin());
        r.label_name = t.label_name(r.label);
        double z = 0;
        for (float l : r.logits) z += std::exp(double(l) - double(r.logits[r.label]));
        r.confidence = 1.0 / z;
        r.exit_layer = out.exit_layers[0];
        r.layers = out.num_layers;
        if (!out.off_ramp_entropies.empty())
            for (std::size_t l = 0; l < std::min(r.exit_layer, out.layers_run); ++l)
                r.entropies.push_back(out.off_ramp_entropies[l]);
        r.trace = rec.take();
        return r;
    }

    /// Run a padded batch with a task (hidden states and ramp outputs as albert_model::forward gives them).
    albert_output run(const std::string& task_name, const token_batch& in, run_options opt = {}) const;

    /// Bytes of the backbone's parameters (fp32) and of one task's own.
    std::size_t backbone_bytes() const {
        const albert_config& c = config();
        const std::size_t E = c.embedding_size, H = c.hidden_size, I = c.intermediate_size;
        const std::size_t embeddings = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size + 2) * E;
        const std::size_t layer = 4 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H;
        return (embeddings + E * H + H + c.num_hidden_groups * c.inner_group_num * layer + H * H + H) * sizeof(float);
    }
    std::size_t task_bytes(const std::string& name) const { return get(name).bytes(); }

private:
    void check_task(const task& t) const {
        const albert_config& c = config();
        const std::size_t modules = t.encoder.per_depth ? c.num_hidden_layers * c.inner_group_num
                                                        : c.num_hidden_groups * c.inner_group_num;
        if (t.encoder.layers.size() > modules)
            throw shape_error("task '" + t.name + "' has parts for " + std::to_string(t.encoder.layers.size()) +
                              " layers, the backbone has " + std::to_string(modules));
        for (const task_layer& l : t.encoder.layers)
            for (const auto* a : {&l.attention_adapter, &l.output_adapter})
                if (*a && (*a)->hidden() != c.hidden_size)
                    throw shape_error("task '" + t.name + "': adapter width " + std::to_string((*a)->hidden()) +
                                      " differs from the backbone's hidden size " + std::to_string(c.hidden_size));
        if (t.encoder.span) t.encoder.span->validate(c.num_attention_heads);
        if (t.head && t.head->hidden() != c.hidden_size)
            throw shape_error("task '" + t.name + "': head input " + std::to_string(t.head->hidden()) +
                              " differs from the hidden size " + std::to_string(c.hidden_size));
        const std::size_t ramps = t.off_ramps.size();
        if (ramps && ramps != c.num_hidden_layers && ramps != c.num_hidden_groups)
            throw shape_error("task '" + t.name + "' has " + std::to_string(ramps) + " off-ramps, expected " +
                              std::to_string(c.num_hidden_layers) + " or " + std::to_string(c.num_hidden_groups));
        if (!std::holds_alternative<exit::no_exit>(t.policy) && !ramps)
            throw config_error("task '" + t.name + "' has an exit policy but no off-ramps");
    }

    std::shared_ptr<const albert_model> backbone_;
    std::shared_ptr<const io::weight_source> weights_;
    bool int8_task_weights_ = false;  ///< loaded with weight_storage::int8: tasks' pruned Linears are int8 too
    std::map<std::string, std::shared_ptr<const task>> tasks_;
};


// Compiled once in the compiled mode (core/config.hpp, EDGEBERT_LIBRARY_BODIES), inline otherwise.
#if EDGEBERT_LIBRARY_BODIES

EDGEBERT_LIBRARY_API multi_task_model multi_task_model::load(const std::string& folder, const load_options& opt) {
    const albert_model::model_weights w = albert_model::open_weights(folder);
    multi_task_model m(albert_model::from_source(w.config, *w.weights, opt), w.weights);
    m.int8_task_weights_ = opt.weights == weight_storage::int8;
    const std::string tasks = folder + "/tasks";
    std::error_code ec;
    if (std::filesystem::is_directory(tasks, ec)) {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(tasks))
            if (entry.is_directory()) names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& n : names) m.add_task_folder(tasks + "/" + n, n);
    }
    albert_model::verify_golden(folder, w, opt, [&](const golden_case& c) -> std::optional<std::vector<float>> {
        if (!c.task.empty() && !m.has_task(c.task))
            throw golden_mismatch(folder + "/golden.json: golden case '" + c.name + "' is for task '" + c.task + "', which the folder does not have");
        return m.backbone().case_logits(c.input_ids, c.token_type_ids, c.task.empty() ? nullptr : &m.get(c.task));
    }, [&](const std::vector<std::vector<std::int64_t>>& ids) { return m.backbone().sentence_logits(ids); });
    return m;
}

EDGEBERT_LIBRARY_API const task& multi_task_model::add_task_folder(
    const std::string& folder, const std::string& name, attention_adapter_input adapter_input) {
    task_load_options opt;
    opt.adapter_input = adapter_input;
    opt.backbone = weights_.get();
    opt.int8_weights = int8_task_weights_;
    return add_task(load_task(folder, config(), name, opt));
}

EDGEBERT_LIBRARY_API inference_result multi_task_model::infer(
    const std::string& task_name, const token_ids& ids, const infer_options& opt) const {
    trace::null_observer none;
    return infer(task_name, ids, opt, none);
}

EDGEBERT_LIBRARY_API albert_output multi_task_model::run(
    const std::string& task_name, const token_batch& in, run_options opt) const {
    opt.task = &get(task_name);
    return backbone_->forward(in, opt);
}

#endif  // EDGEBERT_LIBRARY_BODIES

}  // namespace edgebert::model
