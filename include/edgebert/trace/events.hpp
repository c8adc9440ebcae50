// SPDX-License-Identifier: Apache-2.0
#pragma once
// The events a forward pass reports to an observer, in the order it runs: the embeddings, then per layer
// layer_begin, its products, attention and row-wise operations, layer_end, the off-ramp after it and any
// exits; finally the pooler and classifier when some sentence reached them.
//
// An observer is any type; it receives an event if it has a member on(const E&) for it (checked at compile
// time), and nothing otherwise. null_observer has none: a run with it compiles to the same code as a run
// without observation. Counts are for the whole batch the model ran.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "work_trace.hpp"

namespace edgebert::trace {

struct embeddings_event {
    std::size_t tokens = 0;            ///< rows looked up (batch * seq)
    std::size_t embedding_size = 0;    ///< E
    std::size_t hidden_size = 0;       ///< H
    std::size_t vocab_size = 0;
    double word_density = 1.0;         ///< nonzero fraction of the word table
    std::size_t layers = 0;            ///< the model's depth (num_hidden_layers)
};
struct layer_begin_event {
    std::size_t layer = 0;   ///< 1-based depth
    std::size_t tokens = 0;  ///< rows of the activations (batch * seq)
};
struct layer_end_event {
    std::size_t layer = 0;
};
/// A matrix product; `layer` is 0 for products outside the encoder layers (embeddings, pooler, classifier).
struct matmul_event {
    std::size_t layer = 0;
    matmul_work work;
};
struct attention_event {
    std::size_t layer = 0;
    attention_work work;
};
struct rowwise_event {
    std::size_t layer = 0;
    rowwise_work work;
};
/// The off-ramp after `layer` ran for every sentence still running: logits [batch x labels] and the entropy
/// (natural log) of each row's softmax.
struct off_ramp_event {
    std::size_t layer = 0;
    std::size_t batch = 0;
    std::size_t labels = 0;
    const float* logits = nullptr;
    const double* entropies = nullptr;
};
/// Sentence `sentence` of the batch left after `layer` (its answer is that off-ramp's), or finished the model
/// (layer = the depth; its answer is the final classifier's).
struct exit_event {
    std::size_t sentence = 0;
    std::size_t layer = 0;
    bool early = false;
};

/// Does Observer take events of type Event?
template <class Observer, class Event, class = void>
struct observes : std::false_type {};
template <class Observer, class Event>
struct observes<Observer, Event, std::void_t<decltype(std::declval<Observer&>().on(std::declval<const Event&>()))>>
    : std::true_type {};
template <class Observer, class Event>
inline constexpr bool observes_v = observes<Observer, Event>::value;

/// Hand an event to an observer that takes it; nothing at all for one that does not.
template <class Observer, class Event>
inline void notify(Observer& observer, const Event& event) {
    if constexpr (observes_v<Observer, Event>) observer.on(event);
}

/// Does Observer take any event at all? (The model skips building events nobody receives.)
template <class Observer>
inline constexpr bool observes_anything_v =
    observes_v<Observer, embeddings_event> || observes_v<Observer, layer_begin_event> || observes_v<Observer, layer_end_event> ||
    observes_v<Observer, matmul_event> || observes_v<Observer, attention_event> || observes_v<Observer, rowwise_event> ||
    observes_v<Observer, off_ramp_event> || observes_v<Observer, exit_event>;

/// Receives nothing, costs nothing.
struct null_observer {};

/// Several observers as one: each event goes to every one that takes it.
template <class... Observers>
class fan_out {
public:
    explicit fan_out(Observers&... o) : all_(o...) {}
    template <class Event>
    void on(const Event& e) {
        std::apply([&](auto&... o) { (notify(o, e), ...); }, all_);
    }

private:
    std::tuple<Observers&...> all_;
};

}  // namespace edgebert::trace
