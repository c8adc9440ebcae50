// SPDX-License-Identifier: Apache-2.0
#pragma once
// The kernels' own threads: parallel_for(threads, jobs, f) runs f(0) .. f(jobs - 1) on up to `threads` threads,
// the caller being one of them, and returns when all are done.
//
// Why not OpenMP's parallel regions: libgomp's idle threads spin for a long time (GOMP_SPINCOUNT, 300 000 by
// default) before they sleep, and a layer has about seven regions. On a machine whose other core is busy a
// spinning thread takes the time slice the working one needs, and a 2-thread forward pass measured up to 40x
// slower than with OMP_WAIT_POLICY=passive (docs/performance.md). Here:
//   * a waiting thread (a worker between regions, the caller at the end of one) spins for a bounded time
//     (spin_microseconds(), 50 µs by default; EDGEBERT_SPIN_US overrides it) and then sleeps on a condition
//     variable, so a busy core is handed back quickly;
//   * each team member has a contiguous share of the jobs (member t: jobs [jobs*t/T, jobs*(t+1)/T)), runs it in
//     order, then takes what is left of the others' shares one job at a time. On an idle machine member t gets
//     the same jobs in every region of the same shape: a GEMM's column chunks, so each core streams the same
//     half of the weights at every layer (ALBERT reuses one layer's weights at every depth), and that half can
//     stay in the core's own L3 (on this project's 2-core VMs the two cores do not share one; docs/performance.md,
//     session 21). A thread that the OS does not schedule still holds no one up: the others take its share;
//   * each calling thread has its own workers (thread_local), so concurrent inferences do not share a team;
//     a parallel_for inside a job runs serially on the thread that reached it.
// Which thread runs a job depends on timing; callers make each job's result independent of that (the GEMMs
// compute every element in one fixed order whatever thread does it).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace edgebert {

namespace pool_detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

/// How long a waiting thread spins before it sleeps.
inline std::chrono::microseconds spin_microseconds() noexcept {
    static const long us = [] {
        const char* e = std::getenv("EDGEBERT_SPIN_US");
        char* end = nullptr;
        const long v = e ? std::strtol(e, &end, 10) : -1;
        return e && end != e && v >= 0 ? v : 50L;
    }();
    return std::chrono::microseconds(us);
}

/// Spin until done() (true) or the spin time is over (false).
template <class Done>
inline bool spin_until(Done&& done) noexcept {
    const auto budget = spin_microseconds();
    if (budget.count() == 0) return done();
    const auto start = std::chrono::steady_clock::now();
    for (unsigned i = 1;; ++i) {
        if (done()) return true;
        cpu_relax();
        if (i % 64 == 0 && std::chrono::steady_clock::now() - start > budget) return done();
    }
}

inline bool& inside_parallel_job() noexcept {
    thread_local bool inside = false;
    return inside;
}

class worker_team {
public:
    using job_fn = void (*)(void* ctx, std::size_t job);

    worker_team() = default;
    worker_team(const worker_team&) = delete;
    worker_team& operator=(const worker_team&) = delete;
    ~worker_team() {
        {
            std::lock_guard<std::mutex> lk(wake_mutex_);
            stop_.store(true);
            state_.fetch_add(std::uint64_t(1) << 8);  // a new epoch, team 0: every worker wakes and sees stop_
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }

    static worker_team& of_this_thread() {
        thread_local worker_team team;
        return team;
    }

    /// fn(ctx, j) for every j < jobs on `threads` threads (this one included).
    void run(std::size_t threads, std::size_t jobs, job_fn fn, void* ctx) {
        threads = std::min<std::size_t>(std::min<std::size_t>(threads, jobs), max_team);
        if (threads <= 1) {
            for (std::size_t j = 0; j < jobs; ++j) fn(ctx, j);
            return;
        }
        while (workers_.size() + 1 < threads) {
            // the epoch before this region's: a new worker may start running only after it is published
            const std::size_t index = workers_.size() + 1;
            const std::uint64_t before = state_.load() >> 8;
            workers_.emplace_back([this, index, before] { work(index, before); });
        }
        fn_ = fn;
        ctx_ = ctx;
        team_ = threads;
        for (std::size_t t = 0; t < threads; ++t) {
            shares_[t].next.store(jobs * t / threads, std::memory_order_relaxed);
            shares_[t].end = jobs * (t + 1) / threads;
        }
        pending_.store(threads - 1);
        // epoch and team size in one word, so a worker never pairs one region's epoch with another's team
        const std::uint64_t epoch = (state_.load() >> 8) + 1;
        state_.store(epoch << 8 | threads);
        if (sleepers_.load() > 0) {
            std::lock_guard<std::mutex> lk(wake_mutex_);
            wake_.notify_all();
        }
        take_jobs(0);
        if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock<std::mutex> lk(done_mutex_);
            caller_sleeping_.store(true);
            done_.wait(lk, [&] { return pending_.load() == 0; });
            caller_sleeping_.store(false);
        }
    }

private:
    // Member `index` runs its own share in order, then whatever is left of the others' shares.
    void take_jobs(std::size_t index) {
        bool& inside = inside_parallel_job();
        inside = true;
        for (std::size_t r = 0; r < team_; ++r) {
            share& s = shares_[(index + r) % team_];
            for (std::size_t j; (j = s.next.fetch_add(1, std::memory_order_relaxed)) < s.end;) fn_(ctx_, j);
        }
        inside = false;
    }

    void work(std::size_t index, std::uint64_t seen) {
        for (;;) {
            std::uint64_t s = 0;
            auto changed = [&] { return ((s = state_.load(std::memory_order_acquire)) >> 8) != seen; };
            if (!spin_until(changed)) {
                std::unique_lock<std::mutex> lk(wake_mutex_);
                sleepers_.fetch_add(1);
                wake_.wait(lk, changed);
                sleepers_.fetch_sub(1);
            }
            seen = s >> 8;
            if (stop_.load()) return;
            if (index >= (s & max_team)) continue;  // not in this region's team
            take_jobs(index);
            if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
                std::lock_guard<std::mutex> lk(done_mutex_);
                done_.notify_one();
            }
        }
    }

    /// The largest team: its size is the low byte of state_.
    static constexpr std::size_t max_team = 0xFF;
    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> state_{0};  // epoch << 8 | team size
    /// One team member's contiguous share of a region's jobs: [first, end), `next` the first not yet taken.
    struct alignas(64) share {
        std::atomic<std::size_t> next{0};
        std::size_t end = 0;
    };
    std::unique_ptr<share[]> shares_ = std::make_unique<share[]>(max_team);
    std::size_t team_ = 0;
    std::atomic<std::size_t> pending_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> caller_sleeping_{false}, stop_{false};
    job_fn fn_ = nullptr;
    void* ctx_ = nullptr;
    std::mutex wake_mutex_, done_mutex_;
    std::condition_variable wake_, done_;
};

}  // namespace pool_detail

/// f(j) for j in [0, jobs) on up to `threads` threads (this one among them): each thread runs its own contiguous
/// share of the jobs first (the caller the first share), then helps with the others' one job at a time;
/// returns when every job is done. threads <= 1, one job, or a call from inside a job: a plain loop here.
/// f must not throw.
template <class F>
inline void parallel_for(int threads, std::size_t jobs, F&& f) {
    if (threads <= 1 || jobs <= 1 || pool_detail::inside_parallel_job()) {
        for (std::size_t j = 0; j < jobs; ++j) f(j);
        return;
    }
    using Fn = std::remove_reference_t<F>;
    pool_detail::worker_team::of_this_thread().run(std::size_t(threads), jobs,
                                              [](void* ctx, std::size_t j) { (*static_cast<Fn*>(ctx))(j); },
                                              const_cast<void*>(static_cast<const void*>(std::addressof(f))));
}

}  // namespace edgebert
