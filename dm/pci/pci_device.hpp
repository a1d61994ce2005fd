// A PCI function's type-0 configuration space (4 KiB, the extended part
// reached through ECAM), its BARs, capabilities and interrupts. Subclasses
// describe themselves in the constructor (ids, class, BARs, MSI / MSI-X,
// their own capabilities) and implement bar_read/bar_write; the base keeps
// the registers' read-only and writable bits, maps each BAR on the PIO or
// MMIO bus while its decoding is on, serves the MSI-X table and PBA, and
// turns the device's interrupts into MSI-X, MSI or INTx as the guest
// configured them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dm/io/address_bus.hpp"
#include "dm/pci/msi_capability.hpp"
#include "dm/pci/msix_capability.hpp"

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
inline constexpr std::uint16_t kStatusInterrupt = 1u << 3;
inline constexpr std::uint16_t kStatusCapabilities = 1u << 4;

class FastPaths;
class InterruptSources;
class LineSource;
class MsiSource;

class PciDevice : public std::enable_shared_from_this<PciDevice> {
public:
    static constexpr std::size_t kConfigSize = 4096;       // with PCIe's extended space
    static constexpr std::size_t kLegacyConfigSize = 256;  // where capabilities live
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
    // INTx: the pin the function uses (0 = none, 1 = INTA#).
    [[nodiscard]] std::uint8_t interrupt_pin() const;
    // Gives the function its interrupt sources: one per MSI/MSI-X vector,
    // and, if it has a pin, an INTx source on `intx_gsi` (the IOAPIC input
    // firmware routed the pin to, also written to Interrupt Line).
    void connect_interrupts(InterruptSources& sources, std::optional<std::uint32_t> intx_gsi);
    [[nodiscard]] std::optional<std::uint32_t> intx_gsi() const;

    // The device's side of its interrupts. set_intx drives the INTx level
    // (Interrupt Status follows it; the pin is asserted unless the guest set
    // Interrupt Disable or enabled MSI/MSI-X). raise_vector sends vector N
    // through MSI-X if enabled, else MSI; a masked vector becomes pending.
    // False if neither is enabled, so the device may fall back to INTx.
    void set_intx(bool asserted);
    bool raise_vector(unsigned vector);
    [[nodiscard]] bool msi_enabled() const;
    [[nodiscard]] bool msix_enabled() const;
    [[nodiscard]] bool msix_pending(unsigned vector) const;
    // The offset of the first capability with this id, or 0.
    [[nodiscard]] std::uint8_t find_capability(std::uint8_t id) const;

    // Configuration access; `reg` is a byte offset. Unaligned or
    // out-of-range accesses read all ones and are dropped on write.
    [[nodiscard]] std::uint32_t config_read(std::uint32_t reg, std::uint32_t size);
    void config_write(std::uint32_t reg, std::uint32_t size, std::uint32_t value);

protected:
    void declare_bar(int index, BarKind kind, std::uint64_t size);
    void set_interrupt_pin(std::uint8_t pin);  // 1 = INTA#
    // MSI with `vectors` messages (1..32, a power of two), 64-bit capable.
    void declare_msi(unsigned vectors, bool per_vector_mask);
    // MSI-X with its table and PBA inside declared memory BARs.
    void declare_msix(const MsixCapability::Layout& layout);
    // The function's MSI / MSI-X vectors go through irqfds where the relay
    // offers them (set before connect_interrupts).
    void use_irqfds(FastPaths& fast_paths) { irqfd_paths_ = &fast_paths; }
    // See MsixCapability::deliverable.
    [[nodiscard]] std::optional<MsiMessage> msix_deliverable(unsigned vector) const;
    // After the guest wrote the MSI-X table or capability (no lock held):
    // for a device that binds vectors to eventfds of its own.
    virtual void msix_changed() {}
    // A capability of the device's own: `length` bytes (id and next pointer
    // included) linked into the list; returns its offset. `contents` and
    // `writable` (same length, may be empty) fill it from byte 2 on.
    std::uint8_t add_capability(std::uint8_t id, std::uint8_t length, std::span<const std::uint8_t> contents = {},
                                std::span<const std::uint8_t> writable = {});

    [[nodiscard]] virtual std::uint64_t bar_read(int index, const IoAccess& access) = 0;
    virtual void bar_write(int index, const IoAccess& access, std::uint64_t value) = 0;
    // Called after the guest wrote configuration space (the base has
    // applied the write), outside the base's lock.
    virtual void config_written(std::uint32_t /*reg*/, std::uint32_t /*size*/) {}

private:
    class BarWindow;
    friend class PciBus;  // retries BARs whose mapping was refused
    struct Bar {
        BarKind kind = BarKind::none;
        std::uint64_t size = 0;
        std::shared_ptr<BarWindow> window;
        std::uint64_t mapped_at = 0;
        bool mapped = false;
        std::optional<std::uint64_t> refused_at;  // where the bus last refused it (logged once)
    };

    [[nodiscard]] std::uint64_t decoded_bar_address(int index) const;
    void update_mappings();
    void retry_refused_mappings();
    [[nodiscard]] std::uint64_t read_bar(int index, const IoAccess& access);
    void write_bar(int index, const IoAccess& access, std::uint64_t value);
    void update_intx_pin();
    void deliver(const std::vector<MsiDelivery>& deliveries);
    [[nodiscard]] bool config_bar_or_command(std::uint32_t reg, std::uint32_t size) const noexcept;
    void set_config(std::uint32_t reg, std::uint32_t size, std::uint32_t value);
    [[nodiscard]] std::uint32_t get_config(std::uint32_t reg, std::uint32_t size) const;

    const std::string name_;
    mutable std::recursive_mutex mutex_;  // a BAR move re-enters through update_mappings
    std::array<std::uint8_t, kConfigSize> config_{};
    std::array<std::uint8_t, kConfigSize> writable_{};  // bit set = guest-writable
    std::array<Bar, kBarCount> bars_{};
    std::optional<std::uint32_t> intx_gsi_;
    LineSource* intx_ = nullptr;
    bool intx_level_ = false;
    std::uint8_t last_capability_ = 0;       // 0: none yet
    std::uint32_t next_capability_ = 0x40;  // may reach 0x100: then the list is full
    std::optional<MsiCapability> msi_;
    std::optional<MsixCapability> msix_;
    std::vector<MsiSource*> vector_sources_;
    FastPaths* irqfd_paths_ = nullptr;
    AddressBus* pio_ = nullptr;
    AddressBus* mmio_ = nullptr;
};

}  // namespace acrn::dm
