// Firmware's BAR placement and the device table, without a VM.
#include <gtest/gtest.h>

#include <map>

#include "dm/devices/testdev.hpp"
#include "dm/machine/bar_allocator.hpp"
#include "dm/machine/device_table.hpp"
#include "tests/unit/device_test_support.hpp"

namespace acrn::dm {
namespace {

TEST(BarAllocatorTest, EachKindOfBarGoesToItsWindowAlignedToItsSize) {
    test_support::RecordingPower power;
    const PciWindows windows = PciWindows::for_ram_top(4ull << 30);
    EXPECT_EQ(windows.mmio64_base, 4ull << 30);
    BarAllocator allocator(windows);
    TestDevice first(power);
    TestDevice second(power);
    allocator.place_bars(first);
    allocator.place_bars(second);
    for (const TestDevice* device : {&first, &second}) {
        for (int index = 0; index < PciDevice::kBarCount; ++index) {
            const BarKind kind = device->bar_kind(index);
            if (kind == BarKind::none) {
                continue;
            }
            const std::uint64_t address = device->bar_address(index);
            EXPECT_EQ(address % device->bar_size(index), 0u) << index;
            if (kind == BarKind::io) {
                EXPECT_GE(address, windows.io_base);
                EXPECT_LE(address + device->bar_size(index), windows.io_limit);
            } else if (kind == BarKind::memory32) {
                EXPECT_GE(address, windows.mmio32_base);
                EXPECT_LE(address + device->bar_size(index), windows.mmio32_limit);
            } else {
                EXPECT_GE(address, windows.mmio64_base);  // above 4 GiB
                EXPECT_LE(address + device->bar_size(index), windows.mmio64_limit);
            }
        }
    }
    EXPECT_NE(first.bar_address(TestDevice::kMemory64Bar), second.bar_address(TestDevice::kMemory64Bar));
}

TEST(BarAllocatorTest, TheSixtyFourBitWindowStartsAboveRam) {
    const PciWindows windows = PciWindows::for_ram_top((6ull << 30) + 4096);
    EXPECT_EQ(windows.mmio64_base, 7ull << 30);
    EXPECT_GT(windows.mmio64_limit, windows.mmio64_base);
}

TEST(BarAllocatorTest, AFullWindowNamesTheDeviceAndTheBar) {
    test_support::RecordingPower power;
    PciWindows windows = PciWindows::for_ram_top(4ull << 30);
    windows.io_limit = windows.io_base + 0x100;  // room for BAR1 only
    BarAllocator allocator(windows);
    TestDevice device(power);
    try {
        allocator.place_bars(device);
        FAIL() << "expected the I/O window to overflow";
    } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "testdev: no room left for BAR3 (32 bytes)");
    }
}

TEST(DeviceTableTest, EveryImplementedEmulationChecksItsConfigAndCanBeCreated) {
    // A configuration each implemented emulation accepts and one it refuses.
    const std::map<std::string_view, std::pair<std::string_view, std::string_view>> examples{
        {"hostbridge", {"", "nonsense"}},         {"lpc", {"", "nonsense"}},
        {"testdev", {"", "nonsense"}},            {"virtio-rnd", {"", "nonsense"}},
        {"virtio-blk", {"nodisk", "nodisk,nonsense"}}, {"virtio-console", {"@pty:hvc", "nonsense"}},
        {"virtio-net", {"tap=tap0", "nonsense"}},
    };
    std::size_t implemented = 0;
    for (const PciEmulation& emulation : pci_emulations()) {
        if (emulation.support != PciEmulation::Support::implemented) {
            EXPECT_EQ(emulation.create, nullptr) << emulation.name;
            continue;
        }
        ++implemented;
        ASSERT_NE(emulation.check_config, nullptr) << emulation.name;
        ASSERT_NE(emulation.create, nullptr) << emulation.name;
        const auto example = examples.find(emulation.name);
        ASSERT_NE(example, examples.end()) << "add an example configuration for " << emulation.name;
        EXPECT_EQ(emulation.check_config(example->second.first), "") << emulation.name;
        EXPECT_NE(emulation.check_config(example->second.second), "") << emulation.name;
        EXPECT_EQ(find_pci_emulation(emulation.name), &emulation);
    }
    EXPECT_GE(implemented, 6u);
    EXPECT_EQ(find_pci_emulation("no-such-device"), nullptr);
    EXPECT_TRUE(find_pci_emulation("lpc")->is_isa_bridge);
    EXPECT_EQ(find_pci_emulation("pci-gvt")->support, PciEmulation::Support::obsolete);
}

// What a VM with these functions is offered S3 for (the Linux tier suspends
// one with every virtio device; no guest driver restores the test device).
TEST(DeviceTable, VirtioDevicesAndBridgesAreKeptAcrossS3) {
    for (const char* name : {"hostbridge", "lpc", "virtio-blk", "virtio-net", "virtio-console", "virtio-rnd"}) {
        EXPECT_TRUE(find_pci_emulation(name)->kept_across_s3) << name;
    }
    EXPECT_FALSE(find_pci_emulation("testdev")->kept_across_s3);
}

}  // namespace
}  // namespace acrn::dm
