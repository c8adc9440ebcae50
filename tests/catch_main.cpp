// The Catch2 main of every unit test: Catch2's own, plus the skip exit code (support/skip.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/skip.hpp"

int main(int argc, char* argv[]) {
    const int result = Catch::Session().run(argc, argv);
    // Catch2 returns the number of failed assertions (capped at 255), or with --list-test-names-only the
    // number of test cases: keep a nonzero result nonzero but never equal to the skip code.
    if (result != 0) return result == test_skip::skip_exit_code ? result + 1 : result;
    return test_skip::skips() > 0 ? test_skip::skip_exit_code : 0;
}
