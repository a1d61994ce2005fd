#include <gtest/gtest.h>

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

}  // namespace
}  // namespace acrn::dm
