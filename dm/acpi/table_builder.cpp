#include "dm/acpi/table_builder.hpp"

#include <numeric>
#include <stdexcept>

namespace acrn::dm::acpi {

std::uint8_t checksum_of(std::span<const std::uint8_t> bytes) {
    const unsigned sum = std::accumulate(bytes.begin(), bytes.end(), 0u);
    return static_cast<std::uint8_t>(0x100 - (sum & 0xFF));
}

TableBuilder::TableBuilder(std::string_view signature, std::uint8_t revision) {
    if (signature.size() != 4) {
        throw std::invalid_argument("ACPI table signatures are four characters");
    }
    text(signature);
    u32(0);  // length, set by finish()
    u8(revision);
    u8(0);  // checksum, set by finish()
    text(kOemId);
    text(kOemTableId);
    u32(kOemRevision);
    text(kCreatorId);
    u32(kCreatorRevision);
}

TableBuilder& TableBuilder::zeros(std::size_t count) {
    bytes_.insert(bytes_.end(), count, 0);
    return *this;
}

TableBuilder& TableBuilder::text(std::string_view chars) {
    bytes_.insert(bytes_.end(), chars.begin(), chars.end());
    return *this;
}

TableBuilder& TableBuilder::bytes(std::span<const std::uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
}

TableBuilder& TableBuilder::gas(const GenericAddress& address) {
    return u8(address.space).u8(address.bit_width).u8(address.bit_offset).u8(address.access_size).u64(address.address);
}

TableBuilder& TableBuilder::le(std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) {
        bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
    return *this;
}

std::vector<std::uint8_t> TableBuilder::finish() && {
    const auto length = static_cast<std::uint32_t>(bytes_.size());
    for (int i = 0; i < 4; ++i) {
        bytes_[kHeaderLengthOffset + i] = static_cast<std::uint8_t>(length >> (8 * i));
    }
    bytes_[kHeaderChecksumOffset] = 0;
    bytes_[kHeaderChecksumOffset] = checksum_of(bytes_);
    return std::move(bytes_);
}

}  // namespace acrn::dm::acpi
