#include "dm/acpi/aml_resources.hpp"

#include <numeric>
#include <stdexcept>

namespace acrn::dm::acpi::aml {
namespace {

// Small descriptors (6.4.2): one tag byte, item name in bits 6:3 and the
// length in bits 2:0.
constexpr std::uint8_t small_tag(std::uint8_t item, std::uint8_t length) {
    return static_cast<std::uint8_t>((item << 3) | length);
}
constexpr std::uint8_t kIrqItem = 0x04;
constexpr std::uint8_t kIoItem = 0x08;
constexpr std::uint8_t kEndTagItem = 0x0F;

// Large descriptors (6.4.3): bit 7 set, the item name, then a 16-bit length
// of what follows the three header bytes.
constexpr std::uint8_t kMemory32FixedTag = 0x86;
constexpr std::uint8_t kDWordAddressTag = 0x87;
constexpr std::uint8_t kWordAddressTag = 0x88;
constexpr std::uint8_t kQWordAddressTag = 0x8A;

// 6.4.3.5: Resource Type, General Flags, Type Specific Flags.
enum class ResourceType : std::uint8_t { memory = 0, io = 1, bus_number = 2 };
constexpr std::uint8_t kConsumer = 1u << 0;
constexpr std::uint8_t kMinFixed = 1u << 2;
constexpr std::uint8_t kMaxFixed = 1u << 3;
constexpr std::uint8_t kIoEntireRange = 0x03;  // _RNG: ISA and non-ISA ports
constexpr std::uint8_t kMemoryReadWrite = 1u << 0;

// One Word/DWord/QWord Address Space Descriptor with fixed bounds, positive
// decode, no translation and no resource source: granularity, min, max,
// translation offset and length, each `width` bytes.
Bytes address_space(std::uint8_t tag, int width, ResourceType type, Usage usage, std::uint8_t type_flags,
                    std::uint64_t min, std::uint64_t max) {
    if (max < min) {
        throw std::invalid_argument("address space descriptor with max below min");
    }
    const std::uint64_t length = max - min + 1;
    if (width < 8 && length >> (8 * width) != 0) {
        throw std::invalid_argument("address space descriptor length does not fit its width");
    }
    Bytes out{tag};
    append_le(out, 3 + 5 * static_cast<std::uint64_t>(width), 2);
    out.push_back(static_cast<std::uint8_t>(type));
    out.push_back(static_cast<std::uint8_t>(kMinFixed | kMaxFixed | (usage == Usage::consumer ? kConsumer : 0)));
    out.push_back(type_flags);
    append_le(out, 0, width);  // granularity: none, the bounds are fixed
    append_le(out, min, width);
    append_le(out, max, width);
    append_le(out, 0, width);  // translation offset
    append_le(out, length, width);
    return out;
}

std::uint8_t memory_flags(Cacheability cacheability) {
    return static_cast<std::uint8_t>(kMemoryReadWrite | (static_cast<std::uint8_t>(cacheability) << 1));
}

void check_isa_irq(std::uint8_t irq) {
    if (irq > 15) {
        throw std::invalid_argument("IRQ descriptors name ISA IRQs 0..15");
    }
}

}  // namespace

Bytes io(std::uint16_t min, std::uint16_t max, std::uint8_t alignment, std::uint8_t length) {
    constexpr std::uint8_t kDecode16 = 0x01;
    Bytes out{small_tag(kIoItem, 7), kDecode16};
    append_le(out, min, 2);
    append_le(out, max, 2);
    out.push_back(alignment);
    out.push_back(length);
    return out;
}

Bytes io_fixed(std::uint16_t base, std::uint8_t length) { return io(base, base, 1, length); }

Bytes irq_no_flags(std::uint8_t irq) {
    check_isa_irq(irq);
    Bytes out{small_tag(kIrqItem, 2)};
    append_le(out, 1u << irq, 2);
    return out;
}

Bytes irq(std::uint8_t irq, bool level_triggered, bool active_low, bool shared) {
    check_isa_irq(irq);
    // Information byte: bit 0 _HE (edge), bit 3 _LL (active low), bit 4 _SHR.
    const std::uint8_t flags = static_cast<std::uint8_t>((level_triggered ? 0 : 0x01) | (active_low ? 0x08 : 0) |
                                                         (shared ? 0x10 : 0));
    Bytes out{small_tag(kIrqItem, 3)};
    append_le(out, 1u << irq, 2);
    out.push_back(flags);
    return out;
}

Bytes memory32_fixed(std::uint32_t base, std::uint32_t length, bool writable) {
    Bytes out{kMemory32FixedTag};
    append_le(out, 9, 2);
    out.push_back(writable ? kMemoryReadWrite : 0);
    append_le(out, base, 4);
    append_le(out, length, 4);
    return out;
}

Bytes word_bus_number(Usage usage, std::uint16_t min, std::uint16_t max) {
    return address_space(kWordAddressTag, 2, ResourceType::bus_number, usage, 0, min, max);
}

Bytes word_io(Usage usage, std::uint16_t min, std::uint16_t max) {
    return address_space(kWordAddressTag, 2, ResourceType::io, usage, kIoEntireRange, min, max);
}

Bytes dword_memory(Usage usage, Cacheability cacheability, std::uint32_t min, std::uint32_t max) {
    return address_space(kDWordAddressTag, 4, ResourceType::memory, usage, memory_flags(cacheability), min, max);
}

Bytes qword_memory(Usage usage, Cacheability cacheability, std::uint64_t min, std::uint64_t max) {
    return address_space(kQWordAddressTag, 8, ResourceType::memory, usage, memory_flags(cacheability), min, max);
}

Bytes resource_template(const std::vector<Bytes>& descriptors) {
    Bytes list;
    for (const Bytes& descriptor : descriptors) {
        list.insert(list.end(), descriptor.begin(), descriptor.end());
    }
    list.push_back(small_tag(kEndTagItem, 1));
    const unsigned sum = std::accumulate(list.begin(), list.end(), 0u);
    list.push_back(static_cast<std::uint8_t>(0x100 - (sum & 0xFF)));
    return buffer(list);
}

}  // namespace acrn::dm::acpi::aml
