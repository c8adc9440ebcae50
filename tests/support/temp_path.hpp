// A private folder per test process, removed at exit, so parallel ctest runs never share files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <stdlib.h>

namespace test_util {

inline std::string temp_path(const std::string& name) {
    static const struct temp_dir {
        std::string path;
        temp_dir() {
            char tmpl[] = "/tmp/edgebert_test_XXXXXX";
            if (!::mkdtemp(tmpl)) std::abort();
            path = tmpl;
        }
        ~temp_dir() { std::filesystem::remove_all(path); }
    } dir;
    return dir.path + "/" + name;
}

}  // namespace test_util
