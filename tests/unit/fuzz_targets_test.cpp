// The fuzz targets on seeded random inputs, so every build runs them; the
// libFuzzer builds (tests/fuzz) explore further.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace acrn::fuzz {
namespace {

TEST(FuzzTargetsTest, PciFunctionSurvivesRandomAccessSequences) {
    std::mt19937 random(20261201);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::uint8_t> input(random() % 4096);
        for (auto& byte : input) {
            byte = static_cast<std::uint8_t>(random());
        }
        EXPECT_EQ(pci_function(input.data(), input.size()), 0);
    }
}

}  // namespace
}  // namespace acrn::fuzz
