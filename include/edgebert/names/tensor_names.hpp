// SPDX-License-Identifier: Apache-2.0
#pragma once
// Every tensor name edgebert reads or writes, in one place: HuggingFace transformers' ALBERT
// (modeling_albert.py), EdgeBERT's additions (off-ramps "highway", spans, pruning masks) and AdapterHub's
// adapters and heads. Loaders, the compressor and the random-model builder ask here; no other file spells a
// tensor name.

#include <cstddef>
#include <string>

namespace edgebert::names {

// ---- HuggingFace ALBERT (AlbertForSequenceClassification; "albert." is the base model's prefix) -------------
inline const std::string base_prefix = "albert.";

inline std::string embeddings(const std::string& prefix) { return prefix + "embeddings."; }
inline std::string word_embeddings(const std::string& prefix) { return embeddings(prefix) + "word_embeddings.weight"; }
inline std::string position_embeddings(const std::string& prefix) { return embeddings(prefix) + "position_embeddings.weight"; }
inline std::string token_type_embeddings(const std::string& prefix) { return embeddings(prefix) + "token_type_embeddings.weight"; }
inline std::string embedding_norm(const std::string& prefix) { return embeddings(prefix) + "LayerNorm"; }
/// HF's registered buffer, present in some checkpoints and never a weight.
inline std::string position_ids(const std::string& prefix) { return embeddings(prefix) + "position_ids"; }
inline std::string mapping_in(const std::string& prefix) { return prefix + "encoder.embedding_hidden_mapping_in"; }
/// One AlbertLayer module: "encoder.albert_layer_groups.{g}.albert_layers.{j}." (with the prefix).
inline std::string albert_layer(const std::string& prefix, std::size_t group, std::size_t inner) {
    return prefix + "encoder.albert_layer_groups." + std::to_string(group) + ".albert_layers." + std::to_string(inner) + ".";
}
/// The parts of an AlbertLayer, relative to albert_layer(): Linear modules (".weight"/".bias" follow) and norms.
inline const char* const attention_parts[] = {"attention.query", "attention.key", "attention.value"};
inline const std::string attention_dense = "attention.dense";
inline const std::string attention_norm = "attention.LayerNorm";
inline const std::string ffn = "ffn";
inline const std::string ffn_output = "ffn_output";
inline const std::string full_layer_norm = "full_layer_layer_norm";
/// Every Linear of an AlbertLayer, relative to albert_layer().
inline const std::string encoder_linears[] = {"attention.query", "attention.key", "attention.value", "attention.dense", "ffn", "ffn_output"};
inline std::string pooler(const std::string& prefix) { return prefix + "pooler"; }
inline const std::string classifier = "classifier";
inline std::string weight(const std::string& module) { return module + ".weight"; }
inline std::string bias(const std::string& module) { return module + ".bias"; }
/// Heads of ALBERT's other tasks in a full checkpoint (MLM, sentence order): not used, skipped at load.
inline bool is_other_albert_head(const std::string& n) { return n.rfind("predictions.", 0) == 0 || n.rfind("sop_classifier.", 0) == 0; }

// ---- EdgeBERT ---------------------------------------------------------------------------------------------
/// Off-ramp i (0-based) after layer i + 1: DeeBERT/EdgeBERT's "highway".
inline std::string off_ramp(const std::string& prefix, std::size_t i) { return prefix + "encoder.highway." + std::to_string(i) + "."; }
/// EdgeBERT's AlbertHighway holds an nn.Linear "pooler"; DeeBERT's BertHighway a BertPooler ("pooler.dense").
inline const std::string off_ramp_pooler = "pooler";
inline const std::string off_ramp_pooler_dense = "pooler.dense";
inline const std::string off_ramp_classifier = "classifier";
/// A task's learned attention spans, one value per head (edgebert.safetensors).
inline const std::string span_value = "encoder.span.value";
/// Movement-pruning mask of a weight (a task that fine-tuned the encoder).
inline std::string mask_of(const std::string& weight_name) { return weight_name + ".mask"; }

// ---- AdapterHub ---------------------------------------------------------------------------------------------
/// The attention adapter named `name` of one AlbertLayer module (shared across depth, as AdapterHub does).
inline std::string attention_adapter(std::size_t group, std::size_t inner, const std::string& name) {
    return albert_layer("", group, inner) + "attention.attention_adapters.adapters." + name + ".";
}
inline std::string output_adapter(std::size_t group, std::size_t inner, const std::string& name) {
    return albert_layer("", group, inner) + "output_adapters.adapters." + name + ".";
}
/// edgebert's own per-depth layout: one adapter per (depth, inner layer).
inline std::string attention_adapter_at_depth(std::size_t depth, std::size_t inner, const std::string& name) {
    return "encoder.adapter_depth." + std::to_string(depth) + "." + std::to_string(inner) + ".attention_adapters.adapters." + name + ".";
}
inline std::string output_adapter_at_depth(std::size_t depth, std::size_t inner, const std::string& name) {
    return "encoder.adapter_depth." + std::to_string(depth) + "." + std::to_string(inner) + ".output_adapters.adapters." + name + ".";
}
/// Inside an adapter module: the down projection (after an optional LayerNorm at index 0), the up projection,
/// the LayerNorm after it.
inline const std::string adapter_down_first = "adapter_down.0.";
inline const std::string adapter_down_second = "adapter_down.1.";
inline const std::string adapter_up = "adapter_up.";
inline const std::string adapter_norm_after = "adapter_norm_after.";
/// The older adapter-transformers module names that newer files call "adapters".
inline const char* const legacy_adapter_modules[] = {"attention_text_task_adapters", "attention_text_lang_adapters",
                                                     "layer_text_task_adapters", "layer_text_lang_adapters"};
/// i-th Linear (0-based) of an AdapterHub classification head: "heads.<name>.<1 + 3i>.".
inline std::string head_linear(const std::string& head, std::size_t i) { return "heads." + head + "." + std::to_string(1 + 3 * i) + "."; }
inline bool is_head_tensor(const std::string& n) { return n.rfind("heads.", 0) == 0; }

// ---- What the compressor does to a tensor, by its name ------------------------------------------------------------
inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
inline bool is_layer_norm(const std::string& n) { return n.find("LayerNorm") != std::string::npos || n.find("layer_norm") != std::string::npos; }
/// A matrix of the shared encoder (Q, K, V, attention output, FFN): pruned and quantized.
inline bool is_encoder_matrix(const std::string& n) {
    return n.find("encoder.albert_layer_groups.") != std::string::npos && ends_with(n, ".weight") && !is_layer_norm(n);
}
inline bool is_embedding_table(const std::string& n) { return n.find("embeddings.") != std::string::npos && !is_layer_norm(n); }
inline bool is_word_embeddings(const std::string& n) { return n.find("word_embeddings") != std::string::npos; }
/// Matrices outside the encoder layers that are quantized too: the E->H projection, poolers, classifiers, off-ramps.
inline bool is_head_matrix(const std::string& n) {
    return ends_with(n, ".weight") && (n.find("pooler") != std::string::npos || n.rfind(classifier, 0) == 0 ||
                                       n.find("highway") != std::string::npos || n.find("embedding_hidden_mapping_in") != std::string::npos);
}

}  // namespace edgebert::names
