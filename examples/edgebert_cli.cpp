// SPDX-License-Identifier: Apache-2.0
// The edgebert command-line tool: run a HuggingFace ALBERT checkpoint on token ids and write its
// outputs as .npy files, or benchmark it. Machine-readable results go to stdout as JSON; errors go to
// stderr with a non-zero exit status (2 for usage, 1 for everything else).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <edgebert/edgebert.hpp>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/cmd_compress.hpp"
#include "cli/cmd_energy.hpp"
#include "cli/cmd_quantize.hpp"
#include "cli/cmd_tokenize.hpp"
#include "cli/cmd_classify.hpp"
#include "cli/load_options.hpp"
#include "cli/policy_options.hpp"

namespace {

using edgebert_cli::args;
using edgebert_cli::usage_error;
using edgebert_cli::parse_exit_option;
using edgebert_cli::parse_trace_policy;

const char* const main_help = R"(edgebert — multi-task ALBERT inference with early exit (EdgeBERT, adapter-ALBERT)

usage: edgebert <command> [options]      (edgebert <command> --help for details)

commands:
  run     run a model on token ids; write logits.npy, pooler_output.npy, hidden_states.npy, exit.json
  bench   time the model on synthetic ids; print one JSON line
  exits   evaluate an exit policy on recorded off-ramp entropies; print mean exit layer and histogram
  energy  price inferences on EdgeBERT's 12 nm accelerator: all layers, early exit, predictor + DVFS
  compress prune and quantize a model into a compressed model (AdaptivFloat / FP8 codes, bit masks)
  tokenize SentencePiece ids of texts (the library's encode, or ALBERT's conventions with --albert)
  classify classify text lines with a task of a multi-task model: label, exit layer, accelerator energy
  quantize encode a float32 .npy array in a number format (AdaptivFloat, FP8, fp16, bf16) and decode it back
  version print the library version
)";

const std::string run_help = std::string(R"(usage: edgebert run --model PATH --input FILE.json --out DIR [--threads N] [--exit POLICY]
                    [--adapter DIR]... [--task NAME] [--weights MODE] [--verify]

  --model PATH    HuggingFace folder (config.json + model.safetensors), or a compressed model
                  (`edgebert compress` output folder or its model.safetensors)
  --input FILE    {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
                  (attention_mask and token_type_ids optional; rows padded to one length)
  --out DIR       created if missing; receives
                    logits.npy         [batch, labels]
                    pooler_output.npy  [batch, hidden]
                    hidden_states.npy  [layers+1, batch, seq, hidden]  (0 = embeddings after the E->H projection)
                    exit.json          exit layer and entropies per sentence
  --threads N     worker threads (default 1; 0 = all processors)
  --exit POLICY   early exit through the off-ramps: none (default) | fixed:K | entropy:T |
                  entropy:T1,T2,... | predictor:T (with --lut FILE.csv [--mode ...], as in `edgebert exits`) |
                  maxprob:P (largest probability > P) | patience:K (PABEE: K+1 ramps in a row agree);
                  a sentence's logits are those of the ramp it left by
                  (hidden_states past the last layer computed stay zero). With a task: its own policy
                  (task.json) unless --exit is given.
  --adapter DIR   a task folder: an AdapterHub adapter (adapter_config.json + adapter.safetensors),
                  optionally its head (head_config.json + model_head.safetensors) and EdgeBERT extras
                  (edgebert.safetensors, task.json, predictor.csv); repeatable; each becomes a task named
                  after its adapter
  --task NAME     the task to run (default: the only adapter given); without --adapter, a task of the
                  model folder's tasks/ sub-folders
)") + edgebert_cli::weights_option_help;

const std::string bench_help = std::string(R"(usage: edgebert bench --model PATH --seq-len S [--batch B] [--threads N] [--iters K] [--warmup W]
                     [--weights MODE] [--logits-only]

  Times forward passes on deterministic token ids (the ONNX Runtime peer's generator:
  all positions attended, second half of each sequence token type 1) and prints one JSON line:
  {"median_ms", "min_ms", "mean_ms", "max_ms", "gflop", "gflops_at_median", ..., "weights",
   "matrix_bytes" (the weight matrices as held, biases included), "matrices" (count per storage)}
  Defaults: --batch 1 --threads 1 --iters 20 --warmup 5.
  --logits-only   the last layer computes only each sentence's first token past attention (what the pooler
                  and classifier read; run_options::logits_only): the same logits, less work; "gflop" counts
                  the work done
)") + edgebert_cli::weights_option_help;

const char* const exits_help = R"(usage: edgebert exits --traces FILE --policy POLICY [--lut FILE.csv] [--key-layer K] [--mode MODE] [--per-sentence]

  --traces FILE   one line per sentence, comma-separated off-ramp entropies of layers 1..L
                  (EdgeBERT's dataset_sst2_eval.txt format)
  --policy        none | fixed:K | entropy:T | entropy:T1,T2,... (per layer) | predictor:T
  --lut FILE.csv  the exit-predictor table (needed by predictor:T): key, predicted entropies of layers K+1..L-1
  --key-layer K   the layer whose entropy keys the table (default 1; MNLI's table is keyed on layer 3); a table
                  whose column count does not fit K is an error naming both
  --mode LIST     predictor modes, comma-separated: ee-before (default) or no-ee-before (early exit before
                  the predicted layer on/off), forced (default) or extra-layer (what happens at it)
  --per-sentence  also list every sentence's exit layer
  --target-mean-exit-layer X
                  instead of --policy: the smallest entropy threshold whose mean exit layer is <= X

  Prints one JSON object: {"sentences", "layers", "policy", "mean_exit_layer", "histogram", ...};
  histogram[i] counts the sentences that exit at layer i+1.
)";

void make_dir(const std::string& dir) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
        throw edgebert::io_error("'" + dir + "' exists and is not a folder");
    std::filesystem::create_directories(dir, ec);
    if (ec) throw edgebert::io_error("cannot create folder '" + dir + "': " + ec.message());
}

int cmd_run(int argc, char** argv) {
    args a(argc, argv, 2, {"model", "input", "out", "threads", "adapter", "task", "exit", "lut", "mode", "weights"}, {"verify"});
    if (a.help()) return std::fputs(run_help.c_str(), stdout), 0;
    const std::string model_path = a.get("model"), input = a.get("input"), out = a.get("out");
    const int threads = int(a.integer("threads", 1, 0));
    const edgebert::model::load_options load = edgebert_cli::parse_load_options(a);

    // Options first, so a mistyped policy is a usage error whatever the model.
    std::optional<edgebert::exit::exit_policy> exit_policy;
    if (a.has("exit")) exit_policy = parse_exit_option(a, "exit");
    edgebert::model::run_options opt;
    opt.threads = threads;
    opt.output_hidden_states = true;
    opt.off_ramps = true;

    // With --adapter or --task: the multi-task runtime, one task per adapter folder (or the model's tasks/).
    std::optional<edgebert::model::multi_task_model> multi;
    std::optional<edgebert::model::albert_model> single;
    std::string task_name;
    if (a.has("adapter") || a.has("task")) {
        if (a.has("adapter")) {
            const auto w = edgebert::model::albert_model::open_weights(model_path);
            multi.emplace(edgebert::model::albert_model::from_source(w.config, *w.weights, load), w.weights);
            if (load.verify_golden) {
                if (!w.compressed) throw edgebert::format_error("'" + model_path + "' is not a compressed model: it has no golden outputs to check");
                w.compressed->check_golden([&](const auto& ids) { return multi->backbone().sentence_logits(ids); });
            }
            for (const std::string& dir : a.all("adapter")) multi->add_task_folder(dir);
        } else {
            multi.emplace(edgebert::model::multi_task_model::load(model_path, load));
        }
        const auto names = multi->task_names();
        if (a.has("task")) task_name = a.get("task");
        else if (names.size() == 1) task_name = names[0];
        else throw usage_error("several tasks are loaded; pick one with --task");
        const auto& t = multi->get(task_name);
        opt.exit = exit_policy ? *exit_policy : t.policy;
    } else {
        single.emplace(edgebert::model::albert_model::load(model_path, load));
        if (exit_policy) opt.exit = *exit_policy;
    }
    const auto batch = edgebert::io::read_token_batch(input);
    const auto r = multi ? multi->run(task_name, batch, opt) : single->forward(batch, opt);
    const auto& skipped = multi ? multi->backbone().skipped_tensors() : single->skipped_tensors();

    make_dir(out);
    edgebert::io::write_npy(out + "/logits.npy", r.logits.data(), {r.batch, r.num_labels});
    edgebert::io::write_npy(out + "/pooler_output.npy", r.pooler_output.data(), {r.batch, r.hidden});
    edgebert::io::write_npy(out + "/hidden_states.npy", r.hidden_states.data(),
                            {r.num_layers + 1, r.batch, r.seq, r.hidden});

    // Per sentence: the layer whose classifier gave its logits and the entropies of the off-ramps it passed
    // (none for a model without off-ramps), and the entropy of its logits.
    nlohmann::json sentences = nlohmann::json::array();
    for (std::size_t b = 0; b < r.batch; ++b) {
        nlohmann::json s;
        s["exit_layer"] = r.exit_layers[b];
        s["entropies"] = nlohmann::json::array();
        if (!r.off_ramp_entropies.empty())
            for (std::size_t l = 0; l < std::min(r.exit_layers[b], r.layers_run); ++l)
                s["entropies"].push_back(r.off_ramp_entropies[l * r.batch + b]);
        if (r.num_labels)
            s["final_entropy"] = edgebert::kernels::reference::softmax_entropy(r.logits.data() + b * r.num_labels,
                                                                                r.num_labels);
        sentences.push_back(s);
    }
    nlohmann::json exit_info{{"policy", edgebert::exit::describe(opt.exit)},
                             {"num_layers", r.num_layers},
                             {"layers_run", r.layers_run},
                             {"sentences", sentences}};
    std::ofstream exit_file(out + "/exit.json");
    exit_file << exit_info.dump(1) << "\n";
    if (!exit_file) throw edgebert::io_error("cannot write '" + out + "/exit.json'");

    nlohmann::json summary{{"command", "run"},   {"model", model_path}, {"batch", r.batch},
                           {"seq", r.seq},       {"layers", r.num_layers}, {"labels", r.num_labels},
                           {"out", out},         {"threads", threads}};
    if (!task_name.empty()) summary["task"] = task_name;
    if (!skipped.empty()) summary["skipped_tensors"] = skipped;
    std::cout << summary.dump() << std::endl;
    return 0;
}

int cmd_bench(int argc, char** argv) {
    args a(argc, argv, 2, {"model", "seq-len", "batch", "threads", "iters", "warmup", "weights"}, {"verify", "logits-only"});
    if (a.help()) return std::fputs(bench_help.c_str(), stdout), 0;
    const std::string model_path = a.get("model");
    const std::size_t seq = std::size_t(a.integer("seq-len", 0, 1));
    if (!a.has("seq-len")) throw usage_error("missing required option '--seq-len'");
    const std::size_t batch = std::size_t(a.integer("batch", 1, 1));
    const int threads = int(a.integer("threads", 1, 0));
    const int iters = int(a.integer("iters", 20, 1)), warmup = int(a.integer("warmup", 5, 0));

    const edgebert::model::load_options load = edgebert_cli::parse_load_options(a);
    const auto model = edgebert::model::albert_model::load(model_path, load);
    const auto& cfg = model.config();
    edgebert::model::token_batch in;
    in.batch = batch;
    in.seq = seq;
    in.input_ids.resize(batch * seq);
    in.token_type_ids.assign(batch * seq, 0);
    std::uint64_t x = 12345;  // same linear congruential ids as the peer's bench
    for (auto& id : in.input_ids) {
        x = (1103515245ull * x + 12345ull) % 2147483648ull;
        id = std::int64_t(5 + x % (cfg.vocab_size > 5 ? cfg.vocab_size - 5 : 1));
    }
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t s = seq / 2; s < seq; ++s) in.token_type_ids[b * seq + s] = cfg.type_vocab_size > 1 ? 1 : 0;

    edgebert::model::run_options opt;
    opt.threads = threads;
    opt.logits_only = a.has("logits-only");
    for (int i = 0; i < warmup; ++i) (void)model.forward(in, opt);
    std::vector<double> ms;
    for (int i = 0; i < iters; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        (void)model.forward(in, opt);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    double mean = 0;
    for (double v : ms) mean += v / double(n);
    const double gflop = model.flops(batch, seq, opt.logits_only) / 1e9;
    nlohmann::json line{{"mode", "bench"},
                        {"engine", "edgebert " + std::to_string(edgebert::version.major) + "." +
                                       std::to_string(edgebert::version.minor) + "." +
                                       std::to_string(edgebert::version.patch)},
                        {"kernels", edgebert::kernels::instruction_set()},
                        {"model", model_path},
                        {"batch", batch},
                        {"seq", seq},
                        {"threads", edgebert::resolve_threads(threads)},
                        {"warmup", warmup},
                        {"iters", iters},
                        {"logits_only", opt.logits_only},
                        {"median_ms", median},
                        {"min_ms", sorted.front()},
                        {"mean_ms", mean},
                        {"max_ms", sorted.back()},
                        {"gflop", gflop},
                        {"gflops_at_median", gflop / (median / 1e3)},
                        {"gflops_at_min", gflop / (sorted.front() / 1e3)}};
    line.update(edgebert_cli::weight_report(model, load));
    std::cout << line.dump() << std::endl;
    return 0;
}


int cmd_exits(int argc, char** argv) {
    args a(argc, argv, 2, {"traces", "policy", "lut", "mode", "target-mean-exit-layer", "key-layer"}, {"per-sentence"});
    if (a.help()) return std::fputs(exits_help, stdout), 0;
    const auto traces = edgebert::exit::entropy_traces::load(a.get("traces"));
    if (a.has("target-mean-exit-layer")) {
        if (a.has("policy")) throw usage_error("--target-mean-exit-layer chooses an entropy threshold; drop --policy");
        const double target = edgebert::exit::detail::parse_number(a.get("target-mean-exit-layer"), "--target-mean-exit-layer");
        const auto c = edgebert::exit::calibrate_for_mean_depth(traces, target);
        std::cout << nlohmann::json{{"command", "exits"}, {"traces", a.get("traces")}, {"target_mean_exit_layer", target},
                                    {"threshold", c.threshold}, {"mean_exit_layer", c.mean_exit_layer}}.dump()
                  << std::endl;
        return 0;
    }
    const auto policy = parse_trace_policy(a, "policy");
    if (const auto* p = std::get_if<edgebert::exit::predictor_policy>(&policy)) p->lut.check_shape(traces.layers, a.get("lut"));
    const auto s = edgebert::exit::evaluate(policy, traces);
    nlohmann::json j{{"command", "exits"},
                     {"traces", a.get("traces")},
                     {"sentences", traces.sentences()},
                     {"layers", traces.layers},
                     {"policy", a.get("policy")},
                     {"mean_exit_layer", s.mean_exit_layer},
                     {"histogram", s.histogram}};
    if (a.has("lut")) j["lut"] = a.get("lut"), j["mode"] = a.get("mode", "ee-before");
    if (const auto* p = std::get_if<edgebert::exit::predictor_policy>(&policy)) j["key_layer"] = p->lut.predict_layer();
    if (a.has("per-sentence")) j["exit_layers"] = s.exit_layers;
    std::cout << j.dump() << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    try {
        if (cmd == "run") return cmd_run(argc, argv);
        if (cmd == "bench") return cmd_bench(argc, argv);
        if (cmd == "exits") return cmd_exits(argc, argv);
        if (cmd == "quantize") return edgebert_cli::cmd_quantize(argc, argv);
        if (cmd == "compress") return edgebert_cli::cmd_compress(argc, argv);
        if (cmd == "energy") return edgebert_cli::cmd_energy(argc, argv);
        if (cmd == "tokenize") return edgebert_cli::cmd_tokenize(argc, argv);
        if (cmd == "classify") return edgebert_cli::cmd_classify(argc, argv);
        if (cmd == "version" || cmd == "--version") {
            std::printf("edgebert %d.%d.%d\n", edgebert::version.major, edgebert::version.minor, edgebert::version.patch);
            std::printf("kernels: %s\n", edgebert::kernels::instruction_set().c_str());
            return 0;
        }
        if (cmd == "-h" || cmd == "--help" || cmd == "help") return std::fputs(main_help, stdout), 0;
        std::fputs(main_help, stderr);
        std::fprintf(stderr, "\nerror: %s\n", cmd.empty() ? "missing command" : ("unknown command '" + cmd + "'").c_str());
        return 2;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "edgebert %s: %s (see 'edgebert %s --help')\n", cmd.c_str(), e.what(), cmd.c_str());
        return 2;
    } catch (const edgebert::error& e) {
        std::fprintf(stderr, "edgebert %s: error: %s\n", cmd.c_str(), e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "edgebert %s: unexpected error: %s\n", cmd.c_str(), e.what());
        return 1;
    }
}
