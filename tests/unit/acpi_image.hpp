// Test-side reading of an AcpiImage: follows RSDP -> XSDT -> FADT -> DSDT,
// FACS the way an OS does, so the tests check the pointers, not the layout.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <span>
#include <string>

#include "dm/acpi/acpi_tables.hpp"

namespace acrn::dm::acpi::test {

template <typename T>
T read_le(std::span<const std::uint8_t> bytes, std::size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

inline unsigned byte_sum(std::span<const std::uint8_t> bytes) {
    return std::accumulate(bytes.begin(), bytes.end(), 0u) & 0xFF;
}

// The bytes at guest-physical `address`, `length` long, or an empty span
// (and a test failure) when they are not wholly inside the image.
inline std::span<const std::uint8_t> at(const AcpiImage& image, std::uint64_t address, std::size_t length) {
    if (address < image.base || address - image.base + length > image.bytes.size()) {
        ADD_FAILURE() << "address 0x" << std::hex << address << " + 0x" << length << " outside the image";
        return {};
    }
    return std::span<const std::uint8_t>(image.bytes).subspan(address - image.base, length);
}

// A table with a standard header at `address`, its length from the header.
inline std::span<const std::uint8_t> table_at(const AcpiImage& image, std::uint64_t address) {
    const auto header = at(image, address, 8);
    if (header.empty()) {
        return {};
    }
    return at(image, address, read_le<std::uint32_t>(header, 4));
}

inline std::string signature(std::span<const std::uint8_t> table) {
    return table.size() < 4 ? std::string() : std::string(table.begin(), table.begin() + 4);
}

struct FoundTables {
    std::span<const std::uint8_t> rsdp;
    std::map<std::string, std::span<const std::uint8_t>> tables;  // by signature, FACS and DSDT included
    std::map<std::string, std::uint64_t> addresses;
};

// Offsets in the FADT (ACPI 6.4, Table 5.9).
inline constexpr std::size_t kFadtFirmwareCtrl = 36;
inline constexpr std::size_t kFadtDsdt = 40;
inline constexpr std::size_t kFadtXFirmwareCtrl = 132;
inline constexpr std::size_t kFadtXDsdt = 140;

inline FoundTables find_tables(const AcpiImage& image) {
    FoundTables found;
    found.rsdp = at(image, image.rsdp_address, 36);
    if (found.rsdp.empty()) {
        return found;
    }
    const auto xsdt_address = read_le<std::uint64_t>(found.rsdp, 24);
    const auto xsdt = table_at(image, xsdt_address);
    found.tables["XSDT"] = xsdt;
    found.addresses["XSDT"] = xsdt_address;
    for (std::size_t offset = 36; offset + 8 <= xsdt.size(); offset += 8) {
        const auto address = read_le<std::uint64_t>(xsdt, offset);
        const auto table = table_at(image, address);
        found.tables[signature(table)] = table;
        found.addresses[signature(table)] = address;
    }
    const auto fadt = found.tables["FACP"];
    if (fadt.size() >= 148) {
        const auto dsdt_address = read_le<std::uint64_t>(fadt, kFadtXDsdt);
        const auto facs_address = read_le<std::uint64_t>(fadt, kFadtXFirmwareCtrl);
        found.tables["DSDT"] = table_at(image, dsdt_address);
        found.addresses["DSDT"] = dsdt_address;
        found.tables["FACS"] = table_at(image, facs_address);
        found.addresses["FACS"] = facs_address;
    }
    return found;
}

}  // namespace acrn::dm::acpi::test
