// Writes one ACPI system description table: the common header (ACPI 6.4,
// 5.2.6) with this project's OEM fields, then the fields a table appends in
// order, little-endian; finish() fills in the length and the checksum.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace acrn::dm::acpi {

inline constexpr std::string_view kOemId = "ACRNKV";
inline constexpr std::string_view kOemTableId = "ACRNKVM ";
inline constexpr std::uint32_t kOemRevision = 1;
inline constexpr std::string_view kCreatorId = "AKVM";
inline constexpr std::uint32_t kCreatorRevision = 1;
inline constexpr std::size_t kHeaderSize = 36;
inline constexpr std::size_t kHeaderLengthOffset = 4;
inline constexpr std::size_t kHeaderChecksumOffset = 9;

// 5.2.3.2: Generic Address Structure.
struct GenericAddress {
    enum Space : std::uint8_t { system_memory = 0, system_io = 1 };
    enum Access : std::uint8_t { undefined = 0, byte = 1, word = 2, dword = 3, qword = 4 };
    std::uint8_t space = system_memory;
    std::uint8_t bit_width = 0;
    std::uint8_t bit_offset = 0;
    std::uint8_t access_size = undefined;
    std::uint64_t address = 0;

    // `length` bytes of ports at `port`, accessed `access` at a time.
    [[nodiscard]] static GenericAddress io_ports(std::uint16_t port, std::uint8_t length, Access access) {
        return {system_io, static_cast<std::uint8_t>(length * 8), 0, access, port};
    }
};

// The byte that makes `bytes` sum to zero, given that it is itself zero now.
[[nodiscard]] std::uint8_t checksum_of(std::span<const std::uint8_t> bytes);

class TableBuilder {
public:
    TableBuilder(std::string_view signature, std::uint8_t revision);

    TableBuilder& u8(std::uint8_t value) { return le(value, 1); }
    TableBuilder& u16(std::uint16_t value) { return le(value, 2); }
    TableBuilder& u32(std::uint32_t value) { return le(value, 4); }
    TableBuilder& u64(std::uint64_t value) { return le(value, 8); }
    TableBuilder& zeros(std::size_t count);
    TableBuilder& text(std::string_view chars);  // exactly these characters, no NUL
    TableBuilder& bytes(std::span<const std::uint8_t> data);
    TableBuilder& gas(const GenericAddress& address);

    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
    // The table with its length and checksum set.
    [[nodiscard]] std::vector<std::uint8_t> finish() &&;

private:
    TableBuilder& le(std::uint64_t value, int size);

    std::vector<std::uint8_t> bytes_;
};

}  // namespace acrn::dm::acpi
