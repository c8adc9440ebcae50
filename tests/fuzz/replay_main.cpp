// SPDX-License-Identifier: Apache-2.0
// Plain driver for compilers without libFuzzer: runs LLVMFuzzerTestOneInput on every file named on the
// command line (directories are walked one level), so the corpora run as regression tests under gcc.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

static int run_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A private copy of exactly `size` bytes, as libFuzzer gives, so reading past the end is caught by ASan.
    std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
    static const std::uint8_t empty = 0;
    LLVMFuzzerTestOneInput(copy.empty() ? &empty : copy.data(), copy.size());
    return 0;
}

int main(int argc, char** argv) {
    int files = 0, failures = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        struct stat st {};
        if (::stat(arg.c_str(), &st) != 0) {
            std::fprintf(stderr, "no such file or directory: %s\n", arg.c_str());
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            std::vector<std::string> names;
            if (DIR* d = ::opendir(arg.c_str())) {
                while (const dirent* e = ::readdir(d))
                    if (e->d_name[0] != '.') names.push_back(arg + "/" + e->d_name);
                ::closedir(d);
            }
            for (const auto& n : names) failures += run_file(n), ++files;
        } else {
            failures += run_file(arg), ++files;
        }
    }
    std::printf("replayed %d inputs\n", files);
    return failures != 0 || files == 0;
}
