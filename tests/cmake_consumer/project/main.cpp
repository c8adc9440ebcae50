// A downstream program: prints edgebert's version and one activation value.
#include <cstdio>

#include <edgebert/core/version.hpp>
#include <edgebert/kernels/activation.hpp>
#if defined(__has_include)
#if __has_include(<edgebert/edgebert.hpp>)
#include <edgebert/edgebert.hpp>  // the umbrella header, when the library has it
#endif
#endif

int main() {
    const auto v = edgebert::version;
    std::printf("edgebert version %d.%d.%d\n", v.major, v.minor, v.patch);
    const float y = edgebert::kernels::activate_reference(edgebert::kernels::activation::relu, 2.5f);
    std::printf("relu(2.5) = %g\n", static_cast<double>(y));
    return y == 2.5f ? 0 : 1;
}
