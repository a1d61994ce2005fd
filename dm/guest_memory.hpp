// The UOS's RAM, as the device model sees it: one memfd, mapped shared into
// this process and handed to the hypervisor side by address (KVM maps the
// same pages into the guest). The file can be passed to another process (a
// vhost-user back end, a Service-OS importer), which maps the same pages
// from each region's file offset. ACRN's layout: up to 2 GiB at
// guest-physical 0, the rest from 4 GiB, leaving the 32-bit PCI hole free.
//
// Devices reach guest RAM only through the bounds-checked accessors here
// (span, read/write, load_acquire/store_release) and GuestBuffers
// (dm/guest_buffers.hpp); an out-of-range or overflowing guest address is
// answered with an empty span, false or nullopt, never a host pointer.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "common/mapping.hpp"
#include "common/unique_fd.hpp"

namespace acrn::dm {

// Where guest RAM comes from. `shmem`: a plain memfd; the kernel backs it
// with transparent huge pages where /sys/kernel/mm/transparent_hugepage/
// shmem_enabled allows (advise or always), with 4 KiB pages otherwise.
// `huge_tmpfs`: a file on a tmpfs of its own mounted huge=within_size
// (dm/huge_tmpfs_file.hpp), which gets huge pages even where shmem_enabled
// is 'never'; it cannot be sealed, and where it cannot be made (no
// CAP_SYS_ADMIN) the memory falls back to `shmem`, saying so.
// `hugetlb_2m`: a hugetlbfs memfd of 2 MiB pages, reserved up front from
// the host's pool (vm.nr_hugepages); the size must be a multiple of 2 MiB.
enum class GuestMemoryBacking { shmem, huge_tmpfs, hugetlb_2m };

// Guest RAM could not be set up as asked (no huge pages, no memfd, ...).
class GuestMemoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class GuestMemory {
public:
    static constexpr std::uint64_t kLowMemoryLimit = 2ull << 30;
    static constexpr std::uint64_t kHighMemoryBase = 4ull << 30;
    static constexpr std::uint64_t kHugePageSize = 2ull << 20;

    // The PC layout below 1 MiB: conventional memory ends where the EBDA
    // and the BIOS area begin, and extended memory starts at 1 MiB.
    static constexpr std::uint64_t kConventionalMemoryEnd = 0x9FC00;
    static constexpr std::uint64_t kExtendedMemoryStart = 0x100000;

    struct Region {
        std::uint64_t gpa;
        std::uint64_t size;
        std::uint64_t file_offset;  // of gpa in fd()
        // For handing the mapping to the HSM (set_memseg's vma_base) and
        // nothing else: devices go through the accessors.
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
    [[nodiscard]] std::vector<MapEntry> memory_map() const { return memory_map_for(size_); }
    // The same map for a VM of `size` bytes, before any memory exists (to
    // check boot images up front). `size` as the constructor takes it.
    [[nodiscard]] static std::vector<MapEntry> memory_map_for(std::uint64_t size);

    // What a VM gets unless asked for hugetlb: shmem where the host gives
    // memfds huge pages, huge_tmpfs where its shmem_enabled is 'never'.
    [[nodiscard]] static GuestMemoryBacking default_backing();

    // Throws std::invalid_argument for a size that is not a multiple of
    // 4 KiB (2 MiB for hugetlb) or not above 1 MiB, and GuestMemoryError,
    // saying what is missing, when the memory cannot be had.
    explicit GuestMemory(std::uint64_t size, GuestMemoryBacking backing = GuestMemoryBacking::shmem);

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    // What the memory got: shmem where huge_tmpfs was asked for and could
    // not be made.
    [[nodiscard]] GuestMemoryBacking backing() const noexcept { return backing_; }
    [[nodiscard]] std::uint64_t low_memory_end() const noexcept { return regions_.front().size; }
    [[nodiscard]] const std::vector<Region>& regions() const noexcept { return regions_; }

    // The file behind all regions: a memfd sealed against growing and
    // shrinking, or (huge_tmpfs) an unlinked tmpfs file.
    // Borrowed: it stays open as long as this object lives; dup() it (or
    // let SCM_RIGHTS / exec do so) to hand it on.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    // Host view of [gpa, gpa + length) if it lies inside one RAM region;
    // an empty span otherwise (and for length 0).
    [[nodiscard]] std::span<std::uint8_t> span(std::uint64_t gpa, std::uint64_t length) const noexcept;

    // Copies; false (and nothing copied) unless all of [gpa, gpa + length)
    // is RAM. Zero bytes always succeed.
    [[nodiscard]] bool read(std::uint64_t gpa, void* out, std::uint64_t length) const noexcept {
        if (length == 0) {
            return true;  // an empty span has no data pointer to copy from
        }
        auto bytes = span(gpa, length);
        if (bytes.size() != length) {
            return false;
        }
        std::memcpy(out, bytes.data(), length);
        return true;
    }
    [[nodiscard]] bool write(std::uint64_t gpa, const void* in, std::uint64_t length) const noexcept {
        if (length == 0) {
            return true;
        }
        auto bytes = span(gpa, length);
        if (bytes.size() != length) {
            return false;
        }
        std::memcpy(bytes.data(), in, length);
        return true;
    }

    // Ring indices and flags shared with the guest (virtqueue idx, event
    // words): one atomic access with acquire / release ordering, so that
    // what the guest wrote before publishing an index is visible after
    // loading it, and what we wrote is visible before the index we store.
    // Naturally aligned 2-, 4- or 8-byte values only: nullopt / false for
    // a misaligned or out-of-range gpa.
    template <typename T>
        requires std::integral<T> && (sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8)
    [[nodiscard]] std::optional<T> load_acquire(std::uint64_t gpa) const noexcept {
        T* at = aligned_word<T>(gpa);
        if (at == nullptr) {
            return std::nullopt;
        }
        return std::atomic_ref<T>(*at).load(std::memory_order_acquire);
    }
    template <typename T>
        requires std::integral<T> && (sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8)
    [[nodiscard]] bool store_release(std::uint64_t gpa, T value) const noexcept {
        T* at = aligned_word<T>(gpa);
        if (at == nullptr) {
            return false;
        }
        std::atomic_ref<T>(*at).store(value, std::memory_order_release);
        return true;
    }

private:
    template <typename T>
    [[nodiscard]] T* aligned_word(std::uint64_t gpa) const noexcept {
        static_assert(std::atomic_ref<T>::required_alignment == sizeof(T) && std::atomic_ref<T>::is_always_lock_free);
        if (gpa % sizeof(T) != 0) {
            return nullptr;
        }
        // Regions start page-aligned in the file and in this mapping, so an
        // aligned gpa is an aligned host address.
        auto bytes = span(gpa, sizeof(T));
        return bytes.size() == sizeof(T) ? reinterpret_cast<T*>(bytes.data()) : nullptr;
    }

    std::uint64_t size_;
    GuestMemoryBacking backing_;
    UniqueFd fd_;
    Mapping mapping_;
    std::vector<Region> regions_;
};

}  // namespace acrn::dm
