// Requests go through the same entry point the ioreq loop uses.
#include <gtest/gtest.h>

#include "dm/devices/testdev.hpp"
#include "dm/io/io_buses.hpp"
#include "dm/io/ioreq_handler.hpp"
#include "tests/unit/device_test_support.hpp"
#include "tests/unit/testdev_on_buses.hpp"

namespace acrn::dm {
namespace {

acrn_io_request pio(std::uint64_t port, std::uint32_t size, bool write, std::uint32_t value = 0) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    request.reqs.pio_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
    request.reqs.pio_request.address = port;
    request.reqs.pio_request.size = size;
    request.reqs.pio_request.value = value;
    return request;
}

acrn_io_request mmio(std::uint64_t address, std::uint32_t size, bool write, std::uint64_t value = 0) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_MMIO;
    request.reqs.mmio_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
    request.reqs.mmio_request.address = address;
    request.reqs.mmio_request.size = size;
    request.reqs.mmio_request.value = value;
    return request;
}

acrn_io_request pci(std::uint32_t dev, std::uint32_t reg, std::uint32_t size, bool write, std::uint32_t value = 0) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PCICFG;
    request.reqs.pci_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
    request.reqs.pci_request.size = size;
    request.reqs.pci_request.value = value;
    request.reqs.pci_request.dev = dev;
    request.reqs.pci_request.reg = reg;
    return request;
}

TEST(IoreqHandlerTest, UnclaimedReadsAllOnesPerSize) {
    IoBuses buses;
    for (std::uint32_t size : {1u, 2u, 4u}) {
        auto request = pio(0xE0, size, false);
        EXPECT_EQ(handle_ioreq(request, buses, 0), IoreqResult::unclaimed);
        EXPECT_EQ(request.reqs.pio_request.value, all_ones(size));
    }
    auto wide = mmio(0xD000'0000, 8, false);
    EXPECT_EQ(handle_ioreq(wide, buses, 0), IoreqResult::unclaimed);
    EXPECT_EQ(wide.reqs.mmio_request.value, ~0ull);
    auto absent = pci(31, 0, 4, false);
    EXPECT_EQ(handle_ioreq(absent, buses, 0), IoreqResult::unclaimed);
    EXPECT_EQ(absent.reqs.pci_request.value, ~0u);
}

TEST(IoreqHandlerTest, MalformedRequestsAreAnsweredNotFatal) {
    IoBuses buses;
    auto bad_size = pio(0x60, 3, false);
    EXPECT_EQ(handle_ioreq(bad_size, buses, 0), IoreqResult::malformed);
    EXPECT_EQ(bad_size.reqs.pio_request.value, ~0u);
    auto pio_eight = pio(0x60, 8, false);
    EXPECT_EQ(handle_ioreq(pio_eight, buses, 0), IoreqResult::malformed);
    auto bad_direction = pio(0x60, 1, false);
    bad_direction.reqs.pio_request.direction = 7;
    EXPECT_EQ(handle_ioreq(bad_direction, buses, 0), IoreqResult::malformed);
    acrn_io_request write_protect{};
    write_protect.type = 3;  // ACRN's WP type: its device model exits on it
    EXPECT_EQ(handle_ioreq(write_protect, buses, 0), IoreqResult::malformed);
    auto bad_pci = pci(40, 0, 4, false);
    EXPECT_EQ(handle_ioreq(bad_pci, buses, 0), IoreqResult::malformed);
}

TEST(IoreqHandlerTest, TestDeviceThroughConfigSpaceAndBars) {
    IoBuses buses;
    test_support::RecordingPower power;
    ASSERT_TRUE(test_support::testdev_on_buses(buses, power));

    auto ids = pci(3, 0, 4, false);
    EXPECT_EQ(handle_ioreq(ids, buses, 0), IoreqResult::handled);
    EXPECT_EQ(ids.reqs.pci_request.value, 0x0005'1B36u);

    // Decoding is off until the guest enables it.
    auto before = pio(0x2000, 1, false);
    EXPECT_EQ(handle_ioreq(before, buses, 0), IoreqResult::unclaimed);
    auto enable = pci(3, 4, 2, true, kCommandIoSpace | kCommandMemorySpace);
    EXPECT_EQ(handle_ioreq(enable, buses, 0), IoreqResult::handled);

    auto write_port = pio(0x2010, 4, true, 0xA1B2C3D4);
    EXPECT_EQ(handle_ioreq(write_port, buses, 0), IoreqResult::handled);
    auto read_byte = pio(0x2011, 1, false);
    EXPECT_EQ(handle_ioreq(read_byte, buses, 0), IoreqResult::handled);
    EXPECT_EQ(read_byte.reqs.pio_request.value, 0xC3u);

    auto write_mem = mmio(0xC000'0FF8, 8, true, 0x1122334455667788ull);
    EXPECT_EQ(handle_ioreq(write_mem, buses, 0), IoreqResult::handled);
    auto read_mem = mmio(0xC000'0FFC, 4, false);
    EXPECT_EQ(handle_ioreq(read_mem, buses, 0), IoreqResult::handled);
    EXPECT_EQ(read_mem.reqs.mmio_request.value, 0x11223344u);
    auto past_end = mmio(0xC000'0FFC, 8, false);
    EXPECT_EQ(handle_ioreq(past_end, buses, 0), IoreqResult::unclaimed);
}

}  // namespace
}  // namespace acrn::dm
