// Firmware's placement of BARs before boot: I/O BARs in the I/O window,
// 32-bit memory BARs in the 32-bit window below the ECAM, 64-bit memory BARs
// in the 64-bit window above RAM. Each BAR is aligned to its size. The
// windows are what the DSDT's root bridge _CRS states.
#pragma once

#include <cstdint>
#include <string>

namespace acrn::dm {

class PciDevice;

struct PciWindows {
    std::uint64_t io_base, io_limit;          // limit exclusive
    std::uint64_t mmio32_base, mmio32_limit;  // limit exclusive
    std::uint64_t mmio64_base, mmio64_limit;  // limit exclusive

    // The windows of a VM whose RAM ends (above 4 GiB, or at 4 GiB if it
    // has none there) at `ram_top`.
    [[nodiscard]] static PciWindows for_ram_top(std::uint64_t ram_top);
};

class BarAllocator {
public:
    explicit BarAllocator(const PciWindows& windows);

    // Places every BAR the device declared. Throws std::runtime_error
    // naming the device and the BAR when a window is full.
    void place_bars(PciDevice& device);

    [[nodiscard]] const PciWindows& windows() const noexcept { return windows_; }

private:
    const PciWindows windows_;
    std::uint64_t next_io_;
    std::uint64_t next_mmio32_;
    std::uint64_t next_mmio64_;
};

}  // namespace acrn::dm
