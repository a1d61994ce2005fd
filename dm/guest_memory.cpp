#include "dm/guest_memory.hpp"

#include <fcntl.h>
#include <linux/memfd.h>  // MFD_HUGE_2MB
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>
#include <system_error>

#include "common/log.hpp"
#include "dm/huge_tmpfs_file.hpp"
#include "dm/platform_layout.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr const char* kHugePagePool = "/sys/kernel/mm/hugepages/hugepages-2048kB/";

[[noreturn]] void fail(const std::string& what, int err = errno) {
    throw GuestMemoryError(what + ": " + std::generic_category().message(err));
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

void check_size(std::uint64_t size, GuestMemoryBacking backing) {
    if (size <= GuestMemory::kExtendedMemoryStart || size % kPage != 0) {
        throw std::invalid_argument("guest memory size must be a multiple of 4 KiB above 1 MiB");
    }
    if (backing == GuestMemoryBacking::hugetlb_2m && size % GuestMemory::kHugePageSize != 0) {
        throw std::invalid_argument("guest memory on 2 MiB huge pages must be a multiple of 2 MiB (got " +
                                    std::to_string(size >> 10) + " KiB)");
    }
}

std::string huge_page_pool_count(const char* name) {
    std::ifstream file(std::string(kHugePagePool) + name);
    std::uint64_t count = 0;
    return file >> count ? std::to_string(count) : std::string("unknown");
}

// The setting between brackets in shmem_enabled ("always within_size
// advise [never] deny force"), empty where the kernel has no shmem THP.
std::string shmem_huge_page_setting() {
    std::ifstream file("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    std::string line;
    std::getline(file, line);
    const auto open = line.find('[');
    const auto close = line.find(']', open);
    return open == std::string::npos || close == std::string::npos ? std::string()
                                                                   : line.substr(open + 1, close - open - 1);
}

void tell_once_if_shmem_gets_no_huge_pages() {
    static std::atomic<bool> told{false};
    const std::string setting = shmem_huge_page_setting();
    if ((setting == "never" || setting == "deny") && !told.exchange(true)) {
        log_notice("guest RAM gets 4 KiB pages: the host's /sys/kernel/mm/transparent_hugepage/shmem_enabled is "
                   "'{}'; 'advise' lets it use huge pages (a faster guest boot)", setting);
    }
}

// A huge-page tmpfs file, or an invalid fd (and one notice) where it
// cannot be made.
UniqueFd try_huge_tmpfs_file(std::uint64_t size) {
    try {
        return open_huge_tmpfs_file(size);
    } catch (const std::system_error& error) {
        static std::atomic<bool> told{false};
        if (!told.exchange(true)) {
            log_notice("guest RAM: no huge-page tmpfs ({}); a memfd instead", error.what());
        }
        return UniqueFd();
    }
}

UniqueFd create_memfd(std::uint64_t size, GuestMemoryBacking backing) {
    const bool hugetlb = backing == GuestMemoryBacking::hugetlb_2m;
    unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    if (hugetlb) {
        flags |= MFD_HUGETLB | MFD_HUGE_2MB;
    }
    UniqueFd fd(::memfd_create("acrn-guest-ram", flags));
    if (!fd) {
        fail(hugetlb ? "2 MiB hugetlbfs memory for guest RAM: the host kernel refuses a hugetlb memfd"
                     : "creating the memfd for guest RAM");
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
        fail("sizing the guest RAM memfd to " + mib(size));
    }
    // The size is fixed for the VM's life: whoever else maps the file can
    // rely on every page of it staying there.
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        fail("sealing the guest RAM memfd");
    }
    return fd;
}

// Maps the whole file at a 2 MiB-aligned address: KVM maps a guest page
// with a large page only where gpa and host address agree modulo 2 MiB,
// and the regions' gpas (0, 4 GiB) and file offsets (0, 2 GiB) are 2 MiB
// multiples.
Mapping map_aligned(int fd, std::uint64_t size, GuestMemoryBacking backing) {
    const std::uint64_t alignment = GuestMemory::kHugePageSize;
    void* reservation =
        ::mmap(nullptr, size + alignment, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reservation == MAP_FAILED) {
        fail("reserving " + mib(size) + " of address space for guest RAM");
    }
    Mapping reserved(reservation, size + alignment);
    const auto start = reinterpret_cast<std::uintptr_t>(reservation);
    const std::uintptr_t aligned = (start + alignment - 1) & ~(alignment - 1);
    void* host = ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    if (host == MAP_FAILED) {
        const int err = errno;
        if (backing == GuestMemoryBacking::hugetlb_2m && err == ENOMEM) {
            throw GuestMemoryError("not enough 2 MiB huge pages for " + mib(size) + " of guest RAM: it needs " +
                                   std::to_string(size / alignment) + ", the host has " +
                                   huge_page_pool_count("free_hugepages") + " free (" +
                                   huge_page_pool_count("resv_hugepages") +
                                   " of them reserved); raise vm.nr_hugepages");
        }
        fail("mapping " + mib(size) + " of guest RAM", err);
    }
    reserved.release();
    if (const std::uintptr_t head = aligned - start; head != 0) {
        ::munmap(reservation, head);
    }
    if (const std::uintptr_t tail = start + size + alignment - (aligned + size); tail != 0) {
        ::munmap(reinterpret_cast<void*>(aligned + size), tail);
    }
    return Mapping(host, size);
}

}  // namespace

GuestMemory::GuestMemory(std::uint64_t size, GuestMemoryBacking backing) : size_(size), backing_(backing) {
    check_size(size, backing);
    if (backing == GuestMemoryBacking::huge_tmpfs) {
        fd_ = try_huge_tmpfs_file(size);
        if (!fd_) {
            backing_ = backing = GuestMemoryBacking::shmem;
        }
    }
    if (!fd_) {
        fd_ = create_memfd(size, backing);
    }
    mapping_ = map_aligned(fd_.get(), size, backing);
    if (backing == GuestMemoryBacking::huge_tmpfs) {
        (void)::madvise(mapping_.data(), size, MADV_HUGEPAGE);
        log_info("guest RAM: {} on a huge-page tmpfs of its own", mib(size));
    } else if (backing == GuestMemoryBacking::shmem) {
        // Huge pages let KVM map guest RAM with 2 MiB pages: far fewer
        // faults while the guest first touches its memory (1 s less of a
        // nested boot, measured). Only a hint, and shmem honours it only
        // where shmem_enabled is advise or always: else 4 KiB pages.
        (void)::madvise(mapping_.data(), size, MADV_HUGEPAGE);
        tell_once_if_shmem_gets_no_huge_pages();
    }
    const std::uint64_t low = std::min(size, kLowMemoryLimit);
    regions_.push_back(Region{0, low, 0, mapping_.data()});
    if (size > low) {
        regions_.push_back(Region{kHighMemoryBase, size - low, low, mapping_.data() + low});
    }
}

GuestMemoryBacking GuestMemory::default_backing() {
    return shmem_huge_page_setting() == "never" ? GuestMemoryBacking::huge_tmpfs : GuestMemoryBacking::shmem;
}

std::vector<GuestMemory::MapEntry> GuestMemory::memory_map_for(std::uint64_t size) {
    check_size(size, GuestMemoryBacking::shmem);
    const std::uint64_t low = std::min(size, kLowMemoryLimit);
    std::vector<MapEntry> map{
        {0, kConventionalMemoryEnd, MapEntry::ram},
        {kConventionalMemoryEnd, kExtendedMemoryStart - kConventionalMemoryEnd, MapEntry::reserved},
        {kExtendedMemoryStart, low - kExtendedMemoryStart, MapEntry::ram},
    };
    // The PCI ECAM window: Linux uses MMCONFIG only where firmware reserves it.
    map.push_back({platform::kEcamAddress, platform::kEcamSize, MapEntry::reserved});
    if (size > low) {
        map.push_back({kHighMemoryBase, size - low, MapEntry::ram});
    }
    return map;
}

std::span<std::uint8_t> GuestMemory::span(std::uint64_t gpa, std::uint64_t length) const noexcept {
    for (const Region& region : regions_) {
        if (gpa >= region.gpa && gpa - region.gpa < region.size && length <= region.size - (gpa - region.gpa)) {
            return {region.host + (gpa - region.gpa), static_cast<std::size_t>(length)};
        }
    }
    return {};
}

}  // namespace acrn::dm
