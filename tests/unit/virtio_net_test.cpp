// virtio-net with a recording back end: the option syntax and ACRN's MAC,
// frames both ways (mergeable and not), a full tap, a driver without
// buffers, a malformed chain, a reset mid-traffic and a failing tap. One
// test opens a real tap, so the tier needs /dev/net/tun and CAP_NET_ADMIN.
#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <numeric>
#include <thread>

#include "dm/backends/tap.hpp"
#include "dm/virtio/virtio_net.hpp"
#include "tests/unit/fake_net_backend.hpp"
#include "tests/unit/virtio_test_driver.hpp"

// (A namespace of its own: unity builds put test files together.)
namespace acrn::dm::net_test {
namespace {

using test_support::FakeNetBackend;
using test_support::VirtioTestDriver;
using namespace virtio;

constexpr std::uint64_t kMac = 1ull << 5;
constexpr std::uint64_t kCsum = 1ull << 0;
constexpr std::uint64_t kGuestCsum = 1ull << 1;
constexpr std::uint64_t kGuestTso4 = 1ull << 7;
constexpr std::uint64_t kHostTso4 = 1ull << 11;
constexpr std::uint64_t kMergeable = 1ull << 15;
constexpr std::uint64_t kStatus = 1ull << 16;
constexpr std::uint64_t kBase = feature::version_1 | feature::event_idx | kMac | kStatus;
constexpr std::size_t kHeader = NetBackend::kHeaderBytes;
constexpr std::uint64_t kRxBuffers = VirtioTestDriver::kBuffers;             // receive buffers from here
constexpr std::uint64_t kTxBuffers = VirtioTestDriver::kBuffers + 0x100000;  // transmit buffers from here

class VirtioNetTest : public ::testing::Test {
protected:
    void create(std::uint64_t features = kBase | kMergeable, std::string_view config = "tap=fake0") {
        auto backend = std::make_unique<FakeNetBackend>();
        fake_ = backend.get();
        net_ = std::make_shared<VirtioNet>(driver_.context(config), parse_net_options(config), std::move(backend));
        driver_.attach(net_);
        driver_.initialize(features);
        driver_.run_loop();
    }
    void offer_rx(unsigned count, std::uint32_t size, bool kick = true) {
        for (unsigned i = 0; i < count; ++i) {
            driver_.add_chain(0, {{kRxBuffers + 0x10000ull * (rx_slot_++ % 16), size, true}});
        }
        if (kick) {
            driver_.kick(0);
        }
        driver_.run_loop();
    }
    std::vector<std::uint8_t> guest_bytes(std::uint64_t gpa, std::size_t length) {
        std::vector<std::uint8_t> bytes(length);
        EXPECT_TRUE(driver_.memory.read(gpa, bytes.data(), length));
        return bytes;
    }
    std::uint16_t num_buffers(std::uint64_t gpa) {
        std::uint16_t value = 0;
        EXPECT_TRUE(driver_.memory.read(gpa + 10, &value, 2));
        return value;
    }
    std::uint16_t config_status() { return static_cast<std::uint16_t>(driver_.bar_read(0x2000 + 6, 2)); }

    VirtioTestDriver driver_;
    FakeNetBackend* fake_ = nullptr;
    std::shared_ptr<VirtioNet> net_;
    unsigned rx_slot_ = 0;
};

TEST_F(VirtioNetTest, OptionSyntax) {
    NetOptions options = parse_net_options("tap=tap0");
    EXPECT_EQ(options.tap, "tap0");
    EXPECT_FALSE(options.vhost);
    EXPECT_FALSE(options.mac);
    EXPECT_FALSE(options.mac_seed);
    options = parse_net_options("tap=tap0,vhost,mac=02:1:ab:CD:00:ff");
    EXPECT_TRUE(options.vhost);
    ASSERT_TRUE(options.mac);
    EXPECT_EQ(format_mac(*options.mac), "02:01:ab:cd:00:ff");
    // ACRN's mac_seed: directly after the tap, the rest of the string is the
    // seed; its fields still count as options.
    options = parse_net_options("tap=t0,mac_seed=vm1-host,vhost");
    EXPECT_EQ(options.mac_seed, "vm1-host,vhost");
    EXPECT_TRUE(options.vhost);
    options = parse_net_options("tap=t0,mac_seed=");
    EXPECT_EQ(options.mac_seed, "");
    options = parse_net_options("tap=t0,vhost,mac_seed=late");
    EXPECT_FALSE(options.mac_seed);
    EXPECT_TRUE(options.misplaced_seed);
    const std::pair<const char*, const char*> bad[] = {
        {"", "tap=<name>"},
        {"tap0", "tap=<name>"},
        {"tap=", "1 to 15"},
        {"tap=0123456789abcdef", "1 to 15"},
        {"tap=t0,mac=01:00:00:00:00:01", "mac='01:00:00:00:00:01': a multicast"},
        {"tap=t0,mac=00:00:00:00:00:00", "mac='00:00:00:00:00:00': the all-zero"},
        {"tap=t0,mac=00:16:3e:00:00", "six"},
        {"tap=t0,mac=00:16:3e:00:00:xyz", "'xyz' is not a hex byte"},
        {"tap=t0,bogus", "unknown virtio-net option 'bogus'"},
    };
    for (const auto& [config, message] : bad) {
        EXPECT_NE(VirtioNet::check_config(config).find(message), std::string::npos)
            << config << ": " << VirtioNet::check_config(config);
    }
    EXPECT_EQ(VirtioNet::check_config("tap=t0,mac_seed=x,bogus"), "") << "the seed takes the rest";
}

TEST_F(VirtioNetTest, DefaultMacIsAcrns) {
    // 00:16:3E + MD5("<slot>-<func>[-<seed>]")[0..2]; printf '3-0' | md5sum: 2dd6b4...
    EXPECT_EQ(format_mac(default_mac(3, 0, std::nullopt)), "00:16:3e:2d:d6:b4");
    // printf '3-0-myseed' | md5sum: c78375...
    EXPECT_EQ(format_mac(default_mac(3, 0, std::string("myseed"))), "00:16:3e:c7:83:75");
    // printf '4-0' | md5sum: 20fdcf... (the test driver's device sits at 0:4.0)
    create(kBase, "tap=fake0");
    EXPECT_EQ(format_mac(net_->mac()), "00:16:3e:20:fd:cf");
    std::uint8_t mac[6];
    for (unsigned i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(driver_.bar_read(0x2000 + i, 1));
    EXPECT_EQ(std::memcmp(mac, net_->mac().data(), 6), 0);
}

TEST_F(VirtioNetTest, FeaturesAndConfiguration) {
    create(kBase | kMergeable | kCsum | kGuestCsum | kGuestTso4 | kHostTso4, "tap=fake0,mac=02:00:00:00:00:07");
    const std::uint64_t offered = driver_.device_features();
    for (std::uint64_t bit : {kMac, kStatus, kMergeable, kCsum, kGuestCsum, kGuestTso4, kHostTso4}) {
        EXPECT_NE(offered & bit, 0u) << std::hex << bit;
    }
    EXPECT_EQ(offered & (1ull << 17), 0u) << "no control queue";
    EXPECT_EQ(driver_.bar_read(common_cfg::num_queues, 2), 2u);
    EXPECT_EQ(format_mac(net_->mac()), "02:00:00:00:00:07");
    EXPECT_EQ(config_status(), 1) << "LINK_UP";
    EXPECT_EQ(driver_.bar_read(0x2000 + 8, 2), 1u) << "max_virtqueue_pairs";
    EXPECT_EQ(fake_->offloads, (NetOffloads{.csum = true, .tso4 = true})) << "what the guest negotiated";
    driver_.bar_write(0x2000 + 6, 2, 0);  // the driver may not change the device's fields
    EXPECT_EQ(config_status(), 1);
}

TEST_F(VirtioNetTest, TransmitSendsHeaderAndFrame) {
    create();
    std::vector<std::uint8_t> header(kHeader, 0), frame(1500);
    std::iota(frame.begin(), frame.end(), std::uint8_t{3});
    ASSERT_TRUE(driver_.memory.write(kTxBuffers, header.data(), header.size()));
    ASSERT_TRUE(driver_.memory.write(kTxBuffers + 0x1000, frame.data(), frame.size()));
    driver_.add_chain(1, {{kTxBuffers, kHeader, false}, {kTxBuffers + 0x1000, 1500, false}});
    driver_.kick(1);
    driver_.run_loop();
    ASSERT_EQ(fake_->sent.size(), 1u);
    std::vector<std::uint8_t> expected = header;
    expected.insert(expected.end(), frame.begin(), frame.end());
    EXPECT_EQ(fake_->sent[0], expected);
    ASSERT_EQ(driver_.used_idx(1), 1);
    EXPECT_EQ(driver_.used_element(1, 0).second, 0u);
    EXPECT_EQ(net_->counters().transmitted, 1u);
}

TEST_F(VirtioNetTest, TransmitWaitsForAFullTap) {
    create();
    fake_->full_sends = 2;
    std::vector<std::uint8_t> frame(kHeader + 60, 0x5A);
    ASSERT_TRUE(driver_.memory.write(kTxBuffers, frame.data(), frame.size()));
    driver_.add_chain(1, {{kTxBuffers, static_cast<std::uint32_t>(frame.size()), false}});
    driver_.kick(1);  // tries, waits for writable, tries again: full twice, then waits
    EXPECT_TRUE(fake_->sent.empty());
    EXPECT_EQ(driver_.used_idx(1), 0) << "the chain is kept, not dropped";
    driver_.run_loop();  // the (always writable) eventfd wakes it
    driver_.run_loop();
    ASSERT_EQ(fake_->sent.size(), 1u);
    EXPECT_EQ(fake_->sent[0], frame);
    EXPECT_EQ(driver_.used_idx(1), 1);
    EXPECT_LE(fake_->send_calls, 4) << "no busy loop";
}

TEST_F(VirtioNetTest, ReceiveSpreadsAFrameOverMergeableBuffers) {
    create();
    offer_rx(4, 1024);
    fake_->offer(3000, 9);
    fake_->offer(100, 4);
    driver_.run_loop();
    ASSERT_EQ(driver_.used_idx(0), 4) << "3 buffers for the first frame, 1 for the second";
    EXPECT_EQ(driver_.used_element(0, 0).second, 1024u);
    EXPECT_EQ(driver_.used_element(0, 1).second, 1024u);
    EXPECT_EQ(driver_.used_element(0, 2).second, kHeader + 3000 - 2048);
    EXPECT_EQ(driver_.used_element(0, 3).second, kHeader + 100);
    EXPECT_EQ(num_buffers(kRxBuffers), 3);
    EXPECT_EQ(num_buffers(kRxBuffers + 0x30000), 1);
    std::vector<std::uint8_t> got;
    for (unsigned i = 0; i < 3; ++i) {
        const auto piece = guest_bytes(kRxBuffers + 0x10000ull * i, driver_.used_element(0, i).second);
        got.insert(got.end(), piece.begin(), piece.end());
    }
    ASSERT_EQ(got.size(), kHeader + 3000);
    for (std::size_t i = 0; i < 3000; ++i) {
        ASSERT_EQ(got[kHeader + i], static_cast<std::uint8_t>(9 + i * 7)) << i;
    }
    EXPECT_EQ(net_->counters().received, 2u);
}

// A driver that polls the used ring (NAPI) reads a frame's num_buffers as
// soon as the index passes its first buffer: the others must be there too.
TEST_F(VirtioNetTest, AMergedFrameIsPublishedWhole) {
    create();
    std::atomic<bool> done{false};
    std::atomic<unsigned> partial_frames_seen{0};
    std::thread polling_driver([&] {
        while (!done.load()) {
            if (driver_.used_idx(0) % 3 != 0) {
                ++partial_frames_seen;
            }
        }
    });
    constexpr unsigned kRounds = 300;
    for (unsigned round = 0; round < kRounds; ++round) {
        offer_rx(15, 1024, false);
        for (unsigned frame = 0; frame < 5; ++frame) {
            fake_->offer(3000);  // three buffers each
        }
        driver_.kick(0);
        driver_.run_loop();
    }
    done = true;
    polling_driver.join();
    EXPECT_EQ(net_->counters().received, 5u * kRounds);
    EXPECT_EQ(partial_frames_seen.load(), 0u);
}

TEST_F(VirtioNetTest, FramesWaitInTheTapUntilTheDriverGivesBuffers) {
    create();
    fake_->offer(200);
    fake_->offer(300);
    driver_.run_loop();
    EXPECT_EQ(fake_->inbound.size(), 2u) << "nothing read without a buffer";
    offer_rx(1, 2048);
    EXPECT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(fake_->inbound.size(), 1u) << "one buffer, one frame";
    offer_rx(1, 2048);
    EXPECT_EQ(driver_.used_idx(0), 2);
    EXPECT_EQ(driver_.used_element(0, 1).second, kHeader + 300);
    EXPECT_TRUE(fake_->inbound.empty());
    // A frame that needs more buffers than there are waits for the next kick.
    offer_rx(1, 1024);
    fake_->offer(1500);
    driver_.run_loop();
    EXPECT_EQ(driver_.used_idx(0), 2);
    offer_rx(1, 1024);
    EXPECT_EQ(driver_.used_idx(0), 4);
    EXPECT_EQ(num_buffers(kRxBuffers + 0x20000), 2);
}

TEST_F(VirtioNetTest, WithoutMergeableBuffersAFrameTooLongIsDroppedAndCounted) {
    create(kBase);
    offer_rx(2, 1024);
    fake_->offer(2000, 1, /*flags: DATA_VALID*/ 2);
    fake_->offer(500, 5, 2);
    driver_.run_loop();
    ASSERT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(driver_.used_element(0, 0).second, kHeader + 500);
    EXPECT_EQ(num_buffers(kRxBuffers), 1);
    EXPECT_EQ(guest_bytes(kRxBuffers, 1)[0], 0) << "no header flags without GUEST_CSUM";
    EXPECT_EQ(guest_bytes(kRxBuffers + kHeader, 1)[0], 5) << "the chain the dropped frame left took the next";
    EXPECT_EQ(net_->counters().receive_dropped, 1u);
    EXPECT_EQ(net_->counters().received, 1u);
}

TEST_F(VirtioNetTest, AMalformedChainNeedsAReset) {
    create();
    driver_.add_chain(1, {{(16ull << 20) - 8, 64, false}});  // runs past the end of guest RAM
    driver_.kick(1);
    driver_.run_loop();
    EXPECT_NE(driver_.status() & status::device_needs_reset, 0);
    EXPECT_TRUE(fake_->sent.empty());
    EXPECT_NE(driver_.bar_read(VirtioPciDevice::kIsrOffset, 1) & kIsrConfig, 0u);
}

TEST_F(VirtioNetTest, ResetMidTrafficStopsTheDataPath) {
    create();
    offer_rx(1, 1024);
    fake_->offer(1500);  // needs two buffers: held with the one it has
    driver_.run_loop();
    EXPECT_EQ(driver_.used_idx(0), 0);
    std::vector<std::uint8_t> frame(kHeader + 60, 1);
    ASSERT_TRUE(driver_.memory.write(kTxBuffers, frame.data(), frame.size()));
    driver_.add_chain(1, {{kTxBuffers, static_cast<std::uint32_t>(frame.size()), false}});
    driver_.kick(1);  // the kick is on its way to the event loop when the driver resets
    driver_.set_status(0);
    EXPECT_EQ(fake_->offloads, NetOffloads{}) << "offloads off while no driver runs";
    fake_->offer(100);
    driver_.run_loop();
    EXPECT_EQ(fake_->send_calls, 0) << "no transmit after the reset";
    EXPECT_EQ(fake_->inbound.size(), 1u) << "no receive after the reset";
    // Started again: the frame that waited was dropped with the reset.
    driver_.initialize(kBase | kMergeable);
    driver_.run_loop();
    rx_slot_ = 0;
    offer_rx(2, 1024);
    ASSERT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(driver_.used_element(0, 0).second, kHeader + 100);
}

TEST_F(VirtioNetTest, AFailingTapTakesTheLinkDown) {
    create();
    offer_rx(2, 2048);
    fake_->fail_errno = EBADFD;  // what a tap whose interface was deleted answers
    fake_->signal();
    driver_.run_loop();
    EXPECT_FALSE(net_->link_up());
    EXPECT_EQ(config_status(), 0) << "LINK_UP cleared";
    EXPECT_NE(driver_.bar_read(VirtioPciDevice::kIsrOffset, 1) & kIsrConfig, 0u) << "a configuration interrupt";
    EXPECT_EQ(driver_.status() & status::device_needs_reset, 0) << "the device itself is fine";
    // Transmitted frames are returned (dropped), the guest does not stall.
    std::vector<std::uint8_t> frame(kHeader + 60, 1);
    ASSERT_TRUE(driver_.memory.write(kTxBuffers, frame.data(), frame.size()));
    driver_.add_chain(1, {{kTxBuffers, static_cast<std::uint32_t>(frame.size()), false}});
    driver_.kick(1);
    driver_.run_loop();
    EXPECT_EQ(driver_.used_idx(1), 1);
    EXPECT_EQ(net_->counters().transmit_dropped, 1u);
}

TEST(VirtioNetTap, OpensARealTap) {
    const std::string name = "acrnut" + std::to_string(::getpid() % 100000);
    std::unique_ptr<TapDevice> tap;
    try {
        tap = TapDevice::open(name);
    } catch (const TapOpenError& error) {
        FAIL() << "a tap needs /dev/net/tun and CAP_NET_ADMIN (root): " << error.what();
    }
    EXPECT_EQ(tap->name(), name);
    EXPECT_TRUE(tap->supported_offloads().csum);
    EXPECT_TRUE(tap->set_offloads(tap->supported_offloads()));
    EXPECT_TRUE(tap->set_offloads({}));
    std::uint8_t buffer[2048];
    const iovec iov{buffer, sizeof buffer};
    EXPECT_EQ(tap->receive(std::span(&iov, 1)), -EAGAIN) << "non-blocking, nothing there";
}

TEST(VirtioNetTap, ANameThatCannotBeATapIsRefusedByName) {
    try {
        (void)TapDevice::open("0123456789abcdefgh");
        FAIL() << "no error";
    } catch (const TapOpenError& error) {
        EXPECT_NE(std::string(error.what()).find("0123456789abcdefgh"), std::string::npos) << error.what();
    }
}

}  // namespace
}  // namespace acrn::dm::net_test
