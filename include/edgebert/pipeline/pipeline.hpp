// SPDX-License-Identifier: Apache-2.0
#pragma once
// One object from a model folder to answers: the tokenizer (spiece.model), the shared backbone, every task
// (tasks/*) and, when asked, EdgeBERT's accelerator model pricing each answer. Golden cases are checked at load
// (model/golden.hpp) unless the options say not to.
//
//   const auto nlp = edgebert::pipeline::load("models/albert-tiny-sst2-lang");
//   const auto r = nlp.classify("sst2", "a gorgeous , witty and deeply moving film .");
//
// basic_pipeline<Policy, Observer> is the same with an exit policy and an observer of the app's own types
// (model/albert_model.hpp says what they need): every answer then carries the observer that watched its run.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/token_batch.hpp"
#include "../exit/logit_policy.hpp"
#include "../hw/hw_params.hpp"
#include "../hw/run_pricer.hpp"
#include "../model/multi_task_model.hpp"
#include "../text/albert_tokenizer.hpp"
#include "../trace/events.hpp"

namespace edgebert {

struct pipeline_options {
    model::load_options load;  ///< weight storage, golden check (model/weight_storage.hpp)
    /// Price every answer on EdgeBERT's 12 nm accelerator model with these parameters (hw/hw_params.hpp).
    std::optional<hw::hw_params> accelerator;
    /// The latency target per sentence on the accelerator. 0: the task's deadline_ms(), every layer of the
    /// longest input the tokenizer makes at the nominal operating point, which every sentence meets unscaled.
    double target_ms = 0;
    int threads = 1;  ///< per inference (0: all processors)
    /// With the default Policy: one exit policy for every task instead of each task's own (task.json).
    std::optional<exit::exit_policy> exit;
};

/// The answer for one text.
template <class Observer = trace::null_observer>
struct basic_answer {
    std::string task;
    std::size_t label = 0;
    std::string label_name;
    double confidence = 0;          ///< softmax probability of the label
    std::vector<float> logits;      ///< of the classifier that answered (an off-ramp or the final one)
    std::size_t exit_layer = 0;     ///< 1-based; `layers` when the final classifier answered
    std::size_t layers = 0;         ///< the model's depth
    std::vector<double> entropies;  ///< of every off-ramp evaluated, layer 1 first
    token_ids ids;                  ///< what the tokenizer made of the text
    /// With pipeline_options::accelerator: the run on the accelerator, all three schemes (hw/energy_report.hpp);
    /// energy_uj(), latency_ms(), voltage_v() and freq_mhz() read EdgeBERT's (DVFS under the target).
    std::optional<hw::sentence_energy> energy;
    Observer observed{};  ///< the app's observer, after watching this run

    double energy_uj() const { return priced().edgebert.energy.total_uj(); }
    double latency_ms() const { return priced().edgebert.latency_ms; }
    double voltage_v() const { return priced().edgebert.voltage_v; }
    double freq_mhz() const { return priced().edgebert.freq_mhz; }

private:
    const hw::sentence_energy& priced() const {
        if (!energy) throw config_error("this answer was not priced: load the pipeline with pipeline_options::accelerator");
        return *energy;
    }
};
using answer = basic_answer<>;

template <class Policy = exit::exit_policy, class Observer = trace::null_observer>
class basic_pipeline {
    static_assert(exit::is_exit_policy_v<Policy>,
                  "basic_pipeline<Policy>: the exit policy needs `bool exits_at(std::size_t layer, const exit::ramp_history&) "
                  "const` or `bool exits_at(std::size_t layer, const double* entropies, std::size_t layers) const`");
    static_assert(std::is_default_constructible_v<Observer> && std::is_copy_constructible_v<Observer>,
                  "basic_pipeline<Policy, Observer>: every answer holds a fresh Observer{}, so it must be default- and "
                  "copy-constructible");
    static constexpr bool own_policy = !std::is_same_v<Policy, exit::exit_policy>;

public:
    using answer_type = basic_answer<Observer>;

    /// The folder's tokenizer, backbone and tasks. With the default Policy each task exits by its own policy
    /// (tasks/<name>/task.json); with another, `policy` decides for every task.
    static basic_pipeline load(const std::string& folder, const pipeline_options& opt = {}, Policy policy = Policy{});

    /// One text through a task: tokenized (ALBERT's conventions, [CLS] ... [SEP]) and classified with early exit.
    answer_type classify(const std::string& task, std::string_view text) const;
    /// A sentence pair ([CLS] a [SEP] b [SEP], token types 0 then 1), as GLUE's MRPC or QNLI.
    answer_type classify(const std::string& task, std::string_view text_a, std::string_view text_b) const;
    /// Token ids the app made itself (token_type_ids empty: all 0).
    answer_type classify_ids(const std::string& task, token_ids ids, token_ids token_type_ids = {}) const;
    /// Many texts on `threads` threads (0: all processors), answers in input order. The first error stops the
    /// batch and is rethrown.
    std::vector<answer_type> classify_all(const std::string& task, const std::vector<std::string>& texts, int threads = 0) const;

    /// The default latency target of a task: every layer of the longest input (the tokenizer's max_length, else
    /// the model's position table) at the accelerator's nominal point, with the task's label count.
    double deadline_ms(const std::string& task) const;
    /// The pricer of a task's answers (config_error without pipeline_options::accelerator): summaries of many answers.
    const hw::run_pricer& pricer(const std::string& task) const;

    /// The same model and tokenizer (shared, not reloaded) with other options: exit policy, threads, accelerator.
    basic_pipeline with_options(const pipeline_options& opt) const;

    std::vector<std::string> task_names() const { return model().task_names(); }
    const model::multi_task_model& model() const noexcept { return state_->model; }
    const text::albert_tokenizer& tokenizer() const noexcept { return state_->tokenizer; }
    const Policy& policy() const noexcept { return state_->policy; }
    const pipeline_options& options() const noexcept { return state_->options; }

private:
    struct state {
        model::multi_task_model model;
        text::albert_tokenizer tokenizer;
        Policy policy;
        pipeline_options options;
        std::map<std::string, hw::run_pricer> pricers;
    };
    basic_pipeline() = default;

    void make_pricers(state& s) const;
    answer_type run(const std::string& task_name, token_ids ids, token_ids types) const;

    std::shared_ptr<const state> state_;
};

// The members are defined here, outside the class, so that they are not inline: in the compiled mode (below) a
// translation unit that only declares the instantiation then compiles none of them.

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::load(const std::string& folder, const pipeline_options& opt, Policy policy)
    -> basic_pipeline {
    basic_pipeline p;
    const auto s = std::make_shared<state>(state{model::multi_task_model::load(folder, opt.load),
                                                  text::albert_tokenizer::load(folder), std::move(policy), opt, {}});
    p.state_ = s;
    if (s->model.task_names().empty()) throw config_error("'" + folder + "' has no tasks (tasks/<name>/)");
    p.make_pricers(*s);
    return p;
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::classify(const std::string& task, std::string_view text) const -> answer_type {
    return run(task, tokenizer().encode(text), {});
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::classify(const std::string& task, std::string_view text_a,
                                                std::string_view text_b) const -> answer_type {
    text::albert_encoding e = tokenizer().encode_pair(text_a, text_b);
    return run(task, std::move(e.ids), std::move(e.token_type_ids));
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::classify_ids(const std::string& task, token_ids ids,
                                                    token_ids token_type_ids) const -> answer_type {
    return run(task, std::move(ids), std::move(token_type_ids));
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::classify_all(const std::string& task, const std::vector<std::string>& texts,
                                                    int threads) const -> std::vector<answer_type> {
    model().get(task);  // an unknown task fails before any thread starts
    std::vector<answer_type> out(texts.size());
    std::size_t workers =
        threads > 0 ? std::size_t(threads) : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    workers = std::min(workers, std::max<std::size_t>(texts.size(), 1));
    std::vector<std::exception_ptr> errors(workers);
    auto work = [&](std::size_t w) {
        try {
            for (std::size_t i = w; i < texts.size(); i += workers) out[i] = classify(task, texts[i]);
        } catch (...) {
            errors[w] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    return out;
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::deadline_ms(const std::string& task) const -> double {
    const auto& c = model().config();
    const std::size_t longest = tokenizer().options().max_length ? tokenizer().options().max_length : c.max_position_embeddings;
    const hw::hw_params params = state_->options.accelerator ? *state_->options.accelerator : hw::hw_params{};
    return hw::run_pricer::all_layers_latency_ms(params, hw::shape_of(c, longest, model().num_labels(task)));
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::pricer(const std::string& task) const -> const hw::run_pricer& {
    model().get(task);
    auto it = state_->pricers.find(task);
    if (it == state_->pricers.end()) throw config_error("the pipeline prices nothing: load it with pipeline_options::accelerator");
    return it->second;
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::with_options(const pipeline_options& opt) const -> basic_pipeline {
    basic_pipeline p;
    const auto s = std::make_shared<state>(state{state_->model, state_->tokenizer, state_->policy, opt, {}});
    p.state_ = s;
    p.make_pricers(*s);
    return p;
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::make_pricers(state& s) const -> void {
    if (!s.options.accelerator) return;
    for (const std::string& t : s.model.task_names()) {
        hw::energy_options eo;
        eo.target_ms = s.options.target_ms > 0 ? s.options.target_ms : deadline_ms(t);
        s.pricers.emplace(t, hw::run_pricer(*s.options.accelerator, eo));
    }
}

template <class Policy, class Observer>
auto basic_pipeline<Policy, Observer>::run(const std::string& task_name, token_ids ids, token_ids types) const
    -> answer_type {
    const model::task& t = model().get(task_name);
    model::infer_options io;
    io.threads = state_->options.threads;
    io.exit = state_->options.exit;
    io.token_type_ids = std::move(types);
    answer_type a;
    auto pricer = state_->pricers.find(task_name);
    std::optional<hw::pricing_observer> meter;
    if (pricer != state_->pricers.end()) meter.emplace(pricer->second);
    model::inference_result r;
    auto infer = [&](auto& observer) {
        if constexpr (own_policy) return model().infer_with(t, ids, io, state_->policy, observer);
        else return model().infer(task_name, ids, io, observer);
    };
    if (meter) {
        trace::fan_out<Observer, hw::pricing_observer> both(a.observed, *meter);
        r = infer(both);
        if constexpr (own_policy) a.energy = meter->price(state_->policy);
        else a.energy = meter->price(state_->options.exit ? *state_->options.exit : t.policy);
    } else {
        r = infer(a.observed);
    }
    a.task = task_name;
    a.label = r.label;
    a.label_name = std::move(r.label_name);
    a.confidence = r.confidence;
    a.logits = std::move(r.logits);
    a.exit_layer = r.exit_layer;
    a.layers = r.layers;
    a.entropies = std::move(r.entropies);
    a.ids = std::move(ids);
    return a;
}

/// The pipeline most apps want: each task's own exit policy, no observer.
using pipeline = basic_pipeline<>;

// The compiled mode (core/config.hpp): the default pipeline is compiled once, with the rest of the library's
// bodies, and only declared everywhere else.
#if EDGEBERT_COMPILED_MODE && !defined(EDGEBERT_KERNEL_ISA)
#if EDGEBERT_LIBRARY_BODIES
template class basic_pipeline<>;
#else
extern template class basic_pipeline<>;
#endif
#endif

}  // namespace edgebert
