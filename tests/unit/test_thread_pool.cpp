// core/thread_pool.hpp: every job runs exactly once, on at most the threads asked for; nested calls run
// serially; regions separated by pauses long enough for the workers to sleep still complete; several calling
// threads each get their own team.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <thread>
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
