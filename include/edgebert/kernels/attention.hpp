// SPDX-License-Identifier: Apache-2.0
#pragma once
// Scaled dot-product self-attention over the heads of a fused Q|K|V projection:
//   ctx_h = softmax(Q_h K_hᵀ / sqrt(d) + mask) V_h  for every sequence and head.
// Keys after the last attended one are not computed at all (trailing padding costs nothing); other
// masked keys get probability exactly 0, which equals HuggingFace's additive float-min mask.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "../core/thread_pool.hpp"
#include "attention_span.hpp"
#include "gemm.hpp"
#include "softmax.hpp"

namespace edgebert::kernels {

/// Shapes of one attention call. qkv rows are [Q(H) | K(H) | V(H)] with H = heads * head_dim.
struct attention_shape {
    std::size_t batch = 1, seq = 0, heads = 1, head_dim = 0;
    std::size_t hidden() const noexcept { return heads * head_dim; }
};

namespace reference {
/// Scalar reference. qkv: [batch*seq x ldqkv], keep: [batch*seq] (nullptr = all keys), ctx: [batch*seq x ldctx].
/// span: optional adaptive span, applied densely (every key, mask multiplied, renormalised with + 1e-8).
inline void attention(const attention_shape& s, const float* qkv, std::size_t ldqkv, const std::uint8_t* keep,
                      float* ctx, std::size_t ldctx, const attention_span* span = nullptr) {
    const std::size_t H = s.hidden(), d = s.head_dim, S = s.seq;
    const double scale = 1.0 / std::sqrt(double(d));
    std::vector<float> scores(S), probs(S);
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t h = 0; h < s.heads; ++h)
            for (std::size_t i = 0; i < S; ++i) {
                const float* q = qkv + (b * S + i) * ldqkv + h * d;
                for (std::size_t j = 0; j < S; ++j) {
                    const float* k = qkv + (b * S + j) * ldqkv + H + h * d;
                    double acc = 0;
                    for (std::size_t t = 0; t < d; ++t) acc += double(q[t]) * k[t];
                    scores[j] = float(acc * scale);
                }
                softmax(scores.data(), S, keep ? keep + b * S : nullptr, probs.data());
                if (span) {
                    double total = 0;
                    for (std::size_t j = 0; j < S; ++j) total += double(probs[j] *= span->mask(h, i, j, S));
                    for (std::size_t j = 0; j < S; ++j) probs[j] = float(double(probs[j]) / (total + 1e-8));
                }
                float* out = ctx + (b * S + i) * ldctx + h * d;
                for (std::size_t t = 0; t < d; ++t) {
                    double acc = 0;
                    for (std::size_t j = 0; j < S; ++j)
                        acc += double(probs[j]) * qkv[(b * S + j) * ldqkv + 2 * H + h * d + t];
                    out[t] = float(acc);
                }
            }
}
}  // namespace reference

namespace detail {
EDGEBERT_ISA_BEGIN

/// p[j] *= m[j] for j < n; returns Σ p (SIMD partial sums: a scalar running sum would serialise on its latency).
inline float multiply_and_sum(float* p, const float* m, std::size_t n) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    batch acc(0.f);
    std::size_t j = 0;
    for (; j + W <= n; j += W) {
        const batch x = batch::load_unaligned(p + j) * batch::load_unaligned(m + j);
        x.store_unaligned(p + j);
        acc += x;
    }
    float total = xsimd::hadd(acc);
    for (; j < n; ++j) total += p[j] *= m[j];
    return total;
}

/// Context rows [i0, i1) of one (sequence, head) with an adaptive span: scores only for the keys inside the
/// block's nonzero window, softmax there, mask, renormalise, then P·V over the window.
inline void span_attention_block(const attention_span& span, std::size_t head, std::size_t i0, std::size_t i1,
                                 std::size_t keys, std::size_t seq, bool any_kept, const std::uint8_t* kb,
                                 const float* q, const float* v, std::size_t ldqkv, std::size_t d,
                                 float scale, float* ctx, std::size_t ldctx, aligned_buffer<float>& scores,
                                 const float* table, const float* k_t, attention_stats& stats) {
    // table: the head's mask by signed key distance + seq - 1 (distance variant) or by key position (absolute)
    const bool by_distance = span.variant == span_variant::distance;
    std::size_t lo = keys, hi = 0;
    for (std::size_t i = i0; i < i1; ++i) {
        std::size_t l, h;
        span.nonzero_keys(head, i, keys, seq, l, h);
        if (l < h) lo = std::min(lo, l), hi = std::max(hi, h), stats.keys_computed += h - l;
    }
    if (lo >= hi) {  // the mask is zero on every key of these queries: zero context, nothing computed
        for (std::size_t i = i0; i < i1; ++i) std::fill_n(ctx + i * ldctx, d, 0.f);
        return;
    }
    const std::size_t rows = i1 - i0, w = hi - lo;
    scores.reserve_scratch(rows * w);
    // k_t: this head's keys transposed once ([d x keys]), so each block packs its window by contiguous copies
    gemm_nn(rows, w, d, q + i0 * ldqkv, ldqkv, k_t + lo, keys, scores.data(), w);
    // mask == 1 exactly on keys within `ones` of the query (distance) or from key `ones` on (absolute)
    std::size_t ones_reach = 0, first_one = 0;
    bool any_one = false;
    if (by_distance) {
        for (std::size_t x = 0; x < seq && table[seq - 1 + x] == 1.f; ++x) any_one = true, ones_reach = x;
    } else {
        first_one = seq;
        while (first_one > 0 && table[first_one - 1] == 1.f) --first_one;
    }
    for (std::size_t i = i0; i < i1; ++i) {
        float* row = scores.data() + (i - i0) * w;
        std::size_t l, h;  // this query's own nonzero keys, inside the block's window
        span.nonzero_keys(head, i, keys, seq, l, h);
        if (l >= h) {
            std::fill_n(row, w, 0.f);
            continue;
        }
        std::fill(row, row + (l - lo), 0.f);
        std::fill(row + (h - lo), row + w, 0.f);
        float* p = row + (l - lo);
        const std::size_t n = h - l;
        const std::uint8_t* kw = kb ? kb + l : nullptr;
        bool window_kept = !kw;
        for (std::size_t j = 0; kw && j < n && !window_kept; ++j) window_kept = kw[j] != 0;
        if (any_kept && !window_kept) {  // every key this query may see is padding
            std::fill_n(p, n, 0.f);
            continue;
        }
        softmax_row(p, n, kw, scale);  // no key kept in the whole sentence: uniform, as HF's float-min mask
        const bool all_one = by_distance ? any_one && i - std::min(i, ones_reach) <= l && h <= i + ones_reach + 1
                                         : l >= first_one;
        if (all_one) continue;  // nothing masked: plain attention over these keys, no renormalisation
        // distance: the table is symmetric around seq - 1 (key - i + seq - 1), so a row's mask is contiguous
        const float* m = by_distance ? table + (seq - 1 - i) + l : table + l;
        const float inv = 1.f / (multiply_and_sum(p, m, n) + 1e-8f);
        for (std::size_t j = 0; j < n; ++j) p[j] *= inv;
    }
    gemm_nn(rows, d, w, scores.data(), w, v + lo * ldqkv, ldqkv, ctx + i0 * ldctx, ldctx);
}

/// When attention() takes the tiled (online-softmax) path, and its block sizes. Up to two_pass_keys attended
/// keys it keeps the two-pass path (S x S scores, at most 256 KiB per head; at 128 keys it was 0.5-4 % faster
/// than the tiled one). Past it: blocks of query_block rows against key_block keys, with a running max and sum.
/// A 96 x 512 score block is 192 KiB, against S x S scores of 576 KiB at 384 tokens and 1 MiB at 512, and up to
/// 512 keys it is one block: no rescaling, no partial context. 96 x 512 measured 3.5 % faster than 96 x 256 at
/// 384 tokens and 4 % at 512; 64 x 512 and 128 x 512 were within 1 % of it (bench_attention, 1 thread;
/// docs/performance.md, session 25).
struct attention_tiles {
    std::size_t query_block = 96, key_block = 512;
    static constexpr std::size_t two_pass_keys = 256;
};

/// One (sequence, head) in blocks, without an S x S score matrix: for each block of query rows, the key blocks
/// in order, with a running row max m and sum l (the online softmax):
///   m' = max(m, max_j s_j);  O = O·exp(scale (m - m')) + exp(scale (s - m'))·V_block;  l likewise;  ctx = O / l.
/// Kᵀ and V are packed once per head into the GEMM's panels (32 columns wide with AVX-512), which a key block
/// addresses in place. q, k, v: the head's first query/key/value (row stride ldqkv); keys: attended keys (later
/// ones skipped); kb: keep mask of the keys or nullptr; at least one key must be kept (a sentence that attends
/// nothing is uniform, which the caller handles).
inline void online_softmax_attention(std::size_t rows, std::size_t keys, std::size_t d, const float* q, const float* k,
                                     const float* v, std::size_t ldqkv, const std::uint8_t* kb, float scale, float* ctx,
                                     std::size_t ldctx, const attention_tiles& tiles) {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size, NV = 2, NR = NV * gemm_lanes;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const std::size_t bq = std::max<std::size_t>(1, tiles.query_block);
    const std::size_t bk = (std::max<std::size_t>(1, tiles.key_block) + NR - 1) / NR * NR;  // whole Kᵀ panels
    const std::size_t key_panels = (keys + NR - 1) / NR, value_panels = (d + NR - 1) / NR;
    thread_local aligned_buffer<float> k_packed, v_packed, scores, partial, state;
    float* kp = scratch(k_packed, key_panels * NR * std::max<std::size_t>(d, 1));
    float* vp = scratch(v_packed, value_panels * NR * keys);
    pack_transposed<NR>(k, keys, d, ldqkv, kp);  // B of Q·Kᵀ: [d x keys]
    pack_kn_panels<NR>(v, keys, d, ldqkv, vp);    // B of P·V: [keys x d]
    float* s = scratch(scores, bq * bk);
    float* part = scratch(partial, bq * d);
    float* running_max = scratch(state, 3 * bq);
    float* running_sum = running_max + bq;
    float* rescale = running_sum + bq;
    for (std::size_t i0 = 0; i0 < rows; i0 += bq) {
        const std::size_t h = std::min(bq, rows - i0), mpanels = (h + gemm_mr - 1) / gemm_mr;
        std::fill_n(running_max, h, neg_inf);
        std::fill_n(running_sum, h, 0.f);
        for (std::size_t j0 = 0; j0 < keys; j0 += bk) {
            const std::size_t w = std::min(bk, keys - j0);
            // scores of the block: the key panels [j0 / NR, ...) of the packed Kᵀ
            compute_tiles<NV>(make_a_operand(q + i0 * ldqkv, h, ldqkv, d, 1.f), h, d, kp + (j0 / NR) * d * NR, w, 0,
                              (w + NR - 1) / NR, 0, mpanels, s, w, {});
            for (std::size_t r = 0; r < h; ++r) {
                float* row = s + r * w;
                if (kb)
                    for (std::size_t j = 0; j < w; ++j)
                        if (!kb[j0 + j]) row[j] = neg_inf;
                const float m = std::max(running_max[r], row_max(row, w));
                if (m == neg_inf) {  // no kept key yet in this row: nothing to add, nothing to rescale
                    std::fill_n(row, w, 0.f);
                    rescale[r] = 1.f;
                    continue;
                }
                const float sum = exp_shifted(row, w, m, scale);
                rescale[r] = detail::exp_nonpositive(batch(scale * (running_max[r] - m))).get(0);  // -inf: 0
                running_sum[r] = running_sum[r] * rescale[r] + sum;
                running_max[r] = m;
            }
            // P·V of the block: rows [j0, j0 + w) of every value panel. The first key block's goes straight into
            // ctx; later ones into `part`, then ctx = ctx·rescale + part.
            const a_operand p_op = make_a_operand(s, h, w, w, 1.f);
            float* pv = j0 == 0 ? ctx + i0 * ldctx : part;
            const std::size_t ldpv = j0 == 0 ? ldctx : d;
            for (std::size_t p = 0; p < value_panels; ++p)
                compute_tiles<NV>(p_op, h, w, vp + p * keys * NR + j0 * NR, std::min(NR, d - p * NR), 0, 1, 0, mpanels,
                                  pv + p * NR, ldpv, {});
            if (j0 == 0) continue;
            for (std::size_t r = 0; r < h; ++r) {
                float* out = ctx + (i0 + r) * ldctx;
                const float* add = part + r * d;
                const batch f(rescale[r]);
                std::size_t t = 0;
                for (; t + W <= d; t += W)
                    xsimd::fma(batch::load_unaligned(out + t), f, batch::load_unaligned(add + t)).store_unaligned(out + t);
                for (; t < d; ++t) out[t] = std::fma(out[t], rescale[r], add[t]);
            }
        }
        for (std::size_t r = 0; r < h; ++r) {
            float* out = ctx + (i0 + r) * ldctx;
            const float inv = 1.f / running_sum[r];
            for (std::size_t t = 0; t < d; ++t) out[t] *= inv;
        }
    }
}

EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN
/// Fast path, threads across (sequence, head) pairs. Up to 256 attended keys: one GEMM for the scores, a softmax
/// per row and one GEMM for the context. Longer: detail::online_softmax_attention, in 96-query x 512-key blocks
/// with a running max and sum, so no S x S score matrix is formed.
/// span: optional adaptive span (see attention_span.hpp); stats: optional count of the work done.
EDGEBERT_KERNEL_API
void attention(const attention_shape& s, const float* qkv, std::size_t ldqkv, const std::uint8_t* keep,
               float* ctx, std::size_t ldctx, int threads = 1, const attention_span* span = nullptr,
               attention_stats* stats = nullptr)
#if EDGEBERT_KERNEL_BODIES
{
    const std::size_t H = s.hidden(), d = s.head_dim, S = s.seq;
    const float scale = 1.f / std::sqrt(float(d));
    const long long jobs = static_cast<long long>(s.batch * s.heads);
    if (span) span->validate(s.heads);
    std::vector<attention_stats> per_job(stats ? std::size_t(jobs) : 0);
    // core/thread_pool.hpp: (sequence, head) jobs handed out one at a time
    parallel_for(threads, std::size_t(jobs), [&](std::size_t job) {
        thread_local aligned_buffer<float> scores;
        const std::size_t b = std::size_t(job) / s.heads, h = std::size_t(job) % s.heads;
        const std::uint8_t* kb = keep ? keep + b * S : nullptr;
        std::size_t keys = S;  // keys past the last attended one are skipped entirely
        bool attends = true;
        if (kb) {
            while (keys > 0 && !kb[keys - 1]) --keys;
            if (keys == 0) keys = S, attends = false;  // nothing attended: uniform over all keys (HF's float-min mask)
            // Every key up to the last attended one kept (an unpadded sentence): no per-key mask test in each row.
            if (attends && std::all_of(kb, kb + keys, [](std::uint8_t kept) { return kept != 0; })) kb = nullptr;
        }
        const float* q = qkv + b * S * ldqkv + h * d;
        const float* k = q + H;
        const float* v = q + 2 * H;
        float* out = ctx + b * S * ldctx + h * d;
        thread_local aligned_buffer<float> table;
        bool spanned = span != nullptr;
        if (span) {  // the head's mask as a table; a mask of ones on every reachable key is plain attention
            const bool by_distance = span->variant == span_variant::distance;
            table.reserve_scratch(2 * S);
            float* t = table.data();
            bool ones = true;
            if (by_distance) {  // t[S - 1 + δ] = mask at key distance |δ|, δ in (-S, S)
                for (std::size_t x = 0; x < S; ++x) {
                    t[S - 1 + x] = t[S - 1 - x] = span->mask(h, x, 0, S);
                    ones = ones && t[S - 1 + x] == 1.f;
                }
            } else {  // t[j] = mask of key j
                for (std::size_t x = 0; x < S; ++x) {
                    t[x] = span->mask(h, 0, x, S);
                    ones = ones && (t[x] == 1.f || x >= keys);
                }
            }
            spanned = !ones;
        }
        if (spanned) {
            bool any_kept = !kb;
            for (std::size_t j = 0; kb && j < S && !any_kept; ++j) any_kept = kb[j] != 0;
            // Blocks of queries share one key window: the band of the distance variant stays narrow.
            const std::size_t block = span->variant == span_variant::distance ? 32 : S;
            thread_local aligned_buffer<float> k_t;
            k_t.reserve_scratch(d * keys);
            for (std::size_t j0 = 0; j0 < keys; j0 += 16)  // 16 x 16 tiles keep both sides in L1
                for (std::size_t t0 = 0; t0 < d; t0 += 16)
                    for (std::size_t j = j0; j < std::min(keys, j0 + 16); ++j)
                        for (std::size_t t = t0; t < std::min(d, t0 + 16); ++t) k_t.data()[t * keys + j] = k[j * ldqkv + t];
            attention_stats st;
            for (std::size_t i0 = 0; i0 < S; i0 += block)
                detail::span_attention_block(*span, h, i0, std::min(S, i0 + block), keys, S, any_kept, kb, q, v,
                                             ldqkv, d, scale, out, ldctx, scores, table.data(), k_t.data(), st);
            st.heads_computed = st.keys_computed > 0;
            if (stats) per_job[std::size_t(job)] = st;
            return;
        }
        if (attends && keys > detail::attention_tiles::two_pass_keys) {  // long: no S x S scores
            detail::online_softmax_attention(S, keys, d, q, k, v, ldqkv, kb, scale, out, ldctx, detail::attention_tiles{});
            if (stats) per_job[std::size_t(job)] = {1, S * keys};
            return;
        }
        scores.reserve_scratch(S * keys);
        gemm_nt(S, keys, d, 1.f, q, ldqkv, k, ldqkv, scores.data(), keys);  // the 1/sqrt(d) goes into the softmax
        for (std::size_t i = 0; i < S; ++i) softmax_row(scores.data() + i * keys, keys, kb, scale);
        gemm_nn(S, d, keys, scores.data(), keys, v, ldqkv, out, ldctx);
        if (stats) per_job[std::size_t(job)] = {1, S * keys};
    });
    if (stats)
        for (const attention_stats& st : per_job) stats->heads_computed += st.heads_computed, stats->keys_computed += st.keys_computed;
}
#else
;
#endif
EDGEBERT_ISA_END

}  // namespace edgebert::kernels
