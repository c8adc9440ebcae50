// SPDX-License-Identifier: Apache-2.0
// The accelerator model on the shared data: EdgeBERT's SST-2, QNLI and MNLI traces and NVMExplorer's rows.
// Without ../shared/data the test exits with 77, which ctest reports as skipped (tests/CMakeLists.txt).
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/exit/entropy_trace.hpp>
#include <edgebert/exit/evaluate.hpp>
#include <edgebert/exit/predictor.hpp>
#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
const std::string shared = EDGEBERT_SHARED_DATA_DIR;
bool exists(const std::string& path) { return std::ifstream(path).good(); }
void require_data(const std::string& path) {
    if (!exists(path)) {
        WARN(path + " not found: skipped");
        std::exit(77);
    }
}
/// Field `column` (0-based) of line `line` (1-based, the header is line 1) of a CSV file.
std::vector<std::string> csv_line(const std::string& path, std::size_t line) {
    std::ifstream in(path);
    std::string text;
    for (std::size_t i = 0; i < line && std::getline(in, text); ++i) {}
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string field;
    while (std::getline(ss, field, ',')) {
        const auto b = field.find_first_not_of(' ');
        out.push_back(b == std::string::npos ? "" : field.substr(b));
    }
    return out;
}
std::size_t column(const std::string& path, const std::string& name) {
    const auto header = csv_line(path, 1);
    for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return i;
    FAIL("no column " + name + " in " + path);
    return 0;
}
double number(const std::string& path, std::size_t line, const std::string& name) {
    return std::stod(csv_line(path, line)[column(path, name)]);
}
exit::entropy_threshold entropy(double t) {
    exit::entropy_threshold e;
    e.thresholds = {t};
    return e;
}
}  // namespace

TEST_CASE("the memory defaults are the named NVMExplorer rows", "[hw_data][nvmexplorer]") {
    const std::string sram = shared + "/nvmexplorer/SRAM.csv", rram = shared + "/nvmexplorer/RRAM.csv";
    require_data(sram);
    require_data(rram);
    const auto srow = csv_line(sram, 317);
    CHECK(srow[column(sram, "MemoryCellInputFile")] == "data/cell_cfgs/SRAM_best_case.cell");
    CHECK(srow[column(sram, "OptimizationTarget")] == "ReadDynamicEnergy");
    CHECK(srow[column(sram, "Capacity (MB)")] == "2");
    CHECK(srow[column(sram, "WordWidth (bit)")] == "64");
    const hw_params p;
    CHECK(p.sram.read_pj_per_bit == Approx(number(sram, 317, "Read Energy (pJ)") / 64));
    CHECK(p.sram.write_pj_per_bit == Approx(number(sram, 317, "Write Energy (pJ)") / 64));
    CHECK(p.sram.read_latency_ns == Approx(number(sram, 317, "Read Latency (ns)")));
    CHECK(p.sram.leakage_mw_per_mib == Approx(number(sram, 317, "Leakage Power (mW)") / 2));
    CHECK(p.sram.area_mm2_per_mib == Approx(number(sram, 317, "Area (mm^2)") / 2));
    const auto rrow = csv_line(rram, 197);
    CHECK(rrow[column(rram, "MemoryCellInputFile")] == "data/cell_cfgs/RRAM_best_case.cell");
    CHECK(rrow[column(rram, "OptimizationTarget")] == "ReadDynamicEnergy");
    CHECK(rrow[column(rram, "Capacity (MB)")] == "2");
    CHECK(p.reram.read_pj_per_bit == Approx(number(rram, 197, "Read Energy (pJ)") / 64));
    CHECK(p.reram.read_latency_ns == Approx(number(rram, 197, "Read Latency (ns)")));
    CHECK(p.reram.leakage_mw_per_mib == Approx(number(rram, 197, "Leakage Power (mW)") / 2));
    CHECK(p.reram.area_mm2_per_mib == Approx(number(rram, 197, "Area (mm^2)") / 2));
}

TEST_CASE("SST-2: the 16-bin LUT reaches exactly the bins its thresholds allow", "[hw_data][lut]") {
    const std::string dir = shared + "/edgebert-sst2";
    require_data(dir + "/dataset_sst2_eval.txt");
    const auto traces = exit::entropy_traces::load(dir + "/dataset_sst2_eval.txt");
    exit::predictor_policy pp;
    pp.lut = exit::exit_predictor::load_csv(dir + "/sst2_lookup_table_opt.csv");
    pp.threshold = 0.16;
    const hw_params p;
    energy_options o;
    o.target_ms = 120;
    energy_reporter r(p, entropy(0.16), pp, o);
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12));
    const energy_summary sum = r.summarize(price_sequence(r, s, traces));
    // By hand (awk over the trace): of the sentences with H1 >= 0.16 (the others leave at layer 1), 55 have
    // H1 < 0.25 (bin 0), 261 have 0.25 <= H1 < 0.5 (bin 1), 489 have 0.5 <= H1 < 1 (bin 2); none is higher.
    std::vector<std::size_t> expect(16, 0);
    expect[0] = 55, expect[1] = 261, expect[2] = 489;
    CHECK(sum.bin_histogram == expect);
    CHECK(sum.edgebert.mean_exit_layer == Approx(exit::evaluate(pp, traces).mean_exit_layer));
    CHECK(sum.early_exit.mean_exit_layer == Approx(exit::evaluate(entropy(0.16), traces).mean_exit_layer));
}

TEST_CASE("MNLI: keyed on layer 3, three labels from the trace", "[hw_data][mnli]") {
    const std::string dir = shared + "/edgebert-glue";
    require_data(dir + "/mnli_dev_entropies.txt");
    const auto traces = exit::entropy_traces::load(dir + "/mnli_dev_entropies.txt");
    CHECK(traces.sentences() == 9799);
    double max_h = 0;
    for (double h : traces.values) max_h = std::max(max_h, h);
    CHECK(max_h > std::log(2.0));  // a 2-label pricing would be wrong
    CHECK(max_h <= std::log(3.0) + 1e-6);
    CHECK_THROWS_WITH(exit::exit_predictor::load_csv(dir + "/mnli_lookup_table_opt_layer3.csv", 1).check_shape(12, "mnli"),
                      Catch::Contains("keyed on layer 1") && Catch::Contains("key layer 3"));
    exit::predictor_policy pp;
    pp.lut = exit::exit_predictor::load_csv(dir + "/mnli_lookup_table_opt_layer3.csv", 3);
    pp.lut.check_shape(12, "mnli");
    pp.threshold = 0.46;
    albert_shape shape;
    shape.labels = 3;
    const hw_params p;
    energy_reporter r(p, entropy(0.46), pp, energy_options{});
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(shape, 12));
    CHECK(s.labels == 3);
    CHECK(r.key_layer() == 3);
    const energy_summary sum = r.summarize(price_sequence(r, s, traces));
    CHECK(sum.edgebert.mean_exit_layer == Approx(exit::evaluate(pp, traces).mean_exit_layer));
    // three labels reach bin 3 (ln 3 = 1.0986 -> 1124 >= 1024); nothing above
    std::size_t above = 0;
    for (std::size_t b = 4; b < 16; ++b) above += sum.bin_histogram[b];
    CHECK(above == 0);
}
