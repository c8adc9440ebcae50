// SPDX-License-Identifier: Apache-2.0
#pragma once
// Zero-copy Eigen views of what edgebert computes, for apps that live in Eigen. Not part of edgebert.hpp and not
// a dependency of the library: include it where you link Eigen (find_package(Eigen3) + Eigen3::Eigen). The views
// alias the result's storage: they are valid while the result lives and unchanged.

#include <cstddef>

#include <Eigen/Core>

#include "core/error.hpp"
#include "model/albert_model.hpp"
#include "pipeline/pipeline.hpp"

namespace edgebert::eigen {

/// Row-major float matrix, the layout of every edgebert output.
using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using const_matrix_view = Eigen::Map<const row_matrix>;
using const_vector_view = Eigen::Map<const Eigen::VectorXf>;

/// [batch x labels]: each sentence's answer logits.
inline const_matrix_view logits(const model::albert_output& o) {
    return const_matrix_view(o.logits.data(), Eigen::Index(o.batch), Eigen::Index(o.num_labels));
}
/// [batch x hidden]: the pooler output.
inline const_matrix_view pooler_output(const model::albert_output& o) {
    return const_matrix_view(o.pooler_output.data(), Eigen::Index(o.batch), Eigen::Index(o.hidden));
}
/// [batch * seq x hidden]: the last layer's output, one row per token (sentence b's tokens at rows b*seq ...).
inline const_matrix_view last_hidden_state(const model::albert_output& o) {
    return const_matrix_view(o.last_hidden_state.data(), Eigen::Index(o.batch * o.seq), Eigen::Index(o.hidden));
}
/// [batch * seq x hidden]: HuggingFace's hidden_states[layer] (0 = the projected embeddings); needs a run with
/// run_options::output_hidden_states.
inline const_matrix_view hidden_state(const model::albert_output& o, std::size_t layer) {
    if (o.hidden_states.empty()) throw config_error("hidden_state: the run did not keep hidden states (run_options::output_hidden_states)");
    if (layer > o.num_layers)
        throw input_error("hidden_state: layer " + std::to_string(layer) + " of a model with " + std::to_string(o.num_layers));
    const std::size_t n = o.batch * o.seq * o.hidden;
    return const_matrix_view(o.hidden_states.data() + layer * n, Eigen::Index(o.batch * o.seq), Eigen::Index(o.hidden));
}
/// The logits of a pipeline answer.
template <class Observer>
inline const_vector_view logits(const basic_answer<Observer>& a) {
    return const_vector_view(a.logits.data(), Eigen::Index(a.logits.size()));
}

}  // namespace edgebert::eigen
