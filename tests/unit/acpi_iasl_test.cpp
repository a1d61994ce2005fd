// The strongest check of the generated tables: ACPICA's own disassembler
// (iasl -d) reads each one without complaint, and the disassembly compiles
// back without errors or warnings. Needs iasl (Debian: acpica-tools). The
// RSDP is left to acpi_tables_test.cpp: iasl -d takes only tables whose
// signature is a valid name segment, and "RSD " is not one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tests/unit/acpi_image.hpp"

namespace acrn::dm::acpi {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs `command` in `dir`, its output into `log`; returns its exit status.
int run_in(const fs::path& dir, const std::string& command, const std::string& log) {
    const std::string line = "cd '" + dir.string() + "' && " + command + " >" + log + " 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Lines of iasl's output that report a problem. Its summary line ("0
// Errors, 0 Warnings") and banner are not problems.
std::string problems(const std::string& output) {
    static const std::regex problem(R"((Error|Warning|Incorrect|Invalid|mismatch))", std::regex::icase);
    static const std::regex summary(R"(\b0 Errors, 0 Warnings\b)");
    std::istringstream lines(output);
    std::string line;
    std::string found;
    while (std::getline(lines, line)) {
        if (std::regex_search(line, problem) && !std::regex_search(line, summary)) {
            found += line + "\n";
        }
    }
    return found;
}

class AcpiIaslTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(std::system("command -v iasl >/dev/null 2>&1"), 0)
            << "iasl not found: install the Debian package acpica-tools (scripts/install-deps does)";
        char pattern[] = "/tmp/acpi-iasl-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        if (!dir_.empty() && !HasFailure()) {
            fs::remove_all(dir_);
        }
    }

    void write_tables(const AcpiImage& image) {
        const auto found = test::find_tables(image);
        for (const auto& [sig, file] : {std::pair{"FACP", "facp"}, {"APIC", "apic"}, {"MCFG", "mcfg"},
                                        {"XSDT", "xsdt"}, {"FACS", "facs"}, {"DSDT", "dsdt"}}) {
            const auto table = found.tables.at(sig);
            ASSERT_FALSE(table.empty()) << sig;
            std::ofstream(dir_ / (std::string(file) + ".dat"), std::ios::binary)
                .write(reinterpret_cast<const char*>(table.data()), static_cast<std::streamsize>(table.size()));
        }
    }

    // Disassembles `name`.dat, then compiles the disassembly back.
    std::string disassemble_and_recompile(const std::string& name) {
        const int disassembled = run_in(dir_, "iasl -d " + name + ".dat", name + ".d.log");
        const std::string disassembly_log = read_text(dir_ / (name + ".d.log"));
        EXPECT_EQ(disassembled, 0) << disassembly_log;
        EXPECT_EQ(problems(disassembly_log), "") << name << ": iasl -d reported:\n" << disassembly_log;
        const std::string source = read_text(dir_ / (name + ".dsl"));
        EXPECT_EQ(problems(source), "") << name << ".dsl carries complaints:\n" << source;

        const int compiled = run_in(dir_, "iasl -p " + name + "-re " + name + ".dsl", name + ".c.log");
        const std::string compile_log = read_text(dir_ / (name + ".c.log"));
        EXPECT_EQ(compiled, 0) << compile_log;
        EXPECT_NE(compile_log.find("0 Errors, 0 Warnings"), std::string::npos) << name << ":\n" << compile_log;
        return source;
    }

    fs::path dir_;
};

PlatformDescription two_uarts_four_vcpus() {
    PlatformDescription description;
    description.vcpu_count = 4;
    description.serial_ports = {{1, 0x3F8, 4}, {2, 0x2F8, 3}};
    description.pci_mmio32_base = 0x8000'0000;
    description.pci_mmio64_base = 0x1'0000'0000;
    description.pci_mmio64_limit = 0x11'0000'0000;
    return description;
}

TEST_F(AcpiIaslTest, EveryTableDisassemblesAndRecompilesCleanly) {
    write_tables(build_acpi_tables(two_uarts_four_vcpus()));
    for (const char* name : {"xsdt", "facp", "facs", "apic", "mcfg", "dsdt"}) {
        SCOPED_TRACE(name);
        disassemble_and_recompile(name);
    }
}

TEST_F(AcpiIaslTest, DisassembledDsdtHasTheDevices) {
    write_tables(build_acpi_tables(two_uarts_four_vcpus()));
    const std::string dsdt = disassemble_and_recompile("dsdt");
    for (const char* expected :
         {"Scope (\\_SB)", "Device (PCI0)", "EisaId (\"PNP0A08\")", "EisaId (\"PNP0A03\")",
          "Name (_PRT, Package (0x80)",
          "Name (_BBN, Zero)", "Name (_SEG, Zero)", "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
          "0x0CF7", "0x0D00", "0x80000000", "0xDFFFFFFF", "QWordMemory (ResourceProducer,",
          "0x0000000100000000", "0x00000010FFFFFFFF", "Device (MRES)", "EisaId (\"PNP0C02\")",
          "Memory32Fixed (ReadWrite,", "0xE0000000", "Device (COM1)", "Device (COM2)", "EisaId (\"PNP0501\")",
          "0x03F8", "0x02F8", "IRQNoFlags ()", "Device (RTC)", "EisaId (\"PNP0B00\")", "Name (\\_S5, Package (0x04)"}) {
        EXPECT_NE(dsdt.find(expected), std::string::npos) << "no \"" << expected << "\" in\n" << dsdt;
    }
    // GSI routing: slot 3 INTB# -> GSI 16 + (3 + 2 - 1) % 8 = 20.
    EXPECT_TRUE(std::regex_search(dsdt, std::regex(R"(0x0003FFFF,\s*One,\s*Zero,\s*0x14)"))) << dsdt;
}

TEST_F(AcpiIaslTest, SuspendToRamIsOfferedOnlyWhenAsked) {
    PlatformDescription platform = two_uarts_four_vcpus();
    write_tables(build_acpi_tables(platform));
    EXPECT_NE(disassemble_and_recompile("dsdt").find("Name (\\_S3, Package (0x04)"), std::string::npos);
    platform.suspend_to_ram = false;
    write_tables(build_acpi_tables(platform));
    const std::string dsdt = disassemble_and_recompile("dsdt");
    EXPECT_EQ(dsdt.find("_S3"), std::string::npos) << dsdt;
    EXPECT_NE(dsdt.find("Name (\\_S5, Package (0x04)"), std::string::npos);
}

TEST_F(AcpiIaslTest, FadtDisassemblyShowsTheFixedHardware) {
    write_tables(build_acpi_tables(two_uarts_four_vcpus()));
    const std::string fadt = disassemble_and_recompile("facp");
    // iasl's field names, as "Name : value" with any spacing around the colon.
    for (const char* expected : {
             R"(PM1A Event Block Address : 00000400)",
             R"(PM1A Control Block Address : 00000404)",
             R"(PM Timer Block Address : 00000408)",
             R"(SMI Command Port : 000000B2)",
             R"(ACPI Enable Value : A0)",
             R"(ACPI Disable Value : A1)",
             R"(SCI Interrupt : 0009)",
             R"(RTC Century Index : 32)",
             R"(8042 Present on ports 60/64 \(V2\) : 0)",
             R"(VGA Not Present \(V4\) : 1)",
             R"(Control Method Power Button \(V1\) : 0)",
             R"(Control Method Sleep Button \(V1\) : 0)",
             R"(32-bit PM Timer \(V1\) : 0)",
             R"(Reset Register Supported \(V2\) : 1)",
             R"(Hardware Reduced \(V5\) : 0)",
             R"(Value to cause reset : 06)",
         }) {
        const std::regex field(std::regex_replace(expected, std::regex(" : "), R"(\s*:\s*)"));
        EXPECT_TRUE(std::regex_search(fadt, field)) << expected << " not in\n" << fadt;
    }
    // RESET_REG: one byte of system I/O at 0xCF9.
    const std::size_t reset = fadt.find("Reset Register :");
    ASSERT_NE(reset, std::string::npos) << fadt;
    const std::string reset_register = fadt.substr(reset, fadt.find("Value to cause reset", reset) - reset);
    for (const char* expected : {R"(\[SystemIO\])", R"(Bit Width : 08)", R"(Address : 0000000000000CF9)"}) {
        const std::regex field(std::regex_replace(expected, std::regex(" : "), R"(\s*:\s*)"));
        EXPECT_TRUE(std::regex_search(reset_register, field)) << expected << " not in\n" << reset_register;
    }
}

// ACPICA's interpreter loads the DSDT and evaluates what Linux evaluates at
// boot, without an exception.
TEST_F(AcpiIaslTest, AcpiexecEvaluatesTheDevicesObjects) {
    ASSERT_EQ(std::system("command -v acpiexec >/dev/null 2>&1"), 0)
        << "acpiexec not found: install the Debian package acpica-tools (scripts/install-deps does)";
    write_tables(build_acpi_tables(two_uarts_four_vcpus()));
    const std::vector<std::string> objects{"\\_SB.PCI0._HID", "\\_SB.PCI0._CRS", "\\_SB.PCI0._PRT",
                                           "\\_SB.MRES._CRS", "\\_SB.COM1._CRS", "\\_SB.COM2._UID",
                                           "\\_SB.RTC._CRS",  "\\_S5"};
    std::string commands;
    for (const std::string& object : objects) {
        commands += (commands.empty() ? "" : "; ") + std::string("Evaluate ") + object;
    }
    const int status = run_in(dir_, "acpiexec -b '" + commands + "' dsdt.dat", "exec.log");
    const std::string log = read_text(dir_ / "exec.log");
    EXPECT_EQ(status, 0) << log;
    EXPECT_EQ(problems(log), "") << log;
    EXPECT_EQ(log.find("AE_"), std::string::npos) << log;
    for (const std::string& object : objects) {
        const std::string evaluated = "Evaluation of " + object + " returned object";
        EXPECT_NE(log.find(evaluated), std::string::npos) << evaluated << " not in\n" << log;
    }
    EXPECT_NE(log.find("[Package] Contains 128 Elements"), std::string::npos) << log;
}

}  // namespace
}  // namespace acrn::dm::acpi
