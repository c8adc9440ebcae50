// SPDX-License-Identifier: Apache-2.0
#pragma once
// A HuggingFace model folder: config.json + model.safetensors (F32, F16 or BF16 tensors).

#include <memory>
#include <string>
#include <filesystem>
#include <system_error>

#include "../core/error.hpp"
#include "../core/albert_config.hpp"
#include "safetensors.hpp"

namespace edgebert::io {

struct hf_checkpoint {
    std::string folder;
    model::albert_config config;
    std::shared_ptr<const safetensors_file> weights;

    static hf_checkpoint open(const std::string& folder) {
        auto exists = [](const std::string& p) {
            std::error_code ec;
            return std::filesystem::exists(p, ec);
        };
        std::error_code ec;
        if (!std::filesystem::exists(folder, ec)) throw io_error("model folder '" + folder + "' does not exist");
        if (!std::filesystem::is_directory(folder, ec)) throw io_error("'" + folder + "' is not a folder (expected config.json + model.safetensors)");
        const std::string cfg = folder + "/config.json", weights = folder + "/model.safetensors";
        if (!exists(cfg)) throw io_error("no config.json in '" + folder + "'");
        if (!exists(weights)) {
            if (exists(folder + "/pytorch_model.bin"))
                throw io_error("'" + folder + "' holds pytorch_model.bin only; convert it to model.safetensors "
                               "(safetensors.torch.save_file) first");
            throw io_error("no model.safetensors in '" + folder + "'");
        }
        hf_checkpoint c;
        c.folder = folder;
        c.config = model::albert_config::load(cfg);
        c.weights = std::make_shared<const safetensors_file>(weights);
        return c;
    }
};

}  // namespace edgebert::io
