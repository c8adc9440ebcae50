// SPDX-License-Identifier: Apache-2.0
#pragma once
// An observer that writes the events of a run into an inference_trace: what the accelerator model prices
// (hw/). For a batch, the counts are the whole batch's; entropies and the exit layer are those of sentence 0.

#include <cstddef>
#include <vector>

#include "events.hpp"
#include "work_trace.hpp"

namespace edgebert::trace {

class recorder {
public:
    void on(const embeddings_event& e) {
        t_.seq_len = e.tokens;
        t_.embedding_size = e.embedding_size;
        t_.hidden_size = e.hidden_size;
        t_.vocab_size = e.vocab_size;
        t_.embedding_density = e.word_density;
        t_.layers_total = e.layers;
    }
    void on(const layer_begin_event& e) {
        layer_work w;
        w.layer = e.layer;
        w.seq_len = e.tokens;
        t_.layers.push_back(std::move(w));
        if (e.layer > t_.layers_total) t_.layers_total = e.layer;
    }
    void on(const matmul_event& e) {
        if (e.layer == 0) (e.work.what == product::embedding_projection ? t_.embedding_matmuls : t_.head_matmuls).push_back(e.work);
        else if (layer_work* w = current(e.layer)) w->matmuls.push_back(e.work);
    }
    void on(const attention_event& e) {
        if (layer_work* w = current(e.layer)) w->attention = e.work;
    }
    void on(const rowwise_event& e) {
        if (layer_work* w = current(e.layer)) w->rowwise.push_back(e.work);
    }
    void on(const off_ramp_event& e) {
        if (layer_work* w = current(e.layer)) w->entropy_labels = e.labels;
        if (e.batch && t_.exit_layer == 0) {  // sentence 0 still running
            t_.entropies.push_back(float(e.entropies[0]));
            entropies_.push_back(e.entropies[0]);
        }
    }
    void on(const exit_event& e) {
        if (e.sentence == 0) t_.exit_layer = e.layer;
    }

    /// The trace so far (layers_total: the model's depth, from the embeddings event).
    const inference_trace& trace() const noexcept { return t_; }
    /// Sentence 0's off-ramp entropies in full precision, as its exit policy saw them.
    const std::vector<double>& entropies() const noexcept { return entropies_; }
    inference_trace take() { return std::move(t_); }
    void set_depth(std::size_t layers) noexcept { t_.layers_total = layers; }

private:
    layer_work* current(std::size_t layer) noexcept {
        return !t_.layers.empty() && t_.layers.back().layer == layer ? &t_.layers.back() : nullptr;
    }
    inference_trace t_;
    std::vector<double> entropies_;
};

}  // namespace edgebert::trace
