// SPDX-License-Identifier: Apache-2.0
#pragma once
// Golden cases of a model folder (golden.json, written by the exporter from PyTorch's outputs): inputs and the
// logits the model must give, checked on every load unless the caller opts out, as frugally-deep does. A changed
// weight byte, a wrong file or a reader bug shows up at load as a golden_mismatch naming the case.
//
//   {"format": "edgebert-golden", "atol": 1e-4, "rtol": 1e-4,
//    "cases": [{"name": "sst2 dev 0", "task": "sst2", "input_ids": [2, 96, 3], "token_type_ids": [0, 0, 0],
//               "logits": [0.16, -0.23]}, ...]}
// "task" names a task folder (tasks/<name>), or is "" for the backbone's own classifier; logits are the final
// classifier's after every layer (no early exit); token_type_ids may be left out (all 0).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "../core/token_batch.hpp"

namespace edgebert::model {

/// A golden case a model does not reproduce.
class golden_mismatch : public format_error {
public:
    using format_error::format_error;
};

struct golden_case {
    std::string name, task;
    token_ids input_ids, token_type_ids;
    std::vector<float> logits;
};

struct golden_set {
    double atol = 1e-4, rtol = 1e-4;
    std::vector<golden_case> cases;
    std::string source;

    static golden_set read(const std::string& path) {
        golden_set g;
        g.source = path;
        const nlohmann::json j = edgebert::detail::read_json_file<format_error>(path);
        auto bad = [&](const std::string& why) { return format_error(path + ": " + why); };
        try {
            if (!j.is_object() || j.value("format", "") != "edgebert-golden") throw bad("not an edgebert golden file (\"format\": \"edgebert-golden\")");
            g.atol = j.value("atol", g.atol);
            g.rtol = j.value("rtol", g.rtol);
            if (!(g.atol >= 0) || !(g.rtol >= 0)) throw bad("atol and rtol must be non-negative");
            if (!j.contains("cases") || !j["cases"].is_array() || j["cases"].empty()) throw bad("no \"cases\"");
            for (const auto& c : j["cases"]) {
                golden_case k;
                k.name = c.at("name").get<std::string>();
                k.task = c.value("task", "");
                k.input_ids = c.at("input_ids").get<token_ids>();
                if (c.contains("token_type_ids")) k.token_type_ids = c["token_type_ids"].get<token_ids>();
                k.logits = c.at("logits").get<std::vector<float>>();
                if (k.input_ids.empty() || k.logits.empty()) throw bad("case '" + k.name + "' has no input ids or no logits");
                if (!k.token_type_ids.empty() && k.token_type_ids.size() != k.input_ids.size())
                    throw bad("case '" + k.name + "' has " + std::to_string(k.token_type_ids.size()) + " token types for " +
                              std::to_string(k.input_ids.size()) + " ids");
                for (float v : k.logits)
                    if (!std::isfinite(v)) throw bad("case '" + k.name + "' has a logit that is not finite");
                g.cases.push_back(std::move(k));
            }
        } catch (const nlohmann::json::exception& e) {
            throw bad(std::string("malformed: ") + e.what());
        }
        return g;
    }

    /// run(case) -> the logits the model gives; golden_mismatch for the first case whose largest difference is
    /// over atol + rtol * |expected|, naming the case, the label and both values.
    template <class Run>
    void check(Run&& run) const {
        for (const golden_case& c : cases) {
            const std::vector<float> got = run(c);
            if (got.size() != c.logits.size())
                throw golden_mismatch(source + ": golden case '" + c.name + "' expects " + std::to_string(c.logits.size()) +
                                      " logits, the model gives " + std::to_string(got.size()));
            double worst = -1, excess = 0;
            std::size_t at = 0;
            for (std::size_t i = 0; i < got.size(); ++i) {
                const double d = std::abs(double(got[i]) - double(c.logits[i]));
                const double over = std::isnan(d) ? 1e300 : d - (atol + rtol * std::abs(double(c.logits[i])));
                if (over > excess || (worst < 0 && over > 0)) excess = over, worst = d, at = i;
            }
            if (worst >= 0)
                throw golden_mismatch(source + ": golden case '" + c.name + "' (task '" + c.task + "') differs: logit " +
                                      std::to_string(at) + " is " + std::to_string(got[at]) + ", expected " +
                                      std::to_string(c.logits[at]) + " (largest difference " + std::to_string(worst) +
                                      ", tolerance " + std::to_string(atol) + " + " + std::to_string(rtol) + " x |expected|)");
        }
    }
};

}  // namespace edgebert::model
