// The virtio-blk host back end on real files: BlockFile's open (kinds,
// sizes, windows, the read-only retry) and both engines (transfers through
// iovecs, flush, discard, write-zeroes, refusals, many requests from many
// threads, drain and destruction with requests in flight).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.hpp"
#include "dm/backends/block_backend.hpp"
#include "dm/backends/block_engines.hpp"
#include "dm/backends/block_open.hpp"
#include "tests/unit/block_scratch_image.hpp"

namespace acrn::dm {
namespace {

using block_test::ScratchImage;

using Op = BlockRequest::Op;

std::unique_ptr<BlockFile> open_block_file(const std::string& path, const std::string& extra = "") {
    return BlockFile::open(parse_block_options(path + extra));
}

std::string block_open_error(const std::string& config) {
    try {
        (void)BlockFile::open(parse_block_options(config));
    } catch (const BlockOpenError& error) {
        return error.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The calling thread without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH while
// this lives, so that a file's permission bits bind root too. Capabilities
// belong to a thread: the rest of the process keeps its own.
class WithoutDacOverride {
public:
    WithoutDacOverride() {
        if (::syscall(SYS_capget, &header_, saved_) != 0) {
            error_ = std::string("capget: ") + std::strerror(errno);
            return;
        }
        __user_cap_data_struct lowered[_LINUX_CAPABILITY_U32S_3];
        std::memcpy(lowered, saved_, sizeof lowered);
        for (const int capability : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) {
            lowered[CAP_TO_INDEX(capability)].effective &= ~CAP_TO_MASK(capability);
        }
        if (::syscall(SYS_capset, &header_, lowered) != 0) {
            error_ = std::string("capset: ") + std::strerror(errno);
            return;
        }
        lowered_ = true;
    }
    WithoutDacOverride(const WithoutDacOverride&) = delete;
    WithoutDacOverride& operator=(const WithoutDacOverride&) = delete;
    ~WithoutDacOverride() {
        if (lowered_) {
            (void)::syscall(SYS_capset, &header_, saved_);
        }
    }

    // "" once the capabilities are off, else why they are not.
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
    __user_cap_data_struct saved_[_LINUX_CAPABILITY_U32S_3]{};
    bool lowered_ = false;
    std::string error_;
};

TEST(BlockFileTest, RegularFileSizeRoundsDownToWholeSectors) {
    ScratchImage image((1 << 20) + 100);
    const auto file = open_block_file(image.path());
    EXPECT_EQ(file->size(), 1U << 20);
    EXPECT_EQ(file->base_offset(), 0U);
    EXPECT_FALSE(file->read_only());
    EXPECT_EQ(file->path(), image.path());
    EXPECT_GE(file->fd(), 0);
    EXPECT_EQ(file->options().logical_sector, 512U);

    ScratchImage odd(10000);
    EXPECT_EQ(open_block_file(odd.path(), ",sectorsize=4096")->size(), 8192U);
}

TEST(BlockFileTest, CacheModesChooseTheOpenFlags) {
    ScratchImage image(4096);
    const int through = ::fcntl(open_block_file(image.path())->fd(), F_GETFL);
    EXPECT_EQ(through & O_DSYNC, O_DSYNC);
    EXPECT_EQ(through & O_DIRECT, 0);
    EXPECT_EQ(through & O_NONBLOCK, 0);
    EXPECT_EQ(through & O_ACCMODE, O_RDWR);
    const int back = ::fcntl(open_block_file(image.path(), ",writeback")->fd(), F_GETFL);
    EXPECT_EQ(back & O_DSYNC, 0);
    const int direct = ::fcntl(open_block_file(image.path(), ",nocache")->fd(), F_GETFL);
    EXPECT_EQ(direct & O_DIRECT, O_DIRECT);
    EXPECT_EQ(direct & O_DSYNC, O_DSYNC);
    EXPECT_EQ(::fcntl(open_block_file(image.path())->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(BlockFileTest, ReadOnlyOptionOpensReadOnly) {
    ScratchImage image(4096);
    const auto file = open_block_file(image.path(), ",ro");
    EXPECT_TRUE(file->read_only());
    EXPECT_EQ(::fcntl(file->fd(), F_GETFL) & O_ACCMODE, O_RDONLY);
}

TEST(BlockFileTest, RefusedReadWriteOpenIsRetriedReadOnly) {
    ScratchImage image(4096);
    for (const int refusal : {EACCES, EROFS, EPERM}) {
        std::vector<int> modes;
        const auto opened = open_image_fd(image.path(), O_CLOEXEC, false, [&](const char* path, int flags) {
            modes.push_back(flags & O_ACCMODE);
            if ((flags & O_ACCMODE) == O_RDWR) {
                errno = refusal;
                return -1;
            }
            return ::open(path, flags);
        });
        EXPECT_TRUE(opened.read_only);
        EXPECT_TRUE(opened.fd.valid());
        EXPECT_EQ(modes, (std::vector<int>{O_RDWR, O_RDONLY})) << std::strerror(refusal);
    }
}

TEST(BlockFileTest, ARetryThatFailsTooIsReported) {
    try {
        (void)open_image_fd("/images/locked", 0, false, [](const char*, int flags) {
            errno = (flags & O_ACCMODE) == O_RDWR ? EROFS : EACCES;
            return -1;
        });
        ADD_FAILURE() << "no error";
    } catch (const BlockOpenError& error) {
        EXPECT_TRUE(contains(error.what(), "'/images/locked'")) << error.what();
        EXPECT_TRUE(contains(error.what(), std::string("read-only: ") + std::strerror(EACCES))) << error.what();
    }
}

TEST(BlockFileTest, OtherOpenFailuresAreNotRetried) {
    int calls = 0;
    try {
        (void)open_image_fd("/no/such/image", 0, false, [&](const char*, int) {
            ++calls;
            errno = ENOENT;
            return -1;
        });
        ADD_FAILURE() << "no error";
    } catch (const BlockOpenError& error) {
        EXPECT_TRUE(contains(error.what(), "'/no/such/image'")) << error.what();
        EXPECT_TRUE(contains(error.what(), std::strerror(ENOENT))) << error.what();
    }
    EXPECT_EQ(calls, 1);
}

TEST(BlockFileTest, ReadOnlyFileOnDiskIsOpenedReadOnly) {
    ScratchImage image(4096);
    ASSERT_EQ(::chmod(image.path().c_str(), 0444), 0);
    const WithoutDacOverride as_the_file_owner;  // root would open it read-write
    ASSERT_EQ(as_the_file_owner.error(), "") << "cannot drop the capabilities that override file permissions";
    const UniqueFd writable(::open(image.path().c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_FALSE(writable.valid()) << "the kernel opens a mode-0444 file read-write here: nothing to retry";
    EXPECT_TRUE(open_block_file(image.path())->read_only());
}

TEST(BlockFileTest, MissingFileIsNamed) {
    const auto message = block_open_error("/var/tmp/acrn-no-such-image");
    EXPECT_TRUE(contains(message, "'/var/tmp/acrn-no-such-image'")) << message;
}

TEST(BlockFileTest, OtherKindsOfFileAreRefused) {
    EXPECT_TRUE(contains(block_open_error("/var/tmp,ro"), "'/var/tmp': a directory, not a regular file"));
    EXPECT_TRUE(contains(block_open_error("/var/tmp"), "'/var/tmp'"));
    EXPECT_TRUE(contains(block_open_error("/dev/null"), "'/dev/null': a character device"));

    char directory[] = "/var/tmp/acrn-blk-fifo-XXXXXX";
    ASSERT_NE(::mkdtemp(directory), nullptr);
    const std::string fifo = std::string(directory) + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // Read-only would wait for a writer if the open blocked.
    EXPECT_TRUE(contains(block_open_error(fifo + ",ro"), "'" + fifo + "': a fifo"));
    EXPECT_TRUE(contains(block_open_error(fifo), "a fifo"));
    ::unlink(fifo.c_str());
    ::rmdir(directory);
}

TEST(BlockFileTest, NodiskHasNothingToOpen) {
    EXPECT_TRUE(contains(block_open_error("nodisk"), "nodisk"));
}

TEST(BlockFileTest, RangeIsAWindowOfTheFile) {
    ScratchImage image(64 * 1024);
    const auto file = open_block_file(image.path(), ",range=8/16");
    EXPECT_EQ(file->base_offset(), 8U * 512);
    EXPECT_EQ(file->size(), 16U * 512);
    const auto to_end = open_block_file(image.path(), ",range=100/28");
    EXPECT_EQ(to_end->size(), 28U * 512);
    const auto large = open_block_file(image.path(), ",sectorsize=4096,range=2/14");
    EXPECT_EQ(large->base_offset(), 2U * 4096);
    EXPECT_EQ(large->size(), 14U * 4096);
}

TEST(BlockFileTest, RangeOutsideTheFileIsRefused) {
    ScratchImage image(64 * 1024);
    const auto message = block_open_error(image.path() + ",range=100/29");
    EXPECT_TRUE(contains(message, "range=100/29 is outside the image of 65536 bytes")) << message;
    EXPECT_TRUE(contains(message, image.path())) << message;
    EXPECT_TRUE(contains(block_open_error(image.path() + ",range=128/1"), "outside"));
    EXPECT_TRUE(contains(block_open_error(image.path() + ",range=18446744073709551614/1"), "outside"));
}

TEST(BlockFileTest, SerialIsStableAndFitsVirtio) {
    ScratchImage image(4096);
    ScratchImage other(4096);
    const auto serial = open_block_file(image.path())->serial();
    EXPECT_LE(serial.size(), 20U);
    EXPECT_FALSE(serial.empty());
    EXPECT_EQ(open_block_file(image.path(), ",ro")->serial(), serial);
    EXPECT_NE(open_block_file(other.path())->serial(), serial);
}

}  // namespace
}  // namespace acrn::dm
