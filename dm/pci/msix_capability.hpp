// The MSI-X capability (PCI Local Bus 3.0, 6.8.2) and the structures it
// points at: a table of vectors (address, data, mask) and the pending-bit
// array, both in a memory BAR of the function. A masked vector (or a masked
// function) that is raised sets its pending bit; unmasking it sends the
// message and clears the bit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dm/pci/msi_message.hpp"

namespace acrn::dm {

class MsixCapability {
public:
    static constexpr std::uint8_t kId = 0x11;
    static constexpr std::uint8_t kLength = 12;
    static constexpr std::uint64_t kEntrySize = 16;
    static constexpr unsigned kMaxVectors = 2048;

    struct Layout {
        unsigned vectors;
        int table_bar;
        std::uint64_t table_offset;  // 8-byte aligned
        int pba_bar;
        std::uint64_t pba_offset;  // 8-byte aligned
    };
    [[nodiscard]] static constexpr std::uint64_t table_size(unsigned vectors) noexcept { return vectors * kEntrySize; }
    [[nodiscard]] static constexpr std::uint64_t pba_size(unsigned vectors) noexcept {
        return (vectors + 63) / 64 * 8;
    }

    MsixCapability(std::span<std::uint8_t> config, std::span<std::uint8_t> writable, std::uint8_t offset,
                   const Layout& layout);

    [[nodiscard]] const Layout& layout() const noexcept { return layout_; }
    [[nodiscard]] bool enabled() const;
    [[nodiscard]] bool function_masked() const;
    [[nodiscard]] bool covers(std::uint32_t reg, std::uint32_t size) const noexcept;

    // True if a BAR access falls inside the table or the PBA.
    [[nodiscard]] bool claims(int bar, std::uint64_t offset, std::uint32_t size) const noexcept;
    [[nodiscard]] std::uint64_t read(int bar, std::uint64_t offset, std::uint32_t size) const;
    // A guest write to the table; returns the pending vectors it unmasked.
    [[nodiscard]] std::vector<MsiDelivery> write(int bar, std::uint64_t offset, std::uint32_t size,
                                                 std::uint64_t value);

    // The message for `vector`, or nullopt when MSI-X is off, the vector
    // does not exist, or it is masked (then it becomes pending).
    [[nodiscard]] std::optional<MsiMessage> raise(unsigned vector);
    // The message `vector` would send now, or nullopt where raising it would
    // not send one (MSI-X off, no such vector, it or the function masked).
    [[nodiscard]] std::optional<MsiMessage> deliverable(unsigned vector) const;
    // After the guest wrote the capability: pending vectors now unmasked.
    [[nodiscard]] std::vector<MsiDelivery> take_unmasked_pending();
    [[nodiscard]] bool pending(unsigned vector) const;

private:
    struct Entry {
        std::array<std::uint32_t, 4> dwords{0, 0, 0, 1};  // address low, high, data, control: masked at reset
        bool pending = false;
        [[nodiscard]] bool masked() const noexcept { return (dwords[3] & 1) != 0; }
        [[nodiscard]] MsiMessage message() const noexcept {
            return {std::uint64_t{dwords[1]} << 32 | dwords[0], dwords[2]};
        }
    };
    [[nodiscard]] std::uint16_t control() const;
    [[nodiscard]] bool in_table(int bar, std::uint64_t offset, std::uint32_t size) const noexcept;
    [[nodiscard]] bool in_pba(int bar, std::uint64_t offset, std::uint32_t size) const noexcept;
    [[nodiscard]] std::uint32_t read_dword(int bar, std::uint64_t offset) const;

    std::span<std::uint8_t> config_;
    const std::uint8_t offset_;
    const Layout layout_;
    std::vector<Entry> entries_;
};

}  // namespace acrn::dm
