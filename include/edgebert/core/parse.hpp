// SPDX-License-Identifier: Apache-2.0
#pragma once
// Numbers from text, the same in every C locale: std::from_chars, never strtod/stod (which read "1.18" as 1 under
// a locale whose decimal separator is a comma), and std::to_chars back. One helper for the library and its tools.

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "error.hpp"

namespace edgebert {

/// The whole of `text` as a number ("1.5", "-2e-3", "inf", "nan"; leading '+' accepted), or nothing.
inline std::optional<double> to_number(std::string_view text) noexcept {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

/// The whole of `text` as a number that is not NaN; config_error naming `what` otherwise.
inline double parse_number(std::string_view text, const std::string& what) {
    const std::optional<double> v = to_number(text);
    if (!v || std::isnan(*v)) throw config_error(what + ": \"" + std::string(text) + "\" is not a number");
    return *v;
}

/// The shortest text that reads back as exactly `v` ("0.45", "1e-05"), in every locale.
inline std::string format_number(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

}  // namespace edgebert
