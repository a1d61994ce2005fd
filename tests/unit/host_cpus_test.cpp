#include <gtest/gtest.h>
#include <sched.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "dm/host_cpus.hpp"

namespace acrn::dm {
namespace {

TEST(HostCpus, MapsApicIdsToProcessorNumbers) {
    const char* cpuinfo =
        "processor\t: 0\nvendor_id\t: AuthenticAMD\napicid\t\t: 0\ninitial apicid\t: 0\n\n"
        "processor\t: 1\napicid\t\t: 2\ninitial apicid\t: 2\n\n"
        "processor\t: 2\napicid\t\t: 4\n";
    const auto cpus = parse_cpuinfo_apic_ids(cpuinfo);
    EXPECT_EQ(cpus, (std::map<std::uint32_t, int>{{0, 0}, {2, 1}, {4, 2}}));
}

TEST(HostCpus, IgnoresMalformedLines) {
    const auto cpus = parse_cpuinfo_apic_ids("apicid : 3\nprocessor : x\nprocessor : 1\napicid : \napicidx : 5\n");
    EXPECT_TRUE(cpus.empty());
}

TEST(HostCpus, ThisHostHasItsCpus) { EXPECT_FALSE(host_cpus_by_apic_id().empty()); }

// On a thread of its own: the test process keeps its CPUs.
TEST(HostCpus, ConfiningAThreadLeavesItOnlyThoseCpus) {
    cpu_set_t allowed;
    ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int first = 0;
    while (!CPU_ISSET(first, &allowed)) {
        ++first;
    }
    std::thread([first] {
        confine_to_cpus({first});
        cpu_set_t now;
        ASSERT_EQ(::sched_getaffinity(0, sizeof now, &now), 0);
        EXPECT_EQ(CPU_COUNT(&now), 1);
        EXPECT_TRUE(CPU_ISSET(first, &now));
        try {
            confine_to_cpus({1023});
            ADD_FAILURE() << "a CPU this host does not have was accepted";
        } catch (const std::runtime_error& error) {
            EXPECT_NE(std::string(error.what()).find("1023"), std::string::npos) << error.what();
        }
    }).join();
}

}  // namespace
}  // namespace acrn::dm
