// virtio-blk driven as a guest's driver would, on an image file in /tmp:
// every request type, the checks on each, read-only disks, multi-queue,
// `nodisk` and blkrescan, and a reset while requests are in flight.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "dm/virtio/virtio_blk.hpp"
#include "tests/unit/virtio_test_driver.hpp"

namespace acrn::dm {
namespace {

using test_support::VirtioTestDriver;
using namespace virtio;

constexpr std::uint64_t kBlkDriverFeatures = feature::version_1 | feature::event_idx | feature::indirect_desc;
constexpr std::uint64_t kImageBytes = 1 << 20;
constexpr std::uint64_t kHeader = VirtioTestDriver::kBuffers;
constexpr std::uint64_t kData = VirtioTestDriver::kBuffers + 0x1000;
constexpr std::uint64_t kStatus = VirtioTestDriver::kBuffers + 0x800;

class VirtioBlkTest : public ::testing::Test {
protected:
    VirtioBlkTest() {
        char name[] = "/tmp/virtio-blk-test.XXXXXX";
        const int fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, kImageBytes), 0);
        ::close(fd);
        image_ = name;
    }
    ~VirtioBlkTest() override {
        driver_.device.reset();
        blk_.reset();
        ::unlink(image_.c_str());
    }

    void create(const std::string& config) {
        blk_ = std::make_shared<VirtioBlk>(driver_.context(config), parse_block_options(config));
        driver_.attach(blk_);
        driver_.initialize(kBlkDriverFeatures);
        ASSERT_EQ(driver_.status() & status::driver_ok, status::driver_ok);
    }

    // One request: the 16-byte header, `out` bytes to the device, `in`
    // bytes from it, and the status byte. Returns the status.
    std::uint8_t request(std::uint32_t type, std::uint64_t sector, std::uint32_t out, std::uint32_t in,
                         unsigned queue = 0) {
        struct {
            std::uint32_t type;
            std::uint32_t reserved;
            std::uint64_t sector;
        } header{type, 0, sector};
        EXPECT_TRUE(driver_.memory.write(kHeader, &header, sizeof header));
        const std::uint8_t poison = 0xEE;
        EXPECT_TRUE(driver_.memory.write(kStatus, &poison, 1));
        std::vector<test_support::DriverBuffer> chain{{kHeader, 16, false}};
        if (out > 0) chain.push_back({kData, out, false});
        if (in > 0) chain.push_back({kData, in, true});
        chain.push_back({kStatus, 1, true});
        const std::uint16_t before = driver_.used_idx(queue);
        driver_.add_chain(queue, chain);
        driver_.kick(queue);
        driver_.run_loop();
        wait_used(queue, static_cast<std::uint16_t>(before + 1));
        last_used_length_ = driver_.used_element(queue, before).second;
        std::uint8_t status = 0;
        EXPECT_TRUE(driver_.memory.read(kStatus, &status, 1));
        return status;
    }
    void wait_used(unsigned queue, std::uint16_t index) {
        for (int i = 0; i < 5000 && driver_.used_idx(queue) != index; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_EQ(driver_.used_idx(queue), index);
    }
    std::vector<std::uint8_t> pattern(std::size_t bytes, std::uint8_t seed) {
        std::vector<std::uint8_t> data(bytes);
        for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<std::uint8_t>(seed + i * 7);
        return data;
    }
    std::vector<std::uint8_t> image_bytes(std::uint64_t offset, std::size_t bytes) {
        std::vector<std::uint8_t> data(bytes);
        const int fd = ::open(image_.c_str(), O_RDONLY);
        EXPECT_EQ(::pread(fd, data.data(), bytes, static_cast<off_t>(offset)), static_cast<ssize_t>(bytes));
        ::close(fd);
        return data;
    }
    std::uint64_t config64(std::uint32_t offset) {
        return driver_.bar_read(VirtioPciDevice::kDeviceConfigOffset + offset, 4) |
               driver_.bar_read(VirtioPciDevice::kDeviceConfigOffset + offset + 4, 4) << 32;
    }

    VirtioTestDriver driver_;
    std::string image_;
    std::shared_ptr<VirtioBlk> blk_;
    std::uint32_t last_used_length_ = 0;
};

TEST_F(VirtioBlkTest, WriteThenReadBack) {
    create(image_);
    EXPECT_EQ(config64(0), kImageBytes / 512) << "capacity in sectors";
    const auto data = pattern(1024, 3);
    ASSERT_TRUE(driver_.memory.write(kData, data.data(), data.size()));
    EXPECT_EQ(request(1, 2, 1024, 0), 0);
    EXPECT_EQ(last_used_length_, 1u) << "a write returns only the status byte";
    EXPECT_EQ(image_bytes(1024, 1024), data) << "write-through: on the image at once";

    const std::vector<std::uint8_t> zeros(1024, 0);
    ASSERT_TRUE(driver_.memory.write(kData, zeros.data(), zeros.size()));
    EXPECT_EQ(request(0, 2, 0, 1024), 0);
    EXPECT_EQ(last_used_length_, 1025u);
    std::vector<std::uint8_t> back(1024);
    ASSERT_TRUE(driver_.memory.read(kData, back.data(), back.size()));
    EXPECT_EQ(back, data);
    EXPECT_EQ(request(4, 0, 0, 0), 0) << "flush";
}

TEST_F(VirtioBlkTest, RequestsOutsideTheDiskOrNotWholeSectorsFail) {
    create(image_);
    EXPECT_EQ(request(0, kImageBytes / 512, 0, 512), 1) << "one past the end";
    EXPECT_EQ(request(0, kImageBytes / 512 - 1, 0, 1024), 1) << "crossing the end";
    EXPECT_EQ(request(0, ~0ull / 256, 0, 512), 1) << "a sector whose offset overflows";
    EXPECT_EQ(request(0, 0, 0, 100), 1) << "not a whole sector";
    EXPECT_EQ(request(1, 0, 100, 0), 1);
    EXPECT_EQ(request(0, kImageBytes / 512 - 1, 0, 512), 0) << "the last sector";
    EXPECT_EQ(driver_.status() & status::device_needs_reset, 0) << "answered, not broken";
}

TEST_F(VirtioBlkTest, GetIdAndUnknownRequests) {
    create(image_);
    EXPECT_EQ(request(8, 0, 0, 20), 0);
    EXPECT_EQ(last_used_length_, 21u);
    char id[21] = {};
    ASSERT_TRUE(driver_.memory.read(kData, id, 20));
    EXPECT_GT(std::strlen(id), 0u);
    EXPECT_EQ(request(99, 0, 0, 0), 2) << "UNSUPP";
    EXPECT_EQ(request(11, 0, 16, 0), 2) << "discard was not configured";
}

TEST_F(VirtioBlkTest, DiscardAndWriteZeroes) {
    create(image_ + ",discard");
    const auto data = pattern(4096, 9);
    ASSERT_TRUE(driver_.memory.write(kData, data.data(), data.size()));
    EXPECT_EQ(request(1, 0, 4096, 0), 0);
    struct {
        std::uint64_t sector;
        std::uint32_t sectors;
        std::uint32_t flags;
    } segment{0, 4, 0};
    ASSERT_TRUE(driver_.memory.write(kData, &segment, sizeof segment));
    EXPECT_EQ(request(13, 0, 16, 0), 0) << "write zeroes";
    EXPECT_EQ(image_bytes(0, 2048), std::vector<std::uint8_t>(2048, 0));
    EXPECT_EQ(image_bytes(2048, 2048), std::vector<std::uint8_t>(data.begin() + 2048, data.end()));
    segment = {4, 4, 0};
    ASSERT_TRUE(driver_.memory.write(kData, &segment, sizeof segment));
    EXPECT_EQ(request(11, 0, 16, 0), 0) << "discard";
    segment = {kImageBytes / 512, 1, 0};
    ASSERT_TRUE(driver_.memory.write(kData, &segment, sizeof segment));
    EXPECT_EQ(request(13, 0, 16, 0), 1) << "outside the disk";
}

TEST_F(VirtioBlkTest, ReadOnlyDiskRefusesWrites) {
    create(image_ + ",ro");
    EXPECT_NE(driver_.device_features() & (1ull << 5), 0u) << "VIRTIO_BLK_F_RO";
    const auto data = pattern(512, 1);
    ASSERT_TRUE(driver_.memory.write(kData, data.data(), data.size()));
    EXPECT_EQ(request(1, 0, 512, 0), 1);
    EXPECT_EQ(image_bytes(0, 512), std::vector<std::uint8_t>(512, 0));
    EXPECT_EQ(request(0, 0, 0, 512), 0) << "reads still work";
}

TEST_F(VirtioBlkTest, ChainWithoutStatusByteBreaksTheDevice) {
    create(image_);
    driver_.add_chain(0, {{kHeader, 16, false}});
    driver_.kick(0);
    driver_.run_loop();
    EXPECT_NE(driver_.status() & status::device_needs_reset, 0);
    EXPECT_TRUE(driver_.power.statuses.empty());
}

TEST_F(VirtioBlkTest, MultiQueue) {
    create("mq=2," + image_);
    EXPECT_EQ(driver_.bar_read(common_cfg::num_queues, 2), 2u);
    EXPECT_EQ(driver_.bar_read(VirtioPciDevice::kDeviceConfigOffset + 34, 2), 2u);
    const auto data = pattern(512, 5);
    ASSERT_TRUE(driver_.memory.write(kData, data.data(), data.size()));
    EXPECT_EQ(request(1, 7, 512, 0, 1), 0) << "on queue 1";
    EXPECT_EQ(image_bytes(7 * 512, 512), data);
    EXPECT_THROW(VirtioBlk(driver_.context(), parse_block_options("mq=3," + image_)), std::invalid_argument)
        << "more queues than vCPUs";
}

TEST_F(VirtioBlkTest, ResetWhileRequestsAreInFlight) {
    create(image_);
    const auto data = pattern(4096, 2);
    ASSERT_TRUE(driver_.memory.write(kData, data.data(), data.size()));
    struct {
        std::uint32_t type, reserved;
        std::uint64_t sector;
    } header{1, 0, 0};
    ASSERT_TRUE(driver_.memory.write(kHeader, &header, sizeof header));
    for (unsigned i = 0; i < 5; ++i) {  // 15 of the queue's 16 descriptors; a status byte each
        driver_.add_chain(0, {{kHeader, 16, false}, {kData, 4096, false}, {kStatus + 8 * i, 1, true}});
    }
    driver_.kick(0);
    driver_.run_loop();
    driver_.set_status(0);  // returns once the requests in flight are done
    const std::uint16_t used_at_reset = driver_.used_idx(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(driver_.used_idx(0), used_at_reset) << "nothing returned after the reset";
    EXPECT_EQ(driver_.status(), 0);
    driver_.initialize(kBlkDriverFeatures);
    EXPECT_EQ(request(0, 0, 0, 512), 0);
}

TEST_F(VirtioBlkTest, NodiskThenBlkrescan) {
    blk_ = std::make_shared<VirtioBlk>(driver_.context("nodisk"), parse_block_options("nodisk"));
    driver_.attach(blk_);
    driver_.initialize(kBlkDriverFeatures);
    EXPECT_EQ(config64(0), 0u);
    EXPECT_EQ(request(0, 0, 0, 512), 1);
    const auto generation = driver_.bar_read(common_cfg::config_generation, 1);
    blk_->insert_image(image_);
    EXPECT_EQ(config64(0), kImageBytes / 512);
    EXPECT_NE(driver_.bar_read(common_cfg::config_generation, 1), generation);
    EXPECT_EQ(driver_.bar_read(VirtioPciDevice::kIsrOffset, 1) & kIsrConfig, kIsrConfig);
    EXPECT_EQ(request(0, 0, 0, 512), 0);
    EXPECT_THROW(blk_->insert_image(image_), BlockOpenError);
}

TEST_F(VirtioBlkTest, ConfigChecks) {
    EXPECT_EQ(VirtioBlk::check_config(image_), "");
    EXPECT_EQ(VirtioBlk::check_config("nodisk"), "");
    EXPECT_NE(VirtioBlk::check_config(""), "");
    EXPECT_NE(VirtioBlk::check_config(image_ + ",bogus"), "");
}

}  // namespace
}  // namespace acrn::dm
