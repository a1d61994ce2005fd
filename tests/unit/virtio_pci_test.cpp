// The virtio-pci transport, driven as a guest driver would (configuration
// space, BAR registers, kicks), with virtio-rnd as the device behind it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>

#include "dm/virtio/virtio_rnd.hpp"
#include "tests/unit/virtio_test_driver.hpp"

namespace acrn::dm {
namespace {

using test_support::VirtioTestDriver;
using namespace virtio;

constexpr std::uint64_t kFeatures = feature::version_1 | feature::event_idx | feature::indirect_desc;
constexpr std::uint8_t kAllStatus = status::acknowledge | status::driver | status::features_ok | status::driver_ok;

class VirtioPciTest : public ::testing::Test {
protected:
    void create() {
        rnd_ = std::make_shared<VirtioRnd>(driver_.context());
        driver_.attach(rnd_);
    }
    // One 64-byte request on queue 0, served.
    void request_random(std::uint64_t gpa = VirtioTestDriver::kBuffers) {
        // used_event (event index): an interrupt for this request, please.
        const std::uint64_t used_event = VirtioTestDriver::avail(0) + 4 + 2 * VirtioTestDriver::kQueueSize;
        ASSERT_TRUE(driver_.memory.store_release<std::uint16_t>(used_event, driver_.used_idx(0)));
        driver_.add_chain(0, {{gpa, 64, true}});
        driver_.kick(0);
        driver_.run_loop();
    }
    std::uint8_t isr() { return static_cast<std::uint8_t>(driver_.bar_read(VirtioPciDevice::kIsrOffset, 1)); }
    void enable_msix_vector(unsigned vector, std::uint32_t data) { driver_.enable_msix_vector(vector, data); }

    VirtioTestDriver driver_;
    std::shared_ptr<VirtioRnd> rnd_;
};

TEST_F(VirtioPciTest, ModernIdentityAndCapabilities) {
    create();
    EXPECT_EQ(rnd_->config_read(0, 2), kPciVendor);
    EXPECT_EQ(rnd_->config_read(2, 2), 0x1044u);
    EXPECT_EQ(rnd_->config_read(8, 1), 1u) << "revision 1: modern only";
    EXPECT_EQ(rnd_->config_read(0x2E, 2), 4u) << "subsystem: the device type";
    std::vector<std::uint8_t> types;
    for (std::uint32_t at = rnd_->config_read(0x34, 1); at != 0; at = rnd_->config_read(at + 1, 1)) {
        if (rnd_->config_read(at, 1) == 0x09) {
            types.push_back(static_cast<std::uint8_t>(rnd_->config_read(at + 3, 1)));
            EXPECT_EQ(rnd_->config_read(at + 4, 1), static_cast<std::uint32_t>(VirtioPciDevice::kVirtioBar));
        }
    }
    EXPECT_EQ(types, (std::vector<std::uint8_t>{pci_cap::common_cfg, pci_cap::isr_cfg, pci_cap::notify_cfg}));
    EXPECT_NE(rnd_->find_capability(MsixCapability::kId), 0);
    EXPECT_EQ(driver_.device_features() & kFeatures, kFeatures);
    EXPECT_EQ(driver_.bar_read(common_cfg::num_queues, 2), 1u);
}

TEST_F(VirtioPciTest, FeaturesOkRefusedWithoutVersion1OrWithUnofferedFeatures) {
    create();
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(feature::event_idx);
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    EXPECT_EQ(driver_.status() & status::features_ok, 0);
    driver_.set_status(0);
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(feature::version_1 | (1ull << 40));
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    EXPECT_EQ(driver_.status() & status::features_ok, 0);
    EXPECT_EQ(rnd_->negotiated_features(), 0u);
}

TEST_F(VirtioPciTest, EntropyRequestOverIntx) {
    create();
    driver_.initialize(kFeatures);
    ASSERT_EQ(driver_.status(), kAllStatus);
    std::vector<std::uint8_t> before(64, 0);
    ASSERT_TRUE(driver_.memory.write(VirtioTestDriver::kBuffers, before.data(), before.size()));
    request_random();
    ASSERT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(driver_.used_element(0, 0).second, 64u);
    std::vector<std::uint8_t> random(64);
    ASSERT_TRUE(driver_.memory.read(VirtioTestDriver::kBuffers, random.data(), random.size()));
    EXPECT_NE(random, before);
    EXPECT_TRUE(driver_.interrupts.high(VirtioTestDriver::kGsi)) << "no MSI-X: INTx";
    EXPECT_EQ(isr(), kIsrQueue);
    EXPECT_FALSE(driver_.interrupts.high(VirtioTestDriver::kGsi)) << "reading the ISR deasserts";
    EXPECT_EQ(isr(), 0);
}

TEST_F(VirtioPciTest, EntropyRequestOverMsix) {
    create();
    enable_msix_vector(1, 0x45);
    driver_.set_status(0);
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(kFeatures);
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    driver_.setup_queue(0, 1);
    EXPECT_EQ(driver_.bar_read(common_cfg::queue_msix_vector, 2), 1u);
    driver_.bar_write(common_cfg::queue_msix_vector, 2, 7);
    EXPECT_EQ(driver_.bar_read(common_cfg::queue_msix_vector, 2), kNoVector) << "no such vector";
    driver_.bar_write(common_cfg::queue_msix_vector, 2, 1);
    driver_.set_status(kAllStatus);
    request_random();
    ASSERT_EQ(driver_.used_idx(0), 1);
    std::lock_guard lock(driver_.interrupts.msi_mutex);
    ASSERT_EQ(driver_.interrupts.msis.size(), 1u);
    EXPECT_EQ(driver_.interrupts.msis[0].data, 0x45u);
    EXPECT_FALSE(driver_.interrupts.high(VirtioTestDriver::kGsi));
}

TEST_F(VirtioPciTest, MsixInterruptsThroughIrqfdFollowTheVector) {
    driver_.fast_paths.result = 0;
    create();
    enable_msix_vector(1, 0x45);
    driver_.set_status(0);
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(kFeatures);
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    driver_.setup_queue(0, 1);
    driver_.set_status(kAllStatus);
    request_random();
    ASSERT_EQ(driver_.fast_paths.irqfds.size(), 1u);
    const acrn_irqfd bound = driver_.fast_paths.irqfds[0];
    EXPECT_EQ(bound.msi.msi_data, 0x45u);
    EXPECT_EQ(bound.flags, 0u);
    std::uint64_t count = 0;
    EXPECT_EQ(::read(bound.fd, &count, sizeof count), 8);
    EXPECT_EQ(count, 1u) << "the interrupt went through the eventfd";
    {
        std::lock_guard lock(driver_.interrupts.msi_mutex);
        EXPECT_TRUE(driver_.interrupts.msis.empty());
    }
    const auto stats = driver_.sources.stats();
    const auto vector1 = std::find_if(stats.begin(), stats.end(), [](const InterruptSourceStats& each) {
        return each.name.find("vector 1") != std::string::npos;
    });
    ASSERT_NE(vector1, stats.end());
    EXPECT_EQ(vector1->injections, 1u) << "counted as any other injection";

    enable_msix_vector(1, 0x46);  // the guest moves the vector: a new binding
    request_random(VirtioTestDriver::kBuffers + 0x100);
    ASSERT_EQ(driver_.fast_paths.irqfds.size(), 3u);
    EXPECT_NE(driver_.fast_paths.irqfds[1].flags & ACRN_IRQFD_FLAG_DEASSIGN, 0u);
    EXPECT_EQ(driver_.fast_paths.irqfds[2].msi.msi_data, 0x46u);
}

TEST_F(VirtioPciTest, MsixWithoutIrqfdFromTheRelay) {
    create();  // the recording relay refuses irqfds
    enable_msix_vector(1, 0x47);
    driver_.set_status(0);
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(kFeatures);
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    driver_.setup_queue(0, 1);
    driver_.set_status(kAllStatus);
    request_random();
    request_random(VirtioTestDriver::kBuffers + 0x100);
    EXPECT_EQ(driver_.fast_paths.irqfds.size(), 1u) << "asked once, then not again";
    std::lock_guard lock(driver_.interrupts.msi_mutex);
    EXPECT_EQ(driver_.interrupts.msis.size(), 2u);
}

TEST_F(VirtioPciTest, MalformedChainNeedsResetAndResetRecovers) {
    create();
    driver_.initialize(kFeatures);
    driver_.add_chain(0, {{driver_.memory.size() - 4, 64, true}});
    driver_.kick(0);
    driver_.run_loop();
    EXPECT_NE(driver_.status() & status::device_needs_reset, 0);
    EXPECT_EQ(isr() & kIsrConfig, kIsrConfig) << "a configuration interrupt";
    EXPECT_EQ(driver_.used_idx(0), 0);
    EXPECT_TRUE(driver_.power.statuses.empty()) << "the VM keeps running";

    driver_.initialize(kFeatures);
    EXPECT_EQ(driver_.status(), kAllStatus);
    request_random();
    EXPECT_EQ(driver_.used_idx(0), 1);
}

TEST_F(VirtioPciTest, QueueThatCannotStartNeedsReset) {
    create();
    driver_.set_status(status::acknowledge | status::driver);
    driver_.write_driver_features(kFeatures);
    driver_.set_status(status::acknowledge | status::driver | status::features_ok);
    driver_.bar_write(common_cfg::queue_select, 2, 0);
    driver_.bar_write(common_cfg::queue_size, 2, 48);  // not a power of two
    driver_.bar_write(common_cfg::queue_enable, 2, 1);
    EXPECT_NE(driver_.status() & status::device_needs_reset, 0);
}

TEST_F(VirtioPciTest, KicksThroughIoeventfdAreRegisteredAndDeassignedAtReset) {
    driver_.fast_paths.result = 0;
    create();
    driver_.initialize(kFeatures);
    driver_.run_loop();
    ASSERT_EQ(driver_.fast_paths.ioeventfds.size(), 1u);
    const acrn_ioeventfd registered = driver_.fast_paths.ioeventfds[0];
    EXPECT_EQ(registered.addr, VirtioTestDriver::kVirtioBar + VirtioPciDevice::kNotifyOffset);
    EXPECT_EQ(registered.len, 2u);
    EXPECT_EQ(registered.flags & ACRN_IOEVENTFD_FLAG_PIO, 0u);

    // The relay signals the eventfd instead of sending an I/O request.
    driver_.add_chain(0, {{VirtioTestDriver::kBuffers, 64, true}});
    const std::uint64_t one = 1;
    ASSERT_EQ(::write(static_cast<int>(registered.fd), &one, sizeof one), 8);
    driver_.run_loop();
    EXPECT_EQ(driver_.used_idx(0), 1);

    driver_.set_status(0);
    ASSERT_EQ(driver_.fast_paths.ioeventfds.size(), 2u);
    EXPECT_NE(driver_.fast_paths.ioeventfds[1].flags & ACRN_IOEVENTFD_FLAG_DEASSIGN, 0u);
    EXPECT_EQ(driver_.fast_paths.ioeventfds[1].addr, registered.addr);
    driver_.run_loop();
}

TEST_F(VirtioPciTest, FastPathsOffMeansNoIoeventfd) {
    driver_.fast_paths.result = 0;
    driver_.settings.fast_paths = false;
    create();
    driver_.initialize(kFeatures);
    EXPECT_TRUE(driver_.fast_paths.ioeventfds.empty());
    request_random();
    EXPECT_EQ(driver_.used_idx(0), 1);
}

TEST_F(VirtioPciTest, PollModeServesQueuesWithoutKicks) {
    driver_.settings.poll_ns = 1000;
    driver_.settings.poll_start_delay = std::chrono::milliseconds(0);
    create();
    driver_.initialize(kFeatures);
    driver_.add_chain(0, {{VirtioTestDriver::kBuffers, 64, true}});
    for (int i = 0; i < 200 && driver_.used_idx(0) != 1; ++i) {
        driver_.loop.restart();
        driver_.loop.run_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(driver_.used_idx(0), 1) << "served by the poll timer";
    const std::uint64_t avail_event = VirtioTestDriver::used(0) + 4 + 8 * VirtioTestDriver::kQueueSize;
    EXPECT_NE(driver_.memory.load_acquire<std::uint16_t>(avail_event), 1) << "the driver is asked not to kick";
    driver_.set_status(0);  // a reset stops the timer
    driver_.run_loop();
}

TEST_F(VirtioPciTest, SingleMsiWithVirtioMsi) {
    driver_.settings.single_msi = true;
    create();
    EXPECT_EQ(rnd_->find_capability(MsixCapability::kId), 0);
    const std::uint8_t msi = rnd_->find_capability(0x05);
    ASSERT_NE(msi, 0);
    rnd_->config_write(msi + 4, 4, 0xFEE0'0000);
    rnd_->config_write(msi + 8, 4, 0);
    rnd_->config_write(msi + 12, 2, 0x51);
    rnd_->config_write(msi + 2, 2, 1);  // enable
    driver_.initialize(kFeatures);
    request_random();
    std::lock_guard lock(driver_.interrupts.msi_mutex);
    ASSERT_EQ(driver_.interrupts.msis.size(), 1u);
    EXPECT_EQ(driver_.interrupts.msis[0].data, 0x51u);
}

TEST_F(VirtioPciTest, RndConfig) {
    EXPECT_EQ(VirtioRnd::check_config(""), "");
    EXPECT_EQ(VirtioRnd::check_config("kernel=on"), "");
    EXPECT_NE(VirtioRnd::check_config("/dev/urandom"), "");
}

}  // namespace
}  // namespace acrn::dm
