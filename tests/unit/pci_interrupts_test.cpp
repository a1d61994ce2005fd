// A PCI function's interrupts as the guest configures them: MSI-X (table,
// masks, pending bits), MSI (multiple messages, per-vector masks) and INTx
// (Interrupt Status, Interrupt Disable), driven through config space and
// the test device's BARs as the ioreq loop would.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "dm/devices/testdev.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/pci/pci_bus.hpp"
#include "tests/unit/device_test_support.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kMsixBase = 0xC000'2000;
constexpr std::uint64_t kRegisters = 0x3000;
constexpr std::uint32_t kGsi = 19;
constexpr std::uint64_t kLapic = 0xFEE0'0000;

class PciInterruptsTest : public ::testing::Test {
protected:
    PciInterruptsTest() {
        device_->place_bar(TestDevice::kMsixBar, kMsixBase);
        device_->place_bar(TestDevice::kInterruptBar, kRegisters);
        device_->connect_interrupts(sources_, kGsi);
        device_->attach(pio_, mmio_);
        device_->config_write(0x04, 2, kCommandIoSpace | kCommandMemorySpace | kCommandBusMaster);
    }

    std::uint32_t config(std::uint32_t reg, std::uint32_t size) { return device_->config_read(reg, size); }
    void set_config(std::uint32_t reg, std::uint32_t size, std::uint32_t value) {
        device_->config_write(reg, size, value);
    }
    void table_write(unsigned vector, unsigned dword, std::uint32_t value) {
        const std::uint64_t address = kMsixBase + vector * 16 + dword * 4;
        auto target = mmio_.resolve(address, 4);
        ASSERT_TRUE(target);
        target->device->write(IoAccess{address, address - target->base, 4, 0}, value);
    }
    std::uint64_t bar_read(std::uint64_t address, std::uint32_t size) {
        auto target = mmio_.resolve(address, size);
        return target ? target->device->read(IoAccess{address, address - target->base, size, 0}) : ~0ull;
    }
    void reg_write(std::uint64_t reg, std::uint32_t value) {
        auto target = pio_.resolve(kRegisters + reg, 4);
        ASSERT_TRUE(target);
        target->device->write(IoAccess{kRegisters + reg, reg, 4, 0}, value);
    }
    std::uint64_t reg_read(std::uint64_t reg) {
        auto target = pio_.resolve(kRegisters + reg, 4);
        return target ? target->device->read(IoAccess{kRegisters + reg, reg, 4, 0}) : ~0ull;
    }
    void program_vector(unsigned vector, std::uint32_t data) {
        table_write(vector, 0, static_cast<std::uint32_t>(kLapic));
        table_write(vector, 1, 0);
        table_write(vector, 2, data);
    }

    std::uint8_t msix_cap() const { return device_->find_capability(MsixCapability::kId); }
    std::uint8_t msi_cap() const { return device_->find_capability(MsiCapability::kId); }

    test_support::RecordingInterrupts controller_;
    test_support::RecordingPower power_;
    InterruptSources sources_{controller_};
    AddressBus pio_{"PIO"};
    AddressBus mmio_{"MMIO"};
    std::shared_ptr<TestDevice> device_ = std::make_shared<TestDevice>(power_);
};

TEST_F(PciInterruptsTest, CapabilityListHoldsMsiAndMsix) {
    EXPECT_NE(config(0x06, 2) & kStatusCapabilities, 0u);
    const std::uint8_t first = static_cast<std::uint8_t>(config(0x34, 1));
    ASSERT_NE(first, 0);
    EXPECT_EQ(config(first, 1), MsiCapability::kId);
    const auto second = static_cast<std::uint8_t>(config(first + 1u, 1));
    EXPECT_EQ(config(second, 1), MsixCapability::kId);
    EXPECT_EQ(config(second + 1u, 1), 0u);  // end of the list
    EXPECT_EQ(config(second + 2u, 2) & 0x7FF, TestDevice::kMsixVectors - 1);
    EXPECT_EQ(config(second + 4u, 4), static_cast<std::uint32_t>(TestDevice::kMsixBar));  // table at 0 of BAR2
    EXPECT_EQ(config(second + 8u, 4), TestDevice::kMsixPbaOffset | TestDevice::kMsixBar);
    set_config(second + 4u, 4, 0xFFFF'FFFF);  // read-only
    EXPECT_EQ(config(second + 4u, 4), static_cast<std::uint32_t>(TestDevice::kMsixBar));
}

TEST_F(PciInterruptsTest, MsixDeliversProgrammedVectorsAndMasksToPending) {
    const std::uint8_t cap = msix_cap();
    set_config(cap + 2u, 2, 0x8000);  // MSI-X enable
    program_vector(3, 0x43);
    EXPECT_EQ(bar_read(kMsixBase + 3 * 16 + 12, 4), 1u);  // vectors start masked
    reg_write(TestDevice::kRaise, 3);
    EXPECT_TRUE(controller_.msis.empty());
    EXPECT_TRUE(device_->msix_pending(3));
    EXPECT_EQ(bar_read(kMsixBase + TestDevice::kMsixPbaOffset, 8), 1u << 3);

    table_write(3, 3, 0);  // unmask: the pending message goes out
    ASSERT_EQ(controller_.msis.size(), 1u);
    EXPECT_EQ(controller_.msis[0].address, kLapic);
    EXPECT_EQ(controller_.msis[0].data, 0x43u);
    EXPECT_FALSE(device_->msix_pending(3));
    EXPECT_EQ(bar_read(kMsixBase + TestDevice::kMsixPbaOffset, 8), 0u);

    reg_write(TestDevice::kRaise, 3);
    EXPECT_EQ(controller_.msis.size(), 2u);
    EXPECT_FALSE(controller_.high(kGsi));  // INTx stays quiet while MSI-X is on
    const auto stats = sources_.stats();
    const auto vector3 = std::find_if(stats.begin(), stats.end(), [](const auto& s) { return s.name == "testdev vector 3"; });
    ASSERT_NE(vector3, stats.end());
    EXPECT_EQ(vector3->injections, 2u);
}

TEST_F(PciInterruptsTest, MsixFunctionMaskHoldsEveryVector) {
    const std::uint8_t cap = msix_cap();
    set_config(cap + 2u, 2, 0xC000);  // enable + function mask
    program_vector(0, 0x40);
    program_vector(5, 0x45);
    table_write(0, 3, 0);
    table_write(5, 3, 0);
    reg_write(TestDevice::kRaise, 0);
    reg_write(TestDevice::kRaise, 5);
    EXPECT_TRUE(controller_.msis.empty());
    set_config(cap + 2u, 2, 0x8000);  // function mask off: both pending vectors go out
    ASSERT_EQ(controller_.msis.size(), 2u);
    EXPECT_EQ(controller_.msis[0].data, 0x40u);
    EXPECT_EQ(controller_.msis[1].data, 0x45u);
}

TEST_F(PciInterruptsTest, MsixTableTakesOnlyAlignedDwordsAndQwords) {
    set_config(msix_cap() + 2u, 2, 0x8000);
    program_vector(1, 0x41);
    auto target = mmio_.resolve(kMsixBase + 16, 8);
    ASSERT_TRUE(target);
    target->device->write(IoAccess{kMsixBase + 18, 18, 2, 0}, 0xFFFF);  // a word write is dropped
    EXPECT_EQ(bar_read(kMsixBase + 16, 4), kLapic);
    target->device->write(IoAccess{kMsixBase + 24, 24, 8, 0}, 0x0000'0000'0000'0042ull);  // data + unmask
    EXPECT_EQ(bar_read(kMsixBase + 24, 4), 0x42u);
    EXPECT_EQ(bar_read(kMsixBase + 28, 4), 0u);
    target->device->write(IoAccess{kMsixBase + 0x800, 0x800, 8, 0}, ~0ull);  // the PBA is read-only
    EXPECT_EQ(bar_read(kMsixBase + 0x800, 8), 0u);
    EXPECT_EQ(bar_read(kMsixBase + 0x900, 4), 0xFFFF'FFFFu);  // past the PBA: the device's own (nothing)
}

TEST_F(PciInterruptsTest, MsiSendsMultipleMessagesAndHoldsMaskedOnes) {
    const std::uint8_t cap = msi_cap();
    EXPECT_EQ((config(cap + 2u, 2) >> 1) & 7, 2u);  // 4 vectors capable
    EXPECT_NE(config(cap + 2u, 2) & 0x80, 0u);      // 64-bit
    EXPECT_NE(config(cap + 2u, 2) & 0x100, 0u);     // per-vector masking
    set_config(cap + 4, 4, static_cast<std::uint32_t>(kLapic));
    set_config(cap + 8, 4, 0);
    set_config(cap + 12, 2, 0x50);
    set_config(cap + 2u, 2, 0x0021);  // enable, 4 messages (MME = 2)
    reg_write(TestDevice::kRaise, 2);
    ASSERT_EQ(controller_.msis.size(), 1u);
    EXPECT_EQ(controller_.msis[0].data, 0x52u);  // vector number in the low bits
    set_config(cap + 16, 4, 1u << 1);            // mask vector 1
    reg_write(TestDevice::kRaise, 1);
    EXPECT_EQ(controller_.msis.size(), 1u);
    EXPECT_EQ(config(cap + 20, 4), 1u << 1);  // pending
    set_config(cap + 16, 4, 0);
    ASSERT_EQ(controller_.msis.size(), 2u);
    EXPECT_EQ(controller_.msis[1].data, 0x51u);
    EXPECT_EQ(config(cap + 20, 4), 0u);
    reg_write(TestDevice::kRaise, 7);  // beyond the 4 enabled: nothing
    EXPECT_EQ(controller_.msis.size(), 2u);
}

TEST_F(PciInterruptsTest, IntxFollowsStatusAndInterruptDisable) {
    EXPECT_EQ(config(0x3D, 1), 1u);  // INTA#
    EXPECT_EQ(config(0x3C, 1), kGsi);
    reg_write(TestDevice::kIntx, 1);
    EXPECT_TRUE(controller_.high(kGsi));
    EXPECT_NE(config(0x06, 2) & kStatusInterrupt, 0u);
    set_config(0x04, 2, kCommandIoSpace | kCommandMemorySpace | kCommandInterruptDisable);
    EXPECT_FALSE(controller_.high(kGsi));
    EXPECT_NE(config(0x06, 2) & kStatusInterrupt, 0u);  // status shows the device's level regardless
    set_config(0x04, 2, kCommandIoSpace | kCommandMemorySpace);
    EXPECT_TRUE(controller_.high(kGsi));
    set_config(msix_cap() + 2u, 2, 0x8000);  // MSI-X on: INTx is not used
    EXPECT_FALSE(controller_.high(kGsi));
    set_config(msix_cap() + 2u, 2, 0);
    EXPECT_TRUE(controller_.high(kGsi));
    reg_write(TestDevice::kIntx, 0);
    EXPECT_FALSE(controller_.high(kGsi));
    EXPECT_EQ(config(0x06, 2) & kStatusInterrupt, 0u);
}

TEST_F(PciInterruptsTest, TwoFunctionsShareOneLevelLine) {
    auto other = std::make_shared<TestDevice>(power_);
    other->place_bar(TestDevice::kInterruptBar, 0x3100);
    other->connect_interrupts(sources_, kGsi);
    other->attach(pio_, mmio_);
    other->config_write(0x04, 2, kCommandIoSpace);
    reg_write(TestDevice::kIntx, 1);
    pio_.resolve(0x3104, 4)->device->write(IoAccess{0x3104, 4, 4, 0}, 1);
    reg_write(TestDevice::kIntx, 0);  // the other function still asserts
    EXPECT_TRUE(controller_.high(kGsi));
    pio_.resolve(0x3104, 4)->device->write(IoAccess{0x3104, 4, 4, 0}, 0);
    EXPECT_FALSE(controller_.high(kGsi));
}

TEST_F(PciInterruptsTest, AStormRaisesTheVectorTheGivenNumberOfTimesOffTheCallersThread) {
    set_config(msix_cap() + 2u, 2, 0x8000);
    program_vector(2, 0x42);
    table_write(2, 3, 0);
    reg_write(TestDevice::kStormVector, 2);
    reg_write(TestDevice::kStormCount, 5000);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reg_read(TestDevice::kStormCount) != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(reg_read(TestDevice::kStormCount), 0u);
    EXPECT_EQ(reg_read(TestDevice::kRaised), 5000u);
    std::lock_guard lock(controller_.msi_mutex);  // not held across device accesses
    EXPECT_EQ(controller_.msis.size(), 5000u);
}

}  // namespace
}  // namespace acrn::dm
