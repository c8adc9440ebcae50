#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/npy.hpp>

using namespace edgebert;
using namespace edgebert::io;

namespace {

using test_util::temp_path;

std::vector<std::uint8_t> read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
void write_all(const std::string& path, const std::vector<std::uint8_t>& b) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A hand-made file: magic, version, length, `dict` padded to 64 with '\n', then `body`.
std::vector<std::uint8_t> make_npy(const std::string& dict, const std::vector<std::uint8_t>& body, int major = 1,
                                   int minor = 0) {
    std::string h = dict;
    const std::size_t prefix = major == 1 ? 10 : 12;
    h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
    // Reserved up front: GCC 12 at -O3 reports a false stringop-overflow in push_back's reallocation path.
    std::vector<std::uint8_t> out;
    out.reserve(prefix + h.size() + body.size());
    for (std::uint8_t c : {std::uint8_t(0x93), std::uint8_t('N'), std::uint8_t('U'), std::uint8_t('M'), std::uint8_t('P'),
                           std::uint8_t('Y'), std::uint8_t(major), std::uint8_t(minor)})
        out.push_back(c);
    for (std::size_t i = 0; i < prefix - 8; ++i) out.push_back(std::uint8_t(h.size() >> (8 * i)));
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}
std::string dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}
template <class T>
std::vector<std::uint8_t> as_bytes(std::initializer_list<T> v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), v.begin(), b.size());
    return b;
}
npy_array parse(const std::vector<std::uint8_t>& b) { return parse_npy(b.data(), b.size(), "x.npy"); }

// The header numpy 1.24's np.save writes for a C-ordered array (checked against it by hand):
// the dict, padding spaces, '\n', the whole prefix a multiple of 64 bytes.
std::string numpy_header(const std::string& dict_text, std::size_t total) {
    std::string h = "\x93NUMPY\x01";
    h += '\0';
    const std::size_t hlen = total - 10;
    h += char(hlen & 0xFF);
    h += char(hlen >> 8);
    return h + dict_text + std::string(hlen - dict_text.size() - 1, ' ') + "\n";
}

const auto good_body = as_bytes<float>({1.f, 2.f});

void expect_error(const std::vector<std::uint8_t>& b, std::initializer_list<const char*> needles) {
    REQUIRE_THROWS_AS(parse_npy(b.data(), b.size(), "bad.npy"), format_error);
    REQUIRE_THROWS_WITH(parse_npy(b.data(), b.size(), "bad.npy"), Catch::Contains("'bad.npy'"));
    for (const char* n : needles) REQUIRE_THROWS_WITH(parse_npy(b.data(), b.size(), "bad.npy"), Catch::Contains(n));
}
void expect_header_error(const std::string& d, std::initializer_list<const char*> needles,
                         const std::vector<std::uint8_t>& body = good_body) {
    INFO("header: " << d);
    expect_error(make_npy(d, body), needles);
}

struct rng {
    std::uint64_t s = 0x13198A2E03707344ull;
    std::uint64_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
};

}  // namespace

TEST_CASE("write_npy writes exactly what numpy.save writes", "[npy]") {
    const float f[6] = {1.5f, -2.f, 0.f, 3.f, 1e-20f, -1e20f};
    const std::string path = temp_path("f.npy");
    write_npy(path, f, {2, 3});
    auto bytes = read_all(path);
    std::string expected = numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 128);
    REQUIRE(bytes.size() == 128 + 24);
    CHECK(std::string(bytes.begin(), bytes.begin() + 128) == expected);
    CHECK(std::memcmp(bytes.data() + 128, f, 24) == 0);

    const std::int64_t ids[3] = {5, -7, 1234567};
    write_npy(path, ids, {3});
    bytes = read_all(path);
    expected = numpy_header("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 128);
    CHECK(std::string(bytes.begin(), bytes.begin() + 128) == expected);
    CHECK(bytes.size() == 128 + 24);

    write_npy(path, f, {});
    bytes = read_all(path);
    CHECK(std::string(bytes.begin(), bytes.begin() + 128) ==
          numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 128));
    write_npy(path, static_cast<const float*>(nullptr), {0, 4});
    CHECK(read_all(path).size() == 128);

    // numpy >= 1.24 leaves 21 - digits(shape[0]) spaces for growth, which can add a 64-byte block,
    // and pads a header that is already aligned by a full 64 bytes.
    const std::vector<float> ones(100, 1.f);
    write_npy(path, ones.data(), std::vector<std::size_t>(15, 1));
    CHECK(read_all(path).size() == 192 + 4);
    std::vector<std::size_t> shape(13, 1);
    shape.push_back(100);
    write_npy(path, ones.data(), shape);
    bytes = read_all(path);
    CHECK(bytes.size() == 192 + 400);
    CHECK(bytes[191] == '\n');
    CHECK(bytes[190] == ' ');
}

TEST_CASE("float32 and int64 arrays round-trip through files", "[npy]") {
    const float f[6] = {1.5f, -2.f, 0.f, std::numeric_limits<float>::infinity(), 1e-40f, -1e20f};
    const std::string path = temp_path("rt.npy");
    write_npy(path, f, {2, 3});
    auto a = read_npy(path);
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.data == std::vector<float>(f, f + 6));

    const std::int64_t ids[3] = {5, -7, 16777216};
    write_npy(path, ids, {3, 1});
    a = read_npy(path);
    CHECK(a.shape == std::vector<std::size_t>{3, 1});
    CHECK(a.data == std::vector<float>{5.f, -7.f, 16777216.f});

    write_npy(path, f, {});
    a = read_npy(path);
    CHECK(a.shape.empty());
    CHECK(a.data == std::vector<float>{1.5f});

    write_npy(path, f, {0});
    a = read_npy(path);
    CHECK(a.shape == std::vector<std::size_t>{0});
    CHECK(a.data.empty());
}

TEST_CASE("a header too long for version 1.0 is written as version 2.0", "[npy]") {
    const std::vector<std::size_t> shape(30000, 1);  // "1, " x 30000 > 65535 bytes
    const float one = 7.f;
    const std::string path = temp_path("v2.npy");
    write_npy(path, &one, shape);
    const auto bytes = read_all(path);
    REQUIRE(bytes[6] == 2);
    REQUIRE(bytes[7] == 0);
    const std::size_t hlen = bytes[8] | bytes[9] << 8 | bytes[10] << 16 | std::size_t(bytes[11]) << 24;
    CHECK(hlen > 65535);
    CHECK((12 + hlen) % 64 == 0);
    CHECK(bytes[12 + hlen - 1] == '\n');
    const auto a = read_npy(path);
    CHECK(a.shape == shape);
    CHECK(a.data == std::vector<float>{7.f});
}

TEST_CASE("every supported dtype is read and converted to float", "[npy]") {
    auto read = [](const char* descr, const std::vector<std::uint8_t>& body, const char* shape) {
        return parse(make_npy(dict(descr, shape), body)).data;
    };
    CHECK(read("<f4", as_bytes<float>({0.5f, -3.f}), "(2,)") == std::vector<float>{0.5f, -3.f});
    CHECK(read("<f8", as_bytes<double>({0.25, -3.0, 1e300}), "(3,)") ==
          std::vector<float>{0.25f, -3.f, std::numeric_limits<float>::infinity()});
    CHECK(read("<f2", as_bytes<std::uint16_t>({0x3C00, 0xC000, 0x7BFF, 0x0001}), "(4,)") ==
          std::vector<float>{1.f, -2.f, 65504.f, 5.9604644775390625e-08f});
    CHECK(read("|i1", {0xFF, 0x02, 0x80, 0x7F}, "(4,)") == std::vector<float>{-1.f, 2.f, -128.f, 127.f});
    CHECK(read("|u1", {0xFF, 0x02}, "(2,)") == std::vector<float>{255.f, 2.f});
    CHECK(read("<i2", as_bytes<std::int16_t>({-32768, 32767}), "(2,)") == std::vector<float>{-32768.f, 32767.f});
    CHECK(read("<u2", as_bytes<std::uint16_t>({65535}), "(1, 1)") == std::vector<float>{65535.f});
    CHECK(read("<i4", as_bytes<std::int32_t>({-5, 9, INT32_MIN}), "(3,)") == std::vector<float>{-5.f, 9.f, -2147483648.f});
    CHECK(read("<u4", as_bytes<std::uint32_t>({4000000000u}), "(1,)") == std::vector<float>{4e9f});
    CHECK(read("<i8", as_bytes<std::int64_t>({-1, INT64_MIN}), "(2,)") == std::vector<float>{-1.f, -9.2233720368547758e18f});
    CHECK(read("<u8", as_bytes<std::uint64_t>({UINT64_MAX}), "(1,)") == std::vector<float>{1.8446744073709552e19f});
    CHECK(read("|b1", {0, 1, 2}, "(3,)") == std::vector<float>{0.f, 1.f, 1.f});
    CHECK(read("<f4", {}, "(0, 3)").empty());
    CHECK(read("<f4", as_bytes<float>({4.f}), "()") == std::vector<float>{4.f});
}

TEST_CASE("format versions and header spellings numpy may produce are accepted", "[npy]") {
    for (int major = 1; major <= 3; ++major) {
        const auto a = parse(make_npy(dict("<i4", "(2,)"), as_bytes<std::int32_t>({-5, 9}), major));
        CHECK(a.data == std::vector<float>{-5.f, 9.f});
    }
    auto shape_of = [](const std::string& d) { return parse(make_npy(d, good_body)).shape; };
    using shp = std::vector<std::size_t>;
    CHECK(shape_of("{'shape': (2,), 'fortran_order': False, 'descr': '<f4', }") == shp{2});  // any key order
    CHECK(shape_of("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}") == shp{2});  // double quotes
    CHECK(shape_of("{'descr':'<f4','fortran_order':False,'shape':(1,2)}") == shp{1, 2});  // tight, no trailing comma
    CHECK(shape_of("{ 'descr' : '<f4' ,\t'fortran_order' : False , 'shape' : ( 1 , 2 , ) , }") == shp{1, 2});
    CHECK(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }") == shp{2});  // Python 2 long
    CHECK(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }") == shp{1, 1, 2});
    CHECK(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (0002,), }") == shp{2});
}

TEST_CASE("rule: the magic string, version and header length are checked", "[npy][hostile]") {
    expect_error({}, {"bad magic"});
    expect_error({0x93, 'N', 'U', 'M'}, {"bad magic"});
    expect_error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, {"bad magic"});
    auto b = make_npy(dict("<f4", "(2,)"), good_body);
    b[1] = 'n';
    expect_error(b, {"bad magic"});
    expect_error(make_npy(dict("<f4", "(2,)"), good_body, 4), {"unsupported format version 4.0"});
    expect_error(make_npy(dict("<f4", "(2,)"), good_body, 0), {"unsupported format version 0.0"});
    expect_error(make_npy(dict("<f4", "(2,)"), good_body, 1, 1), {"unsupported format version 1.1"});
    b = make_npy(dict("<f4", "(2,)"), good_body);
    b[9] = 0x10;  // header length 4096 + ...
    expect_error(b, {"runs past the end"});
    b = make_npy(dict("<f4", "(2,)"), good_body, 2);
    b[11] = 0xFF;  // a 4-byte length near 4 GiB
    expect_error(b, {"runs past the end"});
    expect_error({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 5}, {"truncated"});
}

TEST_CASE("rule: the header dict must parse", "[npy][hostile]") {
    expect_header_error("'descr': '<f4', 'fortran_order': False, 'shape': (2,)", {"expected '{'"});
    expect_header_error("{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }", {"expected ':'"});
    expect_header_error("{descr: '<f4', 'fortran_order': False, 'shape': (2,), }", {"quoted string"});
    expect_header_error("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", {"expected ','"});
    expect_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", {"expected ','"});
    expect_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", {"unknown header key 'extra'"});
    expect_header_error("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", {"'descr' appears twice"});
    expect_header_error("{'descr': '<f4', 'fortran_order': False}", {"lacks 'shape'"});
    expect_header_error("{'descr': '<f4', 'shape': (2,)}", {"lacks 'fortran_order'"});
    expect_header_error("{'fortran_order': False, 'shape': (2,)}", {"lacks 'descr'"});
    expect_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", {"after the header dict"});
    expect_header_error("{'descr': '<f4', 'fortran_order': false, 'shape': (2,), }", {"fortran_order"});
    expect_header_error("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", {"fortran_order"});
    expect_header_error("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }", {"expected ','"});
    expect_header_error(dict("<f4", "(-2,)"), {"non-negative integers"});
    expect_header_error(dict("<f4", "(2.0,)"), {"expected ',' or ')'"});
    expect_header_error(dict("<f4", "(2)"), {"not a tuple"});
    expect_header_error(dict("<f4", "(,)"), {"non-negative integers"});
    expect_header_error(dict("<f4", "(2,,)"), {"non-negative integers"});
    expect_header_error(dict("<f4", "[2]"), {"expected '('"});
    expect_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2 }", {"expected ',' or ')'"});
    expect_header_error(dict("<f4", "(2,"), {"non-negative integers"});
    expect_header_error(dict("<f4", "(99999999999999999999999,)"), {"too large"});
    expect_header_error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", {"structured"});
    expect_header_error("{'descr': '<f\\'4', 'fortran_order': False, 'shape': (2,), }", {"'descr'"});
}

TEST_CASE("rule: only C-ordered little-endian numeric dtypes", "[npy][hostile]") {
    expect_header_error(dict("<f4", "(2,)", "True"), {"fortran_order True is not supported"});
    expect_header_error(dict(">f4", "(2,)"), {"big-endian", "'>f4'"});
    expect_header_error(dict(">i8", "(1,)"), {"big-endian"});
    for (const char* descr : {"<c8", "<U3", "|O", "|S4", "<M8[s]", "=f4", "|f4", "<f16", "f4", "", "<b1", "<u1"}) {
        INFO(descr);
        expect_header_error(dict(descr, "(2,)"), {"unsupported dtype", descr});
    }
}

TEST_CASE("rule: the data is exactly product(shape) * itemsize bytes", "[npy][hostile]") {
    expect_header_error(dict("<f4", "(3,)"), {"truncated", "8 bytes present", "needs 12"});
    expect_header_error(dict("<f8", "(2,)"), {"truncated"});
    expect_header_error(dict("<f4", "(1,)"), {"4 unexpected bytes after the data"});
    expect_header_error(dict("<f4", "(0,)"), {"8 unexpected bytes"});
    expect_header_error(dict("<f4", "()"), {"4 unexpected bytes"});
    // Element counts whose byte size overflows are refused before anything is allocated.
    expect_header_error(dict("<f4", "(99999999999, 99999999999, 99999999999)"), {"too large"});
    expect_header_error(dict("<f8", "(2305843009213693952,)"), {"too large"});  // 2^61 * 8 = 2^64
    expect_header_error(dict("<f4", "(4611686018427387904,)"), {"too large"});
    // A zero dimension makes the array empty whatever the others say.
    CHECK(parse(make_npy(dict("<f4", "(99999999999, 0, 99999999999)"), {})).data.empty());
}

TEST_CASE("every truncation of a valid file fails cleanly, in memory and on disk", "[npy][hostile]") {
    const auto full = make_npy(dict("<f4", "(2,)"), good_body, 2);
    REQUIRE(parse(full).data == std::vector<float>{1.f, 2.f});
    const std::string path = temp_path("cut.npy");
    for (std::size_t len = 0; len < full.size(); ++len) {
        INFO("prefix of " << len << " bytes");
        const std::vector<std::uint8_t> prefix(full.begin(), full.begin() + std::ptrdiff_t(len));
        REQUIRE_THROWS_AS(parse_npy(prefix.data(), prefix.size(), "cut.npy"), format_error);
        write_all(path, prefix);
        try {
            read_npy(path);
            FAIL("a truncated file was accepted");
        } catch (const format_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(path));
        } catch (const io_error& e) {
            CHECK_THAT(e.what(), Catch::Contains(path));
        }
    }
}

TEST_CASE("random corruption is rejected with format_error or parses in bounds", "[npy][hostile]") {
    const auto good = make_npy(dict("<i2", "(2, 3)"), as_bytes<std::int16_t>({1, 2, 3, 4, 5, 6}));
    rng r;
    int accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        INFO("round " << round);
        std::vector<std::uint8_t> b = good;
        for (int e = 0, edits = 1 + int(r.next() % 3); e < edits; ++e) {
            static const char interesting[] = "{}(),:'\"0123456789 <|>fiub248TrueFalse";
            const std::size_t pos = std::size_t(r.next() % b.size());
            b[pos] = r.next() % 2 ? std::uint8_t(r.next()) : std::uint8_t(interesting[r.next() % (sizeof interesting - 1)]);
        }
        if (r.next() % 8 == 0) b.resize(std::size_t(r.next() % b.size()));
        try {
            const npy_array a = parse_npy(b.data(), b.size(), "mutant");
            std::size_t n = 1;
            for (auto d : a.shape) n *= d;
            REQUIRE(a.data.size() == n);
            ++accepted;
        } catch (const format_error&) {
        }
    }
    CHECK(accepted > 0);
}

TEST_CASE("file errors are io_errors naming the path", "[npy]") {
    const std::string missing = temp_path("missing.npy");
    REQUIRE_THROWS_AS(read_npy(missing), io_error);
    REQUIRE_THROWS_WITH(read_npy(missing), Catch::Contains(missing) && Catch::Contains("No such file"));
    REQUIRE_THROWS_AS(read_npy(temp_path("")), io_error);
    const std::string empty = temp_path("empty.npy");
    write_all(empty, {});
    REQUIRE_THROWS_AS(read_npy(empty), format_error);
    REQUIRE_THROWS_WITH(read_npy(empty), Catch::Contains(empty) && Catch::Contains("bad magic"));

    const float f[2] = {1.f, 2.f};
    const std::string bad_dir = temp_path("no-such-dir") + "/x.npy";
    REQUIRE_THROWS_AS(write_npy(bad_dir, f, {2}), io_error);
    REQUIRE_THROWS_WITH(write_npy(bad_dir, f, {2}), Catch::Contains(bad_dir) && Catch::Contains("No such file"));
    if (std::ifstream("/dev/full")) {  // the data is buffered: the full disk is reported when closing
        REQUIRE_THROWS_AS(write_npy("/dev/full", f, {2}), io_error);
        REQUIRE_THROWS_WITH(write_npy("/dev/full", f, {2}), Catch::Contains("No space left"));
    }
    REQUIRE_THROWS_AS(write_npy(temp_path("huge.npy"), f, {std::size_t(1) << 62, 4}), shape_error);
}
