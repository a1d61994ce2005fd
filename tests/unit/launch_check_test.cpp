// acrn-dm --dry-run's checks, on launch lines that name files here.
#include "dm/machine/launch_check.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "dm/cli/options.hpp"

namespace acrn::dm {
namespace {

DmOptions options_of(std::vector<std::string> args) {
    args.insert(args.begin(), "acrn-dm");
    std::vector<char*> argv;
    for (std::string& arg : args) {
        argv.push_back(arg.data());
    }
    ParseResult parsed = parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (auto* exit = std::get_if<ParseExit>(&parsed)) {
        ADD_FAILURE() << exit->message;
        return {};
    }
    return std::get<DmOptions>(std::move(parsed));
}

// The problems, less the one of a machine without KVM (this one may be such).
std::vector<std::string> problems_of(const LaunchCheck& check) {
    std::vector<std::string> out;
    std::copy_if(check.problems.begin(), check.problems.end(), std::back_inserter(out),
                 [](const std::string& p) { return p.find("/dev/kvm") == std::string::npos; });
    return out;
}

bool has(const std::vector<std::string>& lines, const std::string& part) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

class LaunchCheckTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/acrn-dryrun-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        std::ofstream(dir_ + "/disk.img") << std::string(4096, '\0');
        std::ofstream(dir_ + "/guest.elf") << "not an ELF";
    }
    void TearDown() override {
        for (const char* file : {"/disk.img", "/guest.elf", "/notasocket", "/com1.log"}) {
            ::unlink((dir_ + file).c_str());
        }
        ::rmdir(dir_.c_str());
    }
    std::string dir_;
};

TEST_F(LaunchCheckTest, EveryProblemIsNamedNotOnlyTheFirst) {
    std::ofstream(dir_ + "/notasocket") << "x";
    const LaunchCheck check = check_launch(options_of(
        {"-s", "0:0,hostbridge", "-s", "1:0,lpc", "-l", "com1,file:/nonexistent-dir/com1.log", "-s",
         "3,virtio-blk," + dir_ + "/missing.img", "-s", "4,virtio-console,@socket:p=/nonexistent-dir/p.sock",
         "--cmd_monitor", dir_ + "/notasocket", "-k", dir_ + "/no-kernel", "-r", dir_ + "/no-initrd", "-m", "64G",
         "vm1"}));
    const std::vector<std::string> problems = problems_of(check);
    EXPECT_TRUE(has(problems, "-k:")) << "the kernel";
    EXPECT_TRUE(has(problems, "-r: cannot open '" + dir_ + "/no-initrd'")) << "the initrd, though the kernel failed";
    EXPECT_TRUE(has(problems, "-l com1: cannot create /nonexistent-dir/com1.log"));
    EXPECT_TRUE(has(problems, "-s 3,virtio-blk: " + dir_ + "/missing.img"));
    EXPECT_TRUE(has(problems, "-s 4,virtio-console port p: cannot make a socket in /nonexistent-dir"));
    EXPECT_TRUE(has(problems, "--cmd_monitor: " + dir_ + "/notasocket exists and is not a socket"));
    EXPECT_EQ(problems.size(), 6u + (has(problems, "-m:") ? 1u : 0u)) << "one each, nothing else";
}

TEST_F(LaunchCheckTest, AGoodLaunchLineHasNoProblem) {
    const LaunchCheck check = check_launch(options_of(
        {"-s", "0:0,hostbridge", "-s", "1:0,lpc", "-l", "com1,file:" + dir_ + "/com1.log", "-s",
         "3,virtio-blk," + dir_ + "/disk.img", "--cmd_monitor", dir_ + "/vm1.socket", "-E", dir_ + "/guest.elf", "vm1"}));
    // The image is parsed, not only opened: a file that is no ELF is the one problem.
    const std::vector<std::string> problems = problems_of(check);
    ASSERT_EQ(problems.size(), 1u) << problems.front();
    EXPECT_EQ(problems[0].rfind("-E", 0), 0u) << problems[0];
    EXPECT_NE(::access((dir_ + "/vm1.socket").c_str(), F_OK), 0) << "nothing is created";
    EXPECT_NE(::access((dir_ + "/com1.log").c_str(), F_OK), 0) << "nothing is created";
}

}  // namespace
}  // namespace acrn::dm
