// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert energy`: price sentences on EdgeBERT's 12 nm accelerator model (include/edgebert/hw/) under
// the three schemes of DESIGN.md §6 and print the report as JSON. Sentences come from recorded off-ramp
// entropies (each priced as a dense ALBERT of --seq-len tokens, or sparse with --sparsity) or from a model
// run (each sentence's own executed-work trace).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <edgebert/exit/evaluate.hpp>
#include <edgebert/exit/predictor.hpp>
#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/hw_params.hpp>
#include <edgebert/hw/provenance.hpp>
#include <edgebert/hw/trace_builder.hpp>
#include <edgebert/io/input_json.hpp>
#include <edgebert/model/multi_task_model.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"
#include "cmd_adapter_memory.hpp"
#include "energy_sensitivity.hpp"

namespace edgebert_cli {

inline const char* const energy_help = R"(usage: edgebert energy (--traces FILE [--task NAME] | --model PATH --input FILE [--task NAME]) --target-ms X
                       [--policy entropy:T|predictor:T] [--lut FILE.csv] [--key-layer K] [--mode LIST]
                       [--ee-policy entropy:T] [--misprediction forced_exit|boost|stay] [--hw hw.json]
                       [--controller entropy_lut|ideal] [--choice lowest_voltage|lowest_energy]
                       [--between stay|nominal|power_gate] [--period-ms P] [--seq-len S] [--labels C]
                       [--sparsity S] [--embedding-sparsity S] [--per-sentence] [--print-hw] [--sensitivity]
       edgebert energy --adapter-memory [--tasks-max T] [--rate HZ] [--separate reram-embeddings|all-sram]
                       [--sparsity S] [--embedding-sparsity S] [--svg FILE] [--hw hw.json]

  Prices every sentence on the accelerator model three ways and prints one JSON object:
    baselines.all_layers_nominal   every layer at the nominal voltage and clock
    baselines.early_exit_nominal   early exit (--ee-policy) at nominal, no latency bound
    baselines.edgebert_dvfs        --policy; after layer 1 the DVFS controller picks the lowest V/f point that
                                   finishes the predicted layers within --target-ms
  each with energy_uj_per_sentence (split into compute, memory, switching), latency_ms_mean/max,
  deadline_misses (against --target-ms), mean_exit_layer and histogram; then the energy ratios and the
  operating points chosen. Parameters and their sources: docs/hw.md.

  --traces FILE       recorded off-ramp entropies, one sentence per line (EdgeBERT's dataset_sst2_eval.txt);
                      each sentence is priced as an ALBERT-base of --seq-len tokens (default 128, EdgeBERT's padding)
  --task NAME         with --traces: the GLUE task (sst2, qnli, mnli, qqp, ...), which sets the label count;
                      without it (and without --labels) the count is the smallest C with every entropy <= ln C
  --key-layer K       the layer whose entropy keys the predictor table (default 1; MNLI's table: 3). A table
                      whose columns do not match it is an error naming both
  --controller        the DVFS decision: entropy_lut (default; the hardware's 16 entropy bins, Dvfs.h) or ideal
  --choice            lowest_voltage (default) or lowest_energy feasible point
  --between           between sentences: stay (default; the hardware keeps its codes), nominal, power_gate
  --period-ms P       one sentence every P ms: idle leakage until the next (default 0: back to back)
  --sensitivity       instead of one report, a table of the headline ratios under each modelling assumption
  --adapter-memory    adapter-ALBERT's memory (backbone in ReRAM, tasks in SRAM) against T separate models,
                      T = 1..--tasks-max (8): capacity, area, leakage, read energy; --svg FILE plots it
  --model PATH        a model folder with a task with off-ramps (tasks/NAME/); with --input FILE (token ids JSON,
                      as `edgebert run`); each sentence's own trace (padding removed) is priced
  --target-ms X       latency target per sentence in ms (inf for none)
  --policy            entropy:T (no predictor: the controller plans for every layer) or predictor:T (needs --lut);
                      default predictor:T with the task's table in model mode, otherwise required
  --mode LIST         predictor modes (as `edgebert exits`): ee-before|no-ee-before, forced|extra-layer
  --ee-policy         baseline (b)'s policy (default: entropy with the --policy threshold)
  --misprediction     forced_exit (default: leave at the predicted layer), boost (no forced exit; back to nominal
                      past the predicted layer) or stay (no forced exit; keep the chosen point)
  --hw FILE           accelerator parameters (any subset of the keys --print-hw shows)
  --sparsity S        fraction of zero encoder weights in synthesised traces (default 0)
  --embedding-sparsity S  fraction of zero word-embedding entries in synthesised traces (default 0)
  --labels C          classes of the synthesised off-ramps (default 2)
  --per-sentence      also list every sentence
  --print-hw          print the parameters in effect as JSON and exit
  --provenance        print where every default comes from (read with file:line, derived, assumed) and exit
)";

namespace detail {
inline double parse_positive(const std::string& s, const std::string& option, bool allow_inf, bool allow_zero = false) {
    if (allow_inf && (s == "inf" || s == "infinity")) return std::numeric_limits<double>::infinity();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || (!allow_zero && v == 0))
        throw usage_error("option '--" + option + "' expects a " + (allow_zero ? "non-negative" : "positive") + " number, got '" + s + "'");
    return v;
}
inline double parse_fraction(const args& a, const std::string& option) {
    if (!a.has(option)) return 0.0;
    const double v = parse_positive(a.get(option), option, false, true);
    if (v >= 1) throw usage_error("option '--" + option + "' must be below 1, got " + a.get(option));
    return v;
}
inline double threshold_of(const std::string& value, const std::string& option) {
    edgebert::exit::entropy_threshold t;
    try {
        t = edgebert::exit::parse_entropy_threshold(value);
    } catch (const edgebert::config_error& e) {
        throw usage_error("--" + option + ": " + e.what());
    }
    if (t.thresholds.size() != 1) throw usage_error("--" + option + " takes one threshold");
    return t.thresholds[0];
}
struct label_count {
    std::size_t count = 2;
    std::string from;
};
/// Classes of a GLUE task's classifier (0: not a classification task we know).
inline std::size_t glue_labels(const std::string& task) {
    if (task == "mnli" || task == "mnli-mm" || task == "ax" || task == "xnli") return 3;
    for (const char* t : {"sst2", "sst-2", "qnli", "qqp", "rte", "mrpc", "cola", "wnli"})
        if (task == t) return 2;
    return 0;
}
/// --labels, else the --task's count, else the trace's (the smallest C with every entropy <= ln C); a count
/// below what the trace shows is an error.
template <class Traces>
label_count labels_for(const args& a, const Traces& traces) {
    double max_h = 0;
    for (double h : traces.values) max_h = std::max(max_h, h);
    std::size_t seen = 2;
    while (std::log(double(seen)) + 1e-6 < max_h && seen < 100000) ++seen;
    label_count c{seen, "trace (largest entropy " + std::to_string(max_h) + ")"};
    if (a.has("labels")) {
        c = {std::size_t(a.integer("labels", 2, 2)), "--labels"};
    } else if (a.has("task")) {
        const std::size_t n = glue_labels(a.get("task"));
        if (!n) throw usage_error("--task '" + a.get("task") + "' is not a GLUE classification task (sst2, qnli, mnli, qqp, ...); give --labels");
        c = {n, "task " + a.get("task")};
    }
    if (c.count < seen)
        throw usage_error(c.from + " gives " + std::to_string(c.count) + " labels, but the trace has an entropy of " +
                          std::to_string(max_h) + " > ln " + std::to_string(c.count));
    return c;
}
}  // namespace detail

inline int cmd_energy(int argc, char** argv) {
    namespace hw = edgebert::hw;
    namespace ex = edgebert::exit;
    const args a(argc, argv, 2,
                 {"traces", "model", "input", "task", "target-ms", "hw", "policy", "lut", "mode", "ee-policy", "misprediction",
                  "seq-len", "labels", "sparsity", "embedding-sparsity", "key-layer", "controller", "choice", "between",
                  "period-ms", "tasks-max", "rate", "separate", "svg"},
                 {"per-sentence", "print-hw", "sensitivity", "adapter-memory", "provenance"});
    if (a.help()) {
        std::cout << energy_help;
        return 0;
    }
    hw::hw_params params = a.has("hw") ? hw::hw_params::load(a.get("hw")) : hw::hw_params{};
    try {
        if (a.has("controller")) params.controller = hw::hw_params::parse_controller(a.get("controller"), "--controller");
        if (a.has("choice")) params.choice = hw::hw_params::parse_choice(a.get("choice"), "--choice");
        if (a.has("between")) params.between = hw::hw_params::parse_between(a.get("between"), "--between");
    } catch (const edgebert::config_error& e) {
        throw usage_error(e.what());
    }
    if (a.has("period-ms")) params.sentence_period_ms = detail::parse_positive(a.get("period-ms"), "period-ms", false, true);
    params.validate();
    if (a.has("adapter-memory")) return cmd_adapter_memory(a, params);
    if (a.has("provenance")) {
        std::cout << "| key | default | label | source |\n| --- | --- | --- | --- |\n";
        for (const auto& e : hw::provenance())
            std::cout << "| `" << e.key << "` | " << e.value << " | " << hw::source_kind_name(e.kind) << " | " << e.source << " |\n";
        return 0;
    }
    if (a.has("print-hw")) {
        std::cout << params.to_json().dump(2) << "\n";
        return 0;
    }
    const bool from_traces = a.has("traces"), from_model = a.has("model");
    if (from_traces == from_model) throw usage_error("give either --traces FILE or --model PATH --input FILE");
    if (from_model && !a.has("input")) throw usage_error("--model needs --input FILE (token ids JSON)");
    if (from_traces && a.has("input")) throw usage_error("--input goes with --model, not --traces");
    if (from_model && (a.has("seq-len") || a.has("sparsity") || a.has("embedding-sparsity") || a.has("labels") || a.has("key-layer")))
        throw usage_error("--seq-len, --labels, --sparsity and --embedding-sparsity shape synthesised traces (--traces); a model run records its own");
    hw::energy_options opt;
    opt.target_ms = detail::parse_positive(a.get("target-ms"), "target-ms", true);
    if (a.has("misprediction")) {
        try {
            opt.on_mispredict = hw::parse_misprediction(a.get("misprediction"));
        } catch (const edgebert::config_error& e) {
            throw usage_error(std::string("--misprediction: ") + e.what());
        }
    }

    // Policies.
    std::optional<edgebert::model::multi_task_model> model;
    std::string task_name;
    if (from_model) {
        model.emplace(edgebert::model::multi_task_model::load(a.get("model")));
        const auto names = model->task_names();
        if (a.has("task")) task_name = a.get("task");
        else if (names.size() == 1) task_name = names[0];
        else throw usage_error(names.empty() ? "the model has no task (tasks/NAME/ with off-ramps) to run"
                                             : "the model has several tasks; pick one with --task");
    }
    ex::trace_policy edgebert_policy;
    double threshold = 0;
    std::string policy_text;
    if (a.has("policy")) {
        policy_text = a.get("policy");
        const auto colon = policy_text.find(':');
        const std::string kind = policy_text.substr(0, colon), value = colon == std::string::npos ? "" : policy_text.substr(colon + 1);
        threshold = detail::threshold_of(value, "policy");
        if (kind == "entropy") {
            ex::entropy_threshold t;
            t.thresholds = {threshold};
            edgebert_policy = t;
        } else if (kind == "predictor") {
            if (!a.has("lut")) throw usage_error("--policy predictor:T needs --lut FILE.csv");
            ex::predictor_policy p;
            p.lut = ex::exit_predictor::load_csv(a.get("lut"), std::size_t(a.integer("key-layer", 1, 1)));
            p.threshold = threshold;
            try {
                ex::parse_predictor_modes(a.get("mode", "ee-before"), p.early_exit_before, p.extra_layer);
            } catch (const edgebert::config_error& e) {
                throw usage_error(std::string("--mode: ") + e.what());
            }
            edgebert_policy = p;
        } else {
            throw usage_error("unknown --policy \"" + policy_text + "\" (entropy:T, predictor:T)");
        }
    } else if (from_model) {
        const auto& t = model->get(task_name);
        if (!std::holds_alternative<ex::predictor_policy>(t.policy) && !std::holds_alternative<ex::entropy_threshold>(t.policy))
            throw usage_error("task '" + task_name + "' has no entropy or predictor policy; give --policy");
        edgebert_policy = ex::to_trace_policy(t.policy);
        if (const auto* p = std::get_if<ex::predictor_policy>(&edgebert_policy)) threshold = p->threshold;
        else threshold = std::get<ex::entropy_threshold>(edgebert_policy).at(1);
        policy_text = ex::describe(t.policy);
    } else {
        throw usage_error("missing required option '--policy'");
    }
    ex::entropy_threshold early_exit;
    early_exit.thresholds = {threshold};
    if (a.has("ee-policy")) {
        const std::string s = a.get("ee-policy");
        if (s.rfind("entropy:", 0) != 0) throw usage_error("--ee-policy takes entropy:T");
        early_exit.thresholds = {detail::threshold_of(s.substr(8), "ee-policy")};
    }
    hw::energy_reporter reporter(params, early_exit, edgebert_policy, opt);
    const hw::cycle_model cycles(params);

    std::vector<hw::sentence_energy> priced;
    nlohmann::ordered_json source;
    std::optional<hw::sentence_costs> trace_costs;
    if (from_traces) {
        const auto traces = ex::entropy_traces::load(a.get("traces"));
        if (traces.sentences() == 0) throw edgebert::format_error(a.get("traces") + ": no sentences");
        if (const auto* p = std::get_if<ex::predictor_policy>(&edgebert_policy)) p->lut.check_shape(traces.layers, a.get("lut"));
        hw::albert_shape shape;
        shape.layers = traces.layers;
        shape.seq_len = std::size_t(a.integer("seq-len", 128, 1));
        const detail::label_count labels = detail::labels_for(a, traces);
        shape.labels = labels.count;
        shape.sparsity = detail::parse_fraction(a, "sparsity");
        shape.embedding_sparsity = detail::parse_fraction(a, "embedding-sparsity");
        // Every sentence is padded to the same length, so one priced trace serves them all.
        const hw::sentence_costs costs = hw::cost_sentence(cycles, hw::build_trace(shape, shape.layers));
        if (a.has("sensitivity")) {
            print_sensitivity(std::cout, params, early_exit, edgebert_policy, opt, shape, traces);
            return 0;
        }
        priced = hw::price_sequence(reporter, costs, traces);
        trace_costs = costs;
        source = {{"traces", a.get("traces")}, {"seq_len", shape.seq_len}, {"sparsity", shape.sparsity},
                  {"embedding_sparsity", shape.embedding_sparsity}, {"labels", shape.labels}, {"labels_from", labels.from}};
        if (a.has("task")) source["task"] = a.get("task");
    } else {
        if (a.has("sensitivity")) throw usage_error("--sensitivity needs --traces");
        const auto batch = edgebert::io::read_token_batch(a.get("input"));
        edgebert::model::infer_options io;
        io.exit = ex::no_exit{};  // every layer and ramp, so that all three schemes can be priced
        for (std::size_t b = 0; b < batch.batch; ++b) {
            std::vector<std::int64_t> ids, types;
            for (std::size_t s = 0; s < batch.seq; ++s)
                if (batch.mask(b, s)) ids.push_back(batch.input_ids[b * batch.seq + s]), types.push_back(batch.token_type(b, s));
            io.token_type_ids = types;
            const auto r = model->infer(task_name, ids, io);
            if (r.entropies.size() != r.trace.layers_total)
                throw edgebert::config_error("task '" + task_name + "' gave " + std::to_string(r.entropies.size()) + " entropies for " +
                                             std::to_string(r.trace.layers_total) + " layers (it needs an off-ramp after every layer)");
            const hw::sentence_costs costs = hw::cost_sentence(cycles, hw::extend_to_all_layers(r.trace));
            const std::size_t start = priced.empty() ? reporter.initial_point() : priced.back().end_point;
            priced.push_back(reporter.price(costs, r.entropies.data(), start));
        }
        source = {{"model", a.get("model")}, {"input", a.get("input")}, {"task", task_name}};
    }

    const hw::energy_summary summary = reporter.summarize(priced);
    nlohmann::ordered_json j;
    j["command"] = "energy";
    j["source"] = source;
    j["hw"] = a.has("hw") ? a.get("hw") : "defaults";
    j["policy"] = policy_text;
    std::ostringstream ee_text;
    ee_text << "entropy:" << early_exit.thresholds[0];
    j["early_exit_policy"] = ee_text.str();
    j["misprediction"] = hw::misprediction_name(opt.on_mispredict);
    j["key_layer"] = reporter.key_layer();
    j["model"] = {{"zero_gating", hw::hw_params::gating_name(params.gating)},
                  {"weight_fetch", params.fetch == hw::weight_fetch::sequential ? "sequential" : "overlapped"},
                  {"controller", hw::hw_params::controller_name(params.controller)},
                  {"choice", hw::hw_params::choice_name(params.choice)},
                  {"between_sentences", hw::hw_params::between_name(params.between)},
                  {"sentence_period_ms", params.sentence_period_ms},
                  {"charge_backing_leakage", params.charge_backing_leakage},
                  {"ldo_input_v", params.ldo_input_v}};
    const nlohmann::ordered_json report = hw::to_json(summary, params);
    for (auto it = report.begin(); it != report.end(); ++it) j[it.key()] = it.value();
    if (reporter.lut()) {
        nlohmann::ordered_json bins = nlohmann::ordered_json::array();
        for (std::size_t b = 0; b < hw::entropy_lut::bins; ++b)
            bins.push_back({{"bin", b}, {"entropy_from", hw::entropy_lut::lower_edge(b, params.enpy_scale)},
                            {"ldo_slot", b}, {"dco_slot", hw::entropy_lut::dco_slot(b)},
                            {"planned_layer", reporter.lut()->planned[b]},
                            {"voltage_v", params.points[reporter.lut()->point[b]].voltage_v},
                            {"freq_mhz", params.points[reporter.lut()->point[b]].freq_mhz},
                            {"sentences", summary.bin_histogram[b]}});
        j["entropy_lut"] = bins;
    }
    if (trace_costs) {
        nlohmann::ordered_json prof = nlohmann::ordered_json::array();
        for (const auto& q : hw::profile_points(params, *trace_costs))
            prof.push_back({{"voltage_v", q.voltage_v}, {"freq_mhz", q.freq_mhz}, {"energy_uj", q.energy_uj},
                            {"energy_at_ldo_input_uj", q.energy_at_ldo_input_uj}, {"latency_ms", q.latency_ms},
                            {"average_power_mw", q.power_mw}, {"tops_per_w", q.tops_per_w}});
        j["all_layers_at_each_point"] = prof;
    }
    if (a.has("per-sentence")) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& s : priced) list.push_back(hw::to_json(s));
        j["per_sentence"] = list;
    }
    std::cout << j.dump() << "\n";
    return 0;
}

}  // namespace edgebert_cli
