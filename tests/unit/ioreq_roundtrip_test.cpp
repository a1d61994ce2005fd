// The ioreq path without KVM: hv's channel on one thread, the relay's
// dispatcher and a device-model client loop on another, in both completion
// modes. Every request must come back exactly once with its own answer.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "hv/ioreq_channel.hpp"
#include "relay/ioreq_dispatcher.hpp"

namespace acrn {
namespace {

struct AlignedPage {
    AlignedPage() : page(static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096))) {
        std::memset(page, 0, 4096);
    }
    ~AlignedPage() { std::free(page); }
    acrn_io_request_buffer* page;
};

// hv + relay + a device-model loop that answers a port read with port ^ key.
class Roundtrip {
public:
    Roundtrip(hv::CompletionMode mode, std::uint32_t vcpus)
        : dispatcher_(vcpus, [this](std::uint32_t vcpu) { return channel_->notify_finish(vcpu); }) {
        channel_ = std::make_unique<hv::IoreqChannel>(mode, vcpus,
                                                      [this](std::uint32_t vcpu) { dispatcher_.dispatch(vcpu); });
        channel_->attach_buffer(memory_.page);
        dispatcher_.set_buffer(memory_.page);
        EXPECT_EQ(dispatcher_.create_default_client(), 0);
        vcpus_ = vcpus;
        device_model_ = std::thread([this] { serve(); });
    }
    ~Roundtrip() {
        (void)dispatcher_.destroy_default_client();
        device_model_.join();
    }

    hv::IoreqChannel& channel() { return *channel_; }
    std::uint64_t handled() const { return handled_.load(); }

    static std::uint32_t answer(std::uint64_t port, std::uint32_t value) {
        return static_cast<std::uint32_t>(port * 2654435761u) ^ value;
    }

private:
    void serve() {
        while (dispatcher_.attach_default_client() == 0) {
            for (std::uint32_t vcpu = 0; vcpu < vcpus_; ++vcpu) {
                acrn_io_request& request = memory_.page->req_slot[vcpu];
                if (IoreqSlot(request).state() != IoreqState::processing) {
                    continue;
                }
                auto& pio = request.reqs.pio_request;
                // The "device" returns a function of what the vCPU wrote
                // before, so a stale or swapped answer cannot pass.
                pio.value = answer(pio.address, pio.value);
                handled_.fetch_add(1);
                EXPECT_EQ(dispatcher_.notify_finish(vcpu), 0);
            }
        }
    }

    AlignedPage memory_;
    relay::IoreqDispatcher dispatcher_;
    std::unique_ptr<hv::IoreqChannel> channel_;
    std::uint32_t vcpus_ = 1;
    std::atomic<std::uint64_t> handled_{0};
    std::thread device_model_;
};

void run_vcpu(hv::IoreqChannel& channel, std::uint32_t vcpu, std::uint64_t count, std::uint64_t& failures) {
    for (std::uint64_t i = 0; i < count; ++i) {
        acrn_io_request request{};
        request.type = ACRN_IOREQ_TYPE_PORTIO;
        request.reqs.pio_request.direction = ACRN_IOREQ_DIR_READ;
        request.reqs.pio_request.address = (i + vcpu * 7919) & 0xFFFF;
        request.reqs.pio_request.size = 4;
        request.reqs.pio_request.value = static_cast<std::uint32_t>(i);
        if (channel.submit(vcpu, request) != hv::SubmitOutcome::completed ||
            request.reqs.pio_request.value !=
                Roundtrip::answer(request.reqs.pio_request.address, static_cast<std::uint32_t>(i))) {
            ++failures;
        }
    }
}

class IoreqRoundtripTest : public ::testing::TestWithParam<hv::CompletionMode> {};

TEST_P(IoreqRoundtripTest, MillionRoundTripsNoneLostNoneDoubled) {
    constexpr std::uint64_t kRequests = 1'000'000;
    Roundtrip roundtrip(GetParam(), 1);
    std::uint64_t failures = 0;
    std::thread vcpu([&] { run_vcpu(roundtrip.channel(), 0, kRequests, failures); });
    vcpu.join();
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(roundtrip.handled(), kRequests);
}

TEST_P(IoreqRoundtripTest, FourVcpusShareOneDeviceModelThread) {
    constexpr std::uint64_t kRequests = 50'000;
    Roundtrip roundtrip(GetParam(), 4);
    std::uint64_t failures[4] = {};
    std::vector<std::thread> vcpus;
    for (std::uint32_t id = 0; id < 4; ++id) {
        vcpus.emplace_back([&, id] { run_vcpu(roundtrip.channel(), id, kRequests, failures[id]); });
    }
    for (auto& thread : vcpus) {
        thread.join();
    }
    for (std::uint64_t count : failures) {
        EXPECT_EQ(count, 0u);
    }
    EXPECT_EQ(roundtrip.handled(), 4 * kRequests);
}

INSTANTIATE_TEST_SUITE_P(BothModes, IoreqRoundtripTest,
                         ::testing::Values(hv::CompletionMode::notification, hv::CompletionMode::polling),
                         [](const auto& info) {
                             return info.param == hv::CompletionMode::polling ? "Polling" : "Notification";
                         });

TEST(IoreqChannelTest, AbortEndsAWaitThatWillNeverBeAnswered) {
    AlignedPage memory;
    std::atomic<bool> upcalled{false};
    hv::IoreqChannel channel(hv::CompletionMode::notification, 1, [&](std::uint32_t) { upcalled = true; });
    channel.attach_buffer(memory.page);
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    hv::SubmitOutcome outcome = hv::SubmitOutcome::completed;
    std::thread vcpu([&] { outcome = channel.submit(0, request); });
    while (!upcalled) {
        std::this_thread::yield();
    }
    channel.abort_waits();
    vcpu.join();
    EXPECT_EQ(outcome, hv::SubmitOutcome::aborted);
    EXPECT_EQ(IoreqSlot(memory.page->req_slot[0]).state(), IoreqState::free);
}

TEST(IoreqChannelTest, RejectsWithoutBufferOrWithBadVcpu) {
    AlignedPage memory;
    hv::IoreqChannel channel(hv::CompletionMode::polling, 2, [](std::uint32_t) {});
    acrn_io_request request{};
    EXPECT_EQ(channel.submit(0, request), hv::SubmitOutcome::rejected);
    channel.attach_buffer(memory.page);
    EXPECT_EQ(channel.submit(2, request), hv::SubmitOutcome::rejected);
    EXPECT_EQ(channel.notify_finish(16), -EINVAL);
}

TEST(IoreqChannelTest, PollingFlagIsSetForPollingVms) {
    AlignedPage memory;
    hv::IoreqChannel* self = nullptr;
    hv::IoreqChannel channel(hv::CompletionMode::polling, 1, [&](std::uint32_t vcpu) {
        IoreqSlot slot(memory.page->req_slot[vcpu]);
        EXPECT_TRUE(slot.polling());
        ASSERT_TRUE(slot.begin_processing());
        ASSERT_TRUE(slot.complete());
        (void)self;
    });
    self = &channel;
    channel.attach_buffer(memory.page);
    acrn_io_request request{};
    EXPECT_EQ(channel.submit(0, request), hv::SubmitOutcome::completed);
}

TEST(IoreqSlotTest, TransitionsOnlyFromTheirPredecessor) {
    acrn_io_request request{};
    IoreqSlot slot(request);
    slot.force_free();
    EXPECT_FALSE(slot.begin_processing());
    EXPECT_FALSE(slot.complete());
    EXPECT_FALSE(slot.release());
    EXPECT_TRUE(slot.publish_pending());
    EXPECT_FALSE(slot.publish_pending());
    EXPECT_FALSE(slot.complete());
    EXPECT_TRUE(slot.begin_processing());
    EXPECT_FALSE(slot.release());
    EXPECT_TRUE(slot.complete());
    EXPECT_TRUE(slot.release());
    EXPECT_EQ(slot.state(), IoreqState::free);
    EXPECT_EQ(request.processed, static_cast<std::uint32_t>(ACRN_IOREQ_STATE_FREE));
}

}  // namespace
}  // namespace acrn
