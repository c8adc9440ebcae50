// SPDX-License-Identifier: Apache-2.0
#pragma once
// AdapterHub files (the `adapters` library and the older adapter-transformers): adapter_config.json and
// head_config.json, and the parameter names of bottleneck adapters and classification heads for ALBERT.
// Read against adapter-hub/adapters (configuration/adapter_config.py, loading.py, heads/base.py,
// models/albert/); see docs/adapters.md.

#include <cctype>
#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "../kernels/activation.hpp"
#include "../names/tensor_names.hpp"
#include "../nn/adapter.hpp"

namespace edgebert::io {

/// A bottleneck adapter's configuration (AdapterHub's BnConfig), as far as inference needs it.
struct adapter_config {
    std::string name;          ///< the adapter's name (part of its parameter names)
    std::size_t hidden_size = 0;
    bool mh_adapter = false;      ///< an adapter after attention
    bool output_adapter = true;   ///< an adapter after the FFN
    nn::bottleneck_config bottleneck;
    double reduction_factor = 16;                     ///< default
    std::map<std::size_t, double> reduction_per_layer;  ///< layer id -> factor
    std::vector<std::size_t> leave_out;               ///< layer ids without adapters
    enum class scaling_kind { fixed, learned, channel } scaling = scaling_kind::fixed;
    double scaling_value = 1.0;
    bool per_depth = false;  ///< edgebert's layout: one adapter per depth instead of per AlbertLayer module

    double reduction_for(std::size_t layer_id) const {
        auto it = reduction_per_layer.find(layer_id);
        return it == reduction_per_layer.end() ? reduction_factor : it->second;
    }
    /// AdapterHub: down_sample = int(hidden_size // reduction_factor), at least 1.
    std::size_t bottleneck_size(std::size_t layer_id) const {
        const double r = reduction_for(layer_id);
        const double m = std::floor(double(hidden_size) / r);
        // A tiny factor would make m too large for size_t (the cast would be undefined); no weights fit anyway.
        if (!(m <= 4294967295.0))
            throw config_error("adapter '" + name + "': reduction_factor " + std::to_string(r) + " gives a bottleneck of " +
                               std::to_string(m) + " units for hidden size " + std::to_string(hidden_size));
        return m < 1 ? 1 : std::size_t(m);
    }
    bool left_out(std::size_t layer_id) const {
        for (std::size_t l : leave_out)
            if (l == layer_id) return true;
        return false;
    }

    /// Parameter name prefixes of layer id `module` (AlbertLayer module: group * inner_group_num + j) for this
    /// adapter, without the "albert." prefix. Per-depth adapters use edgebert's own "encoder.adapter_depth.{d}.".
    std::string attention_prefix(std::size_t group, std::size_t inner) const {
        return names::attention_adapter(group, inner, name);
    }
    std::string output_prefix(std::size_t group, std::size_t inner) const {
        return names::output_adapter(group, inner, name);
    }
    std::string depth_attention_prefix(std::size_t depth, std::size_t inner) const {
        return names::attention_adapter_at_depth(depth, inner, name);
    }
    std::string depth_output_prefix(std::size_t depth, std::size_t inner) const {
        return names::output_adapter_at_depth(depth, inner, name);
    }
};

namespace detail {

/// A non-negative integer (nlohmann keeps numbers parsed from text unsigned, numbers built in code signed).
inline bool is_count(const nlohmann::json& v) { return v.is_number_integer() && v.get<long long>() >= 0; }

/// AdapterHub's activation names (Activation_Function_Class → HF's ACT2FN, plus "leakyrelu"). Files written
/// before the `adapters` library (no "version" key) meant the tanh approximation by "gelu" and the erf form by
/// "gelu_orig" (loading.py's ACTIVATION_RENAME).
inline kernels::activation adapter_activation(std::string name, bool legacy, const std::string& source) {
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (legacy && name == "gelu") name = "gelu_new";
    else if (legacy && name == "gelu_orig") name = "gelu";
    if (name == "leakyrelu") return kernels::activation::leaky_relu;
    try {
        return kernels::parse_activation(name);
    } catch (const config_error&) {
        throw config_error(source + ": unknown non_linearity \"" + name + "\"");
    }
}

inline bool json_flag(const nlohmann::json& c, const char* key, bool fallback, const std::string& source) {
    if (!c.contains(key) || c[key].is_null()) return fallback;
    if (!c[key].is_boolean()) throw config_error(source + ": \"" + key + "\" must be true or false");
    return c[key].get<bool>();
}

inline double positive_number(const nlohmann::json& v, const std::string& what, const std::string& source) {
    if (!v.is_number() || !(v.get<double>() > 0))
        throw config_error(source + ": " + what + " must be a positive number, got " + v.dump());
    return v.get<double>();
}

/// Presets named by a string (older files store the name instead of the dictionary).
inline nlohmann::json adapter_preset(const std::string& name, const std::string& source) {
    if (name == "pfeiffer" || name == "seq_bn")
        return {{"original_ln_before", true}, {"original_ln_after", true}, {"residual_before_ln", true},
                {"mh_adapter", false}, {"output_adapter", true}, {"non_linearity", "relu"},
                {"reduction_factor", 16}};
    if (name == "houlsby" || name == "double_seq_bn")
        return {{"original_ln_before", false}, {"original_ln_after", true}, {"residual_before_ln", true},
                {"mh_adapter", true}, {"output_adapter", true}, {"non_linearity", "swish"},
                {"reduction_factor", 16}};
    throw config_error(source + ": adapter preset \"" + name +
                       "\" is not supported (pfeiffer / seq_bn, houlsby / double_seq_bn)");
}

}  // namespace detail

/// Parse the content of an adapter_config.json.
inline adapter_config parse_adapter_config(const nlohmann::json& file, const std::string& source) {
    if (!file.is_object() || !file.contains("config"))
        throw config_error(source + ": not an AdapterHub adapter_config.json (no \"config\" object)");
    adapter_config a;
    const bool legacy = !file.contains("version");
    if (file.contains("name") && file["name"].is_string()) a.name = file["name"].get<std::string>();
    if (file.contains("model_type") && file["model_type"].is_string() && file["model_type"] != "albert")
        throw config_error(source + ": adapter was trained for model_type \"" + file["model_type"].get<std::string>() +
                           "\", not albert");
    if (file.contains("hidden_size")) {
        if (!detail::is_count(file["hidden_size"]) || file["hidden_size"].get<std::size_t>() == 0)
            throw config_error(source + ": hidden_size must be a positive integer");
        a.hidden_size = file["hidden_size"].get<std::size_t>();
    }
    nlohmann::json c = file["config"];
    if (c.is_string()) c = detail::adapter_preset(c.get<std::string>(), source);
    if (!c.is_object()) throw config_error(source + ": \"config\" must be an object or a preset name");

    // Keys that only matter for training, or describe what the loader checks elsewhere.
    static const char* const ignored[] = {"init_weights", "init_weights_seed", "dropout", "stochastic_depth",
                                          "inv_adapter_reduction_factor", "phm_dim", "factorized_phm_W",
                                          "shared_W_phm", "shared_phm_rule", "factorized_phm_rule", "phm_c_init",
                                          "phm_init_range", "learn_phm", "hypercomplex_nonlinearity", "phm_rank",
                                          "phm_bias", "architecture"};
    static const char* const known[] = {"mh_adapter", "output_adapter", "reduction_factor", "non_linearity",
                                        "original_ln_before", "original_ln_after", "ln_before", "ln_after",
                                        "is_parallel", "scaling", "use_gating", "residual_before_ln",
                                        "adapter_residual_before_ln", "inv_adapter", "cross_adapter", "leave_out",
                                        "phm_layer", "edgebert_per_depth"};
    for (auto it = c.begin(); it != c.end(); ++it) {
        bool ok = false;
        for (const char* k : ignored) ok = ok || it.key() == k;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) throw config_error(source + ": unknown adapter config key \"" + it.key() + "\"");
    }
    if (c.contains("architecture") && !c["architecture"].is_null() && c["architecture"] != "bottleneck")
        throw config_error(source + ": adapter architecture " + c["architecture"].dump() +
                           " is not supported (only bottleneck adapters)");
    auto unsupported = [&](const char* key, const char* what) {
        const bool on = c.contains(key) && !c[key].is_null() && c[key] != false;
        if (on) throw config_error(source + ": " + what + " (\"" + key + "\") are not supported");
    };
    unsupported("is_parallel", "parallel adapters");
    unsupported("use_gating", "gated adapters");
    unsupported("phm_layer", "PHM (Compacter) layers");
    unsupported("inv_adapter", "invertible adapters");
    unsupported("cross_adapter", "cross-attention adapters");

    a.mh_adapter = detail::json_flag(c, "mh_adapter", false, source);
    a.output_adapter = detail::json_flag(c, "output_adapter", false, source);
    if (!c.contains("non_linearity") || !c["non_linearity"].is_string())
        throw config_error(source + ": \"non_linearity\" must be a string");
    nn::bottleneck_config& b = a.bottleneck;
    b.non_linearity = detail::adapter_activation(c["non_linearity"].get<std::string>(), legacy, source);
    b.original_ln_before = detail::json_flag(c, "original_ln_before", false, source);
    b.original_ln_after = detail::json_flag(c, "original_ln_after", true, source);
    b.ln_before = detail::json_flag(c, "ln_before", false, source);
    b.ln_after = detail::json_flag(c, "ln_after", false, source);
    b.adapter_residual_before_ln = detail::json_flag(c, "adapter_residual_before_ln", false, source);
    if (c.contains("residual_before_ln")) {
        const auto& r = c["residual_before_ln"];
        if (r == true) b.residual_before_ln = nn::adapter_residual::before_ln;
        else if (r == false) b.residual_before_ln = nn::adapter_residual::after_ln;
        else if (r == "post_add") b.residual_before_ln = nn::adapter_residual::post_add;
        else throw config_error(source + ": residual_before_ln must be true, false or \"post_add\", got " + r.dump());
    }
    if (!c.contains("reduction_factor")) throw config_error(source + ": \"reduction_factor\" is missing");
    const auto& rf = c["reduction_factor"];
    if (rf.is_object()) {
        bool has_default = false;
        for (auto it = rf.begin(); it != rf.end(); ++it) {
            const double v = detail::positive_number(it.value(), "reduction_factor[\"" + it.key() + "\"]", source);
            if (it.key() == "default") {
                a.reduction_factor = v;
                has_default = true;
                continue;
            }
            std::size_t used = 0;
            unsigned long id = 0;
            try {
                id = std::stoul(it.key(), &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != it.key().size())
                throw config_error(source + ": reduction_factor key \"" + it.key() + "\" is not a layer id");
            a.reduction_per_layer[std::size_t(id)] = v;
        }
        if (!has_default && a.reduction_per_layer.empty())
            throw config_error(source + ": reduction_factor mapping is empty");
        if (!has_default) a.reduction_factor = 0;  // every layer must be listed; checked when binding
    } else {
        a.reduction_factor = detail::positive_number(rf, "reduction_factor", source);
    }
    if (c.contains("scaling")) {
        const auto& s = c["scaling"];
        if (s.is_number()) a.scaling_value = s.get<double>();
        else if (s == "learned") a.scaling = adapter_config::scaling_kind::learned;
        else if (s == "channel") a.scaling = adapter_config::scaling_kind::channel;
        else throw config_error(source + ": scaling must be a number, \"learned\" or \"channel\", got " + s.dump());
    }
    if (c.contains("leave_out")) {
        if (!c["leave_out"].is_array()) throw config_error(source + ": leave_out must be a list of layer ids");
        for (const auto& v : c["leave_out"]) {
            if (!detail::is_count(v)) throw config_error(source + ": leave_out holds " + v.dump() + ", not a layer id");
            a.leave_out.push_back(v.get<std::size_t>());
        }
    }
    a.per_depth = detail::json_flag(c, "edgebert_per_depth", false, source);
    if (!a.mh_adapter && !a.output_adapter) throw config_error(source + ": adapter has neither mh_adapter nor output_adapter");
    return a;
}

inline adapter_config read_adapter_config(const std::string& path) {
    return parse_adapter_config(edgebert::detail::read_json_file<config_error>(path), path);
}

/// AdapterHub's classification head (heads/base.py ClassificationHead): `layers` Linear layers with the
/// activation between them; module indices 0 Dropout, 1 Linear, 2 activation, 3 Dropout, 4 Linear, ...
struct head_config {
    std::string name;
    std::size_t num_labels = 2;
    std::size_t layers = 2;
    kernels::activation activation = kernels::activation::tanh;
    bool use_pooler = false;            ///< input: the model's pooler output, or the [CLS] hidden state
    std::vector<std::string> labels;    ///< id -> label (from label2id), "LABEL_i" where absent

    /// Name of the i-th Linear (0-based): "heads.<name>.<1 + 3i>.".
    std::string linear_prefix(std::size_t i) const { return names::head_linear(name, i); }
};

inline head_config parse_head_config(const nlohmann::json& file, const std::string& source) {
    if (!file.is_object() || !file.contains("config") || !file["config"].is_object())
        throw config_error(source + ": not an AdapterHub head_config.json (no \"config\" object)");
    const auto& c = file["config"];
    head_config h;
    if (file.contains("name") && file["name"].is_string()) h.name = file["name"].get<std::string>();
    if (c.contains("head_type") && !c["head_type"].is_string())
        throw config_error(source + ": head_type must be a string, got " + c["head_type"].dump());
    const std::string type = c.value("head_type", std::string("classification"));
    if (type != "classification")
        throw config_error(source + ": head_type \"" + type + "\" is not supported (classification)");
    if (!c.contains("num_labels") || !detail::is_count(c["num_labels"]) || c["num_labels"].get<std::size_t>() == 0)
        throw config_error(source + ": num_labels must be a positive integer");
    h.num_labels = c["num_labels"].get<std::size_t>();
    limits::check(h.num_labels, current_limits().max_labels, "max_labels", source + ": num_labels");
    if (c.contains("layers")) {
        if (!detail::is_count(c["layers"]) || c["layers"].get<std::size_t>() == 0 || c["layers"].get<std::size_t>() > 16)
            throw config_error(source + ": layers must be an integer in 1..16");
        h.layers = c["layers"].get<std::size_t>();
    }
    if (c.contains("activation_function") && !c["activation_function"].is_null()) {
        if (!c["activation_function"].is_string())
            throw config_error(source + ": activation_function must be a string, got " + c["activation_function"].dump());
        h.activation = detail::adapter_activation(c["activation_function"].get<std::string>(), false, source);
    }
    h.use_pooler = detail::json_flag(c, "use_pooler", false, source);
    if (c.contains("multilabel") && c["multilabel"] == true)
        throw config_error(source + ": multi-label heads are not supported");
    h.labels.resize(h.num_labels);
    for (std::size_t i = 0; i < h.num_labels; ++i) h.labels[i] = "LABEL_" + std::to_string(i);
    if (c.contains("label2id") && c["label2id"].is_object())
        for (auto it = c["label2id"].begin(); it != c["label2id"].end(); ++it) {
            if (!detail::is_count(it.value()) || it.value().get<std::size_t>() >= h.num_labels)
                throw config_error(source + ": label2id[\"" + it.key() + "\"] = " + it.value().dump() +
                                   " is not a label id below " + std::to_string(h.num_labels));
            h.labels[it.value().get<std::size_t>()] = it.key();
        }
    return h;
}

}  // namespace edgebert::io
