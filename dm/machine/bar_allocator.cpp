#include "dm/machine/bar_allocator.hpp"

#include <algorithm>
#include <stdexcept>

#include "dm/pci/pci_device.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kFourGiB = 1ull << 32;
// I/O BARs start above the legacy ports a PC's ISA devices use.
constexpr std::uint64_t kFirstIoBar = 0x2000;

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

}  // namespace

PciWindows PciWindows::for_ram_top(std::uint64_t ram_top) {
    const std::uint64_t mmio64_base = align_up(std::max(ram_top, kFourGiB), platform::kPciMmio64Alignment);
    return PciWindows{kFirstIoBar,     platform::kPciIoWindowLimit, platform::kPciMmio32BarBase,
                      platform::kPciMmio32Limit, mmio64_base,       mmio64_base + platform::kPciMmio64Size};
}

BarAllocator::BarAllocator(const PciWindows& windows)
    : windows_(windows),
      next_io_(windows.io_base),
      next_mmio32_(windows.mmio32_base),
      next_mmio64_(windows.mmio64_base) {}

void BarAllocator::place_bars(PciDevice& device) {
    for (int index = 0; index < PciDevice::kBarCount; ++index) {
        const BarKind kind = device.bar_kind(index);
        if (kind == BarKind::none) {
            continue;
        }
        const std::uint64_t size = device.bar_size(index);
        std::uint64_t* next = &next_mmio32_;
        std::uint64_t limit = windows_.mmio32_limit;
        if (kind == BarKind::io) {
            next = &next_io_;
            limit = windows_.io_limit;
        } else if (kind == BarKind::memory64) {
            next = &next_mmio64_;
            limit = windows_.mmio64_limit;
        }
        const std::uint64_t address = align_up(*next, size);
        if (address < *next || address + size > limit || address + size < address) {
            throw std::runtime_error(device.name() + ": no room left for BAR" + std::to_string(index) + " (" +
                                     std::to_string(size) + " bytes)");
        }
        device.place_bar(index, address);
        *next = address + size;
    }
}

}  // namespace acrn::dm
