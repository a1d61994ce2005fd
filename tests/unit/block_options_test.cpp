// virtio-blk's configuration string: every option ACRN's syntax has, and
// every way to get one wrong.
#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "dm/backends/block_backend.hpp"

namespace acrn::dm {
namespace {

using Cache = BlockOptions::Cache;

// The message parse_block_options throws, or "" when it accepts.
std::string block_option_error(std::string_view config) {
    try {
        (void)parse_block_options(config);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

void expect_block_option_error(std::string_view config, std::string_view expected) {
    const auto message = block_option_error(config);
    EXPECT_NE(message.find(expected), std::string::npos)
        << "config '" << config << "': message '" << message << "' lacks '" << expected << "'";
    EXPECT_EQ(message.rfind("virtio-blk: ", 0), 0U) << message;
}

TEST(BlockOptionsTest, PathAloneTakesTheDefaults) {
    const auto options = parse_block_options("/images/disk.img");
    ASSERT_TRUE(options.path.has_value());
    EXPECT_EQ(*options.path, "/images/disk.img");
    EXPECT_FALSE(options.read_only);
    EXPECT_EQ(options.cache, Cache::write_through);
    EXPECT_EQ(options.engine, BlockOptions::Engine::threads);
    EXPECT_FALSE(options.discard.has_value());
    EXPECT_EQ(options.logical_sector, 512U);
    EXPECT_EQ(options.physical_sector, 512U);
    EXPECT_FALSE(options.range.has_value());
    EXPECT_EQ(options.iothreads, 0U);
    EXPECT_EQ(options.queues, 1U);
}

TEST(BlockOptionsTest, PathMayContainAnEqualsSign) {
    EXPECT_EQ(parse_block_options("/images/a=b.img").path, "/images/a=b.img");
}

TEST(BlockOptionsTest, NodiskLeavesThePathForLater) {
    EXPECT_FALSE(parse_block_options("nodisk").path.has_value());
    const auto options = parse_block_options("nodisk,ro,writeback");
    EXPECT_FALSE(options.path.has_value());
    EXPECT_TRUE(options.read_only);
    EXPECT_EQ(options.cache, Cache::write_back);
}

TEST(BlockOptionsTest, IothreadAndMqComeBeforeThePath) {
    EXPECT_EQ(parse_block_options("iothread,disk.img").iothreads, 1U);
    EXPECT_EQ(parse_block_options("iothread=3,disk.img").iothreads, 3U);
    EXPECT_EQ(parse_block_options("mq=4,disk.img").queues, 4U);
    const auto both = parse_block_options("iothread=2,mq=4,disk.img,ro");
    EXPECT_EQ(both.iothreads, 2U);
    EXPECT_EQ(both.queues, 4U);
    EXPECT_EQ(both.path, "disk.img");
    EXPECT_TRUE(both.read_only);
    EXPECT_EQ(parse_block_options("mq=2,iothread,nodisk").iothreads, 1U);
}

TEST(BlockOptionsTest, IothreadAndMqAfterThePathAreRefused) {
    expect_block_option_error("disk.img,iothread", "'iothread' must come before the path");
    expect_block_option_error("disk.img,iothread=2", "'iothread' must come before the path");
    expect_block_option_error("disk.img,mq=2", "'mq' must come before the path");
}

TEST(BlockOptionsTest, BadIothreadAndMqValuesAreRefused) {
    expect_block_option_error("iothread=0,disk.img", "iothread: '0' must be at least 1");
    expect_block_option_error("iothread=x,disk.img", "iothread: 'x' is not a decimal number");
    expect_block_option_error("iothread=,disk.img", "iothread: '' is not a decimal number");
    expect_block_option_error("iothread=-1,disk.img", "iothread: '-1' is not a decimal number");
    expect_block_option_error("iothread,iothread=2,disk.img", "iothread: given twice");
    expect_block_option_error("mq,disk.img", "mq: needs a number of queues");
    expect_block_option_error("mq=0,disk.img", "mq: '0' must be at least 1");
    expect_block_option_error("mq=2x,disk.img", "mq: '2x' is not a decimal number");
    expect_block_option_error("mq=99999999999999999999,disk.img", "mq: '99999999999999999999' is too large");
    expect_block_option_error("mq=2,mq=2,disk.img", "mq: given twice");
}

TEST(BlockOptionsTest, CacheModes) {
    EXPECT_EQ(parse_block_options("d,writeback").cache, Cache::write_back);
    EXPECT_EQ(parse_block_options("d,writethru").cache, Cache::write_through);
    EXPECT_EQ(parse_block_options("d,nocache").cache, Cache::direct);
    // Direct I/O is write-through, so the two agree whatever the order.
    EXPECT_EQ(parse_block_options("d,writethru,nocache").cache, Cache::direct);
    EXPECT_EQ(parse_block_options("d,nocache,writethru").cache, Cache::direct);
    EXPECT_EQ(parse_block_options("d,writeback,writeback").cache, Cache::write_back);
}

TEST(BlockOptionsTest, ConflictingCacheModesAreRefused) {
    expect_block_option_error("d,writeback,writethru", "'writethru' conflicts with 'writeback'");
    expect_block_option_error("d,writethru,writeback", "'writeback' conflicts with 'writethru'");
    expect_block_option_error("d,nocache,writeback", "'writeback' conflicts with 'nocache'");
    expect_block_option_error("d,writeback,nocache", "'nocache' conflicts with 'writeback'");
}

TEST(BlockOptionsTest, FlagsTakeNoValue) {
    for (const char* flag : {"ro", "writeback", "writethru", "nocache", "no_bst_block"}) {
        expect_block_option_error(std::string("d,") + flag + "=1", std::string(flag) + ": takes no value");
    }
}

TEST(BlockOptionsTest, ReadOnlyAndTheVsblQuirk) {
    EXPECT_TRUE(parse_block_options("d,ro").read_only);
    EXPECT_TRUE(parse_block_options("d,ro,ro").read_only);
    const auto quirk = parse_block_options("d,no_bst_block");
    EXPECT_EQ(quirk.path, "d");
    EXPECT_FALSE(quirk.read_only);
}

TEST(BlockOptionsTest, DiscardDefaultsAndValues) {
    const auto plain = parse_block_options("d,discard");
    ASSERT_TRUE(plain.discard.has_value());
    EXPECT_EQ(plain.discard->max_sectors, std::numeric_limits<std::uint32_t>::max() / 512);
    EXPECT_EQ(plain.discard->max_segments, 1U);
    EXPECT_EQ(plain.discard->alignment, 1U);
    const auto given = parse_block_options("d,discard=2048:4:8");
    ASSERT_TRUE(given.discard.has_value());
    EXPECT_EQ(given.discard->max_sectors, 2048U);
    EXPECT_EQ(given.discard->max_segments, 4U);
    EXPECT_EQ(given.discard->alignment, 8U);
}

TEST(BlockOptionsTest, BadDiscardValuesAreRefused) {
    expect_block_option_error("d,discard=1:2", "discard: '1:2' is not max_sectors:max_segments:alignment");
    expect_block_option_error("d,discard=1:2:3:4", "discard: '1:2:3:4' is not");
    expect_block_option_error("d,discard=", "discard: '' is not");
    expect_block_option_error("d,discard=0:1:1", "discard max_sectors: '0' must be at least 1");
    expect_block_option_error("d,discard=1:0:1", "discard max_segments: '0' must be at least 1");
    expect_block_option_error("d,discard=1:1:0", "discard alignment: '0' must be at least 1");
    expect_block_option_error("d,discard=a:1:1", "discard max_sectors: 'a' is not a decimal number");
    expect_block_option_error("d,discard=4294967296:1:1", "discard max_sectors: '4294967296' is too large");
    expect_block_option_error("d,discard,discard", "discard: given twice");
}

TEST(BlockOptionsTest, SectorSizes) {
    const auto logical = parse_block_options("d,sectorsize=4096");
    EXPECT_EQ(logical.logical_sector, 4096U);
    EXPECT_EQ(logical.physical_sector, 4096U);
    const auto both = parse_block_options("d,sectorsize=512/4096");
    EXPECT_EQ(both.logical_sector, 512U);
    EXPECT_EQ(both.physical_sector, 4096U);
    EXPECT_EQ(parse_block_options("d,sectorsize=1024/65536").physical_sector, 65536U);
    EXPECT_EQ(parse_block_options("d,sectorsize=2048/2048").physical_sector, 2048U);
}

TEST(BlockOptionsTest, BadSectorSizesAreRefused) {
    EXPECT_EQ(block_option_error("d,sectorsize=3000"), "virtio-blk: sectorsize: '3000' is not a power of two");
    expect_block_option_error("d,sectorsize=0", "sectorsize: '0' is not a power of two");
    expect_block_option_error("d,sectorsize=256", "sectorsize: '256' is outside 512..4096");
    expect_block_option_error("d,sectorsize=8192", "sectorsize: '8192' is outside 512..4096");
    expect_block_option_error("d,sectorsize=512/131072", "sectorsize: '131072' is outside 512..65536");
    expect_block_option_error("d,sectorsize=512/1000", "sectorsize: '1000' is not a power of two");
    expect_block_option_error("d,sectorsize=4096/512",
                              "sectorsize: '4096/512' has a physical sector smaller than the logical one");
    expect_block_option_error("d,sectorsize=", "sectorsize: '' is not a decimal number");
    expect_block_option_error("d,sectorsize=512/", "sectorsize: '' is not a decimal number");
    expect_block_option_error("d,sectorsize=4k", "sectorsize: '4k' is not a decimal number");
    expect_block_option_error("d,sectorsize=512,sectorsize=512", "sectorsize: given twice");
}

TEST(BlockOptionsTest, Range) {
    const auto options = parse_block_options("d,range=2048/409600");
    ASSERT_TRUE(options.range.has_value());
    EXPECT_EQ(options.range->start_lba, 2048U);
    EXPECT_EQ(options.range->sectors, 409600U);
    EXPECT_EQ(parse_block_options("d,range=0/1").range->start_lba, 0U);
}

TEST(BlockOptionsTest, BadRangesAreRefused) {
    expect_block_option_error("d,range=10", "range: '10' is not lba/size");
    expect_block_option_error("d,range=", "range: '' is not lba/size");
    expect_block_option_error("d,range=/5", "range lba: '' is not a decimal number");
    expect_block_option_error("d,range=0x10/5", "range lba: '0x10' is not a decimal number");
    expect_block_option_error("d,range=1/0", "range size: '0' must be at least 1");
    expect_block_option_error("d,range=1/2/3", "range size: '2/3' is not a decimal number");
    expect_block_option_error("d,range=18446744073709551615/1", "ends past the largest sector number");
    expect_block_option_error("d,range=1/1,range=1/1", "range: given twice");
}

TEST(BlockOptionsTest, Engines) {
    EXPECT_EQ(parse_block_options("d,aio=threads").engine, BlockOptions::Engine::threads);
    EXPECT_EQ(parse_block_options("d,aio=io_uring").engine, BlockOptions::Engine::io_uring);
    expect_block_option_error("d,aio=posix", "aio: 'posix' is not threads or io_uring");
    expect_block_option_error("d,aio", "aio: '' is not threads or io_uring");
    expect_block_option_error("d,aio=threads,aio=io_uring", "aio: given twice");
}

TEST(BlockOptionsTest, EverythingTogether) {
    const auto options = parse_block_options(
        "iothread=2,mq=2,/dev/sda,writeback,discard=8:2:1,sectorsize=512/4096,range=64/128,aio=io_uring,"
        "no_bst_block,ro");
    EXPECT_EQ(options.iothreads, 2U);
    EXPECT_EQ(options.queues, 2U);
    EXPECT_EQ(options.path, "/dev/sda");
    EXPECT_EQ(options.cache, Cache::write_back);
    EXPECT_EQ(options.discard->max_sectors, 8U);
    EXPECT_EQ(options.physical_sector, 4096U);
    EXPECT_EQ(options.range->sectors, 128U);
    EXPECT_EQ(options.engine, BlockOptions::Engine::io_uring);
    EXPECT_TRUE(options.read_only);
}

TEST(BlockOptionsTest, UnknownOptionsAreRefused) {
    EXPECT_EQ(block_option_error("d,foo"), "virtio-blk: unknown option 'foo'");
    EXPECT_EQ(block_option_error("d,foo=bar"), "virtio-blk: unknown option 'foo'");
    EXPECT_EQ(block_option_error("d,io_uring"), "virtio-blk: unknown option 'io_uring'");
    EXPECT_EQ(block_option_error("d,ro,"), "virtio-blk: unknown option ''");
}

TEST(BlockOptionsTest, APathIsNeeded) {
    EXPECT_EQ(block_option_error(""), "virtio-blk: needs a path or nodisk");
    EXPECT_EQ(block_option_error(",ro"), "virtio-blk: needs a path or nodisk");
    EXPECT_EQ(block_option_error("iothread"), "virtio-blk: needs a path or nodisk");
    EXPECT_EQ(block_option_error("iothread=2,mq=2"), "virtio-blk: needs a path or nodisk");
}

}  // namespace
}  // namespace acrn::dm
