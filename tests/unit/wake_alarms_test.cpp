// The VMs to start at their RTC alarm: the files acrn-dm leaves at power-off
// and what acrnd decides from them.
#include "common/wake_alarms.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "tools/acrnd/wake_schedule.hpp"

namespace acrn {
namespace {

class WakeAlarmsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/wake-alarms-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root_ = pattern;
        dir_ = root_ + "/var/lib/acrn/wake";  // created on the first record
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    void put(const std::string& name, const std::string& text) {
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ + "/" + name) << text;
    }

    std::string root_;
    std::string dir_;
};

TEST_F(WakeAlarmsTest, RecordedReadAndClearedPerVm) {
    EXPECT_TRUE(read_wake_alarms(dir_).alarms.empty());  // no folder yet: none
    record_wake_alarm(dir_, "vm-b", 1'800'000'000);
    record_wake_alarm(dir_, "vm-a", 1'900'000'000);
    record_wake_alarm(dir_, "vm-c", 1'700'000'000);
    record_wake_alarm(dir_, "vm-a", 1'750'000'000);  // a later power-off replaces the first
    EXPECT_EQ(read_wake_alarm(dir_, "vm-a"), 1'750'000'000);
    const WakeAlarmList list = read_wake_alarms(dir_);
    ASSERT_EQ(list.alarms.size(), 3u);
    EXPECT_TRUE(list.problems.empty());
    EXPECT_EQ(list.alarms[0].vm, "vm-c");  // soonest first
    EXPECT_EQ(list.alarms[1].vm, "vm-a");
    EXPECT_EQ(list.alarms[2].vm, "vm-b");
    EXPECT_TRUE(clear_wake_alarm(dir_, "vm-a"));
    EXPECT_FALSE(clear_wake_alarm(dir_, "vm-a"));
    EXPECT_EQ(read_wake_alarm(dir_, "vm-a"), std::nullopt);
    EXPECT_EQ(read_wake_alarms(dir_).alarms.size(), 2u);
}

TEST_F(WakeAlarmsTest, TheFileSaysTheTimeForPeopleToo) {
    record_wake_alarm(dir_, "uos", 1'796'324'611);
    std::ifstream in(dir_ + "/uos");
    std::string first;
    std::string second;
    std::getline(in, first);
    std::getline(in, second);
    EXPECT_EQ(first, "1796324611");
    EXPECT_NE(second.find("2026-12-03 19:03:31 UTC"), std::string::npos) << second;
}

TEST_F(WakeAlarmsTest, FilesThatHoldNoTimeAreReportedAndOthersIgnored) {
    put("good", "1800000000\n# a comment\n");
    put("words", "tomorrow\n");
    put("negative", "-5\n");
    put("trailing", "1800000000x\n");
    put("empty", "");
    put("huge", std::string(300, '1'));
    put(".uos.tmp", "garbage");      // acrn-dm's temporary: not a VM's name
    put("much-too-long-name", "1");  // longer than a VM's name may be
    const WakeAlarmList list = read_wake_alarms(dir_);
    ASSERT_EQ(list.alarms.size(), 1u);
    EXPECT_EQ(list.alarms[0].vm, "good");
    std::set<std::string> reported;
    for (const std::string& problem : list.problems) {
        reported.insert(problem.substr(dir_.size() + 1, problem.find(':') - dir_.size() - 1));
    }
    EXPECT_EQ(reported, (std::set<std::string>{"empty", "huge", "negative", "trailing", "words"}));
}

TEST_F(WakeAlarmsTest, AFolderThatCannotBeMadeIsAnError) {
    put("blocker", "");
    EXPECT_THROW(record_wake_alarm(dir_ + "/blocker/wake", "uos", 1), std::system_error);
}

TEST(WakeAlarmTimes, AreShownInUtc) {
    EXPECT_EQ(utc_time_text(0), "1970-01-01 00:00:00 UTC");
    EXPECT_EQ(utc_time_text(1'709'214'330), "2024-02-29 13:45:30 UTC");
}

using tools::decide_wake_alarms;
using tools::VmFacts;
using tools::WakeDecision;
using Kind = WakeDecision::Kind;

TEST(WakeSchedule, OnlyDueAlarmsAreActedOn) {
    std::set<std::string> running{"ending", "started-by-hand"};
    std::set<std::string> configured{"due", "late", "ending", "started-by-hand", "later"};
    const VmFacts facts{[&](const std::string& vm) { return running.count(vm) != 0; },
                        [&](const std::string& vm) { return configured.count(vm) != 0; }};
    constexpr std::int64_t kNow = 1'800'000'000;
    const std::vector<WakeAlarm> alarms{{"started-by-hand", kNow - tools::kStillRunningGraceSeconds - 1},
                                        {"late", kNow - 3600},
                                        {"ending", kNow - 2},
                                        {"unknown", kNow - 1},
                                        {"due", kNow},
                                        {"later", kNow + 1}};
    const std::vector<WakeDecision> decisions = decide_wake_alarms(alarms, kNow, facts);
    ASSERT_EQ(decisions.size(), 5u);
    EXPECT_EQ(decisions[0].alarm.vm, "started-by-hand");
    EXPECT_EQ(decisions[0].kind, Kind::drop_running);
    EXPECT_EQ(decisions[1].alarm.vm, "late");  // passed while acrnd did not run: started now
    EXPECT_EQ(decisions[1].kind, Kind::start);
    EXPECT_EQ(decisions[2].alarm.vm, "ending");  // its acrn-dm is still on its way out
    EXPECT_EQ(decisions[2].kind, Kind::wait);
    EXPECT_EQ(decisions[3].alarm.vm, "unknown");
    EXPECT_EQ(decisions[3].kind, Kind::drop_unknown);
    EXPECT_EQ(decisions[4].alarm.vm, "due");
    EXPECT_EQ(decisions[4].kind, Kind::start);
}

}  // namespace
}  // namespace acrn
