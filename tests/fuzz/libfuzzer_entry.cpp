// libFuzzer's entry point for one target, chosen at compile time
// (-DACRN_FUZZ_TARGET=name); see CMakeLists.txt.
#include "tests/fuzz/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return acrn::fuzz::ACRN_FUZZ_TARGET(data, size);
}
