// PCI configuration mechanism #1 as ACRN's hypervisor handles it for a User
// VM: 0xCF8 is latched here; an access to 0xCFC-0xCFF with the enable bit
// set becomes a PCICFG request, with the enable bit clear it reads all ones.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace acrn::hv {

inline constexpr std::uint16_t kPciConfigAddressPort = 0xCF8;
inline constexpr std::uint16_t kPciConfigDataPort = 0xCFC;

struct PciConfigTarget {
    std::uint32_t bus;
    std::uint32_t dev;
    std::uint32_t func;
    std::uint32_t reg;  // byte offset in the function's configuration space
};

class PciConfigAddress {
public:
    [[nodiscard]] static bool is_address_port(std::uint16_t port, std::uint32_t size) noexcept {
        return port == kPciConfigAddressPort && size == 4;
    }
    [[nodiscard]] static bool is_data_port(std::uint16_t port) noexcept {
        return port >= kPciConfigDataPort && port < kPciConfigDataPort + 4;
    }

    void write(std::uint32_t value) noexcept { latched_.store(value, std::memory_order_relaxed); }
    [[nodiscard]] std::uint32_t read() const noexcept { return latched_.load(std::memory_order_relaxed); }
    void reset() noexcept { latched_.store(0, std::memory_order_relaxed); }

    // The configuration register a data-port access addresses, or nothing
    // when the enable bit is clear. Bits 27:24 extend the register number
    // (AMD's extended configuration access), as ACRN decodes them.
    [[nodiscard]] std::optional<PciConfigTarget> decode(std::uint16_t data_port) const noexcept {
        const std::uint32_t address = read();
        if ((address & 0x8000'0000u) == 0) {
            return std::nullopt;
        }
        return PciConfigTarget{
            .bus = (address >> 16) & 0xFF,
            .dev = (address >> 11) & 0x1F,
            .func = (address >> 8) & 0x7,
            .reg = (address & 0xFC) + ((address >> 16) & 0xF00) + (data_port - kPciConfigDataPort),
        };
    }

private:
    std::atomic<std::uint32_t> latched_{0};
};

}  // namespace acrn::hv
