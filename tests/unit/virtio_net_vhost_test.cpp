// virtio-net with a kernel data path (vhost-net) replaced by a recording
// one: what the device hands over at DRIVER_OK (features, the rings in
// acrn-dm's own mapping, the tap, kick and call eventfds), kicks that reach
// the kernel's eventfd whichever way they come, the kernel's calls raising
// the queue's interrupt, the rings taken back at reset, and the fallbacks.
#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>

#include "dm/virtio/virtio_net.hpp"
#include "tests/unit/fake_net_backend.hpp"
#include "tests/unit/virtio_test_driver.hpp"

namespace acrn::dm::vhost_test {
namespace {

using test_support::FakeNetBackend;
using test_support::VirtioTestDriver;
using namespace virtio;

constexpr std::uint64_t kMergeableRx = 1ull << 15;
constexpr std::uint64_t kDriverFeatures = feature::version_1 | feature::event_idx | (1ull << 5) | kMergeableRx;

class RecordingVhost final : public VhostNetBackend {
public:
    explicit RecordingVhost(std::uint64_t features) : features_(features) {}

    std::uint64_t features() const override { return features_; }
    void start(std::uint64_t features, const GuestMemory&, std::span<const Ring> rings, int tap_fd) override {
        ++starts;
        if (refuse) {
            throw std::system_error(EINVAL, std::generic_category(), "VHOST_SET_VRING_ADDR");
        }
        started_features = features;
        started_rings.assign(rings.begin(), rings.end());
        started_tap = tap_fd;
        running = true;
    }
    void stop() noexcept override {
        ++stops;
        running = false;
    }

    int starts = 0;
    int stops = 0;
    bool running = false;
    bool refuse = false;
    std::uint64_t started_features = 0;
    std::vector<Ring> started_rings;
    int started_tap = -1;

private:
    std::uint64_t features_;
};

std::uint64_t pending(int eventfd) {
    std::uint64_t count = 0;
    return ::read(eventfd, &count, sizeof count) == sizeof count ? count : 0;
}

class VirtioNetVhostTest : public ::testing::Test {
protected:
    void create(std::uint64_t vhost_features = ~0ull) {
        auto backend = std::make_unique<FakeNetBackend>();
        auto vhost = std::make_unique<RecordingVhost>(vhost_features);
        fake_ = backend.get();
        vhost_ = vhost.get();
        const std::string config = "tap=fake0,vhost";
        net_ = std::make_shared<VirtioNet>(driver_.context(config), parse_net_options(config), std::move(backend),
                                           std::move(vhost));
        driver_.attach(net_);
        if (!net_->kernel_data_path()) {
            vhost_ = nullptr;  // the device dropped it
        }
    }
    void start_driver() {
        driver_.initialize(kDriverFeatures);
        driver_.run_loop();
    }
    void signal_call(unsigned queue) {
        const std::uint64_t one = 1;
        ASSERT_EQ(::write(vhost_->started_rings.at(queue).call, &one, sizeof one), 8);
        driver_.run_loop();
    }
    std::uint8_t isr() { return static_cast<std::uint8_t>(driver_.bar_read(VirtioPciDevice::kIsrOffset, 1)); }

    VirtioTestDriver driver_;
    FakeNetBackend* fake_ = nullptr;
    RecordingVhost* vhost_ = nullptr;
    std::shared_ptr<VirtioNet> net_;
};

TEST_F(VirtioNetVhostTest, DriverOkHandsTheRingsToTheKernel) {
    driver_.fast_paths.result = 0;  // the relay takes ioeventfds
    create();
    ASSERT_TRUE(net_->kernel_data_path());
    EXPECT_EQ(vhost_->starts, 0) << "nothing before DRIVER_OK";
    start_driver();
    ASSERT_EQ(vhost_->starts, 1);
    EXPECT_EQ(vhost_->started_features, kDriverFeatures & VirtioNet::ring_features())
        << "the kernel gets the ring features the driver negotiated, not the device's";
    EXPECT_EQ(vhost_->started_tap, fake_->fd());
    ASSERT_EQ(vhost_->started_rings.size(), 2u);
    for (unsigned q = 0; q < 2; ++q) {
        const VhostNetBackend::Ring& ring = vhost_->started_rings[q];
        EXPECT_EQ(ring.index, q);
        EXPECT_EQ(ring.size, VirtioTestDriver::kQueueSize);
        EXPECT_EQ(ring.desc, driver_.memory.span(VirtioTestDriver::desc(q), 1).data());
        EXPECT_EQ(ring.avail, driver_.memory.span(VirtioTestDriver::avail(q), 1).data());
        EXPECT_EQ(ring.used, driver_.memory.span(VirtioTestDriver::used(q), 1).data());
        EXPECT_GE(ring.kick, 0);
        EXPECT_GE(ring.call, 0);
    }
    ASSERT_EQ(driver_.fast_paths.ioeventfds.size(), 2u);
    for (unsigned q = 0; q < 2; ++q) {
        // What the relay signals for a guest's kick reaches the kernel's kick eventfd.
        const std::uint64_t one = 1;
        ASSERT_EQ(::write(static_cast<int>(driver_.fast_paths.ioeventfds[q].fd), &one, sizeof one), 8);
        EXPECT_EQ(pending(vhost_->started_rings[q].kick), 1u) << "queue " << q;
    }
    EXPECT_EQ(fake_->offloads, NetOffloads{}) << "the tap's offloads still follow the driver";
}

TEST_F(VirtioNetVhostTest, KicksReachTheKernelNotTheUserSpacePath) {
    create();
    start_driver();
    // A kick that comes as an I/O request (no ioeventfd, or fast paths off).
    driver_.kick(1);
    driver_.kick(0);
    driver_.run_loop();
    EXPECT_EQ(pending(vhost_->started_rings[1].kick), 1u);
    EXPECT_EQ(pending(vhost_->started_rings[0].kick), 1u);
    EXPECT_EQ(fake_->send_calls + fake_->receive_calls, 0) << "acrn-dm itself moves no frame";
}

TEST_F(VirtioNetVhostTest, TheKernelsCallRaisesTheQueueInterrupt) {
    create();
    start_driver();
    EXPECT_EQ(isr(), 0);
    signal_call(1);
    EXPECT_EQ(isr(), kIsrQueue) << "INTx with the queue bit (no MSI-X here)";
    signal_call(0);
    signal_call(0);  // the watch goes on after each call
    EXPECT_EQ(isr(), kIsrQueue);
}

TEST_F(VirtioNetVhostTest, ResetTakesTheRingsBack) {
    create();
    start_driver();
    const int call = vhost_->started_rings[0].call;
    driver_.set_status(0);
    EXPECT_FALSE(vhost_->running);
    const std::uint64_t one = 1;
    ASSERT_EQ(::write(call, &one, sizeof one), 8);  // a late call from before the reset
    driver_.run_loop();
    EXPECT_EQ(isr(), 0) << "no interrupt after the reset";
    start_driver();
    EXPECT_EQ(vhost_->starts, 2);
    EXPECT_TRUE(vhost_->running);
    signal_call(0);
    EXPECT_EQ(isr(), kIsrQueue);
}

// With MSI-X and the relay's irqfds, each call eventfd is an irqfd for its
// queue's vector, and acrn-dm no longer watches it; a masked vector, a moved
// one, or a reset takes it back.
class VirtioNetVhostMsixTest : public VirtioNetVhostTest {
protected:
    void start_with_msix() {
        driver_.fast_paths.result = 0;
        create();
        driver_.enable_msix_vector(0, 0x40);
        driver_.enable_msix_vector(1, 0x41);
        driver_.initialize(kDriverFeatures, true);
        driver_.run_loop();
    }
    // The irqfd requests made with the call eventfd of `queue`.
    std::vector<acrn_irqfd> call_irqfds(unsigned queue) {
        std::vector<acrn_irqfd> found;
        for (const acrn_irqfd& request : driver_.fast_paths.irqfds) {
            if (static_cast<int>(request.fd) == vhost_->started_rings.at(queue).call) {
                found.push_back(request);
            }
        }
        return found;
    }
    std::size_t msis_sent() {
        std::lock_guard lock(driver_.interrupts.msi_mutex);
        return driver_.interrupts.msis.size();
    }
    // The vector's own irqfd (acrn-dm's path) counts what acrn-dm sent through it.
    std::uint64_t injections(const std::string& vector) {
        for (const InterruptSourceStats& each : driver_.sources.stats()) {
            if (each.name.find(vector) != std::string::npos) {
                return each.injections;
            }
        }
        return ~0ull;
    }
};

TEST_F(VirtioNetVhostMsixTest, CallsGoStraightToTheGuest) {
    start_with_msix();
    for (unsigned q = 0; q < 2; ++q) {
        const auto bound = call_irqfds(q);
        ASSERT_EQ(bound.size(), 1u) << "queue " << q;
        EXPECT_EQ(bound[0].flags, 0u);
        EXPECT_EQ(bound[0].msi.msi_addr, 0xFEE0'0000u);
        EXPECT_EQ(bound[0].msi.msi_data, 0x40u + q);
        EXPECT_TRUE(net_->interrupts_bound(q));
    }
    signal_call(1);
    EXPECT_EQ(pending(vhost_->started_rings[1].call), 1u) << "acrn-dm left the call to the relay's irqfd";
    EXPECT_EQ(injections("vector 1"), 0u);
}

TEST_F(VirtioNetVhostMsixTest, AMaskedVectorTakesTheCallBack) {
    start_with_msix();
    driver_.mask_msix_vector(1, true);
    auto requests = call_irqfds(1);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_NE(requests[1].flags & ACRN_IRQFD_FLAG_DEASSIGN, 0u);
    EXPECT_FALSE(net_->interrupts_bound(1));
    EXPECT_TRUE(net_->interrupts_bound(0)) << "the other queue's vector is still unmasked";
    signal_call(1);
    EXPECT_EQ(pending(vhost_->started_rings[1].call), 0u) << "acrn-dm read the call";
    EXPECT_TRUE(net_->msix_pending(1)) << "a masked vector's interrupt waits in the PBA";

    driver_.mask_msix_vector(1, false);
    EXPECT_FALSE(net_->msix_pending(1)) << "unmasking sent it";
    EXPECT_EQ(injections("vector 1"), 1u);
    requests = call_irqfds(1);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[2].flags, 0u);
    EXPECT_TRUE(net_->interrupts_bound(1));
}

TEST_F(VirtioNetVhostMsixTest, TheCallFollowsTheQueuesVector) {
    start_with_msix();
    driver_.enable_msix_vector(2, 0x52);
    driver_.bar_write(common_cfg::queue_select, 2, 0);
    driver_.bar_write(common_cfg::queue_msix_vector, 2, 2);
    auto requests = call_irqfds(0);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_NE(requests[1].flags & ACRN_IRQFD_FLAG_DEASSIGN, 0u);
    EXPECT_EQ(requests[2].msi.msi_data, 0x52u);

    driver_.bar_write(common_cfg::queue_msix_vector, 2, kNoVector);
    EXPECT_FALSE(net_->interrupts_bound(0)) << "no vector: nothing to bind";
    driver_.msix_table_write(2, 2, 0x53);  // the guest reprograms the vector in place
    driver_.bar_write(common_cfg::queue_msix_vector, 2, 2);
    requests = call_irqfds(0);
    ASSERT_EQ(requests.size(), 5u);
    EXPECT_EQ(requests[4].msi.msi_data, 0x53u);
}

TEST_F(VirtioNetVhostMsixTest, ResetUnbindsTheCalls) {
    start_with_msix();
    driver_.set_status(0);
    for (unsigned q = 0; q < 2; ++q) {
        EXPECT_FALSE(net_->interrupts_bound(q));
        const auto requests = call_irqfds(q);
        ASSERT_EQ(requests.size(), 2u);
        EXPECT_NE(requests[1].flags & ACRN_IRQFD_FLAG_DEASSIGN, 0u);
    }
}

TEST_F(VirtioNetVhostMsixTest, UnderTheStormMonitorAcrnDmPassesTheCallsOn) {
    driver_.settings.direct_kernel_interrupts = false;
    start_with_msix();
    EXPECT_TRUE(call_irqfds(0).empty());
    EXPECT_TRUE(call_irqfds(1).empty());
    signal_call(1);
    EXPECT_EQ(pending(vhost_->started_rings[1].call), 0u);
    EXPECT_EQ(injections("vector 1"), 1u) << "counted, so the monitor sees it";
}

TEST_F(VirtioNetVhostMsixTest, ARelayWithoutIrqfdsLeavesTheCallsWatched) {
    create();  // the recording relay refuses irqfds
    driver_.enable_msix_vector(0, 0x40);
    driver_.enable_msix_vector(1, 0x41);
    driver_.initialize(kDriverFeatures, true);
    driver_.run_loop();
    EXPECT_FALSE(net_->interrupts_bound(0));
    signal_call(0);
    EXPECT_EQ(pending(vhost_->started_rings[0].call), 0u);
    EXPECT_EQ(msis_sent(), 1u) << "sent through the relay";
}

TEST_F(VirtioNetVhostTest, AKernelWithoutTheRingFeaturesLeavesItToUserSpace) {
    create(~kMergeableRx);
    EXPECT_FALSE(net_->kernel_data_path());
    start_driver();
    driver_.add_chain(0, {{VirtioTestDriver::kBuffers, 2048, true}});
    driver_.kick(0);
    fake_->offer(100);
    driver_.run_loop();
    EXPECT_EQ(driver_.used_idx(0), 1) << "the user-space path received the frame";
}

TEST_F(VirtioNetVhostTest, AKernelThatRefusesTheRingsNeedsAReset) {
    create();
    vhost_->refuse = true;
    start_driver();
    EXPECT_EQ(vhost_->starts, 1);
    EXPECT_NE(driver_.status() & status::device_needs_reset, 0);
}

}  // namespace
}  // namespace acrn::dm::vhost_test
