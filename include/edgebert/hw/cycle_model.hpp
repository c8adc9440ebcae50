// SPDX-License-Identifier: Apache-2.0
#pragma once
// Cycles, executed operations and memory traffic of an inference trace on EdgeBERT's accelerator. The
// matrix engine follows the released SystemC model (reference/edgebert.md §6.3): (N0 x M) x (M x N1) in
// n x n x n tiles, 2n+1 cycles per tile (n to load both operands, n to produce n output vectors, one to
// hand over) unless `overlap_load`; operands are bit-mask encoded n-vectors read from the PU buffers once
// per tile; a product-sum is clock-gated when either operand vector is all zeros (Datapath_Top.h:154-161).
// The special-function units are FSMs with one state per n-vector pass at a fixed initiation interval
// (§6.4). The host sequences every step, so PU and SFU work do not overlap. Weights are fetched from their
// backing memory (SRAM or ReRAM) once per use into the buffers over the 64-bit AXI bus, one beat per
// accelerator cycle and one memory latency per burst; the released testbench runs that DMA and then the
// computation (weight_fetch::sequential), a double-buffered design would overlap them. The embedding rows
// are read from ReRAM before anything can start.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "../trace/work_trace.hpp"
#include "hw_params.hpp"
#include "memory_model.hpp"

namespace edgebert::hw {

/// The price of a piece of work independent of the clock: multiply by 1/f for time, by V^2 C for energy.
struct work_cost {
    double pu_cycles = 0;
    double softmax_cycles = 0, layer_norm_cycles = 0, elem_add_cycles = 0, entropy_cycles = 0, control_cycles = 0;
    double macs = 0;              ///< multiply-accumulates of the products (unpadded, zeros included)
    double macs_executed = 0;     ///< those not removed by zero gating (what burns MAC energy)
    double ideal_mac_cycles = 0;  ///< macs / n^2: the datapath fully used, no padding, no load cycles
    double sfu_ops = 0;           ///< SFU FSM states (n-vector operations)
    memory_traffic traffic;
    double fixed_ns = 0;          ///< memory latency compute cannot hide (ReRAM embedding rows before the first product)
    double fixed_beats = 0;       ///< AXI beats (accelerator cycles) of those reads
    double overlapped_ns = 0;     ///< memory latency of weight and spilled-activation transfers (one per burst)
    double fetch_beats = 0;       ///< AXI beats of those transfers
    bool sequential_fetch = true; ///< transfers before compute (released testbench) or hidden behind it

    double sfu_cycles() const noexcept { return softmax_cycles + layer_norm_cycles + elem_add_cycles + entropy_cycles; }
    double cycles() const noexcept { return pu_cycles + sfu_cycles() + control_cycles; }
    /// Wall time of the transfers at f MHz (us).
    double fetch_us(double f_mhz) const noexcept { return fetch_beats / f_mhz + overlapped_ns * 1e-3; }
    /// Wall time of this piece of work at a clock of f MHz (cycles / MHz = us).
    double time_us(double f_mhz) const noexcept {
        const double fixed = fixed_beats / f_mhz + fixed_ns * 1e-3, compute = cycles() / f_mhz, fetch = fetch_us(f_mhz);
        return fixed + (sequential_fetch ? compute + fetch : std::max(compute, fetch));
    }

    work_cost& operator+=(const work_cost& o) noexcept {
        pu_cycles += o.pu_cycles, softmax_cycles += o.softmax_cycles, layer_norm_cycles += o.layer_norm_cycles;
        elem_add_cycles += o.elem_add_cycles, entropy_cycles += o.entropy_cycles, control_cycles += o.control_cycles;
        macs += o.macs, macs_executed += o.macs_executed, ideal_mac_cycles += o.ideal_mac_cycles, sfu_ops += o.sfu_ops;
        traffic += o.traffic;
        fixed_ns += o.fixed_ns, overlapped_ns += o.overlapped_ns, fixed_beats += o.fixed_beats, fetch_beats += o.fetch_beats;
        sequential_fetch = sequential_fetch && o.sequential_fetch;
        return *this;
    }
};

/// Where a product's weight comes from.
enum class weight_source { none, sram, reram };

class cycle_model {
public:
    explicit cycle_model(hw_params p) : p_(std::move(p)) { p_.validate(); }
    const hw_params& params() const noexcept { return p_; }

    /// Fraction of product-sums that are not gated for a weight of element density d and an activation of
    /// element density d_in (zeros taken as independent: an n-vector is all zeros with probability (1-d)^n).
    double active_fraction(double d, double d_in = 1.0) const noexcept {
        d = std::min(1.0, std::max(0.0, d));
        d_in = std::min(1.0, std::max(0.0, d_in));
        const double n = double(p_.n);
        switch (p_.gating) {
            case zero_gating::none: return 1.0;
            case zero_gating::element: return d;
            case zero_gating::weight_vector: return 1.0 - std::pow(1.0 - d, n);
            case zero_gating::either_vector: break;
        }
        return (1.0 - std::pow(1.0 - d, n)) * (1.0 - std::pow(1.0 - d_in, n));
    }

    /// Transfer of `bits` from memory `m` over the AXI bus into `c`: one beat per accelerator cycle, one
    /// memory latency per burst of axi_burst_beats beats.
    void add_fetch(work_cost& c, double bits, const memory_tech& m, bool fixed) const {
        const double beats = std::ceil(bits / double(p_.axi_data_bits));
        const double ns = std::ceil(beats / double(p_.axi_burst_beats)) * m.read_latency_ns;
        (fixed ? c.fixed_beats : c.fetch_beats) += beats;
        (fixed ? c.fixed_ns : c.overlapped_ns) += ns;
    }

    /// (N0 x M) x (M x N1) with a second operand of density d, fetched from `src` (none: an activation), and a
    /// first operand (activations) of element density d_in.
    work_cost product(double N0, double M, double N1, double d, weight_source src, double d_in = 1.0) const {
        work_cost c;
        c.sequential_fetch = p_.fetch == weight_fetch::sequential;
        if (N0 <= 0 || M <= 0 || N1 <= 0) return c;
        const double n = double(p_.n), wb = double(p_.word_bits);
        const double tiles = std::ceil(N0 / n) * std::ceil(N1 / n) * std::ceil(M / n);
        const double tile_cycles = p_.overlap_load ? n : 2 * n + 1;
        const double active = active_fraction(d, d_in);
        c.pu_cycles = tiles * tile_cycles * (p_.skip_zero_work ? active : 1.0);
        c.macs = N0 * M * N1;
        c.macs_executed = c.macs * active;
        c.ideal_mac_cycles = c.macs / (n * n);
        // Both operand streams pop n vectors per tile; each vector is a mask word plus its stored lanes.
        c.traffic.buffer_read_bits = tiles * n * ((n * wb + n) + (n * wb * d + n));
        c.traffic.buffer_write_bits = N0 * N1 * (wb + 1);  // outputs re-encoded (dense activations + mask)
        if (src != weight_source::none) {
            const double bits = bitmask_bits(M * N1, M * N1 * d, wb);
            const memory_tech& m = src == weight_source::reram ? p_.reram : p_.sram;
            (src == weight_source::reram ? c.traffic.reram_read_bits : c.traffic.sram_read_bits) += bits;
            c.traffic.buffer_write_bits += bits;
            add_fetch(c, bits, m, false);
        }
        // Activations larger than one decoder's buffer live in the SRAM between steps.
        const double cap_bits = p_.input_buffer_bytes() * 8.0;
        if (N0 * M * wb > cap_bits) {
            c.traffic.sram_read_bits += N0 * M * wb;
            add_fetch(c, N0 * M * wb, p_.sram, false);
        }
        if (N0 * N1 * wb > cap_bits) c.traffic.sram_write_bits += N0 * N1 * wb;
        return c;
    }

    /// Where a product's weight lives: the shared backbone's in the backbone memory (ReRAM when
    /// backbone_in_reram), a task's own parts (adapters, off-ramps, poolers, classifiers) in SRAM.
    weight_source source_of(const model::matmul_work& m) const noexcept {
        return m.home == trace::weight_home::backbone && p_.backbone_in_reram ? weight_source::reram : weight_source::sram;
    }

    work_cost matmul(const model::matmul_work& m) const {
        const double all = double(m.in_features) * double(m.out_features);
        if (double(m.weight_nonzeros) > all)
            throw input_error(std::string("trace: product '") + trace::to_string(m.what) + "' has " + std::to_string(m.weight_nonzeros) + " nonzeros in a " +
                              std::to_string(m.in_features) + "x" + std::to_string(m.out_features) + " weight");
        const double d = all > 0 ? double(m.weight_nonzeros) / all : 1.0;
        if (!(m.input_density >= 0 && m.input_density <= 1))
            throw input_error(std::string("trace: product '") + trace::to_string(m.what) + "' has input_density " +
                              std::to_string(m.input_density) + " outside [0, 1]");
        return product(double(m.rows), double(m.in_features), double(m.out_features), d, source_of(m), m.input_density);
    }

    /// Q.K^T, softmax with the span mask, P.V. The released design computes every score and softmax entry
    /// (the span mask multiplies the probabilities); masked keys then form zero probability vectors that
    /// the P.V product gates. With skip_zero_work, masked keys and heads cost no cycles either.
    work_cost attention(const model::attention_work& a) const {
        work_cost c;
        if (a.heads == 0 || a.queries == 0) return c;
        if (a.keys_computed > a.keys_dense || a.heads_computed > a.heads)
            throw input_error("trace: attention computes more keys or heads than exist");
        const double q = double(a.queries), d = double(a.head_size), h = double(a.heads);
        const double dense = a.keys_dense ? double(a.keys_dense) : h * q * q;
        const double kept = double(a.keys_computed) / dense;
        work_cost qk = product(q, d, q, 1.0, weight_source::none), pv = product(q, q, d, 1.0, weight_source::none);
        for (work_cost* x : {&qk, &pv}) {
            x->pu_cycles *= h, x->macs *= h, x->macs_executed *= h, x->ideal_mac_cycles *= h;
            x->traffic = x->traffic.scaled(h), x->overlapped_ns *= h, x->fetch_beats *= h;
            if (p_.skip_zero_work) x->pu_cycles *= kept, x->macs_executed *= kept;
        }
        pv.macs_executed = p_.skip_zero_work ? pv.macs_executed : pv.macs * kept;
        c += qk;
        c += pv;
        // Softmax rows: every (head, query) at the full key length, or only the computed ones.
        double rows = h * q, width = q;
        if (p_.skip_zero_work) {
            rows = double(a.heads_computed) * q;
            width = rows > 0 ? double(a.keys_computed) / rows : 0;
        }
        if (rows > 0 && width > 0) {
            const double n = double(p_.n), wb = double(p_.word_bits);
            const double states = p_.softmax.states(rows, width, p_.n);
            c.softmax_cycles += double(p_.softmax.ii) * states;
            c.sfu_ops += states;
            const double vectors = rows * std::ceil(width / n);
            c.traffic.buffer_read_bits += 3 * vectors * n * wb + vectors * n * wb;  // three passes + span mask (aux)
            c.traffic.buffer_write_bits += rows * width * (wb + 1);
        }
        return c;
    }

    /// LayerNorm (two passes plus gamma and beta from the aux buffer) or element-wise add (two operands).
    work_cost rowwise(const model::rowwise_work& r) const {
        work_cost c;
        if (r.rows == 0 || r.width == 0) return c;
        const double rows = double(r.rows), width = double(r.width), wb = double(p_.word_bits);
        if (r.op == trace::rowwise_op::layer_norm) {
            const double states = p_.layer_norm.states(rows, width, p_.n);
            c.layer_norm_cycles = double(p_.layer_norm.ii) * states;
            c.sfu_ops = states;
            c.traffic.buffer_read_bits = 4 * rows * width * wb;
        } else {
            const double states = p_.elem_add.states(rows, width, p_.n);
            c.elem_add_cycles = double(p_.elem_add.ii) * states;
            c.sfu_ops = states;
            c.traffic.buffer_read_bits = 2 * rows * width * wb;
        }
        c.traffic.buffer_write_bits = rows * width * (wb + 1);
        return c;
    }

    /// Entropy of one off-ramp's logits (max pass, sum pass, evaluate).
    work_cost entropy(std::size_t labels) const {
        work_cost c;
        if (!labels) return c;
        const double states = p_.entropy.states(1, double(labels), p_.n);
        c.entropy_cycles = double(p_.entropy.ii) * states;
        c.sfu_ops = states;
        c.traffic.buffer_read_bits = 2 * double(labels) * double(p_.word_bits);
        return c;
    }

    work_cost layer(const model::layer_work& w) const {
        work_cost c;
        for (const model::matmul_work& m : w.matmuls) c += matmul(m);
        c += attention(w.attention);
        for (const model::rowwise_work& r : w.rowwise) c += rowwise(r);
        c += entropy(w.entropy_labels);
        return c;
    }

    /// Embedding rows from ReRAM (word rows bit-mask sparse, position and type rows dense), their two sums
    /// and LayerNorm at width E, then the E->H projection.
    work_cost embedding(const model::inference_trace& t) const {
        work_cost c;
        const double L = double(t.seq_len), E = double(t.embedding_size), wb = double(p_.word_bits);
        if (t.embedding_density < 0 || t.embedding_density > 1)
            throw input_error("trace: embedding_density " + std::to_string(t.embedding_density) + " is outside [0, 1]");
        const double bits = L * (bitmask_bits(E, E * t.embedding_density, wb) + 2 * E * wb);
        c.traffic.reram_read_bits = bits;
        c.traffic.buffer_write_bits = L * E * (wb + 1);
        // Each token's three rows are separate bursts: one ReRAM latency each.
        const double beats = std::ceil(bits / double(p_.axi_data_bits));
        c.fixed_beats = beats;
        c.fixed_ns = 3 * L * p_.reram.read_latency_ns;
        c += rowwise({trace::rowwise_op::residual_add, t.seq_len, t.embedding_size});  // word + position
        c += rowwise({trace::rowwise_op::residual_add, t.seq_len, t.embedding_size});  // + token type
        c += rowwise({trace::rowwise_op::layer_norm, t.seq_len, t.embedding_size});
        for (const model::matmul_work& m : t.embedding_matmuls) c += matmul(m);
        return c;
    }

    work_cost head(const model::inference_trace& t) const {
        work_cost c;
        for (const model::matmul_work& m : t.head_matmuls) c += matmul(m);
        return c;
    }

    /// The whole trace (segments summed; for time, price segments separately: time is not additive in
    /// overlapped transfers).
    work_cost total(const model::inference_trace& t) const {
        work_cost c = embedding(t);
        for (const model::layer_work& w : t.layers) c += layer(w);
        c += head(t);
        return c;
    }

private:
    hw_params p_;
};

}  // namespace edgebert::hw
