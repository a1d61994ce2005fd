// The UOS's RAM, as the device model sees it: anonymous memory mapped once
// into this process and handed to the hypervisor side by address (KVM maps
// the same pages into the guest). A back end in another process (vhost-user,
// Service-VM mode) will need a memfd or hugetlbfs file instead. ACRN's layout: up to 2 GiB at
// guest-physical 0, the rest from 4 GiB, leaving the 32-bit PCI hole free.
// Every access a device makes on the guest's behalf is bounds-checked here.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/mapping.hpp"

namespace acrn::dm {

class GuestMemory {
public:
    static constexpr std::uint64_t kLowMemoryLimit = 2ull << 30;
    static constexpr std::uint64_t kHighMemoryBase = 4ull << 30;

    // The PC layout below 1 MiB: conventional memory ends where the EBDA
    // and the BIOS area begin, and extended memory starts at 1 MiB.
    static constexpr std::uint64_t kConventionalMemoryEnd = 0x9FC00;
    static constexpr std::uint64_t kExtendedMemoryStart = 0x100000;

    struct Region {
        std::uint64_t gpa;
        std::uint64_t size;
        std::uint8_t* host;
    };

    // The guest-physical memory map firmware reports (e820 / multiboot
    // types): RAM below the EBDA, the reserved hole up to 1 MiB, RAM from
    // 1 MiB, the reserved PCI ECAM window, and RAM above 4 GiB if any.
    struct MapEntry {
        enum Type : std::uint32_t { ram = 1, reserved = 2 };
        std::uint64_t base;
        std::uint64_t size;
        Type type;
    };
    [[nodiscard]] std::vector<MapEntry> memory_map() const;

    // Throws std::system_error when the memory cannot be had.
    explicit GuestMemory(std::uint64_t size);

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] std::uint64_t low_memory_end() const noexcept { return regions_.front().size; }
    [[nodiscard]] const std::vector<Region>& regions() const noexcept { return regions_; }

    // Host view of [gpa, gpa + length) if it lies inside one RAM region;
    // an empty span otherwise.
    [[nodiscard]] std::span<std::uint8_t> span(std::uint64_t gpa, std::uint64_t length) const noexcept;

    [[nodiscard]] bool read(std::uint64_t gpa, void* out, std::uint64_t length) const noexcept {
        auto bytes = span(gpa, length);
        if (bytes.size() != length) {
            return false;
        }
        std::memcpy(out, bytes.data(), length);
        return true;
    }
    [[nodiscard]] bool write(std::uint64_t gpa, const void* in, std::uint64_t length) const noexcept {
        auto bytes = span(gpa, length);
        if (bytes.size() != length) {
            return false;
        }
        std::memcpy(bytes.data(), in, length);
        return true;
    }

private:
    std::uint64_t size_;
    Mapping mapping_;
    std::vector<Region> regions_;
};

}  // namespace acrn::dm
