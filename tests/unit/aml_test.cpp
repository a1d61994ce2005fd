// AML encodings against bytes worked out by hand from ACPI 6.4 chapter 20
// and section 6.4 (resource descriptors).
#include <gtest/gtest.h>

#include <stdexcept>

#include "dm/acpi/aml.hpp"
#include "dm/acpi/aml_resources.hpp"

namespace acrn::dm::acpi::aml {
namespace {

TEST(AmlTest, PkgLengthUsesTheShortestFormCountingItself) {
    EXPECT_EQ(pkg_length(0), (Bytes{0x01}));
    EXPECT_EQ(pkg_length(10), (Bytes{0x0B}));
    EXPECT_EQ(pkg_length(62), (Bytes{0x3F}));              // 63 in all: the largest one-byte form
    EXPECT_EQ(pkg_length(63), (Bytes{0x41, 0x04}));        // 65 = 0x041
    EXPECT_EQ(pkg_length(100), (Bytes{0x46, 0x06}));       // 102 = 0x066
    EXPECT_EQ(pkg_length(4093), (Bytes{0x4F, 0xFF}));      // 4095 = 0xFFF
    EXPECT_EQ(pkg_length(4094), (Bytes{0x81, 0x00, 0x01}));  // 4097 = 0x1001
    EXPECT_EQ(pkg_length(5000), (Bytes{0x8B, 0x38, 0x01}));  // 5003 = 0x138B
    EXPECT_EQ(pkg_length(0xFFFFC), (Bytes{0x8F, 0xFF, 0xFF}));
    EXPECT_EQ(pkg_length(0xFFFFD), (Bytes{0xC1, 0x00, 0x00, 0x01}));  // 0x100001
    EXPECT_EQ(pkg_length(0x0FFFFFFB), (Bytes{0xCF, 0xFF, 0xFF, 0xFF}));
    EXPECT_THROW((void)pkg_length(0x0FFFFFFC), std::length_error);
}

TEST(AmlTest, IntegersTakeTheShortestEncoding) {
    EXPECT_EQ(integer(0), (Bytes{0x00}));  // ZeroOp
    EXPECT_EQ(integer(1), (Bytes{0x01}));  // OneOp
    EXPECT_EQ(integer(~0ull), (Bytes{0xFF}));  // OnesOp
    EXPECT_EQ(integer(2), (Bytes{0x0A, 0x02}));
    EXPECT_EQ(integer(0xFF), (Bytes{0x0A, 0xFF}));
    EXPECT_EQ(integer(0x100), (Bytes{0x0B, 0x00, 0x01}));
    EXPECT_EQ(integer(0xFFFF), (Bytes{0x0B, 0xFF, 0xFF}));
    EXPECT_EQ(integer(0x10000), (Bytes{0x0C, 0x00, 0x00, 0x01, 0x00}));
    EXPECT_EQ(integer(0xFFFFFFFF), (Bytes{0x0C, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(integer(0x1'0000'0000), (Bytes{0x0E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}));
    EXPECT_EQ(dword_const(5), (Bytes{0x0C, 0x05, 0x00, 0x00, 0x00}));
}

TEST(AmlTest, StringsAreNulTerminatedAscii) {
    EXPECT_EQ(string("ab"), (Bytes{0x0D, 'a', 'b', 0x00}));
    EXPECT_EQ(string(""), (Bytes{0x0D, 0x00}));
    EXPECT_THROW((void)string(std::string_view("a\0b", 3)), std::invalid_argument);
    EXPECT_THROW((void)string("\xC3\xA9"), std::invalid_argument);
}

TEST(AmlTest, NameStringsPadSegmentsAndPrefixPaths) {
    EXPECT_EQ(name_string("_HID"), (Bytes{'_', 'H', 'I', 'D'}));
    EXPECT_EQ(name_string("RTC"), (Bytes{'R', 'T', 'C', '_'}));
    EXPECT_EQ(name_string("\\_S5"), (Bytes{'\\', '_', 'S', '5', '_'}));
    EXPECT_EQ(name_string("\\_SB.PCI0"), (Bytes{'\\', 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'}));
    EXPECT_EQ(name_string("\\_SB.PCI0.ISA"),
              (Bytes{'\\', 0x2F, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'}));
    EXPECT_EQ(name_string("^^ISA"), (Bytes{'^', '^', 'I', 'S', 'A', '_'}));
    EXPECT_EQ(name_string("\\"), (Bytes{'\\', 0x00}));  // NullName
    for (const char* bad : {"", "^", "1ABC", "ABCDE", "abc", "A..B", "A.", ".A", "A-B", "\\^A"}) {
        EXPECT_THROW((void)name_string(bad), std::invalid_argument) << bad;
    }
}

TEST(AmlTest, EisaIdIsCompressedAndStoredBigEndian) {
    EXPECT_EQ(eisa_id("PNP0A03"), 0x030AD041u);
    EXPECT_EQ(eisaid("PNP0A03"), (Bytes{0x0C, 0x41, 0xD0, 0x0A, 0x03}));
    EXPECT_EQ(eisaid("PNP0501"), (Bytes{0x0C, 0x41, 0xD0, 0x05, 0x01}));
    EXPECT_EQ(eisaid("PNP0C02"), (Bytes{0x0C, 0x41, 0xD0, 0x0C, 0x02}));
    for (const char* bad : {"PNP0A0", "PNP0A033", "pnp0a03", "PNP0G03", "P1P0A03"}) {
        EXPECT_THROW((void)eisa_id(bad), std::invalid_argument) << bad;
    }
}

TEST(AmlTest, NamedObjectsAndTheirBodies) {
    EXPECT_EQ(name("_UID", integer(0)), (Bytes{0x08, '_', 'U', 'I', 'D', 0x00}));
    EXPECT_EQ(scope("\\_SB", {}), (Bytes{0x10, 0x06, '\\', '_', 'S', 'B', '_'}));
    EXPECT_EQ(device("RTC", {name("_UID", integer(1))}),
              (Bytes{0x5B, 0x82, 0x0B, 'R', 'T', 'C', '_', 0x08, '_', 'U', 'I', 'D', 0x01}));
    EXPECT_EQ(method("_STA", 0, false, {return_value(integer(0x0F))}),
              (Bytes{0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xA4, 0x0A, 0x0F}));
    EXPECT_EQ(method("FOO", 2, true, {}), (Bytes{0x14, 0x06, 'F', 'O', 'O', '_', 0x0A}));
    EXPECT_THROW((void)method("FOO", 8, false, {}), std::invalid_argument);
    EXPECT_EQ(package({integer(5), integer(0)}), (Bytes{0x12, 0x05, 0x02, 0x0A, 0x05, 0x00}));
    EXPECT_EQ(package({}), (Bytes{0x12, 0x02, 0x00}));
    EXPECT_THROW((void)package(std::vector<Bytes>(256, integer(0))), std::invalid_argument);
    const Bytes data{1, 2, 3};
    EXPECT_EQ(buffer(data), (Bytes{0x11, 0x06, 0x0A, 0x03, 1, 2, 3}));
}

TEST(AmlTest, LargeBodiesGetALongPkgLength) {
    const Bytes data(300, 0xAA);
    const Bytes encoded = device("BIG", {name("BUF", buffer(data))});
    // Buffer: 0x11, PkgLength (2), WordConst 300 (3), 300 bytes: 306.
    // Name: 0x08, "BUF_", then the buffer: 311. Device body: "BIG_" and the Name.
    const std::size_t body = 4 + 311;
    ASSERT_EQ(encoded.size(), 2 + 2 + body);
    EXPECT_EQ(encoded[2] >> 6, 1);  // one following byte
    EXPECT_EQ((encoded[2] & 0x0F) | (encoded[3] << 4), body + 2);
    EXPECT_EQ(encoded[4], 'B');
}

TEST(AmlTest, SmallResourceDescriptors) {
    EXPECT_EQ(io_fixed(0x3F8, 8), (Bytes{0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08}));
    EXPECT_EQ(io(0x100, 0x1F0, 0x10, 4), (Bytes{0x47, 0x01, 0x00, 0x01, 0xF0, 0x01, 0x10, 0x04}));
    EXPECT_EQ(irq_no_flags(4), (Bytes{0x22, 0x10, 0x00}));
    EXPECT_EQ(irq_no_flags(8), (Bytes{0x22, 0x00, 0x01}));
    EXPECT_EQ(irq(9, true, true, true), (Bytes{0x23, 0x00, 0x02, 0x18}));
    EXPECT_EQ(irq(4, false, false, false), (Bytes{0x23, 0x10, 0x00, 0x01}));
    EXPECT_THROW((void)irq_no_flags(16), std::invalid_argument);
}

TEST(AmlTest, LargeResourceDescriptors) {
    EXPECT_EQ(memory32_fixed(0xE000'0000, 0x10'0000),
              (Bytes{0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xE0, 0x00, 0x00, 0x10, 0x00}));
    EXPECT_EQ(word_bus_number(Usage::producer, 0, 0xFF),
              (Bytes{0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0, 0, 0x00, 0x00, 0xFF, 0x00, 0, 0, 0x00, 0x01}));
    EXPECT_EQ(word_io(Usage::producer, 0, 0xCF7),
              (Bytes{0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0, 0x00, 0x00, 0xF7, 0x0C, 0, 0, 0xF8, 0x0C}));
    EXPECT_EQ(dword_memory(Usage::producer, Cacheability::non_cacheable, 0x8000'0000, 0xDFFF'FFFF),
              (Bytes{0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x80,
                     0xFF, 0xFF, 0xFF, 0xDF, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x60}));
    const Bytes qword = qword_memory(Usage::consumer, Cacheability::prefetchable, 0x1'0000'0000, 0x1'FFFF'FFFF);
    ASSERT_EQ(qword.size(), 46u);
    EXPECT_EQ((Bytes(qword.begin(), qword.begin() + 6)), (Bytes{0x8A, 0x2B, 0x00, 0x00, 0x0D, 0x07}));
    EXPECT_EQ((Bytes(qword.begin() + 14, qword.begin() + 22)), (Bytes{0, 0, 0, 0, 1, 0, 0, 0}));  // min
    EXPECT_EQ((Bytes(qword.begin() + 38, qword.end())), (Bytes{0, 0, 0, 0, 1, 0, 0, 0}));        // length
    EXPECT_THROW((void)word_io(Usage::producer, 0x10, 0x0F), std::invalid_argument);
    EXPECT_THROW((void)word_io(Usage::producer, 0, 0xFFFF), std::invalid_argument);  // length 0x10000
}

TEST(AmlTest, ResourceTemplateEndsWithAChecksummedEndTag) {
    const Bytes encoded = resource_template({io_fixed(0x3F8, 8), irq_no_flags(4)});
    EXPECT_EQ(encoded, (Bytes{0x11, 0x10, 0x0A, 0x0D, 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22, 0x10,
                              0x00, 0x79, 0x0E}));
    EXPECT_EQ(resource_template({}), (Bytes{0x11, 0x05, 0x0A, 0x02, 0x79, 0x87}));
}

}  // namespace
}  // namespace acrn::dm::acpi::aml
