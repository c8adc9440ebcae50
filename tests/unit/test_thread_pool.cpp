// core/thread_pool.hpp: every job runs exactly once, on at most the threads asked for; each thread runs its own
// share of the jobs first and takes over a held-up thread's share; nested calls run serially; regions separated
// by pauses long enough for the workers to sleep still complete; several calling threads each get their own team.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/core/thread_pool.hpp>

using namespace edgebert;

TEST_CASE("parallel_for runs every job once on at most the threads asked for", "[thread_pool]") {
    for (int threads : {1, 2, 3, 5})
        for (std::size_t jobs : {0, 1, 2, 7, 64, 1000}) {
            CAPTURE(threads, jobs);
            std::vector<std::atomic<int>> count(jobs);
            std::mutex m;
            std::set<std::thread::id> ids;
            parallel_for(threads, jobs, [&](std::size_t j) {
                count[j].fetch_add(1);
                std::lock_guard<std::mutex> lk(m);
                ids.insert(std::this_thread::get_id());
            });
            for (std::size_t j = 0; j < jobs; ++j) REQUIRE(count[j].load() == 1);
            REQUIRE(ids.size() <= std::size_t(threads));
            if (threads == 1 || jobs <= 1) REQUIRE(ids.size() <= 1);
        }
}

TEST_CASE("parallel_for: a second thread takes jobs when the first is held up", "[thread_pool]") {
    // Job 0 waits until another job has run on another thread: passes only if the jobs really are shared.
    std::atomic<bool> other_ran{false};
    std::mutex m;
    std::thread::id job0_thread;
    std::vector<std::thread::id> others;
    parallel_for(2, 4, [&](std::size_t j) {
        if (j == 0) {
            {
                std::lock_guard<std::mutex> lk(m);
                job0_thread = std::this_thread::get_id();
            }
            const auto t0 = std::chrono::steady_clock::now();
            while (!other_ran.load() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
                std::this_thread::yield();
                std::lock_guard<std::mutex> lk(m);
                for (const auto& id : others) other_ran = other_ran || id != job0_thread;
            }
        } else {
            std::lock_guard<std::mutex> lk(m);
            others.push_back(std::this_thread::get_id());
            if (job0_thread != std::thread::id() && job0_thread != std::this_thread::get_id()) other_ran.store(true);
        }
    });
    REQUIRE(other_ran.load());
    REQUIRE(others.size() == 3);
}

TEST_CASE("parallel_for: each thread runs its own share first, then takes what is left of the others'", "[thread_pool]") {
    // 2 threads, 4 jobs: the caller's share is jobs 0-1, the worker's 2-3. Job 0 holds whichever thread runs it
    // until the other three have finished. The worker runs its share first, in order; then, if the caller is
    // in job 0, it takes job 1 from the caller's share, and if the caller had not started yet (a busy machine),
    // it takes job 0 itself and the caller runs job 1.
    std::mutex m;
    std::vector<std::pair<std::size_t, std::thread::id>> done;  // (job, thread) in the order they finished
    auto finished = [&] {
        std::lock_guard<std::mutex> lk(m);
        return done.size();
    };
    const std::thread::id caller = std::this_thread::get_id();
    parallel_for(2, 4, [&](std::size_t j) {
        if (j == 0) {
            const auto t0 = std::chrono::steady_clock::now();
            while (finished() < 3 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) std::this_thread::yield();
        }
        std::lock_guard<std::mutex> lk(m);
        done.emplace_back(j, std::this_thread::get_id());
    });
    REQUIRE(done.size() == 4);
    const std::thread::id worker = done[0].second;
    REQUIRE(worker != caller);
    REQUIRE(done[0].first == 2);
    REQUIRE(done[1] == std::make_pair(std::size_t(3), worker));
    REQUIRE(done[2].first == 1);
    REQUIRE(done[3].first == 0);
    REQUIRE(done[2].second != done[3].second);  // one of the caller's jobs ran on the worker
}

TEST_CASE("parallel_for: nested calls run serially inside the job", "[thread_pool]") {
    std::vector<std::atomic<int>> count(8 * 8);
    parallel_for(2, 8, [&](std::size_t i) {
        const auto me = std::this_thread::get_id();
        parallel_for(2, 8, [&](std::size_t j) {
            REQUIRE(std::this_thread::get_id() == me);
            count[i * 8 + j].fetch_add(1);
        });
    });
    for (auto& c : count) REQUIRE(c.load() == 1);
}

TEST_CASE("parallel_for: regions after the workers went to sleep, and from several callers", "[thread_pool]") {
    std::atomic<long> sum{0};
    for (int round = 0; round < 20; ++round) {
        parallel_for(3, 10, [&](std::size_t j) { sum.fetch_add(long(j)); });
        if (round % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));  // > the spin time
    }
    REQUIRE(sum.load() == 20 * 45);

    std::atomic<long> total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c)
        callers.emplace_back([&] {
            for (int round = 0; round < 200; ++round) parallel_for(2, 5, [&](std::size_t j) { total.fetch_add(long(j) + 1); });
        });
    for (auto& t : callers) t.join();
    REQUIRE(total.load() == 3 * 200 * 15);
}
