// SPDX-License-Identifier: Apache-2.0
// Peak resident memory of loading ALBERT-base (fp32) from a HuggingFace folder, against the size of its
// model.safetensors (docs/reliability.md). The parent writes a random ALBERT-base checkpoint; a fresh
// process (this program re-executed with --load) measures its own peak RSS (getrusage ru_maxrss) before
// loading, after loading and after one inference.
//
//   load_memory [--keep DIR] [--max-ratio R]
//
// Exit status 1 if the load's peak RSS increase exceeds R times the file size plus 8 MiB (default R 1.0: the
// file's pages are mapped, and each weight's pages are given back once it is packed, so the packed copies
// replace the file's pages instead of adding to them; docs/reliability.md).

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <edgebert/model/albert_model.hpp>

using namespace edgebert;

namespace {

long maxrss_kib() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;  // KiB on Linux
}
long rss_kib() {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// A field of /proc/self/status in KiB ("RssAnon", "RssFile"): heap copies versus pages of the mapping.
long status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    const std::string key = std::string(field) + ":";
    for (std::string line; std::getline(in, line);)
        if (line.compare(0, key.size(), key) == 0) return std::atol(line.c_str() + key.size());
    return -1;
}

model::albert_config albert_base() {
    model::albert_config c;  // albert-base-v2's config.json
    c.vocab_size = 30000, c.embedding_size = 128, c.hidden_size = 768, c.num_hidden_layers = 12;
    c.num_hidden_groups = 1, c.inner_group_num = 1, c.num_attention_heads = 12, c.intermediate_size = 3072;
    c.max_position_embeddings = 512, c.type_vocab_size = 2, c.hidden_act = "gelu_new", c.layer_norm_eps = 1e-12f;
    c.num_labels = 2, c.id2label = {"LABEL_0", "LABEL_1"};
    return c;
}

void write_checkpoint(const std::string& dir) {
    const model::albert_config cfg = albert_base();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/config.json") << cfg.to_json().dump(2);
    io::safetensors_writer w;
    {
        const io::memory_source src = model::albert_model::random_weights(cfg, 1);
        for (const auto& [name, t] : src.tensors()) w.add_f32(name, t.shape, t.values.data());
    }
    w.write(dir + "/model.safetensors");
}

// The measuring child: prints one line of numbers (KiB) for the parent.
int measure(const std::string& dir) {
    const long before = maxrss_kib(), rss_before = rss_kib();
    const model::albert_model m = model::albert_model::load(dir);
    const long after_load = maxrss_kib(), rss_loaded = rss_kib(), anon = status_kib("RssAnon"), file = status_kib("RssFile");
    model::run_options o;
    const auto out = m.forward(model::token_batch::from_rows({std::vector<std::int64_t>(128, 7)}), o);
    const long after_infer = maxrss_kib();
    std::printf("%ld %ld %ld %ld %ld %ld %ld %zu\n", before, rss_before, after_load, rss_loaded, anon, file, after_infer,
                out.logits.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--load") return measure(argv[2]);
    std::string dir;
    double max_ratio = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--keep") dir = argv[i + 1];
        else if (a == "--max-ratio") max_ratio = std::atof(argv[i + 1]);
    }
    const bool keep = !dir.empty();
    if (!keep) {
        char tmpl[] = "/tmp/edgebert_load_memory_XXXXXX";
        if (!::mkdtemp(tmpl)) return 1;
        dir = tmpl;
    }
    write_checkpoint(dir);
    const auto file_bytes = std::filesystem::file_size(dir + "/model.safetensors");

    // A fresh process, so that the writer's buffers do not count and ru_maxrss starts from the program alone.
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::execl("/proc/self/exe", argv[0], "--load", dir.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) line.append(buf, std::size_t(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!keep) std::filesystem::remove_all(dir);
    long before = 0, rss_before = 0, after_load = 0, rss_loaded = 0, anon = 0, file = 0, after_infer = 0;
    std::size_t logits = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        std::sscanf(line.c_str(), "%ld %ld %ld %ld %ld %ld %ld %zu", &before, &rss_before, &after_load, &rss_loaded, &anon,
                    &file, &after_infer, &logits) != 8) {
        std::printf("FAIL: the measuring process failed (status %d, output '%s')\n", status, line.c_str());
        return 1;
    }
    const double file_kib = double(file_bytes) / 1024.0, load_kib = double(after_load - before);
    std::printf("ALBERT-base fp32: model.safetensors %.1f MiB\n", file_kib / 1024);
    std::printf("peak RSS: %.1f MiB before loading, %.1f MiB after loading, %.1f MiB after one 128-token inference\n",
                before / 1024.0, after_load / 1024.0, after_infer / 1024.0);
    std::printf("current RSS: %.1f MiB before, %.1f MiB after loading (anonymous %.1f MiB, file-backed %.1f MiB)\n",
                rss_before / 1024.0, rss_loaded / 1024.0, anon / 1024.0, file / 1024.0);
    std::printf("load peak increase %.1f MiB = %.2f x file size (file + %.1f MiB)\n", load_kib / 1024, load_kib / file_kib,
                (load_kib - file_kib) / 1024);
    const bool ok = load_kib <= max_ratio * file_kib + 8 * 1024.0;
    std::printf("%s (bound: %.2f x file + 8 MiB)\n", ok ? "PASS" : "FAIL", max_ratio);
    return ok ? 0 : 1;
}
