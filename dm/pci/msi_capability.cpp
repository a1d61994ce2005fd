#include "dm/pci/msi_capability.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace acrn::dm {
namespace {

// Register offsets inside the capability (64-bit layout).
constexpr std::uint32_t kMsiControl = 0x02;
constexpr std::uint32_t kAddressLow = 0x04;
constexpr std::uint32_t kAddressHigh = 0x08;
constexpr std::uint32_t kData = 0x0C;
constexpr std::uint32_t kMask = 0x10;
constexpr std::uint32_t kPending = 0x14;

constexpr std::uint16_t kMsiEnable = 1u << 0;
constexpr unsigned kCapableShift = 1;
constexpr unsigned kEnabledShift = 4;
constexpr std::uint16_t kEnabledField = 0x7u << kEnabledShift;
constexpr std::uint16_t k64BitCapable = 1u << 7;
constexpr std::uint16_t kPerVectorMaskCapable = 1u << 8;

void store(std::span<std::uint8_t> bytes, std::uint32_t at, const void* value, std::size_t size) {
    std::memcpy(bytes.data() + at, value, size);
}

}  // namespace

MsiCapability::MsiCapability(std::span<std::uint8_t> config, std::span<std::uint8_t> writable, std::uint8_t offset,
                             unsigned vectors, bool per_vector_mask)
    : config_(config), offset_(offset), vectors_(vectors), per_vector_mask_(per_vector_mask) {
    if (vectors == 0 || vectors > 32 || !std::has_single_bit(vectors)) {
        throw std::invalid_argument("MSI: the vector count must be a power of two from 1 to 32");
    }
    const auto capable = static_cast<std::uint16_t>(std::countr_zero(vectors) << kCapableShift);
    const std::uint16_t control = capable | k64BitCapable | (per_vector_mask ? kPerVectorMaskCapable : 0);
    store(config_, offset_ + kMsiControl, &control, 2);
    const std::uint16_t control_writable = kMsiEnable | kEnabledField;
    store(writable, offset_ + kMsiControl, &control_writable, 2);
    const std::uint32_t address_low_writable = 0xFFFF'FFFC;  // DWORD aligned
    const std::uint32_t all = 0xFFFF'FFFF;
    const std::uint16_t data_writable = 0xFFFF;
    store(writable, offset_ + kAddressLow, &address_low_writable, 4);
    store(writable, offset_ + kAddressHigh, &all, 4);
    store(writable, offset_ + kData, &data_writable, 2);
    if (per_vector_mask) {
        const std::uint32_t mask_writable = vectors == 32 ? all : (1u << vectors) - 1;
        store(writable, offset_ + kMask, &mask_writable, 4);
    }
}

std::uint32_t MsiCapability::reg32(std::uint32_t at) const {
    std::uint32_t value = 0;
    std::memcpy(&value, config_.data() + offset_ + at, 4);
    return value;
}

void MsiCapability::set_reg32(std::uint32_t at, std::uint32_t value) {
    std::memcpy(config_.data() + offset_ + at, &value, 4);
}

std::uint16_t MsiCapability::control() const {
    std::uint16_t value = 0;
    std::memcpy(&value, config_.data() + offset_ + kMsiControl, 2);
    return value;
}

bool MsiCapability::enabled() const { return (control() & kMsiEnable) != 0; }

unsigned MsiCapability::enabled_vectors() const {
    const unsigned requested = 1u << ((control() & kEnabledField) >> kEnabledShift);
    return requested < vectors_ ? requested : vectors_;
}

bool MsiCapability::covers(std::uint32_t reg, std::uint32_t size) const noexcept {
    return reg < offset_ + std::uint32_t{length(per_vector_mask_)} && reg + size > offset_;
}

MsiMessage MsiCapability::message(unsigned vector) const {
    const std::uint64_t address = std::uint64_t{reg32(kAddressHigh)} << 32 | reg32(kAddressLow);
    const std::uint32_t data = reg32(kData) & 0xFFFF;
    // Multiple messages: the function puts the vector number in the low
    // bits of the data (PCI 3.0, 6.8.1.6).
    const std::uint32_t low_bits = enabled_vectors() - 1;
    return MsiMessage{address, (data & ~low_bits) | (vector & low_bits)};
}

std::optional<MsiMessage> MsiCapability::raise(unsigned vector) {
    if (!enabled() || vector >= enabled_vectors()) {
        return std::nullopt;
    }
    if (per_vector_mask_ && (reg32(kMask) >> vector & 1) != 0) {
        set_reg32(kPending, reg32(kPending) | 1u << vector);
        return std::nullopt;
    }
    return message(vector);
}

std::vector<MsiDelivery> MsiCapability::take_unmasked_pending() {
    std::vector<MsiDelivery> deliveries;
    if (!per_vector_mask_ || !enabled()) {
        return deliveries;
    }
    std::uint32_t pending = reg32(kPending);
    const std::uint32_t mask = reg32(kMask);
    for (unsigned vector = 0; vector < enabled_vectors(); ++vector) {
        const std::uint32_t bit = 1u << vector;
        if ((pending & bit) != 0 && (mask & bit) == 0) {
            pending &= ~bit;
            deliveries.push_back({vector, message(vector)});
        }
    }
    set_reg32(kPending, pending);
    return deliveries;
}

}  // namespace acrn::dm
