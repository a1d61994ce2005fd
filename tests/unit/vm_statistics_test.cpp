// The per-VM statistics: requests counted by device through the ioreq
// handler's entry point, the snapshot gathered from the HSM and the
// machine's counters, and how it reads in the log.
#include "dm/stats/vm_statistics.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "dm/io/io_buses.hpp"
#include "dm/io/ioreq_handler.hpp"
#include "relay/ioreq_dispatcher.hpp"
#include "tests/support/dispatcher_hsm.hpp"
#include "tests/unit/device_test_support.hpp"
#include "tests/unit/testdev_on_buses.hpp"

namespace acrn::dm {
namespace {

acrn_io_request pio(std::uint16_t port, bool write, std::uint32_t value = 0) {
    return testing::port_request(write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ, port, 4, value);
}

acrn_io_request mmio(std::uint64_t address) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_MMIO;
    request.reqs.mmio_request.direction = ACRN_IOREQ_DIR_READ;
    request.reqs.mmio_request.address = address;
    request.reqs.mmio_request.size = 4;
    return request;
}

acrn_io_request config(std::uint32_t slot, std::uint32_t reg, bool write, std::uint32_t value = 0) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PCICFG;
    request.reqs.pci_request.direction = write ? ACRN_IOREQ_DIR_WRITE : ACRN_IOREQ_DIR_READ;
    request.reqs.pci_request.size = 4;
    request.reqs.pci_request.value = value;
    request.reqs.pci_request.dev = slot;
    request.reqs.pci_request.reg = reg;
    return request;
}

RequestCounts::Count count_of(const IoBuses& buses, const std::string& owner) {
    const auto counts = buses.requests.snapshot();
    const auto found = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.owner == owner; });
    return found != counts.end() ? *found : RequestCounts::Count{owner};
}

TEST(VmStatisticsTest, RequestsAreCountedByDeviceAcrossItsBarsAndAMove) {
    IoBuses buses;
    test_support::RecordingPower power;
    ASSERT_TRUE(test_support::testdev_on_buses(buses, power));

    auto enable = config(3, 4, true, 0x3);  // I/O and memory decoding
    ASSERT_EQ(handle_ioreq(enable, buses, 0), IoreqResult::handled);
    for (int i = 0; i < 3; ++i) {
        auto port = pio(0x2010, true, 7);
        ASSERT_EQ(handle_ioreq(port, buses, 0), IoreqResult::handled);
    }
    auto memory = mmio(0xC000'0010);
    ASSERT_EQ(handle_ioreq(memory, buses, 0), IoreqResult::handled);
    // The guest moves the I/O BAR: the range is registered again, the count goes on.
    auto move = config(3, 0x14, true, 0x3000);
    ASSERT_EQ(handle_ioreq(move, buses, 0), IoreqResult::handled);
    auto moved = pio(0x3010, false);
    ASSERT_EQ(handle_ioreq(moved, buses, 0), IoreqResult::handled);
    auto old_place = pio(0x2010, false);
    EXPECT_EQ(handle_ioreq(old_place, buses, 0), IoreqResult::unclaimed);
    auto absent = config(9, 0, false);
    EXPECT_EQ(handle_ioreq(absent, buses, 0), IoreqResult::unclaimed);

    const RequestCounts::Count testdev = count_of(buses, "testdev");
    EXPECT_EQ(testdev.pio, 4u);
    EXPECT_EQ(testdev.mmio, 1u);
    EXPECT_EQ(testdev.pci_config, 2u);
    const RequestCounts::Count unclaimed = count_of(buses, RequestCounts::kUnclaimed);
    EXPECT_EQ(unclaimed.pio, 1u);
    EXPECT_EQ(unclaimed.mmio, 0u);
    EXPECT_EQ(unclaimed.pci_config, 1u);
}

TEST(VmStatisticsTest, CollectsFromTheHsmAndTheMachinesCounters) {
    relay::IoreqDispatcher dispatcher(1, [](std::uint32_t) { return 0; });
    testing::DispatcherHsm hsm(dispatcher);
    IoBuses buses;
    test_support::RecordingInterrupts controller;
    InterruptSources sources(controller);
    LineSource& line = sources.add_line(4, "com1");
    line.pulse();
    line.pulse();

    VmStatistics without = collect_statistics(StatisticsSources{hsm, buses.requests, sources});
    EXPECT_FALSE(without.hypervisor) << "a relay that cannot say";
    ASSERT_EQ(without.interrupts.size(), 1u);
    EXPECT_EQ(without.interrupts[0].injections, 2u);

    HypervisorStats hypervisor;
    hypervisor.exits[static_cast<std::size_t>(VcpuExit::port_io)] = 12;
    hsm.stats = hypervisor;
    VmStatistics with = collect_statistics(StatisticsSources{hsm, buses.requests, sources});
    ASSERT_TRUE(with.hypervisor);
    EXPECT_EQ(with.hypervisor->exits[static_cast<std::size_t>(VcpuExit::port_io)], 12u);
}

TEST(VmStatisticsTest, ReadsAsOneLinePerCountAndPerBusyDeviceOrSource) {
    VmStatistics statistics;
    statistics.vm_name = "vm1";
    statistics.uptime = std::chrono::milliseconds(12'340);
    statistics.polling = true;
    statistics.requests_served = 42;
    HypervisorStats hypervisor;
    hypervisor.exits[static_cast<std::size_t>(VcpuExit::port_io)] = 40;
    hypervisor.exits[static_cast<std::size_t>(VcpuExit::mmio)] = 2;
    LatencyHistogram polled;
    polled.record(std::chrono::microseconds(3));  // percentiles: the middle of its bucket, within min..max
    polled.record(std::chrono::microseconds(5));
    hypervisor.ioreq_polled = polled.snapshot();
    statistics.hypervisor = hypervisor;
    statistics.requests = {{"com1", 40, 0, 0}, {"idle", 0, 0, 0}, {"virtio-blk", 0, 2, 6}};
    statistics.interrupts = {
        {InterruptSourceStats::Kind::line, "com1", 4, false, 9, 0, 0, false},
        {InterruptSourceStats::Kind::msi, "virtio-blk vector 1", 0, false, 0, 0, 0, false},
        {InterruptSourceStats::Kind::msi, "testdev vector 0", 0, false, 500, 20, 380, true},
    };
    const std::vector<std::string> lines = format_statistics(statistics);
    const std::vector<std::string> expected = {
        "statistics of VM 'vm1' after 12.3 s (polling I/O completion, 42 requests served)",
        "vCPU exits: io 40, mmio 2, total 42",
        "ioreq round trips answered while the vCPU polled: 2, min 3 us, median 3 us, p99 4.47 us, max 5 us",
        "ioreq round trips answered after the vCPU slept: none",
        "requests to com1: PIO 40",
        "requests to virtio-blk: MMIO 2, PCI config 6",
        "interrupts from com1 (GSI 4): 9 injected",
        "interrupts from testdev vector 0: 500 injected, 20 delayed, 380 merged into a delayed one, throttled now",
    };
    EXPECT_EQ(lines, expected);
}

TEST(VmStatisticsTest, DurationsReadInTheirUnit) {
    EXPECT_EQ(format_duration(850), "850 ns");
    EXPECT_EQ(format_duration(12'345), "12.3 us");
    EXPECT_EQ(format_duration(4'560'000), "4.56 ms");
    EXPECT_EQ(format_duration(1'230'000'000), "1.23 s");
    EXPECT_EQ(format_duration(125'000'000'000), "125 s");
}

}  // namespace
}  // namespace acrn::dm
