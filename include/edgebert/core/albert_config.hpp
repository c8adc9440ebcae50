// SPDX-License-Identifier: Apache-2.0
#pragma once
// ALBERT hyper-parameters, read from a HuggingFace config.json. Only fields that change the
// computation are kept; a missing field takes transformers' AlbertConfig default (as HF does), a
// mistyped or inconsistent one is a config_error naming it.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "read_file.hpp"
#include "activation_kind.hpp"

namespace edgebert::model {

struct albert_config {
    // Defaults are transformers' AlbertConfig class defaults (xxlarge-sized), used only for absent keys.
    std::size_t vocab_size = 30000;
    std::size_t embedding_size = 128;
    std::size_t hidden_size = 4096;
    std::size_t num_hidden_layers = 12;
    std::size_t num_hidden_groups = 1;
    std::size_t num_attention_heads = 64;
    std::size_t intermediate_size = 16384;
    std::size_t inner_group_num = 1;
    std::string hidden_act = "gelu_new";
    std::size_t max_position_embeddings = 512;
    std::size_t type_vocab_size = 2;
    float layer_norm_eps = 1e-12f;
    std::size_t num_labels = 2;
    std::vector<std::string> id2label{"LABEL_0", "LABEL_1"};

    kernels::activation activation() const { return kernels::parse_activation(hidden_act); }
    std::size_t head_size() const noexcept { return hidden_size / num_attention_heads; }

    /// HuggingFace's group index for layer i: int(i / (L / G)) evaluated in double precision, as
    /// Python does, so that layer/group counts that do not divide evenly map exactly as in transformers.
    std::size_t group_of_layer(std::size_t i) const noexcept {
        const double per_group = static_cast<double>(num_hidden_layers) / static_cast<double>(num_hidden_groups);
        return static_cast<std::size_t>(static_cast<double>(i) / per_group);
    }

    /// Throws config_error if the values cannot describe a working model.
    void validate(const std::string& source = "config") const {
        auto need_positive = [&](std::size_t v, const char* field) {
            if (v == 0) throw config_error(source + ": '" + field + "' must be positive");
        };
        need_positive(vocab_size, "vocab_size");
        need_positive(embedding_size, "embedding_size");
        need_positive(hidden_size, "hidden_size");
        need_positive(num_hidden_layers, "num_hidden_layers");
        need_positive(num_hidden_groups, "num_hidden_groups");
        need_positive(num_attention_heads, "num_attention_heads");
        need_positive(intermediate_size, "intermediate_size");
        need_positive(inner_group_num, "inner_group_num");
        need_positive(max_position_embeddings, "max_position_embeddings");
        need_positive(type_vocab_size, "type_vocab_size");
        need_positive(num_labels, "num_labels");
        if (hidden_size % num_attention_heads != 0)
            throw config_error(source + ": hidden_size (" + std::to_string(hidden_size) +
                               ") is not a multiple of num_attention_heads (" +
                               std::to_string(num_attention_heads) + ")");
        if (!(layer_norm_eps >= 0.f))
            throw config_error(source + ": 'layer_norm_eps' must be a non-negative number");
        if (id2label.size() != num_labels)
            throw config_error(source + ": id2label has " + std::to_string(id2label.size()) +
                               " entries but num_labels is " + std::to_string(num_labels));
        try {
            (void)activation();
        } catch (const config_error& e) {
            throw config_error(source + ": hidden_act: " + e.what());
        }
    }

    /// Parse a config.json object. `source` names the file in error messages.
    static albert_config from_json(const nlohmann::json& j, const std::string& source = "config.json") {
        if (!j.is_object()) throw config_error(source + ": expected a JSON object");
        albert_config c;
        auto read_size = [&](const char* field, std::size_t& out) {
            auto it = j.find(field);
            if (it == j.end() || it->is_null()) return;
            if (!it->is_number_integer() || it->get<long long>() < 0)
                throw config_error(source + ": '" + field + "' must be a non-negative integer, got " + it->dump());
            out = static_cast<std::size_t>(it->get<long long>());
        };
        read_size("vocab_size", c.vocab_size);
        read_size("embedding_size", c.embedding_size);
        read_size("hidden_size", c.hidden_size);
        read_size("num_hidden_layers", c.num_hidden_layers);
        read_size("num_hidden_groups", c.num_hidden_groups);
        read_size("num_attention_heads", c.num_attention_heads);
        read_size("intermediate_size", c.intermediate_size);
        read_size("inner_group_num", c.inner_group_num);
        read_size("max_position_embeddings", c.max_position_embeddings);
        read_size("type_vocab_size", c.type_vocab_size);
        if (auto it = j.find("hidden_act"); it != j.end()) {
            if (!it->is_string()) throw config_error(source + ": 'hidden_act' must be a string, got " + it->dump());
            c.hidden_act = it->get<std::string>();
        }
        if (auto it = j.find("layer_norm_eps"); it != j.end()) {
            if (!it->is_number()) throw config_error(source + ": 'layer_norm_eps' must be a number, got " + it->dump());
            c.layer_norm_eps = it->get<float>();
        }
        if (auto it = j.find("position_embedding_type"); it != j.end()) {
            if (!it->is_string() || it->get<std::string>() != "absolute")
                throw config_error(source + ": position_embedding_type " + it->dump() +
                                   " is not supported (only \"absolute\")");
        }
        // Labels: as transformers' PretrainedConfig, id2label decides num_labels when present.
        bool has_labels = false;
        if (auto it = j.find("id2label"); it != j.end() && !it->is_null()) {
            if (!it->is_object() || it->empty())
                throw config_error(source + ": 'id2label' must be a non-empty object");
            std::vector<std::string> labels(it->size());
            std::vector<bool> seen(it->size(), false);
            for (auto kv = it->begin(); kv != it->end(); ++kv) {
                std::size_t idx = 0;
                try {
                    std::size_t used = 0;
                    long long v = std::stoll(kv.key(), &used);
                    if (used != kv.key().size() || v < 0) throw std::invalid_argument("x");
                    idx = static_cast<std::size_t>(v);
                } catch (const std::exception&) {
                    throw config_error(source + ": id2label key \"" + kv.key() + "\" is not a label index");
                }
                if (idx >= labels.size() || seen[idx])
                    throw config_error(source + ": id2label indices must be 0.." +
                                       std::to_string(labels.size() - 1) + " without gaps (bad key \"" +
                                       kv.key() + "\")");
                if (!kv.value().is_string())
                    throw config_error(source + ": id2label[\"" + kv.key() + "\"] must be a string");
                seen[idx] = true;
                labels[idx] = kv.value().get<std::string>();
            }
            c.id2label = std::move(labels);
            c.num_labels = c.id2label.size();
            has_labels = true;
        }
        if (auto it = j.find("num_labels"); it != j.end() && !it->is_null()) {
            std::size_t n = 0;
            read_size("num_labels", n);
            limits::check(n, current_limits().max_labels, "max_labels", source + ": num_labels");
            if (has_labels && n != c.num_labels)
                throw config_error(source + ": num_labels (" + std::to_string(n) + ") disagrees with id2label (" +
                                   std::to_string(c.num_labels) + " entries)");
            if (!has_labels) {
                c.num_labels = n;
                c.id2label.clear();
                for (std::size_t i = 0; i < n; ++i) c.id2label.push_back("LABEL_" + std::to_string(i));
            }
        }
        c.validate(source);
        return c;
    }

    /// Read and parse a config.json file.
    static albert_config load(const std::string& path) {
        return from_json(edgebert::detail::read_json_file<config_error>(path), path);
    }

    /// The config as HuggingFace's config.json would hold it (for writing models).
    nlohmann::json to_json() const {
        nlohmann::json j;
        j["model_type"] = "albert";
        j["architectures"] = {"AlbertForSequenceClassification"};
        j["vocab_size"] = vocab_size;
        j["embedding_size"] = embedding_size;
        j["hidden_size"] = hidden_size;
        j["num_hidden_layers"] = num_hidden_layers;
        j["num_hidden_groups"] = num_hidden_groups;
        j["num_attention_heads"] = num_attention_heads;
        j["intermediate_size"] = intermediate_size;
        j["inner_group_num"] = inner_group_num;
        j["hidden_act"] = hidden_act;
        j["max_position_embeddings"] = max_position_embeddings;
        j["type_vocab_size"] = type_vocab_size;
        j["layer_norm_eps"] = layer_norm_eps;
        j["position_embedding_type"] = "absolute";
        j["num_labels"] = num_labels;
        nlohmann::json labels = nlohmann::json::object();
        for (std::size_t i = 0; i < id2label.size(); ++i) labels[std::to_string(i)] = id2label[i];
        j["id2label"] = labels;
        return j;
    }
};

}  // namespace edgebert::model
