// SPDX-License-Identifier: Apache-2.0
// Golden verification at load (model/golden.hpp): a model folder's golden.json cases are rerun on every load.
#include <filesystem>
#include <set>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <edgebert/model.hpp>
#include <nlohmann/json.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;
namespace fs = std::filesystem;

namespace {
const std::string bundled = std::string(EDGEBERT_SOURCE_DIR) + "/models/albert-tiny-sst2-lang";

std::string fresh_copy(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("edgebert_golden_" + name);
    fs::remove_all(dir);
    fs::copy(bundled, dir, fs::copy_options::recursive);
    return dir.string();
}

/// Change one byte of a tensor in a safetensors file: the top byte (sign and exponent) of one F32 value.
void flip_byte_of(const std::string& file, const std::string& tensor, std::size_t element = 0) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    std::uint64_t header_len = 0;
    f.read(reinterpret_cast<char*>(&header_len), 8);
    std::string header(header_len, '\0');
    f.read(header.data(), std::streamsize(header_len));
    const auto h = nlohmann::json::parse(header);
    const std::uint64_t begin = h.at(tensor).at("data_offsets")[0].get<std::uint64_t>() + 8 + header_len + 4 * element + 3;
    f.seekg(std::streamoff(begin));
    char c = 0;
    f.read(&c, 1);
    // set the highest clear exponent bit below the top one: |w| grows 2^(2^(k+1))-fold and stays finite
    for (int k = 5; k >= 0; --k)
        if (!(c & (1 << k))) {
            c = char(c | (1 << k));
            break;
        }
    f.seekp(std::streamoff(begin));
    f.write(&c, 1);
}
}  // namespace

TEST_CASE("the bundled model carries golden cases for every task and passes them on load", "[golden]") {
    const auto g = model::golden_set::read(bundled + "/golden.json");
    std::set<std::string> tasks;
    for (const auto& c : g.cases) tasks.insert(c.task);
    CHECK(tasks == std::set<std::string>{"lang", "sst2"});
    CHECK_NOTHROW(model::multi_task_model::load(bundled));
}

TEST_CASE("a changed weight byte fails the load with the golden case and the largest difference", "[golden]") {
    const std::string dir = fresh_copy("flip");
    // [CLS] (id 2), which every case starts with: element 0 of row 2 of the word embeddings (E = 64)
    flip_byte_of(dir + "/model.safetensors", "albert.embeddings.word_embeddings.weight", 2 * 64);
    try {
        (void)model::multi_task_model::load(dir);
        FAIL("the load did not notice the changed weight");
    } catch (const model::golden_mismatch& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::Contains("golden case '") && Catch::Contains("dev 0") && Catch::Contains("largest difference"));
    }
    // the caller may opt out (and gets the changed model)
    model::load_options off;
    off.golden = model::golden_check::off;
    CHECK_NOTHROW(model::multi_task_model::load(dir, off));
    fs::remove_all(dir);
}

TEST_CASE("a task's changed adapter weight fails the load too", "[golden]") {
    const std::string dir = fresh_copy("adapter");
    const auto st = io::safetensors_file(dir + "/tasks/lang/adapter.safetensors");
    std::string first;
    for (const auto& t : st.tensors())
        if (t.name.find("adapter_up") != std::string::npos && t.name.find("weight") != std::string::npos) first = t.name;
    REQUIRE_FALSE(first.empty());
    flip_byte_of(dir + "/tasks/lang/adapter.safetensors", first);
    CHECK_THROWS_WITH(model::multi_task_model::load(dir), Catch::Contains("task 'lang'"));
    fs::remove_all(dir);
}

TEST_CASE("golden files: required, malformed, or naming a task the folder lacks", "[golden]") {
    const std::string dir = fresh_copy("files");
    model::load_options required;
    required.golden = model::golden_check::required;
    CHECK_NOTHROW(model::multi_task_model::load(dir, required));
    fs::remove(dir + "/golden.json");
    CHECK_NOTHROW(model::multi_task_model::load(dir));  // nothing to check by default
    CHECK_THROWS_WITH(model::multi_task_model::load(dir, required), Catch::Contains("no golden outputs"));
    std::ofstream(dir + "/golden.json") << R"({"format": "edgebert-golden", "cases": [{"name": "x", "input_ids": [2, 3]}]})";
    CHECK_THROWS_AS(model::multi_task_model::load(dir), format_error);
    std::ofstream(dir + "/golden.json") << R"({"format": "edgebert-golden", "cases": [{"name": "x", "task": "mrpc", "input_ids": [2, 3], "logits": [0, 1]}]})";
    CHECK_THROWS_WITH(model::multi_task_model::load(dir), Catch::Contains("task 'mrpc'"));
    std::ofstream(dir + "/golden.json") << R"({"format": "something else"})";
    CHECK_THROWS_WITH(model::multi_task_model::load(dir), Catch::Contains("golden.json"));
    fs::remove_all(dir);
}
