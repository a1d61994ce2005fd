// Interrupt sources: a shared level line is the OR of its sources, and each
// source counts its own injections.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "dm/irq/interrupt_sources.hpp"
#include "tests/unit/device_test_support.hpp"

namespace acrn::dm {
namespace {

using test_support::RecordingInterrupts;

TEST(InterruptSourcesTest, ASharedLineIsTheOrOfItsSources) {
    RecordingInterrupts controller;
    InterruptSources sources(controller);
    LineSource& first = sources.add_line(19, "first");
    LineSource& second = sources.add_line(19, "second");

    first.set(true);
    second.set(true);
    EXPECT_TRUE(controller.high(19));
    first.set(false);  // the second still asserts: the line stays high
    EXPECT_TRUE(controller.high(19));
    EXPECT_TRUE(sources.pin_asserted(19));
    second.set(false);
    EXPECT_FALSE(controller.high(19));
    EXPECT_FALSE(sources.pin_asserted(19));
    EXPECT_EQ(controller.changes, 2);  // one rise, one fall
}

TEST(InterruptSourcesTest, RepeatedLevelsAreNoChange) {
    RecordingInterrupts controller;
    InterruptSources sources(controller);
    LineSource& line = sources.add_line(4, "com1");
    line.set(false);
    line.set(true);
    line.set(true);
    EXPECT_EQ(controller.changes, 1);
    EXPECT_EQ(line.injections(), 1u);
    line.set(false);
    line.pulse();
    EXPECT_EQ(line.injections(), 2u);
    EXPECT_FALSE(controller.high(4));
}

TEST(InterruptSourcesTest, EachSourceCountsItsOwnInjections) {
    RecordingInterrupts controller;
    InterruptSources sources(controller);
    LineSource& line = sources.add_line(9, "sci");
    MsiSource& vector0 = sources.add_msi("dev vector 0");
    MsiSource& vector1 = sources.add_msi("dev vector 1");
    line.pulse();
    vector0.send(0xFEE0'0000, 0x41);
    vector1.send(0xFEE0'0000, 0x42);
    vector1.send(0xFEE0'0000, 0x42);
    EXPECT_EQ(controller.msis.size(), 3u);
    const auto stats = sources.stats();
    ASSERT_EQ(stats.size(), 3u);
    EXPECT_EQ(stats[0].name, "sci");
    EXPECT_EQ(stats[0].gsi, 9u);
    EXPECT_EQ(stats[0].injections, 1u);
    EXPECT_EQ(stats[1].injections, 1u);
    EXPECT_EQ(stats[2].name, "dev vector 1");
    EXPECT_EQ(stats[2].injections, 2u);
}

TEST(InterruptSourcesTest, ConcurrentSourcesLeaveTheLineMatchingTheirStates) {
    RecordingInterrupts controller;
    InterruptSources sources(controller);
    std::vector<LineSource*> lines;
    for (int i = 0; i < 4; ++i) {
        lines.push_back(&sources.add_line(17, "source " + std::to_string(i)));
    }
    std::vector<std::thread> threads;
    for (LineSource* line : lines) {
        threads.emplace_back([line] {
            for (int round = 0; round < 10'000; ++round) {
                line->set(round % 2 == 0);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    // Every source ended released (the last round is odd).
    EXPECT_FALSE(sources.pin_asserted(17));
    EXPECT_FALSE(controller.high(17));
    lines[2]->set(true);
    EXPECT_TRUE(controller.high(17));
}

}  // namespace
}  // namespace acrn::dm
