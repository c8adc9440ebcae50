// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <edgebert/hw/memory_model.hpp>

using namespace edgebert;
using namespace edgebert::hw;

TEST_CASE("access energy: per bit, V^2 on the DVFS rail, fixed off it", "[memory_model]") {
    memory_tech m{0.5, 0.25, 64, 2.0, 1.0, 4.0, false};
    CHECK(access_energy_pj(m, 1000, 400, 0.5, 0.8) == Approx(1000 * 0.5 + 400 * 0.25));
    m.on_dvfs_rail = true;
    CHECK(access_energy_pj(m, 1000, 400, 0.8, 0.8) == Approx(600));
    CHECK(access_energy_pj(m, 1000, 400, 0.4, 0.8) == Approx(600 * 0.25));
}

TEST_CASE("leakage scales with capacity, and with V on the rail", "[memory_model]") {
    memory_tech m{0, 0, 64, 1, 0.3, 8.0, false};
    CHECK(leakage_mw(m, 0.5, 0.8) == Approx(2.4));
    m.on_dvfs_rail = true;
    CHECK(leakage_mw(m, 0.4, 0.8) == Approx(1.2));
}

TEST_CASE("bit-mask storage and read time", "[memory_model]") {
    CHECK(bitmask_bits(16, 4, 8) == Approx(16 + 32));
    CHECK(bitmask_bits(3840000, 1536000, 8) / 8 == Approx(2016000));  // reference §7: 60 % sparse word embeddings
    memory_tech m{1, 1, 64, 10, 0, 0, false};
    CHECK(m.read_time_ns(64) == Approx(10));
    CHECK(m.read_time_ns(65) == Approx(20));
    CHECK(m.read_time_ns(0) == Approx(0));
}

TEST_CASE("traffic adds and scales", "[memory_model]") {
    memory_traffic a{1, 2, 3, 4, 5};
    a += memory_traffic{1, 1, 1, 1, 1};
    const memory_traffic b = a.scaled(2);
    CHECK(b.buffer_read_bits == 4);
    CHECK(b.buffer_write_bits == 6);
    CHECK(b.sram_read_bits == 8);
    CHECK(b.sram_write_bits == 10);
    CHECK(b.reram_read_bits == 12);
}

TEST_CASE("bad memory parameters name the key", "[memory_model]") {
    memory_tech m;
    m.read_pj_per_bit = -1;
    CHECK_THROWS_WITH(m.validate("memory.sram"), Catch::Contains("memory.sram.read_pj_per_bit"));
    m = memory_tech{};
    m.access_bits = 0;
    CHECK_THROWS_WITH(m.validate("memory.reram"), Catch::Contains("memory.reram.access_bits"));
}
