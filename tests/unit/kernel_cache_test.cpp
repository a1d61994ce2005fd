// The kernel cache: a miss, a hit after a store, a damaged entry ignored
// (and replaced), a directory that cannot be written, and no cache at all.
#include "dm/loader/kernel_cache.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace acrn::dm {
namespace {

class KernelCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/acrn-kernel-cache-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        ::chmod(dir_.c_str(), 0755);
        std::filesystem::remove_all(dir_);
    }
    std::string dir_;
    const std::vector<std::uint8_t> kernel_ = std::vector<std::uint8_t>(300000, 0x5A);
};

TEST_F(KernelCacheTest, TheKeyIsTheSha256OfTheBzImage) {
    const std::vector<std::uint8_t> abc = {'a', 'b', 'c'};
    EXPECT_EQ(KernelCache::key_of(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(KernelCacheTest, AStoredKernelIsFoundAgainAndAMissIsEmpty) {
    const KernelCache cache(dir_ + "/sub");  // made when first needed
    EXPECT_FALSE(cache.find("k1"));
    ASSERT_TRUE(cache.store("k1", kernel_));
    EXPECT_EQ(cache.find("k1"), kernel_);
    EXPECT_FALSE(cache.find("k2"));
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/sub")) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << "no temporary file left";
    }
}

TEST_F(KernelCacheTest, ADamagedEntryIsIgnoredAndWrittenAgain) {
    const KernelCache cache(dir_);
    ASSERT_TRUE(cache.store("k", kernel_));
    {
        std::fstream file(cache.path_of("k"), std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(1000);
        file.put(0x00);  // one byte of the kernel changed
    }
    EXPECT_FALSE(cache.find("k"));
    std::filesystem::resize_file(cache.path_of("k"), 5000);  // truncated
    EXPECT_FALSE(cache.find("k"));
    std::ofstream(cache.path_of("k"), std::ios::trunc) << "not an entry";
    EXPECT_FALSE(cache.find("k"));
    ASSERT_TRUE(cache.store("k", kernel_));
    EXPECT_EQ(cache.find("k"), kernel_);
}

TEST_F(KernelCacheTest, AnUnwritableDirectoryOrNoneIsNotAnError) {
    ASSERT_EQ(::chmod(dir_.c_str(), 0555), 0);
    const KernelCache cache(dir_);
    if (::geteuid() == 0) {
        // root writes anyway; a directory under a file cannot be made by anyone
        const KernelCache impossible(dir_ + "/file/sub");
        std::ofstream(dir_ + "/file") << "x";
        EXPECT_FALSE(impossible.store("k", kernel_));
        EXPECT_FALSE(impossible.find("k"));
    } else {
        EXPECT_FALSE(cache.store("k", kernel_));
    }
    const KernelCache none("");
    EXPECT_FALSE(none.store("k", kernel_));
    EXPECT_FALSE(none.find("k"));
}

}  // namespace
}  // namespace acrn::dm
