// The boot timeline: phases counted once, from the origin, in the order
// reached; the console phases from the guest's COM1 bytes.
#include "dm/boot_timeline.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace acrn::dm {
namespace {

using namespace std::chrono_literals;

std::span<const std::uint8_t> bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(BootTimelineTest, EachPhaseCountsOnceFromTheOrigin) {
    const auto origin = BootTimeline::Clock::now();
    BootTimeline timeline(origin);
    EXPECT_EQ(timeline.at(BootPhase::dm_started), 0ns);
    EXPECT_FALSE(timeline.at(BootPhase::vm_created));
    timeline.reached(BootPhase::vm_created, origin + 20ms);
    timeline.reached(BootPhase::vm_created, origin + 90ms);  // the first time counts
    timeline.reached(BootPhase::memory_ready, origin + 5ms);
    EXPECT_EQ(timeline.at(BootPhase::vm_created), 20ms);
    const nlohmann::json phases = timeline.to_json();
    ASSERT_EQ(phases.size(), 3u);
    EXPECT_EQ(phases[0]["phase"], "acrn-dm started");
    EXPECT_EQ(phases[1]["phase"], "guest memory ready");
    EXPECT_DOUBLE_EQ(phases[1]["ms"].get<double>(), 5.0);
    EXPECT_EQ(phases[2]["phase"], "VM created");
    EXPECT_DOUBLE_EQ(phases[2]["ms"].get<double>(), 20.0);
}

TEST(BootTimelineTest, TheMarkerIsSeenInAConsoleLineEvenAcrossPieces) {
    BootTimeline timeline(BootTimeline::Clock::now(), "@@INIT_REACHED");
    timeline.console_output(bytes("Linux version 6.1\r\n@@INIT_REA"));
    EXPECT_TRUE(timeline.at(BootPhase::first_console_output));
    EXPECT_FALSE(timeline.at(BootPhase::marker_seen));
    timeline.console_output(bytes("CHED uptime=1.0\n"));
    EXPECT_TRUE(timeline.at(BootPhase::marker_seen));
}

TEST(BootTimelineTest, AMarkerSplitByALineBreakIsNotSeen) {
    BootTimeline timeline(BootTimeline::Clock::now(), "init done");
    timeline.console_output(bytes("init\ndone\n"));
    EXPECT_FALSE(timeline.at(BootPhase::marker_seen));
    // A line longer than the limit keeps its start, and the marker past it is not looked for.
    timeline.console_output(bytes(std::string(BootTimeline::kLongestLine + 10, 'x') + "init done"));
    EXPECT_FALSE(timeline.at(BootPhase::marker_seen));
    timeline.console_output(bytes("\n[ok] init done\n"));
    EXPECT_TRUE(timeline.at(BootPhase::marker_seen));
}

TEST(BootTimelineTest, WithoutAMarkerOnlyTheFirstOutputCounts) {
    BootTimeline timeline(BootTimeline::Clock::now());
    timeline.console_output(bytes(""));
    EXPECT_FALSE(timeline.at(BootPhase::first_console_output));
    timeline.console_output(bytes("x"));
    EXPECT_TRUE(timeline.at(BootPhase::first_console_output));
    EXPECT_FALSE(timeline.at(BootPhase::marker_seen));
}

}  // namespace
}  // namespace acrn::dm
