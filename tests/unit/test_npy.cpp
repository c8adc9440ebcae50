#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/io/npy.hpp>

using namespace edgebert;
using namespace edgebert::io;

namespace {
std::vector<std::uint8_t> read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
std::vector<std::uint8_t> make_npy(const std::string& dict, const std::vector<std::uint8_t>& body, int major = 1) {
    std::string h = dict;
    const std::size_t pre = major == 1 ? 10 : 12;
    h.append((64 - (pre + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
    std::vector<std::uint8_t> out{0x93, 'N', 'U', 'M', 'P', 'Y', std::uint8_t(major), 0};
    out.push_back(std::uint8_t(h.size()));
    out.push_back(std::uint8_t(h.size() >> 8));
    if (major > 1) out.push_back(0), out.push_back(0);
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}
npy_array parse(const std::vector<std::uint8_t>& b) { return parse_npy(b.data(), b.size(), "x"); }
template <class T>
std::vector<std::uint8_t> as_bytes(std::initializer_list<T> v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    std::memcpy(b.data(), v.begin(), b.size());
    return b;
}
}  // namespace

TEST_CASE("float32 and int64 arrays written like numpy.save read back", "[npy]") {
    const float f[6] = {1.5f, -2.f, 0.f, 3.f, 1e-20f, -1e20f};
    write_npy("test_npy_f.npy", f, {2, 3});
    const auto bytes = read_all("test_npy_f.npy");
    REQUIRE(bytes.size() == 128 + 24);
    CHECK((10 + (bytes[8] | bytes[9] << 8)) % 64 == 0);
    CHECK(std::string(bytes.begin() + 10, bytes.begin() + 70).find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == 0);
    CHECK(bytes[127] == '\n');
    const auto a = read_npy("test_npy_f.npy");
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.data == std::vector<float>(f, f + 6));

    const std::int64_t ids[3] = {5, -7, 1234567};
    write_npy("test_npy_i.npy", ids, {3});
    const auto ibytes = read_all("test_npy_i.npy");
    CHECK(std::string(ibytes.begin() + 10, ibytes.begin() + 128).find("'shape': (3,)") != std::string::npos);
    CHECK(read_npy("test_npy_i.npy").data == std::vector<float>{5.f, -7.f, 1234567.f});

    write_npy("test_npy_s.npy", f, {});
    CHECK(read_npy("test_npy_s.npy").shape.empty());
    CHECK(read_npy("test_npy_s.npy").data == std::vector<float>{1.5f});
}

TEST_CASE("other numeric dtypes and header versions are read", "[npy]") {
    auto d = parse(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", as_bytes<double>({0.25, -3.0})));
    CHECK(d.data == std::vector<float>{0.25f, -3.f});
    d = parse(make_npy("{'shape': (3,), 'fortran_order': False, 'descr': '|i1', }", {0xFF, 0x02, 0x80}));
    CHECK(d.data == std::vector<float>{-1.f, 2.f, -128.f});
    d = parse(make_npy("{'descr': '<u2', 'fortran_order': False, 'shape': (1, 1), }", as_bytes<std::uint16_t>({65535})));
    CHECK(d.data == std::vector<float>{65535.f});
    d = parse(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", as_bytes<std::int32_t>({-5, 9}), 2));
    CHECK(d.data == std::vector<float>{-5.f, 9.f});
    d = parse(make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", as_bytes<std::uint16_t>({0x3C00}), 3));
    CHECK(d.data == std::vector<float>{1.f});
    d = parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", {}));
    CHECK(d.data.empty());
}

TEST_CASE("malformed npy files are format_errors naming the file", "[npy]") {
    const auto good_body = as_bytes<float>({1.f, 2.f});
    auto bad = [](const std::vector<std::uint8_t>& b, const char* needle) {
        INFO(needle);
        REQUIRE_THROWS_AS(parse_npy(b.data(), b.size(), "bad.npy"), format_error);
        REQUIRE_THROWS_WITH(parse_npy(b.data(), b.size(), "bad.npy"), Catch::Contains(needle) && Catch::Contains("bad.npy"));
    };
    bad({1, 2, 3}, "bad magic");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", good_body, 4), "version");
    bad(make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", good_body), "fortran_order True");
    bad(make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", good_body), ">f4");
    bad(make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", good_body), "<c8");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", good_body), "truncated");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", good_body), "unexpected bytes");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False}", good_body), "lacks");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", good_body), "non-negative");
    bad(make_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", good_body), "fortran_order");
    bad(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }", good_body),
        "too large");
    auto full = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", good_body);
    for (std::size_t len = 0; len < full.size(); ++len) {
        INFO("prefix " << len);
        REQUIRE_THROWS_AS(parse_npy(full.data(), len, "cut.npy"), format_error);
    }
    REQUIRE_THROWS_AS(read_npy("/nonexistent.npy"), io_error);
    REQUIRE_THROWS_AS(write_npy("/nonexistent/dir/x.npy", good_body.data() ? reinterpret_cast<const float*>(good_body.data()) : nullptr, {2}), io_error);
}
