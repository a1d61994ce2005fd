// The fuzz targets on seeded random inputs, so every build runs them; the
// libFuzzer builds (tests/fuzz) explore further.
#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <random>
#include <string>
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

// Inputs that make valid chains often enough: a descriptor table and an
// available ring written through the operations the rig understands.
std::vector<std::uint8_t> random_virtio_operations(std::mt19937& random) {
    std::vector<std::uint8_t> input;
    const int operations = static_cast<int>(random() % 40);
    for (int i = 0; i < operations; ++i) {
        const unsigned op = random() % 6;
        input.push_back(static_cast<std::uint8_t>(op));
        if (op == 0) {
            const unsigned offset = random() % 0x4000, length = random() % 64;
            input.push_back(static_cast<std::uint8_t>(offset));
            input.push_back(static_cast<std::uint8_t>(offset >> 8));
            input.push_back(static_cast<std::uint8_t>(length));
            for (unsigned b = 0; b < length; ++b) {
                input.push_back(static_cast<std::uint8_t>(random() % 4 == 0 ? random() : random() % 24));
            }
        } else {
            for (int b = 0; b < 7; ++b) input.push_back(static_cast<std::uint8_t>(random() % 8));
        }
    }
    return input;
}

TEST(FuzzTargetsTest, VirtioChainsSurviveRandomRings) {
    std::mt19937 random(20261202);
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::uint8_t> input(random() % 1024);
        for (auto& byte : input) {
            byte = static_cast<std::uint8_t>(random() % 3 == 0 ? random() : random() % 20);
        }
        EXPECT_EQ(virtio_chains(input.data(), input.size()), 0);
    }
}

TEST(FuzzTargetsTest, VirtioBlkSurvivesRandomGuestOperations) {
    std::mt19937 random(20261203);
    for (int round = 0; round < 100; ++round) {
        const auto input = random_virtio_operations(random);
        EXPECT_EQ(virtio_blk(input.data(), input.size()), 0);
    }
}

TEST(FuzzTargetsTest, VirtioConsoleSurvivesRandomGuestOperations) {
    std::mt19937 random(20261204);
    for (int round = 0; round < 100; ++round) {
        const auto input = random_virtio_operations(random);
        EXPECT_EQ(virtio_console(input.data(), input.size()), 0);
    }
}

TEST(FuzzTargetsTest, VirtioNetSurvivesRandomGuestOperations) {
    std::mt19937 random(20261205);
    for (int round = 0; round < 100; ++round) {
        const auto input = random_virtio_operations(random);
        EXPECT_EQ(virtio_net(input.data(), input.size()), 0);
    }
}

TEST(FuzzTargetsTest, MonitorProtocolSurvivesRandomClients) {
    std::mt19937 random(20261206);
    const std::string pieces[] = {"{\"command\":", "\"query\"", "\"destroy\"", "\"poweroff\"", ",\"arguments\":",
                                  "\"15\"", "}", "\n", "[", "null", "\"", "\\u0000"};
    for (int round = 0; round < 500; ++round) {
        std::string input(1, static_cast<char>(random()));
        const int count = static_cast<int>(random() % 40);
        for (int i = 0; i < count; ++i) {
            input += random() % 5 == 0 ? std::string(1, static_cast<char>(random())) : pieces[random() % std::size(pieces)];
        }
        EXPECT_EQ(monitor_protocol(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()), 0);
    }
}

TEST(FuzzTargetsTest, KernelImageSurvivesDamagedImages) {
    // A bzImage with an xz payload, damaged at random places.
    std::mt19937 random(20261207);
    std::vector<std::uint8_t> image(1024 + 0x100 + 64, 0);
    image[0x1F1] = 1;
    std::memcpy(image.data() + 0x202, "HdrS", 4);
    image[0x206] = 0x0F;
    image[0x207] = 0x02;
    image[0x248] = 0x00;
    image[0x249] = 0x01;
    image[0x24C] = 64;
    const std::uint8_t xz_magic[] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
    std::memcpy(image.data() + 1024 + 0x100, xz_magic, sizeof xz_magic);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::uint8_t> input = image;
        const int flips = 1 + static_cast<int>(random() % 8);
        for (int i = 0; i < flips; ++i) {
            input[random() % input.size()] = static_cast<std::uint8_t>(random());
        }
        input.resize(random() % (input.size() + 1));
        EXPECT_EQ(kernel_image(input.data(), input.size()), 0);
    }
}

}  // namespace
}  // namespace acrn::fuzz
