// SPDX-License-Identifier: Apache-2.0
#pragma once
// A task on a shared ALBERT backbone: what is specific to it (adapters, task LayerNorms, pruned weights,
// attention spans, off-ramps, final classifier, exit policy, labels), and how to read one from a folder:
//   adapter_config.json + adapter.safetensors   AdapterHub bottleneck adapter (optional)
//   head_config.json + model_head.safetensors   AdapterHub classification head (optional; else the backbone's)
//   edgebert.safetensors                        off-ramps (albert.encoder.highway.{i}.*), span values
//                                               (albert.encoder.span.value), task LayerNorms, pruning masks
//   task.json                                   labels, exit policy, span settings (optional)
//   predictor.csv                               EdgeBERT exit-predictor table (optional)
// Layout details: docs/multitask.md.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <filesystem>
#include <system_error>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "../exit/logit_policy.hpp"
#include "adapterhub.hpp"
#include "../io/safetensors.hpp"
#include "../io/weight_source.hpp"
#include "../nn/classification_head.hpp"
#include "off_ramp_binding.hpp"
#include "../core/albert_config.hpp"
#include "../names/tensor_names.hpp"
#include "albert_encoder.hpp"

namespace edgebert::model {

struct task {
    std::string name;
    std::vector<std::string> labels;            ///< label names by id (may be empty: "LABEL_i")
    encoder_task encoder;                       ///< adapters, LayerNorms, pruned weights, span
    std::optional<nn::classification_head> head;  ///< the final classifier; none: the backbone's pooler + classifier
    std::vector<nn::off_ramp> off_ramps;        ///< one per layer, one per group, or none
    exit::exit_policy policy = exit::no_exit{};
    bool sentence_pairs = false;                ///< task.json "input": "pair": [CLS] a [SEP] b [SEP] (GLUE MRPC)

    std::string label_name(std::size_t id) const {
        return id < labels.size() ? labels[id] : "LABEL_" + std::to_string(id);
    }

    /// Bytes of this task's own parameters (fp32), apart from the shared backbone.
    std::size_t bytes() const {
        std::size_t b = 0;
        for (const task_layer& l : encoder.layers) {
            if (l.attention_adapter) b += l.attention_adapter->bytes();
            if (l.output_adapter) b += l.output_adapter->bytes();
            if (l.attention_norm) b += 2 * l.attention_norm->size() * sizeof(float);
            if (l.full_layer_norm) b += 2 * l.full_layer_norm->size() * sizeof(float);
            if (l.weights)
                for (const nn::linear* w : {&l.weights->qkv, &l.weights->attention_dense, &l.weights->ffn,
                                            &l.weights->ffn_output})
                    b += (w->in_features() * w->out_features() + w->bias().size()) * sizeof(float);
        }
        if (encoder.span) b += encoder.span->spans.size() * sizeof(float);
        if (head) b += head->bytes();
        for (const nn::off_ramp& r : off_ramps)
            b += (r.hidden() * r.hidden() + r.hidden() + r.num_labels() * r.hidden() + r.num_labels()) * sizeof(float);
        return b;
    }
};

namespace detail {

/// A weight source whose names are normalised: the "albert." prefix dropped and AdapterHub's legacy module
/// names renamed ("attention_text_task_adapters" etc. -> "adapters").
class normalised_source final : public io::weight_source {
public:
    explicit normalised_source(const io::weight_source& inner) : inner_(inner) {
        for (const std::string& n : inner_.names()) {
            const std::string k = normalise(n);
            if (!map_.emplace(k, n).second)
                throw format_error(inner_.describe() + ": tensors '" + map_[k] + "' and '" + n + "' are the same parameter");
        }
    }
    static std::string normalise(std::string n) {
        if (n.rfind(names::base_prefix, 0) == 0) n = n.substr(names::base_prefix.size());
        for (const char* legacy : names::legacy_adapter_modules) {
            const std::string from = std::string(".") + legacy + ".";
            for (auto p = n.find(from); p != std::string::npos; p = n.find(from)) n.replace(p, from.size(), ".adapters.");
        }
        return n;
    }
    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& kv : map_) out.push_back(kv.first);
        return out;
    }
    const std::vector<std::size_t>* shape(const std::string& name) const override {
        auto it = map_.find(name);
        return it == map_.end() ? nullptr : inner_.shape(it->second);
    }
    const_matrix values(const std::string& name, std::size_t rows, std::size_t cols) const override {
        return inner_.values(map_.at(name), rows, cols);
    }
    std::string describe() const override { return inner_.describe(); }
    /// The name in the underlying source.
    const std::string& original(const std::string& name) const { return map_.at(name); }

private:
    const io::weight_source& inner_;
    std::map<std::string, std::string> map_;
};

inline bool file_exists(const std::string& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

inline std::shared_ptr<const io::safetensors_file> open_optional(const std::string& folder, const std::string& file,
                                                                 const std::string& pickle_name) {
    if (file_exists(folder + "/" + file)) return std::make_shared<const io::safetensors_file>(folder + "/" + file);
    if (!pickle_name.empty() && file_exists(folder + "/" + pickle_name))
        throw io_error("'" + folder + "' holds " + pickle_name + " (a PyTorch pickle); save it as " + file +
                       " (safetensors.torch.save_file) first");
    return nullptr;
}

inline nn::linear bind_linear(io::tensor_binder& bind, const std::string& name, std::size_t out, std::size_t in) {
    const const_matrix w = bind.take(name + "weight", {out, in});
    const const_matrix b = bind.take(name + "bias", {out});
    return nn::linear(w.data(), out, in, b.data());
}

inline nn::layer_norm bind_norm(io::tensor_binder& bind, const std::string& name, std::size_t n, float eps) {
    const const_matrix g = bind.take(name + "weight", {n});
    const const_matrix b = bind.take(name + "bias", {n});
    return nn::layer_norm(g.data(), b.data(), n, eps);
}

inline nn::bottleneck_adapter bind_adapter(io::tensor_binder& bind, const io::adapter_config& a, const std::string& p,
                                           std::size_t H, std::size_t m, float eps) {
    std::optional<nn::layer_norm> before, after;
    std::string down = p + names::adapter_down_first;
    if (a.bottleneck.ln_before) {
        before = bind_norm(bind, p + names::adapter_down_first, H, 1e-5f);  // nn.LayerNorm default eps
        down = p + names::adapter_down_second;
    }
    nn::linear d = bind_linear(bind, down, m, H);
    nn::linear u = bind_linear(bind, p + names::adapter_up, H, m);
    if (a.bottleneck.ln_after) after = bind_norm(bind, p + names::adapter_norm_after, H, 1e-5f);
    std::vector<float> scaling{float(a.scaling_value)};
    if (a.scaling != io::adapter_config::scaling_kind::fixed) {
        const std::size_t n = a.scaling == io::adapter_config::scaling_kind::learned ? 1 : H;
        const const_matrix s = bind.take(p + "scaling", {n});
        scaling.assign(s.data(), s.data() + n);
    }
    (void)eps;
    return nn::bottleneck_adapter(a.bottleneck, std::move(d), std::move(u), std::move(scaling), std::move(before),
                                  std::move(after));
}

}  // namespace detail

struct task_load_options {
    /// Where the attention adapter reads (AdapterHub's ALBERT: the block input).
    attention_adapter_input adapter_input = attention_adapter_input::block_input;
    /// The backbone's tensors (HF names), needed only when the task carries pruning masks.
    const io::weight_source* backbone = nullptr;
    /// The pruned encoder Linears as per-channel int8 (model/weight_storage.hpp, weight_storage::int8).
    bool int8_weights = false;
};

/// Read a task folder (see the top of this file). `name`: the task's name; empty = the adapter's name, else
/// the folder's last component.
EDGEBERT_LIBRARY_API task load_task(const std::string& folder, const albert_config& cfg, std::string name = "",
                                    const task_load_options& opt = {});

// Compiled once in the compiled mode (core/config.hpp, EDGEBERT_LIBRARY_BODIES), inline otherwise.
#if EDGEBERT_LIBRARY_BODIES

EDGEBERT_LIBRARY_API task load_task(const std::string& folder, const albert_config& cfg, std::string name,
                                    const task_load_options& opt) {
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) throw io_error("task folder '" + folder + "' does not exist");
    const std::size_t H = cfg.hidden_size, L = cfg.num_hidden_layers, G = cfg.num_hidden_groups,
                      J = cfg.inner_group_num;
    task t;
    t.encoder.adapter_input = opt.adapter_input;

    // task.json first: it may name the labels and the span settings
    nlohmann::json meta = nlohmann::json::object();
    const std::string meta_path = folder + "/task.json";
    if (detail::file_exists(meta_path)) meta = edgebert::detail::read_json_file<config_error>(meta_path);
    if (!meta.is_object()) throw config_error(meta_path + ": must be a JSON object");

    // adapter
    std::optional<io::adapter_config> ad;
    if (detail::file_exists(folder + "/adapter_config.json")) {
        ad = io::read_adapter_config(folder + "/adapter_config.json");
        if (ad->hidden_size && ad->hidden_size != H)
            throw config_error(folder + "/adapter_config.json: hidden_size " + std::to_string(ad->hidden_size) +
                               " does not match the model's " + std::to_string(H));
        ad->hidden_size = H;
    }
    if (name.empty()) name = ad && !ad->name.empty() ? ad->name : folder.substr(folder.find_last_of('/') + 1);
    t.name = name;
    if (ad) {
        auto file = detail::open_optional(folder, "adapter.safetensors", "pytorch_adapter.bin");
        if (!file) throw io_error("'" + folder + "' has adapter_config.json but no adapter.safetensors");
        if (ad->name.empty()) throw config_error(folder + "/adapter_config.json: the adapter has no \"name\"");
        io::safetensors_source raw(file);
        detail::normalised_source src(raw);
        io::tensor_binder bind(src);
        const std::size_t modules = ad->per_depth ? L * J : G * J;
        t.encoder.per_depth = ad->per_depth;
        t.encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i) {
            const std::size_t outer = i / J, j = i % J;  // outer = group, or depth when per_depth
            if (ad->left_out(i)) continue;
            if (ad->reduction_for(i) <= 0)
                throw config_error(folder + "/adapter_config.json: reduction_factor has no value for layer " + std::to_string(i));
            const std::size_t m = ad->bottleneck_size(i);
            task_layer& tl = t.encoder.layers[i];
            if (ad->mh_adapter)
                tl.attention_adapter = detail::bind_adapter(
                    bind, *ad, ad->per_depth ? ad->depth_attention_prefix(outer, j) : ad->attention_prefix(outer, j), H, m,
                    cfg.layer_norm_eps);
            if (ad->output_adapter)
                tl.output_adapter = detail::bind_adapter(
                    bind, *ad, ad->per_depth ? ad->depth_output_prefix(outer, j) : ad->output_prefix(outer, j), H, m,
                    cfg.layer_norm_eps);
        }
        bind.finish(nullptr);
    }

    // head
    if (detail::file_exists(folder + "/head_config.json")) {
        io::head_config hc = io::parse_head_config(
            edgebert::detail::read_json_file<config_error>(folder + "/head_config.json"), folder + "/head_config.json");
        auto file = detail::open_optional(folder, "model_head.safetensors", "pytorch_model_head.bin");
        if (!file) throw io_error("'" + folder + "' has head_config.json but no model_head.safetensors");
        io::safetensors_source src(file);
        io::tensor_binder bind(src);
        if (hc.name.empty()) {  // the head's name is in its parameter names: heads.<name>.1.weight
            for (const auto& n : src.names())
                if (names::is_head_tensor(n)) {
                    const auto dot = n.find('.', 6);
                    hc.name = n.substr(6, dot - 6);
                    break;
                }
        }
        std::vector<nn::linear> layers;
        for (std::size_t i = 0; i < hc.layers; ++i) {
            const std::size_t out = i + 1 == hc.layers ? hc.num_labels : H;
            layers.push_back(detail::bind_linear(bind, hc.linear_prefix(i), out, H));
        }
        bind.finish(nullptr);
        t.head = nn::classification_head(std::move(layers), hc.activation, hc.use_pooler);
        t.labels = hc.labels;
    }
    if (meta.contains("labels")) {
        if (!meta["labels"].is_array()) throw config_error(meta_path + ": \"labels\" must be a list of names");
        t.labels.clear();
        for (const auto& l : meta["labels"]) {
            if (!l.is_string()) throw config_error(meta_path + ": \"labels\" must be a list of names");
            t.labels.push_back(l.get<std::string>());
        }
    }
    const std::size_t C = t.head ? t.head->num_labels() : (t.labels.empty() ? cfg.num_labels : t.labels.size());
    if (!t.labels.empty() && t.labels.size() != C)
        throw config_error(folder + ": " + std::to_string(t.labels.size()) + " label names for " + std::to_string(C) + " labels");

    // EdgeBERT extras
    std::optional<std::vector<double>> span_values;
    if (auto file = detail::open_optional(folder, "edgebert.safetensors", "")) {
        io::safetensors_source raw(file);
        detail::normalised_source src(raw);
        io::tensor_binder bind(src);
        t.off_ramps = bind_off_ramps(bind, "", H, C, L, G, file->path());
        if (bind.has(names::span_value)) {
            const const_matrix v = bind.take(names::span_value, {cfg.num_attention_heads});
            span_values = std::vector<double>(v.data(), v.data() + cfg.num_attention_heads);
        }
        for (std::size_t g = 0; g < G; ++g)
            for (std::size_t j = 0; j < J; ++j) {
                const std::string l = names::albert_layer("", g, j);
                const bool has_att = bind.has(names::weight(l + names::attention_norm)),
                           has_full = bind.has(names::weight(l + names::full_layer_norm));
                bool has_mask = false;
                for (const std::string& part : names::encoder_linears)
                    has_mask = has_mask || bind.has(names::mask_of(names::weight(l + part)));
                if (!has_att && !has_full && !has_mask) continue;
                if (t.encoder.per_depth)
                    throw config_error(file->path() + ": task LayerNorms and masks with per-depth adapters are not supported");
                if (t.encoder.layers.size() < G * J) t.encoder.layers.resize(G * J);
                task_layer& tl = t.encoder.layers[g * J + j];
                if (has_att) tl.attention_norm = detail::bind_norm(bind, l + names::attention_norm + ".", H, cfg.layer_norm_eps);
                if (has_full) tl.full_layer_norm = detail::bind_norm(bind, l + names::full_layer_norm + ".", H, cfg.layer_norm_eps);
                if (has_mask) {
                    if (!opt.backbone)
                        throw config_error(file->path() + ": pruning masks need the backbone's weights (task_load_options::backbone)");
                    detail::normalised_source back(*opt.backbone);
                    io::tensor_binder bb(back);
                    const std::size_t I = cfg.intermediate_size;
                    auto masked = [&](const std::string& part, std::size_t out, std::size_t in) {
                        const const_matrix w = bb.take(names::weight(l + part), {out, in});
                        const const_matrix b = bb.take(names::bias(l + part), {out});
                        std::vector<float> v(w.data(), w.data() + out * in);
                        const std::string mask_name = names::mask_of(names::weight(l + part));
                        if (bind.has(mask_name)) {
                            // masks come as F32 / F16 / BF16 0-1 values, or as U8 / BOOL bytes
                            const io::tensor_info& mt = raw.file().at(src.original(mask_name));
                            std::vector<float> bytes_as_float;
                            const float* mv = nullptr;
                            const_matrix m;
                            if (mt.type == io::dtype::U8 || mt.type == io::dtype::BOOL) {
                                if (mt.shape != std::vector<std::size_t>{out, in})
                                    throw shape_error("tensor '" + mask_name + "' in " + file->path() + " has shape " +
                                                      io::shape_to_string(mt.shape) + ", expected " +
                                                      io::shape_to_string({out, in}));
                                const auto* b = reinterpret_cast<const std::uint8_t*>(raw.file().data(mt));
                                bytes_as_float.assign(b, b + out * in);
                                bind.mark_used(mask_name);
                                mv = bytes_as_float.data();
                            } else {
                                m = bind.take(mask_name, {out, in});
                                mv = m.data();
                            }
                            for (std::size_t k = 0; k < v.size(); ++k) {
                                const float x = mv[k];
                                if (x != 0.f && x != 1.f)
                                    throw format_error(file->path() + ": mask '" + mask_name + "' holds " +
                                                       std::to_string(x) + ", not 0 or 1");
                                v[k] *= x;
                            }
                        }
                        return std::make_pair(std::move(v), std::vector<float>(b.data(), b.data() + out));
                    };
                    auto lw = std::make_shared<albert_layer>();
                    auto linear = [&](const std::vector<float>& w, std::size_t out, std::size_t in, const std::vector<float>& b) {
                        return opt.int8_weights ? nn::linear::int8(w.data(), out, in, b.data()) : nn::linear(w.data(), out, in, b.data());
                    };
                    std::vector<float> qkv_w, qkv_b;
                    for (const char* part : names::attention_parts) {
                        auto wb = masked(part, H, H);
                        qkv_w.insert(qkv_w.end(), wb.first.begin(), wb.first.end());
                        qkv_b.insert(qkv_b.end(), wb.second.begin(), wb.second.end());
                    }
                    lw->qkv = linear(qkv_w, 3 * H, H, qkv_b);
                    auto d = masked(names::attention_dense, H, H);
                    lw->attention_dense = linear(d.first, H, H, d.second);
                    auto f = masked(names::ffn, I, H);
                    lw->ffn = linear(f.first, I, H, f.second);
                    auto fo = masked(names::ffn_output, H, I);
                    lw->ffn_output = linear(fo.first, H, I, fo.second);
                    lw->attention_norm = detail::bind_norm(bb, l + names::attention_norm + ".", H, cfg.layer_norm_eps);
                    lw->full_layer_norm = detail::bind_norm(bb, l + names::full_layer_norm + ".", H, cfg.layer_norm_eps);
                    tl.weights = std::move(lw);
                }
            }
        bind.finish(nullptr);
    }

    // span settings: task.json "span": {"mode", "ramp", "max_span" | "template_length", "spans"}
    if (meta.contains("span")) {
        const auto& s = meta["span"];
        if (!s.is_object()) throw config_error(meta_path + ": \"span\" must be an object");
        kernels::attention_span span;
        span.variant = kernels::parse_span_variant(s.value("mode", std::string("distance")));
        if (!s.contains("ramp") || !s["ramp"].is_number()) throw config_error(meta_path + ": span needs a numeric \"ramp\"");
        span.ramp = s["ramp"].get<double>();
        if (s.contains("template_length")) {
            if (!io::detail::is_count(s["template_length"])) throw config_error(meta_path + ": span template_length must be a count");
            span.template_length = s["template_length"].get<std::size_t>();
        }
        if (s.contains("spans")) {
            if (!s["spans"].is_array()) throw config_error(meta_path + ": span \"spans\" must be a list (one per head)");
            for (const auto& z : s["spans"]) {
                if (!z.is_number()) throw config_error(meta_path + ": span \"spans\" must hold numbers");
                span.spans.push_back(z.get<double>());
            }
        } else if (span_values) {
            double scale = 0;
            if (span.variant == kernels::span_variant::distance) {
                if (!s.contains("max_span") || !s["max_span"].is_number())
                    throw config_error(meta_path + ": span needs \"max_span\" to scale the learned values");
                scale = s["max_span"].get<double>();
            } else {
                if (!span.template_length) throw config_error(meta_path + ": absolute span needs \"template_length\"");
                scale = double(span.template_length);
            }
            for (double v : *span_values) span.spans.push_back(v * scale);
        } else {
            throw config_error(meta_path + ": \"span\" needs \"spans\" or learned values (albert.encoder.span.value)");
        }
        span.validate(cfg.num_attention_heads);
        t.encoder.span = std::move(span);
    } else if (span_values) {
        throw config_error(folder + ": the task has learned span values but task.json says nothing about \"span\"");
    }

    // what one input is: a text, or a pair of texts with token types 0 then 1
    if (meta.contains("input")) {
        const auto& in = meta["input"];
        if (!in.is_string() || (in != "text" && in != "pair"))
            throw config_error(meta_path + ": \"input\" must be \"text\" or \"pair\", not " + in.dump());
        t.sentence_pairs = in == "pair";
    }

    // exit policy
    if (meta.contains("exit")) {
        if (!meta["exit"].is_string()) throw config_error(meta_path + ": \"exit\" must be a string such as \"entropy:0.3\"");
        const std::string lut = detail::file_exists(folder + "/predictor.csv") ? folder + "/predictor.csv" : "";
        t.policy = exit::parse_exit_policy(meta["exit"].get<std::string>(), lut,
                                           meta.value("predictor_mode", std::string("ee-before")));
        if (!std::holds_alternative<exit::no_exit>(t.policy) && t.off_ramps.empty())
            throw config_error(meta_path + ": exit policy \"" + meta["exit"].get<std::string>() +
                               "\" needs off-ramps, and the task has none");
    }
    return t;
}

#endif  // EDGEBERT_LIBRARY_BODIES

}  // namespace edgebert::model
