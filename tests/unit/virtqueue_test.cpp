// The split virtqueue alone: chains as a driver lays them out in guest
// memory, and every kind of malformed chain.
#include <gtest/gtest.h>

#include "dm/virtio/virtqueue.hpp"
#include "tests/unit/virtio_test_driver.hpp"

namespace acrn::dm {
namespace {

using test_support::VirtioTestDriver;
using namespace virtio::ring;

class VirtqueueTest : public ::testing::Test {
protected:
    VirtqueueTest() { start(); }

    void start(bool event_idx = false, bool indirect = true) {
        std::string error;
        ASSERT_TRUE(queue_.start(layout(), event_idx, indirect, error)) << error;
        driver_.setup_queue_memory_only();
    }
    static VirtqueueLayout layout() {
        return VirtqueueLayout{VirtioTestDriver::kQueueSize, VirtioTestDriver::desc(0), VirtioTestDriver::avail(0),
                               VirtioTestDriver::used(0)};
    }
    void descriptor(unsigned index, std::uint64_t addr, std::uint32_t length, std::uint16_t flags,
                    std::uint16_t next = 0) {
        driver_.write_descriptor(VirtioTestDriver::desc(0), index, addr, length, flags, next);
    }
    // Pops one chain, expecting it to be malformed with `why` in the reason.
    void expect_malformed(const std::string& why) {
        std::string error;
        EXPECT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::malformed);
        EXPECT_NE(error.find(why), std::string::npos) << error;
    }

    struct Driver : VirtioTestDriver {
        void setup_queue_memory_only() { avail_head = 0; }
        void publish(std::uint16_t head) {
            EXPECT_TRUE(memory.write(avail(0) + 4 + 2ull * (avail_head % kQueueSize), &head, 2));
            ++avail_head;
            EXPECT_TRUE(memory.store_release<std::uint16_t>(avail(0) + 2, avail_head));
        }
        std::uint16_t avail_head = 0;
    } driver_;
    Virtqueue queue_{driver_.memory};
    DescriptorChain chain_;
    static constexpr std::uint64_t kData = VirtioTestDriver::kBuffers;
};

TEST_F(VirtqueueTest, StartChecksTheLayout) {
    Virtqueue other(driver_.memory);
    std::string error;
    VirtqueueLayout bad = layout();
    bad.size = 12;
    EXPECT_FALSE(other.start(bad, false, false, error));
    EXPECT_NE(error.find("power of two"), std::string::npos);
    bad = layout();
    bad.desc += 8;
    EXPECT_FALSE(other.start(bad, false, false, error));
    EXPECT_NE(error.find("misaligned"), std::string::npos);
    bad = layout();
    bad.used = driver_.memory.size() - 16;
    EXPECT_FALSE(other.start(bad, false, false, error));
    EXPECT_NE(error.find("guest RAM"), std::string::npos);
    EXPECT_FALSE(other.running());
}

TEST_F(VirtqueueTest, ReadableThenWritableChain) {
    descriptor(0, kData, 16, desc_f_next, 1);
    descriptor(1, kData + 0x1000, 512, desc_f_next | desc_f_write, 2);
    descriptor(2, kData + 0x2000, 1, desc_f_write);
    driver_.publish(0);
    std::string error;
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain) << error;
    EXPECT_EQ(chain_.head, 0);
    ASSERT_EQ(chain_.readable.size(), 1u);
    EXPECT_EQ(chain_.readable[0].gpa, kData);
    EXPECT_EQ(chain_.readable_bytes, 16u);
    ASSERT_EQ(chain_.writable.size(), 2u);
    EXPECT_EQ(chain_.writable_bytes, 513u);
    EXPECT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::empty);

    EXPECT_TRUE(queue_.push(chain_, 513));
    EXPECT_EQ(driver_.used_idx(0), 1);
    EXPECT_EQ(driver_.used_element(0, 0), (std::pair<std::uint32_t, std::uint32_t>{0, 513}));
    EXPECT_TRUE(queue_.should_interrupt());
    EXPECT_FALSE(queue_.should_interrupt()) << "nothing new since the last interrupt";
}

TEST_F(VirtqueueTest, LoopingChain) {
    descriptor(0, kData, 16, desc_f_next, 1);
    descriptor(1, kData, 16, desc_f_next, 0);
    driver_.publish(0);
    expect_malformed("loop");
}

TEST_F(VirtqueueTest, ChainLeavingTheTable) {
    descriptor(3, kData, 16, desc_f_next, 99);
    driver_.publish(3);
    expect_malformed("outside its table");
}

TEST_F(VirtqueueTest, HeadOutsideTheQueue) {
    driver_.publish(VirtioTestDriver::kQueueSize);
    expect_malformed("head descriptor");
}

TEST_F(VirtqueueTest, BufferOutsideGuestRam) {
    descriptor(0, driver_.memory.size() - 8, 16, 0);
    driver_.publish(0);
    expect_malformed("outside guest RAM");
    descriptor(1, ~0ull - 4, 16, 0);
    driver_.publish(1);
    expect_malformed("outside guest RAM");
}

TEST_F(VirtqueueTest, ZeroLengthBuffer) {
    descriptor(0, kData, 0, 0);
    driver_.publish(0);
    expect_malformed("zero-length");
}

TEST_F(VirtqueueTest, ReadableAfterWritable) {
    descriptor(0, kData, 16, desc_f_next | desc_f_write, 1);
    descriptor(1, kData, 16, 0);
    driver_.publish(0);
    expect_malformed("device-readable buffer after a device-writable");
}

TEST_F(VirtqueueTest, AvailableIndexRunningAhead) {
    EXPECT_TRUE(driver_.memory.store_release<std::uint16_t>(VirtioTestDriver::avail(0) + 2, 100));
    expect_malformed("ahead");
}

TEST_F(VirtqueueTest, IndirectTable) {
    constexpr std::uint64_t kTable = kData + 0x10000;
    driver_.write_descriptor(kTable, 0, kData, 16, desc_f_next, 1);
    driver_.write_descriptor(kTable, 1, kData + 0x100, 32, desc_f_write, 0);
    descriptor(0, kTable, 32, desc_f_indirect);
    driver_.publish(0);
    std::string error;
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain) << error;
    EXPECT_EQ(chain_.readable_bytes, 16u);
    EXPECT_EQ(chain_.writable_bytes, 32u);
}

TEST_F(VirtqueueTest, MalformedIndirectTables) {
    constexpr std::uint64_t kTable = kData + 0x10000;
    constexpr std::uint64_t kInner = kData + 0x20000;
    driver_.write_descriptor(kInner, 0, kData, 16, 0, 0);
    driver_.write_descriptor(kTable, 0, kInner, 16, desc_f_indirect, 0);
    descriptor(0, kTable, 16, desc_f_indirect);
    driver_.publish(0);
    expect_malformed("inside an indirect table");

    descriptor(1, kTable, 24, desc_f_indirect);
    driver_.publish(1);
    expect_malformed("indirect table of 24 bytes");

    descriptor(2, kTable, 0, desc_f_indirect);
    driver_.publish(2);
    expect_malformed("indirect table of 0 bytes");

    descriptor(3, driver_.memory.size() - 16, 32, desc_f_indirect);
    driver_.publish(3);
    expect_malformed("outside guest RAM");

    descriptor(4, kTable, 16, desc_f_indirect | desc_f_next, 5);
    driver_.publish(4);
    expect_malformed("not the whole chain");

    descriptor(5, kData, 16, desc_f_next, 6);
    descriptor(6, kTable, 16, desc_f_indirect);
    driver_.publish(5);
    expect_malformed("not the whole chain");

    driver_.write_descriptor(kTable, 0, kData, 16, desc_f_next, 0);  // loops inside the table
    descriptor(7, kTable, 16, desc_f_indirect);
    driver_.publish(7);
    expect_malformed("loop");
}

TEST_F(VirtqueueTest, IndirectNotNegotiated) {
    queue_.stop();
    start(false, false);
    descriptor(0, kData, 16, desc_f_indirect);
    driver_.publish(0);
    expect_malformed("not negotiated");
}

TEST_F(VirtqueueTest, NoInterruptFlagSuppressesInterrupts) {
    descriptor(0, kData, 16, desc_f_write);
    driver_.publish(0);
    std::string error;
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain);
    EXPECT_TRUE(driver_.memory.store_release<std::uint16_t>(VirtioTestDriver::avail(0), avail_f_no_interrupt));
    EXPECT_TRUE(queue_.push(chain_, 16));
    EXPECT_FALSE(queue_.should_interrupt());
}

TEST_F(VirtqueueTest, EventIndexDecidesInterruptsAndKicks) {
    queue_.stop();
    start(true);
    const std::uint64_t used_event = VirtioTestDriver::avail(0) + 4 + 2 * VirtioTestDriver::kQueueSize;
    const std::uint64_t avail_event = VirtioTestDriver::used(0) + 4 + 8 * VirtioTestDriver::kQueueSize;
    std::string error;
    for (unsigned i = 0; i < 3; ++i) {
        descriptor(i, kData, 16, desc_f_write);
        driver_.publish(static_cast<std::uint16_t>(i));
    }
    // The driver wants an interrupt once the used index passes 1 (the second buffer).
    EXPECT_TRUE(driver_.memory.store_release<std::uint16_t>(used_event, 1));
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain);
    EXPECT_EQ(driver_.memory.load_acquire<std::uint16_t>(avail_event), 1) << "kick wanted at the next buffer";
    EXPECT_TRUE(queue_.push(chain_, 16));
    EXPECT_FALSE(queue_.should_interrupt());
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain);
    EXPECT_TRUE(queue_.push(chain_, 16));
    EXPECT_TRUE(queue_.should_interrupt());
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain);
    EXPECT_TRUE(queue_.push(chain_, 16));
    EXPECT_FALSE(queue_.should_interrupt());
    EXPECT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::empty);
    EXPECT_EQ(driver_.memory.load_acquire<std::uint16_t>(avail_event), 3);

    queue_.set_kicks_wanted(false);
    EXPECT_NE(driver_.memory.load_acquire<std::uint16_t>(avail_event), 3) << "poll mode: no kick at the next buffer";
}

TEST_F(VirtqueueTest, SeveralChainsArePublishedTogether) {
    std::vector<DescriptorChain> chains(3);
    std::string error;
    for (unsigned i = 0; i < 3; ++i) {
        descriptor(i, kData + 0x1000 * i, 64, desc_f_write);
        driver_.publish(static_cast<std::uint16_t>(i));
        ASSERT_EQ(queue_.pop(chains[i], error), Virtqueue::PopStatus::chain);
    }
    const std::vector<std::uint32_t> written = {64, 64, 12};
    ASSERT_TRUE(queue_.push(chains, written));
    ASSERT_EQ(driver_.used_idx(0), 3);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(driver_.used_element(0, i), std::make_pair(std::uint32_t{i}, written[i]));
    }
    EXPECT_FALSE(queue_.push(std::span(chains).first(2), std::span(written).first(1))) << "one length per chain";

    // A batch with one chain from before a reset returns none of them.
    descriptor(3, kData, 64, desc_f_write);
    driver_.publish(3);
    DescriptorChain stale;
    ASSERT_EQ(queue_.pop(stale, error), Virtqueue::PopStatus::chain);
    queue_.stop();
    start();
    descriptor(0, kData, 64, desc_f_write);
    driver_.publish(0);
    DescriptorChain fresh;
    ASSERT_EQ(queue_.pop(fresh, error), Virtqueue::PopStatus::chain);
    const std::vector<DescriptorChain> mixed = {fresh, stale};
    EXPECT_FALSE(queue_.push(mixed, std::vector<std::uint32_t>{64, 64}));
    EXPECT_EQ(driver_.used_idx(0), 3) << "nothing written";
}

TEST_F(VirtqueueTest, ChainsPoppedBeforeAResetAreNotReturned) {
    descriptor(0, kData, 16, desc_f_write);
    driver_.publish(0);
    std::string error;
    ASSERT_EQ(queue_.pop(chain_, error), Virtqueue::PopStatus::chain);
    queue_.stop();
    EXPECT_FALSE(queue_.push(chain_, 16));
    start();
    EXPECT_FALSE(queue_.push(chain_, 16)) << "a chain of the previous run";
    EXPECT_EQ(driver_.used_idx(0), 0);
}

}  // namespace
}  // namespace acrn::dm
