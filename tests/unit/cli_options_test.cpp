// acrn-dm's command line: every option with good and bad values, the exit
// statuses and messages, -h/-v, ACRN's quirks done our way, and a fuzz run.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "dm/cli/options.hpp"

#ifndef ACRN_DM_VERSION
#define ACRN_DM_VERSION "0.1.0"
#endif

namespace acrn::dm {
namespace {

using Args = std::vector<std::string>;

ParseResult run(const Args& args) {
    std::vector<const char*> argv{"acrn-dm"};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

std::string joined(const Args& args) {
    std::string text;
    for (const auto& arg : args) text += " [" + arg + "]";
    return text;
}

DmOptions expect_ok(const Args& args) {
    auto result = run(args);
    if (auto* exit = std::get_if<ParseExit>(&result)) {
        ADD_FAILURE() << "rejected:" << joined(args) << "\n  " << exit->message;
        return {};
    }
    return std::get<DmOptions>(std::move(result));
}

// A usage error: status 64, stderr, exactly one line "acrn-dm: <option>: ...".
ParseExit expect_error(const Args& args, const std::string& option, const std::string& contains = "") {
    auto result = run(args);
    auto* exit = std::get_if<ParseExit>(&result);
    if (exit == nullptr) {
        ADD_FAILURE() << "accepted:" << joined(args);
        return {};
    }
    EXPECT_EQ(exit->status, kExitUsage) << joined(args);
    EXPECT_FALSE(exit->to_stdout) << joined(args);
    EXPECT_EQ(exit->message.rfind("acrn-dm: " + option + ": ", 0), 0u) << joined(args) << "\n  " << exit->message;
    EXPECT_EQ(std::count(exit->message.begin(), exit->message.end(), '\n'), 1) << exit->message;
    EXPECT_EQ(exit->message.back(), '\n');
    if (!contains.empty()) {
        EXPECT_NE(exit->message.find(contains), std::string::npos) << joined(args) << "\n  " << exit->message;
    }
    return *exit;
}

// Parses and validates, then refuses: "not supported yet" (and not "invalid").
void expect_not_yet(const Args& args, const std::string& option) {
    auto exit = expect_error(args, option, "not supported yet");
    EXPECT_EQ(exit.message.find("invalid"), std::string::npos) << exit.message;
}

// A bad value: an error that is not the "not supported yet" refusal.
void expect_invalid(const Args& args, const std::string& option) {
    auto exit = expect_error(args, option);
    EXPECT_EQ(exit.message.find("not supported yet"), std::string::npos) << joined(args) << "\n  " << exit.message;
}

TEST(CliOptions, MinimalCommandLineGivesDefaults) {
    auto o = expect_ok({"vm1"});
    EXPECT_EQ(o.vm_name, "vm1");
    EXPECT_EQ(o.memory_bytes, 256ull << 20);
    EXPECT_TRUE(o.pci_slots.empty());
    EXPECT_TRUE(o.serial_ports.empty());
    EXPECT_TRUE(o.logger.empty());
    EXPECT_FALSE(o.debugexit || o.ioreq_polling || o.lapic_pt || o.rtvm);
    EXPECT_FALSE(o.kernel || o.initrd || o.bootargs || o.elf_image || o.cmd_monitor);
    EXPECT_TRUE(o.warnings.empty());
}

TEST(CliOptions, FullSupportedCommandLine) {
    auto o = expect_ok({"-s", "0:0,hostbridge", "-s", "1:0,lpc", "-s", "3,testdev", "-l", "com1,stdio", "-l",
                        "COM2,tcp:4444", "-m", "1G", "-E", "/guests/t.elf", "--logger_setting", "console,level=5",
                        "--debugexit", "--ioreq_polling", "my-vm_1.0"});
    EXPECT_EQ(o.vm_name, "my-vm_1.0");
    EXPECT_EQ(o.memory_bytes, 1ull << 30);
    ASSERT_EQ(o.pci_slots.size(), 3u);
    EXPECT_EQ(o.pci_slots[0].emulation, "hostbridge");
    EXPECT_EQ(o.pci_slots[1].emulation, "lpc");
    EXPECT_EQ(o.pci_slots[1].slot, 1);
    EXPECT_EQ(o.pci_slots[2].slot, 3);
    EXPECT_EQ(o.pci_slots[2].config, "");
    ASSERT_EQ(o.serial_ports.size(), 2u);
    EXPECT_EQ(o.serial_ports[0].index, 1);
    EXPECT_EQ(o.serial_ports[0].backend.kind, SerialBackendSpec::Kind::stdio);
    EXPECT_EQ(o.serial_ports[1].index, 2);
    EXPECT_EQ(o.serial_ports[1].backend.kind, SerialBackendSpec::Kind::tcp);
    EXPECT_EQ(o.serial_ports[1].backend.port, 4444);
    EXPECT_EQ(o.elf_image, "/guests/t.elf");
    ASSERT_EQ(o.logger.size(), 1u);
    EXPECT_EQ(o.logger[0].sink, "console");
    EXPECT_EQ(o.logger[0].level, 5);
    EXPECT_TRUE(o.debugexit);
    EXPECT_TRUE(o.ioreq_polling);
    EXPECT_TRUE(o.warnings.empty());
}

TEST(CliOptions, AttachedValueForms) {
    auto o = expect_ok({"-m512M", "--logger_setting=console,level=2", "vm"});
    EXPECT_EQ(o.memory_bytes, 512ull << 20);
    EXPECT_EQ(o.logger.at(0).level, 2);
}

TEST(CliOptions, VmNameMayComeFirst) { EXPECT_EQ(expect_ok({"vm", "-m", "2G"}).memory_bytes, 2ull << 30); }

TEST(CliOptions, HelpListsEveryOption) {
    for (const Args& args : {Args{"-h"}, Args{"--help"}, Args{"-m", "abc", "--help"}, Args{"-A", "-h", "vm"},
                             Args{"-Ah"}, Args{"vm", "-s", "--help"}}) {
        auto result = run(args);
        ASSERT_TRUE(std::holds_alternative<ParseExit>(result)) << joined(args);
        const auto& exit = std::get<ParseExit>(result);
        EXPECT_EQ(exit.status, 0);
        EXPECT_TRUE(exit.to_stdout);
        for (const char* name : {"-s ", "-l ", "-m ", "-k ", "-r ", "-B ", "-E ", "-h, --help", "-v, --version",
                                 "--cpu_affinity", "-c, --ncpus", "--intr_monitor", "--virtio_poll", "--lapic_pt",
                                 "--rtvm", "--cmd_monitor", "--boot_marker", "--logger_setting", "--debugexit", "--mac_seed", "--ioreq_polling",
                                 "--ioreq_dm_poll", "--ovmf", "--iasl", "--enable_trusty", "--windows", "--virtio_msi", "--acpidev_pt",
                                 "--mmiodev_pt", "--vtpm2", "--ssram", "--pm_notify_channel", "-A ", "-Y ", "-i ",
                                 "-G ", "--vsbl", "--part_info", "--pm_by_vuart", "<vm_name>"}) {
            EXPECT_NE(exit.message.find(name), std::string::npos) << name;
        }
        EXPECT_EQ(exit.message.find("-U"), std::string::npos);
        EXPECT_EQ(exit.message.back(), '\n');
    }
}

TEST(CliOptions, Version) {
    for (const Args& args : {Args{"-v"}, Args{"--version"}, Args{"--version", "vm", "extra"}}) {
        auto result = run(args);
        ASSERT_TRUE(std::holds_alternative<ParseExit>(result));
        const auto& exit = std::get<ParseExit>(result);
        EXPECT_EQ(exit.status, 0);
        EXPECT_TRUE(exit.to_stdout);
        EXPECT_EQ(exit.message, std::string("acrn-dm version ") + ACRN_DM_VERSION + "\n");
    }
    // The first of -h / -v wins.
    EXPECT_EQ(std::get<ParseExit>(run({"-v", "-h"})).message.rfind("acrn-dm version", 0), 0u);
}

TEST(CliOptions, VmName) {
    EXPECT_EQ(expect_ok({"abcdefghijklmno"}).vm_name, "abcdefghijklmno");  // 15
    expect_error({}, "vm name", "missing");
    expect_error({"-m", "512M"}, "vm name", "missing");
    expect_error({"vm1", "vm2"}, "vm name", "vm2");
    expect_error({"abcdefghijklmnop"}, "vm name", "1 to 15 characters");  // 16
    expect_error({"-m", "512M", "--vm_name", "x"}, "--vm_name", "unknown option");
    for (const char* bad : {"", "a b", "vm/1", "vm\n", "v*", ".hidden", "\xc3\xa9t\xc3\xa9"}) {
        expect_error({bad}, "vm name");
    }
    // CLI11 would read a bracketed word as a list and strip the brackets.
    expect_error({"[vm1]"}, "vm name", "'[vm1]'");
    expect_error({"[vm1,vm2]"}, "vm name", "'[vm1,vm2]'");
    expect_error({"[]"}, "vm name", "'[]'");
    expect_error({"-m", "512M", "[vm1]"}, "vm name", "'[vm1]'");
    expect_error({"--", "-vm"}, "vm name");
    EXPECT_EQ(expect_ok({"--", "vm"}).vm_name, "vm");
    // argv without arguments, or none at all.
    const char* only[] = {"acrn-dm", nullptr};
    EXPECT_TRUE(std::holds_alternative<ParseExit>(parse_command_line(1, only)));
    auto none = parse_command_line(0, nullptr);
    ASSERT_TRUE(std::holds_alternative<ParseExit>(none));
    EXPECT_EQ(std::get<ParseExit>(none).status, kExitUsage);
}

TEST(CliOptions, UnknownOptionsAndMissingValues) {
    expect_error({"-U", "foo", "vm"}, "-U", "unknown option");
    expect_error({"vm", "-U"}, "-U", "unknown option");
    expect_error({"--foo", "vm"}, "--foo", "unknown option");
    expect_error({"--foo=bar", "vm"}, "--foo", "unknown option");
    expect_error({"--debug", "vm"}, "--debug", "unknown option");  // no prefix matching
    expect_error({"--Rtvm", "vm"}, "--Rtvm", "unknown option");    // case-sensitive
    expect_error({"vm", "-s"}, "-s", "missing value");
    expect_error({"vm", "-m"}, "-m", "missing value");
    expect_error({"vm", "--virtio_poll"}, "--virtio_poll", "missing value");
    // As getopt: a required value is the next word, even one that looks like an option.
    EXPECT_EQ(expect_ok({"-E", "-m", "vm"}).elf_image, "-m");
    EXPECT_EQ(expect_ok({"-E", "--", "vm"}).elf_image, "--");
    expect_error({"--cmd_monitor=", "vm"}, "--cmd_monitor", "empty value");
    expect_error({"--debugexit=1", "vm"}, "--debugexit", "takes no value");
    expect_error({"--rtvm=false", "vm"}, "--rtvm", "takes no value");
}

struct MemoryCase {
    const char* text;
    std::uint64_t bytes;
};

TEST(CliOptions, MemoryGoodForms) {
    for (const auto& [text, bytes] : {MemoryCase{"512M", 512ull << 20}, MemoryCase{"512m", 512ull << 20},
                                      MemoryCase{"2g", 2ull << 30}, MemoryCase{"2G", 2ull << 30},
                                      MemoryCase{"1024", 1024ull << 20}, MemoryCase{"0x200M", 512ull << 20},
                                      MemoryCase{"0X200m", 512ull << 20}, MemoryCase{"131072k", 128ull << 20},
                                      MemoryCase{"131076K", 131076ull << 10}, MemoryCase{"0400", 256ull << 20},
                                      MemoryCase{"128M", 128ull << 20}, MemoryCase{"1024G", 1ull << 40}}) {
        EXPECT_EQ(expect_ok({"-m", text, "vm"}).memory_bytes, bytes) << text;
    }
    EXPECT_EQ(expect_ok({"-m", "1G", "-m", "512M", "vm"}).memory_bytes, 512ull << 20);  // the last one wins
}

TEST(CliOptions, MemoryBadForms) {
    for (const char* text : {"abc", "", "1b", "512B", "512MB", "512 M", " 512M", "+512M", "-512M", "512T", "0x",
                             "0xM", "08", "1.5G", "M", "99999999999999999999999", "18446744073709551615G"}) {
        expect_error({"-m", text, "vm"}, "-m", "invalid memory size");
    }
    expect_error({"-m", "127M", "vm"}, "-m", "minimum of 128 MiB");
    expect_error({"-m", "131068k", "vm"}, "-m", "minimum");
    expect_error({"-m", "0", "vm"}, "-m", "minimum");
    expect_error({"-m", "1025G", "vm"}, "-m", "maximum of 1 TiB");
    expect_error({"-m", "131073k", "vm"}, "-m", "multiple of 4 KiB");
    auto exit = expect_error({"-m", "abc", "vm"}, "-m");
    EXPECT_EQ(exit.message,
              "acrn-dm: -m: invalid memory size 'abc' (expected e.g. 512M, 2G or a number of MiB)\n");
}

TEST(CliOptions, ParseMemorySize) {
    EXPECT_EQ(parse_memory_size("4k"), 4096u);
    EXPECT_EQ(parse_memory_size("0"), 0u);  // the range check belongs to -m
    EXPECT_EQ(parse_memory_size("1"), 1ull << 20);
    EXPECT_EQ(parse_memory_size("0x10"), 16ull << 20);
    EXPECT_EQ(parse_memory_size("010"), 8ull << 20);  // strtoull base 0: octal
    EXPECT_EQ(parse_memory_size("4096G"), 4096ull << 30);
    EXPECT_EQ(parse_memory_size("17592186044415"), ((1ull << 44) - 1) << 20);
    EXPECT_EQ(parse_memory_size("17592186044416"), std::nullopt);  // << 20 overflows
    EXPECT_EQ(parse_memory_size("18446744073709551616k"), std::nullopt);
    for (const char* bad : {"", "1b", "k", "-1", " 1", "1 ", "1kk", "0x", "1t", "1e3"}) {
        EXPECT_EQ(parse_memory_size(bad), std::nullopt) << bad;
    }
}

struct SlotCase {
    const char* text;
    int bus, slot, func;
    const char* emulation;
    const char* config;
};

TEST(CliOptions, PciSlotAddressForms) {
    for (const auto& c : {SlotCase{"0:0,hostbridge", 0, 0, 0, "hostbridge", ""},
                          SlotCase{"0:0,hostbridge,", 0, 0, 0, "hostbridge", ""},
                          SlotCase{"3,testdev", 0, 3, 0, "testdev", ""},
                          SlotCase{"3:1,testdev", 0, 3, 1, "testdev", ""},
                          SlotCase{"1:2:3,testdev", 1, 2, 3, "testdev", ""},
                          SlotCase{"1/2/3,testdev", 1, 2, 3, "testdev", ""},
                          SlotCase{"1.2.3,testdev", 1, 2, 3, "testdev", ""},
                          SlotCase{"4:5/6,testdev", 4, 5, 6, "testdev", ""},
                          SlotCase{"255:31:7,testdev", 255, 31, 7, "testdev", ""},
                          SlotCase{"007,testdev", 0, 7, 0, "testdev", ""},  // decimal, not octal
                          SlotCase{"31,lpc", 0, 31, 0, "lpc", ""},
                          SlotCase{"5,testdev,", 0, 5, 0, "testdev", ""}}) {
        auto o = expect_ok({"-s", c.text, "vm"});
        ASSERT_EQ(o.pci_slots.size(), 1u) << c.text;
        const auto& s = o.pci_slots[0];
        EXPECT_EQ(s.bus, c.bus) << c.text;
        EXPECT_EQ(s.slot, c.slot) << c.text;
        EXPECT_EQ(s.func, c.func) << c.text;
        EXPECT_EQ(s.emulation, c.emulation) << c.text;
        EXPECT_EQ(s.config, c.config) << c.text;
    }
}

TEST(CliOptions, PciSlotErrors) {
    for (const char* text : {"32,testdev", "0:8,testdev", "256:0:0,testdev", "1:2:3:4,testdev", "a,testdev",
                             "0x1,testdev", "-1,testdev", ":1,testdev", "1:,testdev", "1::2,testdev", ",testdev",
                             "0:0", "", "0:0,", "0:0,,x", "0:0,foo", "0:0,HOSTBRIDGE", "1:0:0,lpc",
                             "0:0,hostbridge,x", "99999999999999999999,testdev", "1 ,testdev"}) {
        expect_invalid({"-s", text, "vm"}, "-s");
    }
    expect_error({"-s", "0:0,foo", "vm"}, "-s", "unknown emulation 'foo'");
    expect_error({"-s", "0:0", "vm"}, "-s", "missing emulation");
    expect_error({"-s", "3,testdev", "-s", "0:3:0,testdev", "vm"}, "-s", "0:3.0");  // duplicate
    expect_error({"-s", "3:1,testdev", "-s", "3/1,lpc", "vm"}, "-s", "already used");
    expect_error({"-s", "1,lpc", "-s", "2,lpc", "vm"}, "-s", "only one 'lpc'");
    expect_error({"-s", "1:0:0,lpc", "vm"}, "-s", "bus 0");
    expect_error({"-s", "0:0,hostbridge,x", "vm"}, "-s", "no configuration");
    // Each emulation's config goes through its parser in the device table.
    expect_error({"-s", "1:0,lpc,x", "vm"}, "-s", "'lpc' takes no configuration (got 'x')");
    expect_error({"-s", "3,testdev,a=b,c", "vm"}, "-s", "'testdev' takes no configuration (got 'a=b,c')");
}

TEST(CliOptions, PciSlotEmulationSupport) {
    for (const char* emulation :
         {"xhci", "passthru", "uart", "virtio-input",
          "virtio-gpio", "virtio-i2c", "ahci", "wdt-i6300esb", "virtio-hyper_dmabuf", "virtio-audio", "virtio-ipu",
          "virtio-rpmb", "virtio-gpu", "igd-lpc", "ivshmem"}) {
        expect_not_yet({"-s", std::string("4,") + emulation + ",x", "vm"}, "-s");
    }
    // virtio devices check their configuration through the table too.
    expect_error({"-s", "4,virtio-blk,/disk,bogus", "vm"}, "-s", "unknown option");
    expect_error({"-s", "4,virtio-blk", "vm"}, "-s");
    expect_error({"-s", "4,virtio-rnd,/dev/urandom", "vm"}, "-s", "kernel=on|off");
    EXPECT_EQ(expect_ok({"-s", "4,virtio-rnd", "-s", "5,virtio-blk,nodisk", "vm"}).pci_slots.size(), 2u);
    // An address error is reported before the refusal.
    expect_invalid({"-s", "40,virtio-blk,/disk", "vm"}, "-s");
    // ... and so is a duplicate with a not-yet device.
    expect_invalid({"-s", "4,virtio-blk,/disk", "-s", "4,testdev", "vm"}, "-s");
    // Obsolete emulations: a warning and the slot is dropped (ACRN exits 1).
    for (const char* emulation : {"pci-gvt", "virtio-hdcp", "npk", "virtio-coreu"}) {
        auto o = expect_ok({"-s", std::string("2,") + emulation, "-s", "2,testdev", "vm"});
        ASSERT_EQ(o.pci_slots.size(), 1u);
        EXPECT_EQ(o.pci_slots[0].emulation, "testdev");
        ASSERT_EQ(o.warnings.size(), 1u);
        EXPECT_NE(o.warnings[0].find("obsolete, ignored"), std::string::npos) << o.warnings[0];
        EXPECT_NE(o.warnings[0].find(emulation), std::string::npos);
    }
    expect_invalid({"-s", "99,npk", "vm"}, "-s");
}

TEST(CliOptions, SerialPorts) {
    struct Good {
        const char* text;
        int index;
        SerialBackendSpec::Kind kind;
        const char* path;
        int port;
    };
    using K = SerialBackendSpec::Kind;
    for (const auto& c : {Good{"com1", 1, K::none, "", 0}, Good{"COM2,stdio", 2, K::stdio, "", 0},
                          Good{"cOm3,tcp:4444", 3, K::tcp, "", 4444}, Good{"com4,tcp:1", 4, K::tcp, "", 1},
                          Good{"com5,tcp:65535", 5, K::tcp, "", 65535},
                          Good{"com1,file:/tmp/a,b.log", 1, K::file, "/tmp/a,b.log", 0},
                          Good{"com1,file:rel.log", 1, K::file, "rel.log", 0},
                          Good{"com1,/dev/pts/3", 1, K::tty, "/dev/pts/3", 0}, Good{"com2,pty", 2, K::pty, "", 0}}) {
        auto o = expect_ok({"-l", c.text, "vm"});
        ASSERT_EQ(o.serial_ports.size(), 1u);
        EXPECT_EQ(o.serial_ports[0].index, c.index) << c.text;
        EXPECT_EQ(o.serial_ports[0].backend.kind, c.kind) << c.text;
        EXPECT_EQ(o.serial_ports[0].backend.path, c.path) << c.text;
        EXPECT_EQ(o.serial_ports[0].backend.port, c.port) << c.text;
    }
    for (const char* text : {"com0", "com6", "com", "com10", "ttyS0", "", "com1,", "com1,tcp:0", "com1,tcp:65536",
                             "com1,tcp:", "com1,tcp:abc", "com1,tcp:-1", "com1,file:", "com1,stdio,x",
                             "com1,dev/ttyS0", "com5,stdio,zz,10", "com5,stdio,0x9000", "com5,stdio,0,10",
                             "com5,bogus,0x9000,10", "com5,stdio,0x9000,256"}) {
        expect_invalid({"-l", text, "vm"}, "-l");
    }
    expect_error({"-l", "com1", "-l", "COM1,stdio", "vm"}, "-l", "twice");
    expect_error({"-l", "com1,stdio", "-l", "com2,stdio", "vm"}, "-l", "stdio");
    expect_not_yet({"-l", "com5,stdio,0x9000,10", "vm"}, "-l");
    expect_not_yet({"-l", "com5,tcp:9,36864,10", "vm"}, "-l");
}

TEST(CliOptions, LoggerSetting) {
    auto o = expect_ok({"--logger_setting", "console,level=1;console,level=3;", "vm"});
    ASSERT_EQ(o.logger.size(), 1u);
    EXPECT_EQ(o.logger[0].level, 3);
    o = expect_ok({"--logger_setting", "console,level=2", "--logger_setting", "console,level=5", "vm"});
    ASSERT_EQ(o.logger.size(), 1u);
    EXPECT_EQ(o.logger[0].level, 5);
    // ACRN's quirks: no ",level=" crashes it, an unknown sink is ignored; both are errors here.
    expect_error({"--logger_setting", "console", "vm"}, "--logger_setting", "level");
    expect_error({"--logger_setting", "foo,level=3", "vm"}, "--logger_setting", "unknown sink 'foo'");
    for (const char* text : {"console,level=0", "console,level=6", "console,level=", "console,lvl=3",
                             "console,level=3x", "console,level=-1", "", ";", "Console,level=3", "console;level=3",
                             "console,level=3;kmsg", "console,level=99999999999999999999999"}) {
        expect_invalid({"--logger_setting", text, "vm"}, "--logger_setting");
    }
    expect_not_yet({"--logger_setting", "kmsg,level=3", "vm"}, "--logger_setting");
    expect_not_yet({"--logger_setting", "console,level=4;disk,level=5", "vm"}, "--logger_setting");
}

TEST(CliOptions, IntrMonitor) {
    EXPECT_FALSE(expect_ok({"vm"}).intr_monitor.has_value());
    const auto acrn_default = expect_ok({"--intr_monitor", "10000,10,1,100", "vm"}).intr_monitor;
    ASSERT_TRUE(acrn_default.has_value());
    EXPECT_EQ(acrn_default->threshold_per_s, 10000u);
    EXPECT_EQ(acrn_default->period_s, 10u);
    EXPECT_EQ(acrn_default->delay_ms, 1u);
    EXPECT_EQ(acrn_default->duration_ms, 100u);
    const auto widest = expect_ok({"--intr_monitor", "4294967295,4294967295,4294967295,4294967295", "vm"}).intr_monitor;
    ASSERT_TRUE(widest.has_value());
    EXPECT_EQ(widest->delay_ms, 4294967295u);
    const auto equal = expect_ok({"--intr_monitor", "1,1,5,5", "vm"}).intr_monitor;
    ASSERT_TRUE(equal.has_value());
    EXPECT_EQ(equal->duration_ms, 5u);
}

TEST(CliOptions, IntrMonitorNamesTheBadField) {
    const std::vector<std::pair<const char*, const char*>> cases{
        {"0,10,1,100", "invalid threshold"},         {"x,10,1,100", "invalid threshold"},
        {"-1,10,1,100", "invalid threshold"},        {"4294967296,10,1,100", "invalid threshold"},
        {"10000,0,1,100", "invalid probe period"},   {"10000,1.5,1,100", "invalid probe period"},
        {"10000, 2,1,100", "invalid probe period"},  {"10000,10,0,100", "invalid delay time"},
        {"10000,10,1ms,100", "invalid delay time"},  {"10000,10,1,0", "invalid delay duration"},
        {"10000,10,1,", "invalid delay duration"},   {"10000,10,1,4294967296", "invalid delay duration"},
        {"10000,10,200,100", "delay time 200 ms exceeds delay duration 100 ms"},
        {"10000,10,1", "expected 4 values, got 3"}, {"1,2,3,4,5", "expected 4 values, got 5"},
        {"", "expected 4 values"},
    };
    for (const auto& [text, message] : cases) {
        expect_error({"--intr_monitor", text, "vm"}, "--intr_monitor", message);
    }
}

TEST(CliOptions, VirtioPoll) {
    expect_invalid({"--virtio_poll", "0", "vm"}, "--virtio_poll");
    EXPECT_EQ(expect_ok({"--virtio_poll", "1000", "vm"}).virtio_poll_ns, 1000u);
    EXPECT_EQ(expect_ok({"--virtio_poll", "1", "vm"}).virtio_poll_ns, 1u);
    EXPECT_EQ(expect_ok({"--virtio_poll", "10000000", "vm"}).virtio_poll_ns, 10000000u);
    for (const char* text : {"10000001", "abc", "-5", "0x10", "", "1000ns"}) {
        expect_invalid({"--virtio_poll", text, "vm"}, "--virtio_poll");
    }
}

TEST(CliOptions, DmCpus) {
    EXPECT_TRUE(expect_ok({"vm"}).dm_cpus.empty()) << "by default acrn-dm's threads run anywhere";
    EXPECT_EQ(expect_ok({"--dm_cpus", "3", "vm"}).dm_cpus, (std::vector<int>{3}));
    EXPECT_EQ(expect_ok({"--dm_cpus", "5,0-2,1", "vm"}).dm_cpus, (std::vector<int>{0, 1, 2, 5}));
    EXPECT_EQ(expect_ok({"--dm_cpus", "1023", "vm"}).dm_cpus, (std::vector<int>{1023}));
    for (const char* text : {"", "1024", "2-1", "a", "1,,2", "-1", "1-", "0x1", "1 2"}) {
        expect_invalid({"--dm_cpus", text, "vm"}, "--dm_cpus");
    }
}

TEST(CliOptions, IoreqDmPoll) {
    using namespace std::chrono_literals;
    EXPECT_FALSE(expect_ok({"vm"}).ioreq_dm_poll.has_value()) << "the default follows --ioreq_polling";
    EXPECT_EQ(expect_ok({"--ioreq_dm_poll", "0", "vm"}).ioreq_dm_poll, 0ns);
    EXPECT_EQ(expect_ok({"--ioreq_dm_poll", "50", "vm"}).ioreq_dm_poll, 50us);
    EXPECT_EQ(expect_ok({"--ioreq_dm_poll", "1000000", "vm"}).ioreq_dm_poll, 1s);
    EXPECT_EQ(expect_ok({"--ioreq_dm_poll", "always", "--ioreq_polling", "vm"}).ioreq_dm_poll,
              std::chrono::nanoseconds::max());
    for (const char* text : {"1000001", "abc", "-5", "0x10", "", "50us", "Always"}) {
        expect_invalid({"--ioreq_dm_poll", text, "vm"}, "--ioreq_dm_poll");
    }
}

TEST(CliOptions, CpuAffinity) {
    EXPECT_EQ(expect_ok({"--cpu_affinity", "0,1,2", "vm"}).cpu_affinity, (std::vector<std::uint32_t>{0, 1, 2}));
    EXPECT_EQ(expect_ok({"--cpu_affinity", "255", "vm"}).cpu_affinity, std::vector<std::uint32_t>{255});
    for (const char* text : {"0,0", "256", "1, 2", "", "1,,2", "a", "-1", "1,", "0,1,2,3,4,5,6,7,8"}) {
        expect_invalid({"--cpu_affinity", text, "vm"}, "--cpu_affinity");
    }
}

TEST(CliOptions, VcpuCount) {
    EXPECT_FALSE(expect_ok({"vm"}).vcpu_count.has_value());
    EXPECT_EQ(expect_ok({"-c", "4", "vm"}).vcpu_count, 4u);
    EXPECT_EQ(expect_ok({"--ncpus", "8", "vm"}).vcpu_count, 8u);
    EXPECT_EQ(expect_ok({"-c", "2", "--cpu_affinity", "3,5", "vm"}).vcpu_count, 2u);
    for (const char* text : {"0", "9", "-1", "a", "", "0x2", "2 "}) {
        expect_invalid({"-c", text, "vm"}, "-c");
    }
    expect_error({"-c", "3", "--cpu_affinity", "1,2", "vm"}, "--ncpus", "disagree");
}

TEST(CliOptions, PathOptions) {
    const std::string p1023(1023, 'a'), p1024(1024, 'a'), p2047(2047, 'a'), p2048(2048, 'a');
    for (const char* option : {"-k", "-r"}) {
        (void)expect_ok({option, "/some/path", "vm"});
        (void)expect_ok({option, p1023, "vm"});
        expect_invalid({option, p1024, "vm"}, option);
        expect_invalid({option, "", "vm"}, option);
    }
    EXPECT_EQ(expect_ok({"-k", "/boot/vmlinuz", "-r", "/boot/initrd", "vm"}).initrd, "/boot/initrd");
    EXPECT_EQ(expect_ok({"--cmd_monitor", "/run/acrn/vm1.socket", "vm"}).cmd_monitor, "/run/acrn/vm1.socket");
    (void)expect_ok({"--cmd_monitor", p1023, "vm"});  // ACRN's limit; the socket itself says a path is too long
    expect_invalid({"--cmd_monitor", p1024, "vm"}, "--cmd_monitor");
    EXPECT_EQ(expect_ok({"--boot_marker", "@@INIT_REACHED uptime", "vm"}).boot_marker, "@@INIT_REACHED uptime");
    EXPECT_TRUE(expect_ok({"vm"}).kernel_host_decompress);
    EXPECT_FALSE(expect_ok({"--kernel-decompress", "guest", "vm"}).kernel_host_decompress);
    EXPECT_TRUE(expect_ok({"--kernel-decompress=host", "vm"}).kernel_host_decompress);
    expect_invalid({"--kernel-decompress", "both", "vm"}, "--kernel-decompress");
    EXPECT_EQ(expect_ok({"vm"}).kernel_cache, "/var/cache/acrn-dm");
    EXPECT_EQ(expect_ok({"--kernel-cache", "/tmp/kc", "vm"}).kernel_cache, "/tmp/kc");
    EXPECT_EQ(expect_ok({"--kernel-cache", "none", "vm"}).kernel_cache, "");
    expect_invalid({"--kernel-cache", "", "vm"}, "--kernel-cache");
    EXPECT_FALSE(expect_ok({"vm"}).boot_marker);
    expect_invalid({"--boot_marker", "", "vm"}, "--boot_marker");
    expect_invalid({"--boot_marker", "two\nlines", "vm"}, "--boot_marker");
    expect_invalid({"--boot_marker", std::string(257, 'm'), "vm"}, "--boot_marker");
    for (const char* option : {"--iasl", "--vtpm2"}) {
        expect_not_yet({option, "/some/path", "vm"}, option);
        expect_not_yet({option, p1023, "vm"}, option);
        expect_invalid({option, p1024, "vm"}, option);
        expect_invalid({option, "", "vm"}, option);
    }
    EXPECT_EQ(expect_ok({"-B", "console=ttyS0 root=/dev/vda", "vm"}).bootargs, "console=ttyS0 root=/dev/vda");
    EXPECT_EQ(expect_ok({"-B", p2047, "vm"}).bootargs, p2047);
    expect_invalid({"-B", p2048, "vm"}, "-B");
    EXPECT_EQ(expect_ok({"-E", "/x.elf", "vm"}).elf_image, "/x.elf");
    expect_invalid({"-E", "", "vm"}, "-E");
}

TEST(CliOptions, FlagsNotSupportedYet) {
    for (const char* flag : {"--enable_trusty", "--windows"}) {
        expect_not_yet({flag, "vm"}, flag);
    }
}

TEST(CliOptions, RealTimeVm) {
    const DmOptions rt = expect_ok({"--rtvm", "vm"});
    EXPECT_TRUE(rt.rtvm && rt.lapic_pt && rt.ioreq_polling) << "as ACRN: an RTVM has its LAPIC and polls";
    const DmOptions both = expect_ok({"--rtvm", "--lapic_pt", "vm"});
    EXPECT_TRUE(both.rtvm && both.lapic_pt);
    const DmOptions alone = expect_ok({"--lapic_pt", "vm"});
    EXPECT_FALSE(alone.lapic_pt) << "ignored without --rtvm, with a warning";
    ASSERT_EQ(alone.warnings.size(), 1u);
    EXPECT_NE(alone.warnings[0].find("--lapic_pt is ignored"), std::string::npos);
}

TEST(CliOptions, VirtioTransportOptions) {
    EXPECT_FALSE(expect_ok({"vm"}).virtio_msi);
    EXPECT_TRUE(expect_ok({"--virtio_msi", "vm"}).virtio_msi);
    EXPECT_TRUE(expect_ok({"vm"}).virtio_fast_paths);
    EXPECT_FALSE(expect_ok({"--virtio_fast_paths", "off", "vm"}).virtio_fast_paths);
    EXPECT_TRUE(expect_ok({"--virtio_fast_paths", "on", "vm"}).virtio_fast_paths);
    expect_invalid({"--virtio_fast_paths", "maybe", "vm"}, "--virtio_fast_paths");
}

TEST(CliOptions, ExtraAcrnOptions) {
    struct Case {
        const char* option;
        const char* good;
        const char* bad;
    };
    for (const auto& c : {Case{"--ovmf", "/usr/share/OVMF.fd", "code=/a.fd"}, Case{"--ovmf", "w,/OVMF.fd", "w,"},
                          Case{"--ovmf", "w,code=/c.fd,vars=/v.fd", "code=/c.fd,vars=/v.fd,x=1"},
                          Case{"--ovmf", "vars=/v.fd,code=/c.fd", "code=,vars=/v.fd"},
                          Case{"--acpidev_pt", "MSFT0101", "FOO0001"}, Case{"--acpidev_pt", "MSFT0101,0", "MSFT0101,"},
                          Case{"--mmiodev_pt", "0xfed40000,0x5000", "0xfed40000"},
                          Case{"--mmiodev_pt", "fed40000,5000", "0xfed40000,0"},
                          Case{"--ssram", "L2,vcpu=0,1,size=4K;L2,vcpu=2,3,size=1M;L3,vcpu=all,size=2M",
                               "L4,vcpu=0,size=4K"},
                          Case{"--ssram", "L3,vcpu=all,size=8K", "L2,vcpu=0,size=5K"},
                          Case{"--pm_notify_channel", "uart,allow_trigger_s5", "foo"},
                          Case{"--pm_notify_channel", "ioc", "uart,"}}) {
        expect_not_yet({c.option, c.good, "vm"}, c.option);
        expect_invalid({c.option, c.bad, "vm"}, c.option);
    }
    expect_error({"--acpidev_pt", "MSFT0101", "--vtpm2", "/run/swtpm.sock", "vm"}, "--vtpm2", "--acpidev_pt");
}

TEST(CliOptions, ObsoleteOptionsWarn) {
    for (const Args& args : {Args{"--mac_seed", "seed"}, Args{"-A"}, Args{"-Y"}, Args{"-i", "/dev/ioc"},
                             Args{"-G", "x"}, Args{"--vsbl", "/sbl"}, Args{"--part_info", "/p"},
                             Args{"--pm_by_vuart", "pty,/run/x"}}) {
        Args full = args;
        full.push_back("vm");
        auto o = expect_ok(full);
        ASSERT_EQ(o.warnings.size(), 1u) << joined(args);
        EXPECT_EQ(o.warnings[0], args[0] + " is obsolete and ignored");
    }
    EXPECT_EQ(expect_ok({"-A", "-A", "-Y", "vm"}).warnings.size(), 2u);
    expect_error({"--mac_seed", "vm"}, "vm name", "missing");  // the seed took the name
}

TEST(CliOptions, RefusalComesAfterAllValuesAreValid) {
    expect_invalid({"-k", "/bzImage", "-m", "abc", "vm"}, "-m");
    expect_invalid({"--virtio_poll", "100", "-s", "99,testdev", "vm"}, "-s");
    expect_error({"--rtvm", "vm1", "vm2"}, "vm name");
    // The first refusal is the one reported.
    expect_not_yet({"--virtio_poll", "100", "--windows", "--enable_trusty", "vm"}, "--windows");
}

TEST(CliOptions, MessagesStayOnOneLine) {
    expect_error({"-m", "1\n2", "vm"}, "-m", "'1\\x0a2'");
    expect_error({"-U\nx", "vm"}, "'-U\\x0ax'", "unknown option");
    expect_error({"-A=x", "vm"}, "-=x", "unknown option");
    auto exit = expect_error({"-s", std::string(5000, '1') + ",testdev", "vm"}, "-s");
    EXPECT_LT(exit.message.size(), 300u);
}

// Random argv vectors built from option names, plausible values and junk.
TEST(CliOptions, FuzzNeverThrowsOrCrashes) {
    const std::vector<std::string> words{
        "-s", "-l", "-m", "-k", "-r", "-B", "-E", "-h", "-v", "-A", "-Y", "-i", "-G", "-U", "--", "-", "--cpu_affinity", "-c",
        "--intr_monitor", "--virtio_poll", "--lapic_pt", "--rtvm", "--cmd_monitor", "--logger_setting", "--debugexit",
        "--mac_seed", "--ioreq_polling", "--ioreq_dm_poll", "always", "--help", "--version", "--ovmf", "--iasl", "--enable_trusty", "--windows",
        "--virtio_msi", "--acpidev_pt", "--mmiodev_pt", "--vtpm2", "--ssram", "--pm_notify_channel", "--vsbl",
        "--part_info", "--pm_by_vuart", "--debugexit=", "--virtio_poll=", "--ssram=L2", "-m=", "-Ah", "-AY", "vm",
        "vm1", "0:0,hostbridge", "1:0,lpc", "3,testdev", "0:0", "com1,stdio", "com5,stdio,0x9000,10", "512M", "0x",
        "console,level=4", "kmsg,level=3", "console", "1,2,3,4", "1000", "0,1", "/dev/null", "", ",", ":", ";", "=",
        "[a,b]", "{x}", "\"", "\\", "@file", "--=", "---", "-=-"};
    std::mt19937 rng(20240517);
    std::uniform_int_distribution<int> length(0, 9);
    std::uniform_int_distribution<std::size_t> pick(0, words.size() - 1);
    std::uniform_int_distribution<int> byte(1, 255);
    std::uniform_int_distribution<int> coin(0, 9);
    int ok = 0, help = 0, errors = 0;
    for (int round = 0; round < 4000; ++round) {
        Args args;
        const int n = length(rng);
        for (int i = 0; i < n; ++i) {
            std::string word = words[pick(rng)];
            const int mutate = coin(rng);
            if (mutate == 0) {  // random bytes
                word.clear();
                for (int k = length(rng); k > 0; --k) word += static_cast<char>(byte(rng));
            } else if (mutate == 1 && !word.empty()) {  // glue two words
                word += words[pick(rng)];
            } else if (mutate == 2 && !word.empty()) {  // flip a byte
                word[static_cast<std::size_t>(rng() % word.size())] = static_cast<char>(byte(rng));
            }
            args.push_back(std::move(word));
        }
        ParseResult result;
        ASSERT_NO_THROW(result = run(args)) << joined(args);
        if (std::holds_alternative<DmOptions>(result)) {
            const auto& o = std::get<DmOptions>(result);
            EXPECT_FALSE(o.vm_name.empty());
            EXPECT_LE(o.vm_name.size(), 15u);
            EXPECT_GE(o.memory_bytes, 128ull << 20);
            ++ok;
            continue;
        }
        const auto& exit = std::get<ParseExit>(result);
        ASSERT_TRUE(exit.status == 0 || exit.status == kExitUsage) << joined(args);
        ASSERT_FALSE(exit.message.empty());
        ASSERT_EQ(exit.message.back(), '\n');
        if (exit.status == 0) {
            EXPECT_TRUE(exit.to_stdout);
            ++help;
        } else {
            ASSERT_EQ(std::count(exit.message.begin(), exit.message.end(), '\n'), 1) << joined(args) << exit.message;
            ASSERT_EQ(exit.message.rfind("acrn-dm: ", 0), 0u) << exit.message;
            ++errors;
        }
    }
    // The generator reaches every kind of outcome.
    EXPECT_GT(ok, 0);
    EXPECT_GT(help, 0);
    EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace acrn::dm
