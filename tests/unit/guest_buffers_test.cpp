// GuestBuffers: scatter-gather lists of guest ranges, checked once and
// copied across range boundaries; fixed edge cases and seeded random lists
// checked against a byte-by-byte model.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dm/guest_buffers.hpp"

namespace acrn::dm {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kLowEnd = GuestMemory::kLowMemoryLimit;
constexpr std::uint64_t kHigh = GuestMemory::kHighMemoryBase;
constexpr std::uint64_t kHighSize = 4 * kMiB;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

class GuestBuffersTest : public ::testing::Test {
protected:
    GuestMemory memory_{kLowEnd + kHighSize};

    std::string read_guest(std::uint64_t gpa, std::size_t length) const {
        std::string text(length, '\0');
        EXPECT_TRUE(memory_.read(gpa, text.data(), length));
        return text;
    }
    static std::span<const std::uint8_t> bytes_of(const std::string& text) {
        return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
    }
};

TEST_F(GuestBuffersTest, CopiesAcrossRangeBoundaries) {
    const std::vector<GuestRange> ranges{{0x1000, 3}, {kLowEnd - 4, 4}, {0x5000, 0}, {kHigh, 5}};
    const auto buffers = GuestBuffers::map(memory_, ranges);
    ASSERT_TRUE(buffers);
    EXPECT_EQ(buffers->size(), 12u);
    EXPECT_EQ(buffers->pieces().size(), 3u);  // the empty range adds nothing

    EXPECT_EQ(buffers->copy_to_guest(0, bytes_of("abcdefghijkl")), 12u);
    EXPECT_EQ(read_guest(0x1000, 3), "abc");
    EXPECT_EQ(read_guest(kLowEnd - 4, 4), "defg");
    EXPECT_EQ(read_guest(kHigh, 5), "hijkl");

    std::string out(6, '.');
    auto out_bytes = std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size());
    EXPECT_EQ(buffers->copy_from_guest(2, out_bytes), 6u);  // from the first range into the third
    EXPECT_EQ(out, "cdefgh");
    EXPECT_EQ(buffers->copy_from_guest(9, out_bytes), 3u);  // clipped at the end
    EXPECT_EQ(out.substr(0, 3), "jkl");
    EXPECT_EQ(buffers->copy_from_guest(12, out_bytes), 0u);
    EXPECT_EQ(buffers->copy_from_guest(kMax, out_bytes), 0u);
    EXPECT_EQ(buffers->copy_to_guest(11, bytes_of("XY")), 1u);
    EXPECT_EQ(read_guest(kHigh + 4, 1), "X");
    EXPECT_EQ(buffers->copy_to_guest(3, {}), 0u);
}

TEST_F(GuestBuffersTest, RefusesAnyRangeOutsideOneRegion) {
    const std::vector<std::vector<GuestRange>> bad{
        {{kLowEnd - 4, 5}},                     // crosses the 2 GiB end
        {{kLowEnd, 1}},                         // in the hole
        {{kHigh - 1, 2}},                       // into high memory
        {{kLowEnd - 1, kHigh - kLowEnd + 2}},   // across the hole
        {{kHigh + kHighSize - 1, 2}},           // past the end of RAM
        {{kMax, 1}},                            // the top of the address space
        {{kMax - 7, 16}},                       // wraps around
        {{0x1000, kMax}},
        {{0, 16}, {kHigh, 16}, {kHigh + kHighSize, 1}},  // the last one spoils the list
    };
    for (const auto& ranges : bad) {
        EXPECT_FALSE(GuestBuffers::map(memory_, ranges)) << ranges.back().gpa << "+" << ranges.back().length;
    }
}

TEST_F(GuestBuffersTest, EmptyListsAndEmptyRanges) {
    const auto none = GuestBuffers::map(memory_, {});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    const std::vector<GuestRange> empties{{kMax, 0}, {kLowEnd, 0}};  // no byte is touched
    const auto empty = GuestBuffers::map(memory_, empties);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->size(), 0u);
    EXPECT_EQ(empty->copy_to_guest(0, bytes_of("x")), 0u);
    const std::vector<GuestRange> whole{{0, kLowEnd}, {kHigh, kHighSize}};
    const auto all = GuestBuffers::map(memory_, whole);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), kLowEnd + kHighSize);
}

// Random lists around every edge of the layout, each judged by a model that
// computes in 128 bits; for good lists, random copies in and out compared
// byte by byte with what the model says each guest byte holds (overlapping
// ranges included: a later piece's write wins, as it is written later).
TEST_F(GuestBuffersTest, RandomRangeListsAgreeWithAModel) {
    std::mt19937_64 random(20240611);
    const std::uint64_t anchors[] = {0, 0x9FC00, kLowEnd, kHigh, kHigh + kHighSize, kMax};
    auto pick = [&](std::uint64_t limit) { return std::uniform_int_distribution<std::uint64_t>(0, limit)(random); };
    auto in_ram = [](std::uint64_t gpa, std::uint64_t length) {
        const unsigned __int128 end = static_cast<unsigned __int128>(gpa) + length;
        return length == 0 || end <= kLowEnd || (gpa >= kHigh && end <= kHigh + kHighSize);
    };
    unsigned good_lists = 0;
    unsigned bad_lists = 0;
    for (int round = 0; round < 600; ++round) {
        std::vector<GuestRange> ranges(pick(6));
        bool valid = true;
        for (GuestRange& range : ranges) {
            const std::uint64_t anchor = anchors[pick(std::size(anchors) - 1)];
            range.gpa = anchor + pick(0x4000) - 0x2000;  // wraps below 0 and above 2^64 on purpose
            range.length = pick(9) == 0 ? 0 : pick(9) == 0 ? kMax - pick(0x4000) : pick(0x1000);
            valid = valid && in_ram(range.gpa, range.length);
        }
        const auto buffers = GuestBuffers::map(memory_, ranges);
        ASSERT_EQ(buffers.has_value(), valid) << "round " << round;
        if (!buffers) {
            ++bad_lists;
            continue;
        }
        ++good_lists;
        // The stream position -> guest address table the model keeps.
        std::vector<std::uint64_t> stream;
        for (const GuestRange& range : ranges) {
            for (std::uint64_t i = 0; i < range.length; ++i) {
                stream.push_back(range.gpa + i);
            }
        }
        ASSERT_EQ(buffers->size(), stream.size());

        const std::uint64_t offset = pick(stream.size() + 8);
        std::vector<std::uint8_t> data(pick(stream.size() + 8));
        for (auto& byte : data) {
            byte = static_cast<std::uint8_t>(random());
        }
        const std::uint64_t expected_count =
            offset >= stream.size() ? 0 : std::min<std::uint64_t>(data.size(), stream.size() - offset);
        ASSERT_EQ(buffers->copy_to_guest(offset, data), expected_count);
        std::map<std::uint64_t, std::uint8_t> model;
        for (std::uint64_t i = 0; i < expected_count; ++i) {
            model[stream[offset + i]] = data[i];
        }
        for (const auto& [gpa, byte] : model) {
            std::uint8_t seen = 0;
            ASSERT_TRUE(memory_.read(gpa, &seen, 1));
            ASSERT_EQ(seen, byte) << "round " << round << " gpa " << gpa;
        }

        std::vector<std::uint8_t> out(pick(stream.size() + 8), 0xEE);
        const std::uint64_t from = pick(stream.size() + 8);
        const std::uint64_t out_count =
            from >= stream.size() ? 0 : std::min<std::uint64_t>(out.size(), stream.size() - from);
        ASSERT_EQ(buffers->copy_from_guest(from, out), out_count);
        for (std::uint64_t i = 0; i < out_count; ++i) {
            std::uint8_t seen = 0;
            ASSERT_TRUE(memory_.read(stream[from + i], &seen, 1));
            ASSERT_EQ(out[i], seen) << "round " << round << " at " << i;
        }
        for (std::uint64_t i = out_count; i < out.size(); ++i) {
            ASSERT_EQ(out[i], 0xEE);  // past the end: untouched
        }
    }
    // The generator reaches both outcomes often.
    EXPECT_GT(good_lists, 60u);
    EXPECT_GT(bad_lists, 60u);
}

}  // namespace
}  // namespace acrn::dm
