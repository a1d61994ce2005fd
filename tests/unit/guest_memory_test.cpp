// Guest memory: the memfd's layout and seals, another process mapping the
// same pages, and the bounds-checked accessors at every edge.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <limits>
#include <string>
#include <thread>

#include "dm/guest_memory.hpp"
#include "dm/huge_tmpfs_file.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kLowEnd = GuestMemory::kLowMemoryLimit;
constexpr std::uint64_t kHigh = GuestMemory::kHighMemoryBase;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
// 2 GiB below 4 GiB and 4 MiB above: sparse in the memfd, so cheap.
constexpr std::uint64_t kSplitSize = (2ull << 30) + 4 * kMiB;

TEST(GuestMemoryTest, OneSealedMemfdBehindBothRegions) {
    GuestMemory memory(kSplitSize);
    ASSERT_GE(memory.fd(), 0);
    struct stat status {};
    ASSERT_EQ(::fstat(memory.fd(), &status), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), kSplitSize);

    ASSERT_EQ(memory.regions().size(), 2u);
    const auto& low = memory.regions()[0];
    const auto& high = memory.regions()[1];
    EXPECT_EQ(low.gpa, 0u);
    EXPECT_EQ(low.size, kLowEnd);
    EXPECT_EQ(low.file_offset, 0u);
    EXPECT_EQ(high.gpa, kHigh);
    EXPECT_EQ(high.size, 4 * kMiB);
    EXPECT_EQ(high.file_offset, kLowEnd);
    // 2 MiB-aligned, so KVM can use large pages.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(low.host) % GuestMemory::kHugePageSize, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(high.host) % GuestMemory::kHugePageSize, 0u);

    const int seals = ::fcntl(memory.fd(), F_GET_SEALS);
    EXPECT_EQ(seals, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    EXPECT_EQ(::ftruncate(memory.fd(), static_cast<off_t>(kSplitSize + 4096)), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::ftruncate(memory.fd(), static_cast<off_t>(kSplitSize / 2)), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::fcntl(memory.fd(), F_ADD_SEALS, F_SEAL_WRITE), -1);  // F_SEAL_SEAL: no more seals
    const char byte = 1;
    EXPECT_EQ(::pwrite(memory.fd(), &byte, 1, static_cast<off_t>(kSplitSize)), -1);  // would grow
    EXPECT_EQ(::fstat(memory.fd(), &status), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), kSplitSize);
}

TEST(GuestMemoryTest, SmallMemoryHasOneRegion) {
    GuestMemory memory(16 * kMiB);
    ASSERT_EQ(memory.regions().size(), 1u);
    EXPECT_EQ(memory.low_memory_end(), 16 * kMiB);
    EXPECT_EQ(memory.backing(), GuestMemoryBacking::shmem);
    EXPECT_THROW((void)GuestMemory(kMiB), std::invalid_argument);         // the map needs RAM above 1 MiB
    EXPECT_THROW((void)GuestMemory(16 * kMiB + 1), std::invalid_argument);  // not whole pages
    EXPECT_THROW((void)GuestMemory::memory_map_for(0), std::invalid_argument);
}

// What the child process reports by its exit status.
enum ChildResult : int { child_ok = 0, child_cannot_open = 10, child_cannot_map = 11, child_wrong_bytes = 12 };

// In a child: open the parent's memfd through /proc (a fresh file
// description, as a process given only the path would), map each region
// from its file offset, check what the parent wrote at the regions' starts,
// and write an answer. Only system calls after fork(): another thread may
// have held malloc's lock.
[[noreturn]] void child_maps_the_file(const char* path, const GuestMemory::Region& low,
                                      const GuestMemory::Region& high) {
    const int own = ::open(path, O_RDWR | O_CLOEXEC);
    if (own < 0) {
        ::_exit(child_cannot_open);
    }
    auto map_region = [own](const GuestMemory::Region& region) {
        return ::mmap(nullptr, region.size, PROT_READ | PROT_WRITE, MAP_SHARED, own,
                      static_cast<off_t>(region.file_offset));
    };
    void* low_view = map_region(low);
    void* high_view = map_region(high);
    if (low_view == MAP_FAILED || high_view == MAP_FAILED) {
        ::_exit(child_cannot_map);
    }
    auto* low_bytes = static_cast<char*>(low_view);
    auto* high_bytes = static_cast<char*>(high_view);
    if (std::memcmp(low_bytes + 0x1000, "from the dm", 11) != 0 ||
        std::memcmp(high_bytes + 0x2000, "high memory", 11) != 0) {
        ::_exit(child_wrong_bytes);
    }
    std::memcpy(low_bytes + 0x1800, "from a peer", 11);
    std::memcpy(high_bytes + 0x2800, "peer, high", 10);
    ::_exit(child_ok);
}

TEST(GuestMemoryTest, AnotherProcessMapsTheSamePagesFromTheFd) {
    GuestMemory memory(kSplitSize);
    ASSERT_TRUE(memory.write(0x1000, "from the dm", 11));
    ASSERT_TRUE(memory.write(kHigh + 0x2000, "high memory", 11));
    const std::string path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(memory.fd());
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        child_maps_the_file(path.c_str(), memory.regions()[0], memory.regions()[1]);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), child_ok);
    char low[12] = {};
    char high[11] = {};
    ASSERT_TRUE(memory.read(0x1800, low, 11));
    ASSERT_TRUE(memory.read(kHigh + 0x2800, high, 10));
    EXPECT_STREQ(low, "from a peer");
    EXPECT_STREQ(high, "peer, high");
}

TEST(GuestMemoryTest, HugetlbMemoryIsThereOrTheErrorSaysWhy) {
    EXPECT_THROW((void)GuestMemory(3 * kMiB, GuestMemoryBacking::hugetlb_2m), std::invalid_argument);
    try {
        GuestMemory memory(4 * kMiB, GuestMemoryBacking::hugetlb_2m);
        EXPECT_EQ(memory.backing(), GuestMemoryBacking::hugetlb_2m);
        EXPECT_EQ(::fcntl(memory.fd(), F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
        ASSERT_TRUE(memory.write(3 * kMiB, "huge", 4));
        char back[5] = {};
        ASSERT_TRUE(memory.read(3 * kMiB, back, 4));
        EXPECT_STREQ(back, "huge");
    } catch (const GuestMemoryError& error) {
        const std::string what = error.what();
        // No pool here: what is checked then is that the error says why.
        EXPECT_NE(what.find("huge"), std::string::npos) << what;
        RecordProperty("hugetlb", "no pool on this host, the error was checked: " + what);
    }
}

// kB of the mapping at `address` that /proc/self/smaps counts under `field`.
std::uint64_t smaps_field_kib(const void* address, const std::string& field) {
    std::ifstream smaps("/proc/self/smaps");
    const auto wanted = reinterpret_cast<std::uintptr_t>(address);
    bool inside = false;
    for (std::string line; std::getline(smaps, line);) {
        std::uintptr_t start = 0;
        std::uintptr_t end = 0;
        char dash = 0;
        std::istringstream header(line);
        if (header >> std::hex >> start >> dash >> end && dash == '-') {
            inside = wanted >= start && wanted < end;
        } else if (inside && line.rfind(field + ":", 0) == 0) {
            return std::stoull(line.substr(field.size() + 1));
        }
    }
    return 0;
}

// Where the tmpfs cannot be made (no CAP_SYS_ADMIN), what is checked is
// the fallback: the error names the step, and the memory is a sealed memfd.
void expect_memfd_fallback(const std::system_error& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("huge-page tmpfs: "), std::string::npos) << what;
    GuestMemory memory(8 * kMiB, GuestMemoryBacking::huge_tmpfs);
    EXPECT_EQ(memory.backing(), GuestMemoryBacking::shmem);
    EXPECT_EQ(::fcntl(memory.fd(), F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    ASSERT_TRUE(memory.write(7 * kMiB, "fallback", 8));
    ::testing::Test::RecordProperty("huge_tmpfs", "not available here, the memfd fallback was checked: " + what);
}

TEST(GuestMemoryTest, HugeTmpfsFileIsMappedWithHugePages) {
    try {
        UniqueFd file = open_huge_tmpfs_file(8 * kMiB);
        struct statfs fs {};
        ASSERT_EQ(::fstatfs(file.get(), &fs), 0);
        EXPECT_EQ(fs.f_type, 0x01021994);  // TMPFS_MAGIC
        struct stat status {};
        ASSERT_EQ(::fstat(file.get(), &status), 0);
        EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), 8 * kMiB);
        EXPECT_EQ(status.st_nlink, 0u);  // unlinked: nothing to clean up
    } catch (const std::system_error& error) {
        expect_memfd_fallback(error);
        return;
    }
    GuestMemory memory(8 * kMiB, GuestMemoryBacking::huge_tmpfs);
    ASSERT_EQ(memory.backing(), GuestMemoryBacking::huge_tmpfs);
    auto all = memory.span(0, 8 * kMiB);
    ASSERT_EQ(all.size(), 8 * kMiB);
    std::memset(all.data(), 0x5A, all.size());
    // The file is 2 MiB-aligned in the mapping and in size: the kernel maps
    // it with huge pages (THP is there wherever shmem_enabled is not 'deny').
    EXPECT_GE(smaps_field_kib(all.data(), "ShmemPmdMapped"), 2048u);
    // Another mapping of the same file sees the same bytes.
    void* view = ::mmap(nullptr, 8 * kMiB, PROT_READ, MAP_SHARED, memory.fd(), 0);
    ASSERT_NE(view, MAP_FAILED);
    EXPECT_EQ(static_cast<const std::uint8_t*>(view)[7 * kMiB], 0x5A);
    ::munmap(view, 8 * kMiB);
}

TEST(GuestMemoryTest, SpansStayInsideOneRegion) {
    GuestMemory memory(kSplitSize);
    EXPECT_EQ(memory.span(0, 16).size(), 16u);
    EXPECT_TRUE(memory.span(0, 0).empty());
    EXPECT_EQ(memory.span(kLowEnd - 8, 8).size(), 8u);
    EXPECT_TRUE(memory.span(kLowEnd - 8, 9).empty());  // crosses the 2 GiB end
    EXPECT_TRUE(memory.span(kLowEnd, 1).empty());      // the hole
    EXPECT_TRUE(memory.span(kHigh - 1, 2).empty());    // into high memory
    EXPECT_TRUE(memory.span(kLowEnd - 1, kHigh - kLowEnd + 2).empty());  // across the hole
    EXPECT_EQ(memory.span(kHigh, 4 * kMiB).size(), 4 * kMiB);
    EXPECT_EQ(memory.span(kHigh + 4 * kMiB - 1, 1).size(), 1u);
    EXPECT_TRUE(memory.span(kHigh + 4 * kMiB, 1).empty());
    EXPECT_TRUE(memory.span(kHigh + 4 * kMiB - 1, 2).empty());
    // Lengths and addresses whose sum wraps around 2^64.
    EXPECT_TRUE(memory.span(kMax, 1).empty());
    EXPECT_TRUE(memory.span(kMax - 7, 16).empty());
    EXPECT_TRUE(memory.span(1, kMax).empty());
    EXPECT_TRUE(memory.span(kHigh, kMax).empty());
    EXPECT_TRUE(memory.span(kHigh + 16, kMax - 15).empty());

    char buffer[16] = {};
    EXPECT_TRUE(memory.read(kMax, buffer, 0));  // nothing to copy
    EXPECT_FALSE(memory.read(kLowEnd - 8, buffer, 16));
    EXPECT_FALSE(memory.write(kMax - 3, buffer, 8));
    EXPECT_TRUE(memory.write(kHigh + 4 * kMiB - 16, "0123456789abcdef", 16));
    EXPECT_TRUE(memory.read(kHigh + 4 * kMiB - 16, buffer, 16));
    EXPECT_EQ(std::string(buffer, 16), "0123456789abcdef");
}

TEST(GuestMemoryTest, MemoryMapMatchesTheRegions) {
    const auto map = GuestMemory::memory_map_for(kSplitSize);
    GuestMemory memory(kSplitSize);
    const auto same = memory.memory_map();
    ASSERT_EQ(map.size(), same.size());
    for (std::size_t i = 0; i < map.size(); ++i) {
        EXPECT_EQ(map[i].base, same[i].base);
        EXPECT_EQ(map[i].size, same[i].size);
        EXPECT_EQ(map[i].type, same[i].type);
    }
    for (const auto& entry : map) {
        if (entry.type == GuestMemory::MapEntry::ram) {
            EXPECT_EQ(memory.span(entry.base, entry.size).size(), entry.size) << entry.base;
        }
    }
}

TEST(GuestMemoryTest, AtomicAccessorsCheckAlignmentAndBounds) {
    GuestMemory memory(kSplitSize);
    EXPECT_TRUE(memory.store_release<std::uint16_t>(0x100, 0xBEEF));
    EXPECT_EQ(memory.load_acquire<std::uint16_t>(0x100), 0xBEEF);
    EXPECT_TRUE(memory.store_release<std::uint32_t>(kLowEnd - 4, 0x12345678u));
    EXPECT_EQ(memory.load_acquire<std::uint32_t>(kLowEnd - 4), 0x12345678u);
    EXPECT_TRUE(memory.store_release<std::uint64_t>(kHigh + 4 * kMiB - 8, 0x0102030405060708ull));
    EXPECT_EQ(memory.load_acquire<std::uint64_t>(kHigh + 4 * kMiB - 8), 0x0102030405060708ull);
    std::uint64_t through_read = 0;
    ASSERT_TRUE(memory.read(kHigh + 4 * kMiB - 8, &through_read, 8));
    EXPECT_EQ(through_read, 0x0102030405060708ull);

    // Misaligned: refused, and nothing written.
    EXPECT_FALSE(memory.load_acquire<std::uint16_t>(0x101));
    EXPECT_FALSE(memory.load_acquire<std::uint32_t>(0x102));
    EXPECT_FALSE(memory.load_acquire<std::uint64_t>(0x104));
    EXPECT_FALSE(memory.store_release<std::uint32_t>(0x102, 1));
    EXPECT_EQ(memory.load_acquire<std::uint16_t>(0x102), 0);
    // Aligned but outside RAM, or at the very top of the address space.
    EXPECT_FALSE(memory.load_acquire<std::uint32_t>(kLowEnd));
    EXPECT_FALSE(memory.load_acquire<std::uint64_t>(kHigh - 8));
    EXPECT_FALSE(memory.load_acquire<std::uint64_t>(kHigh + 4 * kMiB));
    EXPECT_FALSE(memory.load_acquire<std::uint16_t>(kMax - 1));
    EXPECT_FALSE(memory.load_acquire<std::uint64_t>(kMax - 7));
    EXPECT_FALSE(memory.store_release<std::uint64_t>(kMax - 7, 1));
    EXPECT_FALSE(memory.store_release<std::uint16_t>(kLowEnd, 1));
    EXPECT_TRUE(memory.load_acquire<std::int32_t>(kHigh).has_value());  // signed works too
}

// Message passing as a virtqueue does it: data, then the index with release;
// the reader loads the index with acquire and must see the data.
TEST(GuestMemoryTest, ReleaseStorePublishesEarlierWrites) {
    GuestMemory memory(16 * kMiB);
    constexpr std::uint64_t kIndex = 0x2000;
    constexpr std::uint64_t kData = 0x3000;
    constexpr std::uint32_t kRounds = 20000;
    std::thread writer([&] {
        for (std::uint32_t i = 1; i <= kRounds; ++i) {
            const std::uint64_t value = std::uint64_t{i} * 0x9E3779B97F4A7C15ull;
            std::memcpy(memory.span(kData + (i % 64) * 8, 8).data(), &value, 8);
            (void)memory.store_release<std::uint32_t>(kIndex, i);
        }
    });
    std::uint32_t seen = 0;
    std::uint32_t mismatches = 0;
    while (seen < kRounds) {
        const std::uint32_t index = memory.load_acquire<std::uint32_t>(kIndex).value_or(0);
        if (index == seen) {
            continue;
        }
        seen = index;
        std::uint64_t value = 0;
        std::memcpy(&value, memory.span(kData + (index % 64) * 8, 8).data(), 8);
        // The writer may have moved on and rewritten the slot with a later
        // round's value, never an earlier one.
        const std::uint64_t expected = std::uint64_t{index} * 0x9E3779B97F4A7C15ull;
        bool later = false;
        for (std::uint32_t round = index; round <= kRounds && !later; round += 64) {
            later = value == std::uint64_t{round} * 0x9E3779B97F4A7C15ull;
        }
        mismatches += (value == expected || later) ? 0 : 1;
    }
    writer.join();
    EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace acrn::dm
