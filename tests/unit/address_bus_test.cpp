#include <gtest/gtest.h>

#include "dm/io/address_bus.hpp"

namespace acrn::dm {
namespace {

class Echo final : public IoDevice {
public:
    std::uint64_t read(const IoAccess& access) override { return access.offset; }
    void write(const IoAccess& access, std::uint64_t value) override { last = {access.offset, value}; }
    std::pair<std::uint64_t, std::uint64_t> last{};
};

TEST(AddressBusTest, RefusesZeroLengthWrapAndOverlap) {
    AddressBus bus("test");
    auto device = std::make_shared<Echo>();
    EXPECT_EQ(bus.add(0x10, 0, device, "d"), BusError::zero_length);
    EXPECT_EQ(bus.add(~0ull, 2, device, "d"), BusError::wraps_around);
    EXPECT_EQ(bus.add(~0ull, 1, device, "d"), std::nullopt);  // the very last byte is fine
    EXPECT_EQ(bus.add(0x100, 0x10, device, "d"), std::nullopt);
    EXPECT_EQ(bus.add(0x10F, 1, device, "d"), BusError::overlaps);
    EXPECT_EQ(bus.add(0xF0, 0x11, device, "d"), BusError::overlaps);
    EXPECT_EQ(bus.add(0x80, 0x200, device, "d"), BusError::overlaps);
    EXPECT_EQ(bus.add(0xF0, 0x10, device, "d"), std::nullopt);
    EXPECT_EQ(bus.add(0x110, 0x10, device, "d"), std::nullopt);
}

TEST(AddressBusTest, ResolvesOnlyAccessesWhollyInsideOneRange) {
    AddressBus bus("test");
    auto device = std::make_shared<Echo>();
    ASSERT_EQ(bus.add(0x3F8, 8, device, "uart"), std::nullopt);
    auto hit = bus.resolve(0x3FC, 4);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->base, 0x3F8u);
    EXPECT_FALSE(bus.resolve(0x3FE, 4));  // runs past the end
    EXPECT_FALSE(bus.resolve(0x3F7, 2));  // starts before
    EXPECT_FALSE(bus.resolve(0x3F8, 0));
    EXPECT_FALSE(bus.resolve(0x400, 1));
}

TEST(AddressBusTest, HoldsDevicesWeaklyAndRemoves) {
    AddressBus bus("test");
    auto device = std::make_shared<Echo>();
    ASSERT_EQ(bus.add(0x1000, 0x100, device, "d"), std::nullopt);
    device.reset();
    EXPECT_FALSE(bus.resolve(0x1000, 1));
    EXPECT_EQ(bus.remove(0x1000), std::nullopt);
    EXPECT_EQ(bus.remove(0x1000), BusError::not_registered);
}

}  // namespace
}  // namespace acrn::dm
