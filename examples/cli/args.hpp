// SPDX-License-Identifier: Apache-2.0
#pragma once
// Minimal "--flag value" parser for the edgebert tool: unknown flags and missing values are errors.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgebert_cli {

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class args {
public:
    /// known: flag names (without --) that take a value; switches: flags without a value.
    args(int argc, char** argv, int first, const std::vector<std::string>& known,
         const std::vector<std::string>& switches = {}) {
        for (int i = first; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "-h" || a == "--help") {
                help_ = true;
                continue;
            }
            if (a.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + a + "'");
            std::string key = a.substr(2), value;
            const auto eq = key.find('=');
            bool has_value = false;
            if (eq != std::string::npos) value = key.substr(eq + 1), key = key.substr(0, eq), has_value = true;
            const bool takes_value = contains(known, key), is_switch = contains(switches, key);
            if (!takes_value && !is_switch) throw usage_error("unknown option '--" + key + "'");
            if (is_switch) {
                values_[key].push_back(has_value ? value : "true");
                continue;
            }
            if (!has_value) {
                if (i + 1 >= argc) throw usage_error("option '--" + key + "' needs a value");
                value = argv[++i];
            }
            values_[key].push_back(value);
        }
    }
    bool help() const { return help_; }
    bool has(const std::string& k) const { return values_.count(k) > 0; }
    std::string get(const std::string& k) const {
        auto it = values_.find(k);
        if (it == values_.end()) throw usage_error("missing required option '--" + k + "'");
        return it->second.back();
    }
    std::string get(const std::string& k, const std::string& fallback) const { return has(k) ? get(k) : fallback; }
    std::vector<std::string> all(const std::string& k) const {
        auto it = values_.find(k);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }
    long long integer(const std::string& k, long long fallback, long long min_value) const {
        if (!has(k)) return fallback;
        const std::string v = get(k);
        std::size_t used = 0;
        long long x = 0;
        try {
            x = std::stoll(v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v.size() || v.empty()) throw usage_error("option '--" + k + "' expects an integer, got '" + v + "'");
        if (x < min_value)
            throw usage_error("option '--" + k + "' must be at least " + std::to_string(min_value) + ", got " + v);
        return x;
    }

private:
    static bool contains(const std::vector<std::string>& v, const std::string& k) {
        for (const auto& x : v)
            if (x == k) return true;
        return false;
    }
    std::map<std::string, std::vector<std::string>> values_;
    bool help_ = false;
};

}  // namespace edgebert_cli
