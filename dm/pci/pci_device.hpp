// A PCI function's type-0 configuration space and its BARs. Subclasses
// describe themselves in the constructor (ids, class, BARs) and implement
// bar_read/bar_write; the base keeps the registers' read-only and writable
// bits and maps each BAR on the PIO or MMIO bus while its decoding is on.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dm/io/address_bus.hpp"

namespace acrn::dm {

struct PciIds {
    std::uint16_t vendor;
    std::uint16_t device;
    std::uint8_t class_code;
    std::uint8_t subclass;
    std::uint8_t prog_if = 0;
    std::uint8_t revision = 0;
    std::uint16_t subsystem_vendor = 0;
    std::uint16_t subsystem = 0;
};

enum class BarKind { none, io, memory32, memory64 };

// Config-space register offsets (PCI Local Bus 3.0, 6.1).
namespace pci_reg {
inline constexpr std::uint32_t vendor_id = 0x00;
inline constexpr std::uint32_t command = 0x04;
inline constexpr std::uint32_t status = 0x06;
inline constexpr std::uint32_t revision = 0x08;
inline constexpr std::uint32_t header_type = 0x0E;
inline constexpr std::uint32_t bar0 = 0x10;
inline constexpr std::uint32_t subsystem_vendor = 0x2C;
inline constexpr std::uint32_t capabilities = 0x34;
inline constexpr std::uint32_t interrupt_line = 0x3C;
inline constexpr std::uint32_t interrupt_pin = 0x3D;
}  // namespace pci_reg

inline constexpr std::uint16_t kCommandIoSpace = 1u << 0;
inline constexpr std::uint16_t kCommandMemorySpace = 1u << 1;
inline constexpr std::uint16_t kCommandBusMaster = 1u << 2;
inline constexpr std::uint16_t kCommandInterruptDisable = 1u << 10;

class PciDevice : public std::enable_shared_from_this<PciDevice> {
public:
    static constexpr std::size_t kConfigSize = 256;
    static constexpr int kBarCount = 6;

    PciDevice(std::string name, const PciIds& ids);
    PciDevice(const PciDevice&) = delete;
    PciDevice& operator=(const PciDevice&) = delete;
    virtual ~PciDevice();

    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    // Register the device's BARs with these buses from now on.
    void attach(AddressBus& pio, AddressBus& mmio);
    // Firmware's placement of a BAR, done by the device model before boot.
    void place_bar(int index, std::uint64_t address);
    [[nodiscard]] BarKind bar_kind(int index) const;
    [[nodiscard]] std::uint64_t bar_size(int index) const;
    [[nodiscard]] std::uint64_t bar_address(int index) const;
    // INTx: the pin the function uses (0 = none, 1 = INTA#) and, as firmware
    // routes it, the IOAPIC input it reaches (also its Interrupt Line).
    [[nodiscard]] std::uint8_t interrupt_pin() const;
    void route_intx(std::uint32_t gsi);
    [[nodiscard]] std::optional<std::uint32_t> intx_gsi() const;

    // Configuration access; `reg` is a byte offset. Unaligned or
    // out-of-range accesses read all ones and are dropped on write.
    [[nodiscard]] std::uint32_t config_read(std::uint32_t reg, std::uint32_t size);
    void config_write(std::uint32_t reg, std::uint32_t size, std::uint32_t value);

protected:
    void declare_bar(int index, BarKind kind, std::uint64_t size);
    void set_interrupt_pin(std::uint8_t pin);  // 1 = INTA#

    [[nodiscard]] virtual std::uint64_t bar_read(int index, const IoAccess& access) = 0;
    virtual void bar_write(int index, const IoAccess& access, std::uint64_t value) = 0;

private:
    class BarWindow;
    struct Bar {
        BarKind kind = BarKind::none;
        std::uint64_t size = 0;
        std::shared_ptr<BarWindow> window;
        std::uint64_t mapped_at = 0;
        bool mapped = false;
    };

    [[nodiscard]] std::uint64_t decoded_bar_address(int index) const;
    void update_mappings();
    void set_config(std::uint32_t reg, std::uint32_t size, std::uint32_t value);
    [[nodiscard]] std::uint32_t get_config(std::uint32_t reg, std::uint32_t size) const;

    const std::string name_;
    mutable std::recursive_mutex mutex_;  // a BAR move re-enters through update_mappings
    std::array<std::uint8_t, kConfigSize> config_{};
    std::array<std::uint8_t, kConfigSize> writable_{};  // bit set = guest-writable
    std::array<Bar, kBarCount> bars_{};
    std::optional<std::uint32_t> intx_gsi_;
    AddressBus* pio_ = nullptr;
    AddressBus* mmio_ = nullptr;
};

}  // namespace acrn::dm
