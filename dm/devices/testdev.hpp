// `-s N,testdev`: a PCI test device for the project's own guest tests, like
// QEMU's pci-testdev (same ids; no Linux driver binds it).
//   BAR0: 4 KiB of 32-bit memory, BAR1: 256 bytes of I/O, BAR4: 4 KiB of
//         64-bit memory (placed above 4 GiB): plain scratch storage, any
//         access of size 1, 2, 4 (or 8 for memory) reads back what was last
//         written there.
//   BAR2: 4 KiB of 32-bit memory holding the MSI-X table (8 vectors, at 0)
//         and its PBA (at 0x800).
//   BAR3: 32 bytes of I/O, the interrupt registers (32-bit):
//     0x00 RAISE         write N: raise vector N once (MSI-X if enabled,
//                        else MSI, else INTx is asserted)
//     0x04 INTX          write 1/0: assert/release INTA#; read: the level
//     0x08 STORM_VECTOR  the vector a storm raises
//     0x0C STORM_COUNT   write N: raise STORM_VECTOR N times as fast as the
//                        device's worker can; read: how many are left
//     0x10 RAISED        read: interrupts raised since creation (low 32 bits)
// It also has an MSI capability (4 vectors, per-vector masking) and INTA#.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <span>

#include "dm/exec/device_worker.hpp"
#include "dm/pci/pci_device.hpp"

namespace acrn::dm {

class PowerControl;

class TestDevice final : public PciDevice {
public:
    static constexpr std::uint64_t kMemorySize = 4096;
    static constexpr std::uint64_t kIoSize = 256;
    static constexpr std::uint64_t kMsixBarSize = 4096;
    static constexpr std::uint64_t kMsixPbaOffset = 0x800;
    static constexpr unsigned kMsixVectors = 8;
    static constexpr unsigned kMsiVectors = 4;
    static constexpr std::uint64_t kInterruptRegistersSize = 32;
    static constexpr int kMsixBar = 2;
    static constexpr int kInterruptBar = 3;
    static constexpr int kMemory64Bar = 4;

    enum InterruptRegister : std::uint64_t {
        kRaise = 0x00,
        kIntx = 0x04,
        kStormVector = 0x08,
        kStormCount = 0x0C,
        kRaised = 0x10,
    };

    explicit TestDevice(PowerControl& power);
    ~TestDevice() override;

    [[nodiscard]] std::uint64_t raised() const noexcept { return raised_.load(std::memory_order_relaxed); }

private:
    std::uint64_t bar_read(int index, const IoAccess& access) override;
    void bar_write(int index, const IoAccess& access, std::uint64_t value) override;
    std::uint8_t* storage(int index, const IoAccess& access);
    std::uint64_t interrupt_register_read(const IoAccess& access);
    void interrupt_register_write(const IoAccess& access, std::uint64_t value);
    void raise(unsigned vector);
    void run_storm();

    std::mutex mutex_;
    std::array<std::uint8_t, kMemorySize> memory_{};
    std::array<std::uint8_t, kIoSize> io_{};
    std::array<std::uint8_t, kMemorySize> memory64_{};
    bool intx_ = false;
    std::atomic<std::uint32_t> storm_vector_{0};
    std::atomic<std::uint64_t> storm_left_{0};
    std::atomic<std::uint64_t> raised_{0};
    DeviceWorker worker_;  // last: its storm uses the members above
};

}  // namespace acrn::dm
