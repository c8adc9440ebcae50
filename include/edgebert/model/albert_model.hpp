// SPDX-License-Identifier: Apache-2.0
#pragma once
// ALBERT for sequence classification (transformers' AlbertForSequenceClassification): the encoder,
// the pooler tanh(W h[CLS] + b) and the classifier W p + b. Loads HuggingFace parameter names with
// or without the "albert." prefix; a checkpoint without `classifier.*` is a bare AlbertModel
// (logits are then empty).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <filesystem>
#include <system_error>
#include <variant>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../io/compressed_model.hpp"
#include "../io/hf_checkpoint.hpp"
#include "../io/weight_source.hpp"
#include "../exit/logit_policy.hpp"
#include "../names/tensor_names.hpp"
#include "../nn/off_ramp.hpp"
#include "../trace/events.hpp"
#include "golden.hpp"
#include "off_ramp_binding.hpp"
#include "albert_encoder.hpp"
#include "task.hpp"
#include "weight_storage.hpp"

namespace edgebert::model {

struct albert_output {
    std::size_t batch = 0, seq = 0, hidden = 0, num_labels = 0, num_layers = 0;
    std::vector<float> last_hidden_state;  ///< [batch x seq x hidden]
    std::vector<float> hidden_states;      ///< [(layers+1) x batch x seq x hidden], when requested
    std::vector<float> pooler_output;      ///< [batch x hidden]
    std::vector<float> logits;             ///< [batch x num_labels], empty without a classifier
    /// With off-ramps and run_options::off_ramps: [layers x batch x num_labels] logits of the ramp after each
    /// layer, and [layers x batch] entropies (natural log) of their softmax. No early exit is taken here.
    std::vector<float> off_ramp_logits;
    std::vector<double> off_ramp_entropies;
    /// Per sentence, the layer whose classifier produced its logits (1-based; num_layers = the final classifier).
    std::vector<std::size_t> exit_layers;
    /// Layers actually computed: fewer than num_layers when every sentence left early. Entries of
    /// hidden_states and off-ramp outputs past it stay zero; last_hidden_state and pooler_output are those of
    /// this layer.
    std::size_t layers_run = 0;
};

struct run_options {
    int threads = 1;                    ///< 0 = all processors
    bool output_hidden_states = false;  ///< keep every layer's output (as HF's output_hidden_states)
    /// Only logits and pooler_output are wanted: the last layer takes each sentence's first token (all the
    /// pooler and classifiers read) on past attention, about 3/4 of one layer's work less, with the same bits
    /// in logits and pooler_output. last_hidden_state keeps those rows; its others are NaN. Not with
    /// output_hidden_states (config_error).
    bool logits_only = false;
    bool off_ramps = false;             ///< evaluate every off-ramp (if the model has them)
    /// Early exit through the off-ramps (needs a model that has them). A sentence leaves after layer i < L when
    /// the policy says so and gets that ramp's logits; the last layer always uses the final classifier. The
    /// batch stops computing once every sentence has left.
    exit::exit_policy exit = exit::no_exit{};
    /// A task's parts (adapters, LayerNorms, span, off-ramps, head) on this backbone; nullptr: the backbone's own.
    const model::task* task = nullptr;
};

class albert_model {
public:
    albert_model() = default;

    /// Load a HuggingFace folder (config.json + model.safetensors), or a compressed model (a file written by
    /// `edgebert compress`, or a folder whose model.safetensors is one). opt: how a compressed model holds its
    /// matrices (model/weight_storage.hpp) and whether to check golden outputs: by default those present (a
    /// compressed file's, a folder's golden.json cases for the backbone's own classifier) are checked and a
    /// difference is a golden_mismatch naming the case; opt.golden = golden_check::required also fails without any.
    static albert_model load(const std::string& path, const load_options& opt);
    static albert_model load(const std::string& path, bool require_golden = false) {
        load_options opt;
        opt.verify_golden = require_golden;
        return load(path, opt);
    }

    /// Final logits (no early exit) of one sentence with optional token types and a task: golden checks.
    std::vector<float> case_logits(const token_ids& ids, const token_ids& types, const task* t = nullptr) const;

    /// A checkpoint's config and tensors (for a compressed model: its matrices as stored, decoded on request), kept alive together.
    struct model_weights {
        albert_config config;
        std::shared_ptr<const io::weight_source> weights;
        std::shared_ptr<const io::compressed_model> compressed;  ///< set for a compressed model
    };
    static model_weights open_weights(const std::string& path);

    /// The golden checks of a load: `of_case(case)` gives a folder case's logits (nullopt: not this model's to
    /// check); `of_sentences(ids)` the final logits of sentences for a compressed file's goldens.
    template <class OfCase, class OfSentences>
    static void verify_golden(const std::string& path, const model_weights& w, const load_options& opt, OfCase&& of_case,
                              OfSentences&& of_sentences) {
        const bool required = opt.verify_golden || opt.golden == golden_check::required;
        if (opt.golden == golden_check::off && !opt.verify_golden) return;
        // int8 requantizes every matrix (a stated approximation): the goldens describe the weights as stored.
        if (opt.weights == weight_storage::int8) {
            if (required) throw config_error("'" + path + "': golden outputs cannot be checked with int8 weights (requantized)");
            return;
        }
        bool checked = false;
        if (w.compressed && (required || w.compressed->has_golden())) {
            w.compressed->check_golden(of_sentences);
            checked = true;
        }
        std::error_code ec;
        const std::string file = path + "/golden.json";
        if (std::filesystem::is_directory(path, ec) && std::filesystem::is_regular_file(file, ec)) {
            const golden_set g = golden_set::read(file);
            std::size_t ran = 0;
            g.check([&](const golden_case& c) {
                std::optional<std::vector<float>> got = of_case(c);
                if (!got) return c.logits;  // not this model's case
                ++ran;
                return *got;
            });
            checked = checked || ran > 0;
        }
        if (required && !checked)
            throw format_error("'" + path + "' has no golden outputs to check (a compressed model's, or golden.json cases)");
    }

    /// Final logits of each sentence run alone (no padding): golden checks and tests.
    std::vector<std::vector<float>> sentence_logits(const std::vector<std::vector<std::int64_t>>& ids, int threads = 1) const;

    /// Build from a config and any tensor source with HuggingFace names. Every tensor the model needs
    /// must be there with its exact shape and every tensor there must be used (or be a known buffer or
    /// another head of ALBERT's, which is skipped and listed in skipped_tensors()).
    /// Compressed matrices (src.compressed()) are held as opt.weights says.
    static albert_model from_source(const albert_config& cfg, const io::weight_source& src, const load_options& opt = {});

    /// A model with seeded random weights of the given shape (N(0, 0.02) matrices, LayerNorm gamma near 1),
    /// in HuggingFace names: for examples and tests when no checkpoint is at hand.
    static albert_model random(const albert_config& cfg, std::uint64_t seed) {
        return from_source(cfg, random_weights(cfg, seed));
    }
    static io::memory_source random_weights(const albert_config& cfg, std::uint64_t seed);

    const albert_config& config() const noexcept { return encoder_.config(); }
    const albert_encoder& encoder() const noexcept { return encoder_; }
    const nn::linear& pooler() const noexcept { return pooler_; }
    bool has_classifier() const noexcept { return classifier_.out_features() > 0; }
    const nn::linear& classifier() const noexcept { return classifier_; }
    /// EdgeBERT off-ramps: one per layer, one per hidden group, or none.
    const std::vector<nn::off_ramp>& off_ramps() const noexcept { return off_ramps_; }
    /// Tensors present in the checkpoint that this model does not use (HF buffers, other heads).
    const std::vector<std::string>& skipped_tensors() const noexcept { return skipped_; }

    /// Run the model. Const and safe to call from several threads at once.
    albert_output forward(const token_batch& in, const run_options& opt = {}) const;

    /// Run the model with an exit policy and an observer of your own types (opt.exit is not used).
    ///  * policy: any type with `bool exits_at(std::size_t layer, const exit::ramp_history&) const` or
    ///    `bool exits_at(std::size_t layer, const double* entropies, std::size_t layers) const` (exit/logit_policy.hpp);
    ///    exit::exit_policy, the variant of the built-in ones, is what files and the command line give.
    ///  * observer: receives the typed events of trace/events.hpp it has an on() for; trace::null_observer costs nothing.
    template <class Policy, class Observer>
    albert_output forward(const token_batch& in, const run_options& opt, const Policy& policy, Observer& observer) const {
        static_assert(exit::is_exit_policy_v<Policy>,
                      "albert_model::forward: the exit policy needs a member `bool exits_at(std::size_t layer, const "
                      "exit::ramp_history&) const` or `bool exits_at(std::size_t layer, const double* entropies, std::size_t "
                      "layers) const`");
        const albert_config& c = config();
        in.validate(c);
        const int threads = resolve_threads(opt.threads);
        const std::size_t M = in.tokens(), H = c.hidden_size, L = c.num_hidden_layers;
        const task* tk = opt.task;
        const std::vector<nn::off_ramp>& ramps_of = tk ? tk->off_ramps : off_ramps_;
        const nn::classification_head* head = tk && tk->head ? &*tk->head : nullptr;
        const bool classify = head || has_classifier();
        const std::size_t C = head ? head->num_labels() : c.num_labels;
        albert_output out;
        out.batch = in.batch;
        out.seq = in.seq;
        out.hidden = H;
        out.num_layers = L;
        out.num_labels = classify ? C : 0;
        out.last_hidden_state.resize(M * H);
        if (opt.output_hidden_states && opt.logits_only)
            throw config_error("run_options: logits_only leaves the last layer's other rows uncomputed; it cannot "
                               "be combined with output_hidden_states");
        if (opt.output_hidden_states) out.hidden_states.resize((L + 1) * M * H);
        const bool early = exit::may_exit_early(policy);
        if (early && ramps_of.empty())
            throw config_error(std::string("early exit needs off-ramps (albert.encoder.highway.*); ") +
                               (tk ? "task '" + tk->name + "'" : std::string("this model")) + " has none");
        if (early && !classify)
            throw config_error("early exit needs the final classifier for sentences that run every layer");
        for (const nn::off_ramp& r : ramps_of)
            if (r.num_labels() != C)
                throw shape_error("off-ramps give " + std::to_string(r.num_labels()) + " labels, the classifier " +
                                  std::to_string(C));
        const bool ramps = (opt.off_ramps || early) && !ramps_of.empty();
        const std::size_t B = in.batch;
        if (ramps) {
            out.off_ramp_logits.resize(L * B * C);
            out.off_ramp_entropies.resize(L * B);
        }
        out.exit_layers.assign(B, 0);  // 0: still running
        if (classify) out.logits.resize(B * C);
        // per sentence, what the policy sees: entropies [L] and ramp logits [L x C]
        std::vector<double> entropies(B * L);
        std::vector<float> history(ramps ? B * L * C : 0);
        std::size_t running = B;
        // Heads (off-ramps, pooler, classifiers) are task parts: they sit in SRAM beside the adapters.
        const trace::weight_home ramp_home = trace::weight_home::task;
        encoder_.forward(
            in, out.last_hidden_state.data(), threads,
            [&](std::size_t i, const float* h) {
                out.layers_run = i;
                if (opt.output_hidden_states)
                    std::copy(h, h + M * H, out.hidden_states.begin() + std::ptrdiff_t(i * M * H));
                if (!ramps || i == 0) return true;
                // the ramp after layer i: its own, or its group's with one ramp per group
                const nn::off_ramp& r = ramps_of.size() == L ? ramps_of[i - 1] : ramps_of[c.group_of_layer(i - 1)];
                float* logits = out.off_ramp_logits.data() + (i - 1) * B * C;
                r.forward(h, B, in.seq * H, logits);
                double* ramp_entropies = out.off_ramp_entropies.data() + (i - 1) * B;
                for (std::size_t b = 0; b < B; ++b) ramp_entropies[b] = kernels::reference::softmax_entropy(logits + b * C, C);
                if constexpr (trace::observes_anything_v<Observer>) {
                    trace::notify(observer, trace::matmul_event{i, albert_encoder::work_of(trace::product::off_ramp_pooler, r.pooler(), B, ramp_home)});
                    trace::notify(observer, trace::matmul_event{i, albert_encoder::work_of(trace::product::off_ramp_classifier, r.classifier(), B, ramp_home)});
                    trace::notify(observer, trace::off_ramp_event{i, B, C, logits, ramp_entropies});
                }
                for (std::size_t b = 0; b < B; ++b) {
                    entropies[b * L + i - 1] = ramp_entropies[b];
                    std::copy(logits + b * C, logits + (b + 1) * C, history.begin() + std::ptrdiff_t((b * L + i - 1) * C));
                    if (!early || out.exit_layers[b] || i == L) continue;
                    const exit::ramp_history seen{&entropies[b * L], &history[b * L * C], C, L};
                    if (exit::decide(policy, i, seen)) {
                        out.exit_layers[b] = i;
                        std::copy(logits + b * C, logits + (b + 1) * C, out.logits.begin() + std::ptrdiff_t(b * C));
                        --running;
                        trace::notify(observer, trace::exit_event{b, i, true});
                    }
                }
                return running > 0;
            },
            tk ? &tk->encoder : nullptr, observer, opt.logits_only);
        // Pooler on each sequence's first token: rows b*seq of the last hidden state (row stride seq*H).
        out.pooler_output.resize(in.batch * H);
        pooler_.forward(out.last_hidden_state.data(), in.batch, in.seq * H, out.pooler_output.data(), H, 1,
                        kernels::activation::tanh);
        if (running > 0 && classify) {  // the sentences that ran every layer use the final classifier
            std::vector<float> final_logits(B * C);
            if (!head) classifier_.forward(out.pooler_output.data(), B, H, final_logits.data(), C, 1);
            else if (head->use_pooler()) head->forward(out.pooler_output.data(), B, H, final_logits.data());
            else head->forward(out.last_hidden_state.data(), B, in.seq * H, final_logits.data());
            if constexpr (trace::observes_anything_v<Observer>) {
                auto matmul = [&](trace::product what, const nn::linear& l, trace::weight_home home) {
                    trace::notify(observer, trace::matmul_event{0, albert_encoder::work_of(what, l, B, home)});
                };
                if (!head || head->use_pooler()) matmul(trace::product::pooler, pooler_, trace::weight_home::task);
                if (!head) matmul(trace::product::classifier, classifier_, trace::weight_home::task);
                else
                    for (const nn::linear& l : head->layers()) matmul(trace::product::head, l, trace::weight_home::task);
            }
            for (std::size_t b = 0; b < B; ++b)
                if (!out.exit_layers[b]) {
                    std::copy(final_logits.begin() + std::ptrdiff_t(b * C), final_logits.begin() + std::ptrdiff_t((b + 1) * C),
                              out.logits.begin() + std::ptrdiff_t(b * C));
                    trace::notify(observer, trace::exit_event{b, L, false});
                }
        }
        for (auto& e : out.exit_layers)
            if (!e) e = L;
        return out;
    }

    /// f(name, layer) for each weight matrix the forward pass multiplies by: the E->H projection, the four
    /// products of every AlbertLayer module ("group.G.layer.J.qkv", ...), the pooler and the classifier (not the
    /// off-ramps). For reports of how the model holds its weights.
    template <class F>
    void for_each_linear(F&& f) const {
        f(std::string("embedding_hidden_mapping_in"), encoder_.mapping_in());
        const auto& groups = encoder_.groups();
        for (std::size_t g = 0; g < groups.size(); ++g)
            for (std::size_t j = 0; j < groups[g].size(); ++j) {
                const std::string p = "group." + std::to_string(g) + ".layer." + std::to_string(j) + ".";
                const albert_layer& l = groups[g][j];
                f(p + "qkv", l.qkv);
                f(p + "attention.dense", l.attention_dense);
                f(p + "ffn", l.ffn);
                f(p + "ffn_output", l.ffn_output);
            }
        f(std::string("pooler"), pooler_);
        if (classifier_.out_features()) f(std::string("classifier"), classifier_);
    }

    /// Multiply-add FLOPs of the matrix products for one batch (ONNX Runtime peer's formula), for GFLOP/s;
    /// logits_only: the work run_options::logits_only does.
    double flops(std::size_t batch, std::size_t seq, bool logits_only = false) const noexcept {
        const albert_config& c = config();
        const double S = double(seq), E = double(c.embedding_size), H = double(c.hidden_size),
                     I = double(c.intermediate_size), L = double(c.num_hidden_layers), C = double(c.num_labels);
        const double per_layer = 8 * S * H * H + 4 * S * S * H + 4 * S * H * I;
        // run_options::logits_only: past attention, the last layer's other S - 1 rows are not computed
        const double skipped = logits_only ? (S - 1) * (2 * H * H + 4 * H * I) : 0;
        return double(batch) * (2 * S * E * H + L * double(c.inner_group_num) * per_layer - skipped + 2 * H * H + 2 * H * C);
    }

private:
    albert_encoder encoder_;
    nn::linear pooler_, classifier_;
    std::vector<nn::off_ramp> off_ramps_;
    std::vector<std::string> skipped_;
};


// Compiled once in the compiled mode (core/config.hpp, EDGEBERT_LIBRARY_BODIES), inline otherwise.
#if EDGEBERT_LIBRARY_BODIES

EDGEBERT_LIBRARY_API albert_model albert_model::load(const std::string& path, const load_options& opt) {
    const model_weights w = open_weights(path);
    albert_model m = from_source(w.config, *w.weights, opt);
    verify_golden(path, w, opt, [&](const golden_case& c) -> std::optional<std::vector<float>> {
        if (!c.task.empty()) return std::nullopt;  // a task's case: multi_task_model checks it
        return m.case_logits(c.input_ids, c.token_type_ids);
    }, [&](const std::vector<std::vector<std::int64_t>>& ids) { return m.sentence_logits(ids); });
    return m;
}

EDGEBERT_LIBRARY_API std::vector<float> albert_model::case_logits(
    const token_ids& ids, const token_ids& types, const task* t) const {
    if (ids.empty()) throw input_error("golden case without token ids");
    token_batch in = token_batch::from_rows({ids});
    if (!types.empty()) in.token_type_ids = types;
    run_options o;
    o.task = t;
    o.logits_only = true;  // the same bits as a full pass (tested), less work per golden case at load
    return forward(in, o).logits;
}

EDGEBERT_LIBRARY_API auto albert_model::open_weights(const std::string& path) -> model_weights {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw io_error("model '" + path + "' does not exist");
    const bool folder = std::filesystem::is_directory(path, ec);
    const std::string file = folder ? path + "/model.safetensors" : path;
    if (std::filesystem::is_regular_file(file, ec) &&
        io::compressed_model::is_compressed(io::safetensors_file(file))) {
        auto c = std::make_shared<const io::compressed_model>(io::compressed_model::open(file));
        return {c->config(), c->shared_weights(), c};
    }
    if (!folder)
        throw io_error("'" + path + "' is neither a model folder (config.json + model.safetensors) nor a compressed model");
    io::hf_checkpoint ckpt = io::hf_checkpoint::open(path);
    return {ckpt.config, std::make_shared<io::safetensors_source>(ckpt.weights), nullptr};
}

EDGEBERT_LIBRARY_API std::vector<std::vector<float>> albert_model::sentence_logits(
    const std::vector<std::vector<std::int64_t>>& ids, int threads) const {
    std::vector<std::vector<float>> out;
    for (const auto& s : ids) {
        run_options o;
        o.threads = threads;
        o.logits_only = true;
        out.push_back(forward(token_batch::from_rows({s}), o).logits);
    }
    return out;
}

EDGEBERT_LIBRARY_API albert_model albert_model::from_source(
    const albert_config& cfg, const io::weight_source& src, const load_options& opt) {
    cfg.validate(src.describe());
    io::tensor_binder bind(src);
    std::string p;
    if (bind.has(names::word_embeddings(names::base_prefix))) p = names::base_prefix;
    else if (bind.has(names::word_embeddings(""))) p = "";
    else throw missing_tensor_error("missing tensor '" + names::word_embeddings(names::base_prefix) + "' in " + src.describe());

    const std::size_t V = cfg.vocab_size, E = cfg.embedding_size, H = cfg.hidden_size,
                      I = cfg.intermediate_size, P = cfg.max_position_embeddings, T = cfg.type_vocab_size;
    auto norm = [&](const std::string& name, std::size_t n) {
        const_matrix g = bind.take(names::weight(name), {n});
        const_matrix b = bind.take(names::bias(name), {n});
        return nn::layer_norm(g.data(), b.data(), n, cfg.layer_norm_eps);
    };
    // A compressed matrix stays in 8-bit codes unless opt says fp32: the weights are checked for shape and
    // counted as used here, and never decoded.
    auto stored = [&](const std::vector<std::string>& names, std::size_t out_each, std::size_t in,
                      const float* bias) -> std::optional<nn::linear> {
        std::vector<const io::compressed_matrix*> parts;
        for (const std::string& n : names) {
            const std::vector<std::size_t>* got = src.shape(n);
            if (!got) throw missing_tensor_error("missing tensor '" + n + "' in " + src.describe());
            if (*got != std::vector<std::size_t>{out_each, in})
                throw shape_error("tensor '" + n + "' in " + src.describe() + " has shape " + io::shape_to_string(*got) +
                                  ", expected " + io::shape_to_string({out_each, in}));
            parts.push_back(src.compressed(n));
        }
        std::optional<nn::linear> l = compressed_linear(parts, bias, opt);
        if (l)
            for (const std::string& n : names) bind.mark_used(n), bind.release(n);
        return l;
    };
    auto dense = [&](const std::string& name, std::size_t out, std::size_t in) {
        const_matrix b = bind.take(names::bias(name), {out});
        if (auto l = stored({names::weight(name)}, out, in, b.data())) return std::move(*l);
        const_matrix w = bind.take(names::weight(name), {out, in});
        nn::linear packed = dense_linear(w.data(), out, in, b.data(), opt);
        bind.release(names::weight(name));  // packed: the file's pages of it need not stay resident
        return packed;
    };

    const_matrix position = bind.take(names::position_embeddings(p), {P, E});
    const_matrix token_type = bind.take(names::token_type_embeddings(p), {T, E});
    const std::string word = names::word_embeddings(p);
    const io::compressed_matrix* word_codes = opt.weights == weight_storage::fp32 ? nullptr : src.compressed(word);
    nn::embeddings emb;
    if (word_codes && word_codes->format.byte_codes() && word_codes->rows == V && word_codes->cols == E) {
        // 8-bit word table: looked up (and decoded) a row per token
        std::vector<std::uint8_t> codes(V * E);
        word_codes->expand_codes(codes.data());
        sparse::code_tables tables(word_codes->format, word_codes->params, V);
        emb = nn::embeddings(std::move(codes), std::move(tables), V, E, std::move(position), std::move(token_type),
                             norm(names::embedding_norm(p), E));
        bind.mark_used(word);
        bind.release(word);
    } else {
        emb = nn::embeddings(bind.take(word, {V, E}), std::move(position), std::move(token_type), norm(names::embedding_norm(p), E));
    }
    nn::linear mapping_in = dense(names::mapping_in(p), H, E);

    std::vector<std::vector<albert_layer>> groups(cfg.num_hidden_groups);
    for (std::size_t g = 0; g < cfg.num_hidden_groups; ++g) {
        for (std::size_t j = 0; j < cfg.inner_group_num; ++j) {
            const std::string l = names::albert_layer(p, g, j);
            albert_layer layer;
            // Q, K and V stacked into one [3H x H] weight: one GEMM instead of three.
            std::vector<float> b(3 * H);
            std::vector<std::string> qkv_names;
            for (std::size_t k = 0; k < 3; ++k) {
                const_matrix pb = bind.take(names::bias(l + names::attention_parts[k]), {H});
                std::copy(pb.data(), pb.data() + H, b.begin() + std::ptrdiff_t(k * H));
                qkv_names.push_back(names::weight(l + names::attention_parts[k]));
            }
            if (auto q = stored(qkv_names, H, H, b.data())) {
                layer.qkv = std::move(*q);
            } else {
                std::vector<float> w(3 * H * H);
                for (std::size_t k = 0; k < 3; ++k) {
                    const_matrix pw = bind.take(qkv_names[k], {H, H});
                    std::copy(pw.data(), pw.data() + H * H, w.begin() + std::ptrdiff_t(k * H * H));
                    bind.release(qkv_names[k]);
                }
                layer.qkv = dense_linear(w.data(), 3 * H, H, b.data(), opt);
            }
            layer.attention_dense = dense(l + names::attention_dense, H, H);
            layer.attention_norm = norm(l + names::attention_norm, H);
            layer.ffn = dense(l + names::ffn, I, H);
            layer.ffn_output = dense(l + names::ffn_output, H, I);
            layer.full_layer_norm = norm(l + names::full_layer_norm, H);
            groups[g].push_back(std::move(layer));
        }
    }

    albert_model m;
    m.encoder_ = albert_encoder(cfg, std::move(emb), std::move(mapping_in), std::move(groups));
    m.pooler_ = dense(names::pooler(p), H, H);
    if (bind.has(names::weight(names::classifier)) || bind.has(names::bias(names::classifier)))
        m.classifier_ = dense(names::classifier, cfg.num_labels, H);
    m.off_ramps_ = bind_off_ramps(bind, p, H, cfg.num_labels, cfg.num_hidden_layers, cfg.num_hidden_groups,
                                      src.describe());
    const std::string prefix = p;
    m.skipped_ = bind.finish([prefix](const std::string& n) {
        return n == names::position_ids(prefix) || names::is_other_albert_head(n);
    });
    return m;
}

EDGEBERT_LIBRARY_API io::memory_source albert_model::random_weights(const albert_config& cfg, std::uint64_t seed) {
    cfg.validate("random model config");
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::map<std::string, io::memory_source::tensor> t;
    auto add = [&](const std::string& name, std::vector<std::size_t> shape, float mean, float stddev) {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        std::vector<float> v(n);
        for (auto& x : v) x = mean + stddev * normal(rng);
        t[name] = {std::move(shape), std::move(v)};
    };
    const std::size_t V = cfg.vocab_size, E = cfg.embedding_size, H = cfg.hidden_size,
                      I = cfg.intermediate_size;
    auto lin = [&](const std::string& n, std::size_t out, std::size_t in) {
        add(names::weight(n), {out, in}, 0.f, 0.02f);
        add(names::bias(n), {out}, 0.f, 0.02f);
    };
    auto ln = [&](const std::string& n, std::size_t w) {
        add(names::weight(n), {w}, 1.f, 0.05f);
        add(names::bias(n), {w}, 0.f, 0.05f);
    };
    const std::string& p = names::base_prefix;
    add(names::word_embeddings(p), {V, E}, 0.f, 0.02f);
    add(names::position_embeddings(p), {cfg.max_position_embeddings, E}, 0.f, 0.02f);
    add(names::token_type_embeddings(p), {cfg.type_vocab_size, E}, 0.f, 0.02f);
    ln(names::embedding_norm(p), E);
    lin(names::mapping_in(p), H, E);
    for (std::size_t g = 0; g < cfg.num_hidden_groups; ++g)
        for (std::size_t j = 0; j < cfg.inner_group_num; ++j) {
            const std::string l = names::albert_layer(p, g, j);
            for (const char* part : names::attention_parts) lin(l + part, H, H);
            lin(l + names::attention_dense, H, H);
            ln(l + names::attention_norm, H);
            lin(l + names::ffn, I, H);
            lin(l + names::ffn_output, H, I);
            ln(l + names::full_layer_norm, H);
        }
    lin(names::pooler(p), H, H);
    lin(names::classifier, cfg.num_labels, H);
    return io::memory_source(std::move(t), "<random model, seed " + std::to_string(seed) + ">");
}

EDGEBERT_LIBRARY_API albert_output albert_model::forward(const token_batch& in, const run_options& opt) const {
    trace::null_observer none;
    return forward(in, opt, opt.exit, none);
}

#endif  // EDGEBERT_LIBRARY_BODIES

}  // namespace edgebert::model
