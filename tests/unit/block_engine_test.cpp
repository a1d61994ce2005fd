// Both block engines on a real file, through the same tests: transfers
// through several odd-sized iovecs, flush, discard, write-zeroes, the
// requests they must refuse, direct I/O on unaligned buffers, and the
// threading contract (completions exactly once, never inside submit, drain,
// destruction with requests in flight).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <liburing.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dm/backends/block_backend.hpp"
#include "dm/backends/block_engines.hpp"
#include "tests/unit/block_scratch_image.hpp"

namespace acrn::dm {
namespace {

using block_test::pattern_byte;
using block_test::ScratchImage;
using Op = BlockRequest::Op;

constexpr std::uint64_t engine_image_bytes = 256 * 1024;

std::unique_ptr<BlockFile> open_engine_file(const ScratchImage& image, const std::string& extra = "") {
    return BlockFile::open(parse_block_options(image.path() + extra));
}

// Runs one request and waits for its result.
long run_block_request(BlockEngine& engine, BlockRequest request) {
    std::promise<long> result;
    auto future = result.get_future();
    engine.submit(std::move(request), [&result](long value) { result.set_value(value); });
    return future.get();
}

BlockRequest transfer_request(Op op, std::uint64_t offset, std::vector<std::vector<std::uint8_t>>& buffers) {
    BlockRequest request;
    request.op = op;
    request.offset = offset;
    for (auto& buffer : buffers) {
        request.iov.push_back({buffer.data(), buffer.size()});
    }
    return request;
}

BlockRequest range_request(Op op, std::uint64_t offset, std::uint64_t length, bool may_unmap = false) {
    BlockRequest request;
    request.op = op;
    request.offset = offset;
    request.length = length;
    request.may_unmap = may_unmap;
    return request;
}

std::vector<std::uint8_t> joined(const std::vector<std::vector<std::uint8_t>>& buffers) {
    std::vector<std::uint8_t> all;
    for (const auto& buffer : buffers) {
        all.insert(all.end(), buffer.begin(), buffer.end());
    }
    return all;
}

std::vector<std::uint8_t> pattern_at(std::uint64_t offset, std::size_t length) {
    std::vector<std::uint8_t> bytes(length);
    for (std::size_t at = 0; at < length; ++at) {
        bytes[at] = pattern_byte(offset + at);
    }
    return bytes;
}

// "" where the kernel gives us an io_uring ring, else why not.
std::string io_uring_refusal() {
    io_uring ring{};
    const int error = ::io_uring_queue_init(8, &ring, 0);
    if (error != 0) {
        return std::string("the kernel refuses io_uring: ") + std::strerror(-error);
    }
    ::io_uring_queue_exit(&ring);
    return "";
}

// From now on io_uring_setup fails with ENOSYS on the calling thread (and
// the threads it starts), as on a kernel without io_uring; seccomp filters
// belong to a thread, so the rest of the process is untouched. "" once in
// place, else why not.
std::string refuse_io_uring_on_this_thread() {
    sock_filter program[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
    // Without CAP_SYS_ADMIN, a filter needs no_new_privs (this thread's too).
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
    }
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) {
        return std::string("a seccomp filter: ") + std::strerror(errno);
    }
    return "";
}

class BlockEngineTest : public ::testing::TestWithParam<BlockOptions::Engine> {
protected:
    void SetUp() override {
        if (GetParam() == BlockOptions::Engine::io_uring) {
            if (const auto refusal = io_uring_refusal(); !refusal.empty()) {
                FAIL() << refusal << ": the io_uring engine cannot be tested here";
            }
        }
    }

    std::unique_ptr<BlockEngine> make_engine(BlockFile& file, unsigned workers = 4) {
        if (GetParam() == BlockOptions::Engine::threads) {
            return make_thread_pool_block_engine(file, workers);
        }
        int error = 0;
        auto engine = make_io_uring_block_engine(file, workers, error);
        if (!engine) {
            ADD_FAILURE() << "no io_uring ring here: " << std::strerror(-error);
        }
        return engine;
    }

    std::vector<std::uint8_t> read_back(BlockEngine& engine, std::uint64_t offset, std::size_t length) {
        std::vector<std::vector<std::uint8_t>> buffers{std::vector<std::uint8_t>(length, 0xee)};
        EXPECT_EQ(run_block_request(engine, transfer_request(Op::read, offset, buffers)), static_cast<long>(length));
        return buffers[0];
    }
};

TEST_P(BlockEngineTest, WritesAndReadsBackThroughSeveralIovecs) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    std::vector<std::vector<std::uint8_t>> written{std::vector<std::uint8_t>(100, 0x11),
                                                   std::vector<std::uint8_t>(3000, 0x22),
                                                   std::vector<std::uint8_t>(0), std::vector<std::uint8_t>(996, 0x33)};
    for (std::size_t at = 0; at < written[1].size(); ++at) {
        written[1][at] = static_cast<std::uint8_t>(at);
    }
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, 8192, written)), 4096);
    EXPECT_EQ(image.read(8192, 4096), joined(written));
    EXPECT_EQ(image.read(8192 - 512, 512), pattern_at(8192 - 512, 512));
    EXPECT_EQ(image.read(8192 + 4096, 512), pattern_at(8192 + 4096, 512));

    std::vector<std::vector<std::uint8_t>> read{std::vector<std::uint8_t>(7), std::vector<std::uint8_t>(4000),
                                                std::vector<std::uint8_t>(89)};
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::read, 8192, read)), 4096);
    EXPECT_EQ(joined(read), joined(written));
}

TEST_P(BlockEngineTest, ReadsTheFileAsItIs) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(read_back(*engine, 0, 512), pattern_at(0, 512));
    EXPECT_EQ(read_back(*engine, engine_image_bytes - 1024, 1024), pattern_at(engine_image_bytes - 1024, 1024));
    EXPECT_EQ(read_back(*engine, 0, engine_image_bytes), pattern_at(0, engine_image_bytes));
}

TEST_P(BlockEngineTest, OffsetsAreWithinTheWindow) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image, ",range=4/8");
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(read_back(*engine, 0, 512), pattern_at(2048, 512));
    std::vector<std::vector<std::uint8_t>> written{std::vector<std::uint8_t>(512, 0x5a)};
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, 3584, written)), 512);
    EXPECT_EQ(image.read(2048 + 3584, 512), written[0]);
    EXPECT_EQ(image.read(2048 + 4096, 512), pattern_at(2048 + 4096, 512));
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, 4096, written)), -EIO);
    EXPECT_EQ(image.read(2048 + 4096, 512), pattern_at(2048 + 4096, 512));
}

TEST_P(BlockEngineTest, FlushSucceedsInEveryCacheMode) {
    ScratchImage image(engine_image_bytes);
    for (const char* mode : {"", ",writeback", ",nocache", ",ro"}) {
        auto file = open_engine_file(image, mode);
        auto engine = make_engine(*file);
        ASSERT_NE(engine, nullptr);
        EXPECT_EQ(run_block_request(*engine, range_request(Op::flush, 0, 0)), 0) << mode;
    }
}

TEST_P(BlockEngineTest, DiscardReadsBackZeros) {
    ScratchImage image(engine_image_bytes);
    for (const char* mode : {"", ",writeback"}) {
        auto file = open_engine_file(image, mode);
        auto engine = make_engine(*file);
        ASSERT_NE(engine, nullptr);
        EXPECT_EQ(run_block_request(*engine, range_request(Op::discard, 65536, 8192)), 0) << mode;
        EXPECT_EQ(read_back(*engine, 65536, 8192), std::vector<std::uint8_t>(8192, 0)) << mode;
        EXPECT_EQ(read_back(*engine, 65536 - 512, 512), pattern_at(65536 - 512, 512));
        EXPECT_EQ(read_back(*engine, 65536 + 8192, 512), pattern_at(65536 + 8192, 512));
        EXPECT_EQ(run_block_request(*engine, range_request(Op::discard, 0, 0)), 0);
    }
    struct stat info {};
    ASSERT_EQ(::stat(image.path().c_str(), &info), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(info.st_size), engine_image_bytes);
}

TEST_P(BlockEngineTest, WriteZeroesWithAndWithoutUnmap) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::write_zeroes, 4096, 1536)), 0);
    EXPECT_EQ(image.read(4096, 1536), std::vector<std::uint8_t>(1536, 0));
    EXPECT_EQ(image.read(4096 + 1536, 512), pattern_at(4096 + 1536, 512));
    EXPECT_EQ(run_block_request(*engine, range_request(Op::write_zeroes, 131072, 65536, true)), 0);
    EXPECT_EQ(image.read(131072, 65536), std::vector<std::uint8_t>(65536, 0));
    EXPECT_EQ(image.read(131072 - 512, 512), pattern_at(131072 - 512, 512));
    EXPECT_EQ(run_block_request(*engine, range_request(Op::write_zeroes, 0, 0)), 0);
}

TEST_P(BlockEngineTest, RequestsOutsideTheWindowFailWithEio) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    std::vector<std::vector<std::uint8_t>> two_sectors{std::vector<std::uint8_t>(1024, 0x77)};
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::read, engine_image_bytes - 512, two_sectors)), -EIO);
    EXPECT_EQ(two_sectors[0], std::vector<std::uint8_t>(1024, 0x77));
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, engine_image_bytes - 512, two_sectors)), -EIO);
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, ~0ULL - 100, two_sectors)), -EIO);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::discard, engine_image_bytes, 512)), -EIO);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::write_zeroes, 512, ~0ULL)), -EIO);
    EXPECT_EQ(image.read(engine_image_bytes - 512, 512), pattern_at(engine_image_bytes - 512, 512));
    std::vector<std::vector<std::uint8_t>> none;
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::read, engine_image_bytes, none)), 0);
}

TEST_P(BlockEngineTest, ChangesToAReadOnlyImageFailWithErofs) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image, ",ro");
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    std::vector<std::vector<std::uint8_t>> sector{std::vector<std::uint8_t>(512, 0x99)};
    EXPECT_EQ(run_block_request(*engine, transfer_request(Op::write, 0, sector)), -EROFS);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::discard, 0, 512)), -EROFS);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::write_zeroes, 0, 512)), -EROFS);
    EXPECT_EQ(read_back(*engine, 0, 512), pattern_at(0, 512));
}

TEST_P(BlockEngineTest, ReadPastAShrunkFileReadsZeros) {
    ScratchImage image(8192);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    ASSERT_EQ(::truncate(image.path().c_str(), 4096), 0);
    auto expected = pattern_at(0, 4096);
    expected.resize(8192, 0);
    EXPECT_EQ(read_back(*engine, 0, 8192), expected);
}

TEST_P(BlockEngineTest, DirectIoTakesUnalignedBuffers) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image, ",nocache");
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    // Odd addresses and lengths, as guest buffers may be.
    std::vector<std::uint8_t> memory(8192 + 3);
    for (std::size_t at = 0; at < memory.size(); ++at) {
        memory[at] = static_cast<std::uint8_t>(at * 13);
    }
    BlockRequest write;
    write.op = Op::write;
    write.offset = 4096;
    write.iov = {{memory.data() + 1, 700}, {memory.data() + 701, 8192 - 700}};
    EXPECT_EQ(run_block_request(*engine, write), 8192);
    EXPECT_EQ(image.read(4096, 8192), std::vector<std::uint8_t>(memory.begin() + 1, memory.begin() + 1 + 8192));

    std::vector<std::uint8_t> into(8192 + 5, 0);
    BlockRequest read;
    read.op = Op::read;
    read.offset = 4096;
    read.iov = {{into.data() + 3, 1}, {into.data() + 4, 8191}};
    EXPECT_EQ(run_block_request(*engine, read), 8192);
    EXPECT_EQ(std::vector<std::uint8_t>(into.begin() + 3, into.begin() + 3 + 8192),
              std::vector<std::uint8_t>(memory.begin() + 1, memory.begin() + 1 + 8192));
    // Direct I/O cannot reach part of a sector.
    write.offset = 100;
    EXPECT_EQ(run_block_request(*engine, write), -EINVAL);
    write.offset = 0;
    write.iov = {{memory.data(), 100}};
    EXPECT_EQ(run_block_request(*engine, write), -EINVAL);
}

TEST_P(BlockEngineTest, ManyRequestsFromManyThreadsCompleteExactlyOnce) {
    constexpr int submitters = 4;
    constexpr int per_submitter = 250;
    constexpr std::size_t block = 512;
    ScratchImage image(submitters * per_submitter * block);
    auto file = open_engine_file(image, ",writeback");
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    std::vector<std::vector<std::uint8_t>> data(submitters * per_submitter);
    std::vector<std::atomic<int>> completions(data.size());
    std::vector<std::atomic<long>> results(data.size());
    std::vector<std::thread> threads;
    for (int submitter = 0; submitter < submitters; ++submitter) {
        threads.emplace_back([&, submitter] {
            for (int index = submitter * per_submitter; index < (submitter + 1) * per_submitter; ++index) {
                data[index].assign(block, static_cast<std::uint8_t>(index * 31 + 1));
                BlockRequest request;
                request.op = Op::write;
                request.offset = static_cast<std::uint64_t>(index) * block;
                request.iov = {{data[index].data(), block}};
                engine->submit(std::move(request), [&, index](long result) {
                    results[index] = result;
                    completions[index].fetch_add(1);
                });
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    engine->drain();
    for (std::size_t index = 0; index < data.size(); ++index) {
        ASSERT_EQ(completions[index].load(), 1) << "request " << index;
        ASSERT_EQ(results[index].load(), static_cast<long>(block)) << "request " << index;
        ASSERT_EQ(image.read(index * block, block), data[index]) << "request " << index;
    }
}

TEST_P(BlockEngineTest, CompletionsRunOffTheSubmittingThread) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file);
    ASSERT_NE(engine, nullptr);
    std::vector<std::vector<std::uint8_t>> outside{std::vector<std::uint8_t>(512)};
    for (auto request : {transfer_request(Op::read, 0, outside), transfer_request(Op::read, ~0ULL, outside),
                         range_request(Op::flush, 0, 0)}) {
        std::promise<std::thread::id> completed_on;
        auto future = completed_on.get_future();
        engine->submit(std::move(request), [&](long) { completed_on.set_value(std::this_thread::get_id()); });
        EXPECT_NE(future.get(), std::this_thread::get_id());
    }
}

TEST_P(BlockEngineTest, DrainWaitsForEveryEarlierRequest) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file, 2);
    ASSERT_NE(engine, nullptr);
    std::atomic<int> completed{0};
    std::vector<std::uint8_t> buffer(4096 * 64);
    for (int index = 0; index < 64; ++index) {
        BlockRequest request;
        request.op = index % 2 == 0 ? Op::read : Op::flush;
        request.offset = static_cast<std::uint64_t>(index) * 4096;
        request.iov = {{buffer.data() + index * 4096, 4096}};
        engine->submit(std::move(request), [&](long) {
            std::this_thread::yield();
            completed.fetch_add(1);
        });
    }
    engine->drain();
    EXPECT_EQ(completed.load(), 64);
    engine->drain();  // nothing in flight: returns at once
}

TEST_P(BlockEngineTest, DestructionWithRequestsInFlightCompletesThem) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    std::atomic<int> completed{0};
    std::vector<std::uint8_t> buffer(100 * 4096);
    {
        auto engine = make_engine(*file, 2);
        ASSERT_NE(engine, nullptr);
        for (int index = 0; index < 100; ++index) {
            BlockRequest request;
            request.op = Op::read;
            request.offset = static_cast<std::uint64_t>(index % 64) * 4096;
            request.iov = {{buffer.data() + index * 4096, 4096}};
            engine->submit(std::move(request), [&](long) { completed.fetch_add(1); });
        }
    }
    EXPECT_EQ(completed.load(), 100);
}

TEST_P(BlockEngineTest, ACompletionThatThrowsIsSurvived) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file, 1);
    ASSERT_NE(engine, nullptr);
    std::atomic<int> calls{0};
    engine->submit(range_request(Op::flush, 0, 0), [&](long) {
        calls.fetch_add(1);
        throw std::runtime_error("device bug");
    });
    engine->drain();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(run_block_request(*engine, range_request(Op::flush, 0, 0)), 0);
}

TEST_P(BlockEngineTest, ACompletionMaySubmitTheNextRequest) {
    ScratchImage image(engine_image_bytes);
    auto file = open_engine_file(image);
    auto engine = make_engine(*file, 1);
    ASSERT_NE(engine, nullptr);
    std::promise<long> second;
    auto future = second.get_future();
    engine->submit(range_request(Op::flush, 0, 0), [&](long) {
        engine->submit(range_request(Op::flush, 0, 0), [&](long result) { second.set_value(result); });
    });
    EXPECT_EQ(future.get(), 0);
}

INSTANTIATE_TEST_SUITE_P(Block, BlockEngineTest,
                         ::testing::Values(BlockOptions::Engine::threads, BlockOptions::Engine::io_uring),
                         [](const auto& info) {
                             return info.param == BlockOptions::Engine::threads ? "threads" : "io_uring";
                         });

TEST(BlockEngineChoiceTest, OptionsChooseTheEngine) {
    ScratchImage image(4096);
    auto threads_file = open_engine_file(image);
    EXPECT_STREQ(make_block_engine(*threads_file, 4)->name(), "threads");
    const auto refusal = io_uring_refusal();
    ASSERT_EQ(refusal, "") << "aio=io_uring cannot get a ring here";
    auto uring_file = open_engine_file(image, ",aio=io_uring");
    EXPECT_STREQ(make_block_engine(*uring_file, 4)->name(), "io_uring");
    EXPECT_STREQ(make_block_engine(*uring_file, 100000)->name(), "io_uring");  // depth clamped
}

TEST(BlockEngineChoiceTest, WhereTheKernelRefusesARingTheThreadPoolServes) {
    ScratchImage image(4096);
    auto uring_file = open_engine_file(image, ",aio=io_uring");
    std::string filter_error;
    std::string refusal;
    std::string chosen;
    long flushed = -1;
    std::thread refused([&] {
        filter_error = refuse_io_uring_on_this_thread();
        if (!filter_error.empty()) {
            return;
        }
        refusal = io_uring_refusal();
        auto engine = make_block_engine(*uring_file, 4);
        chosen = engine->name();
        flushed = run_block_request(*engine, range_request(Op::flush, 0, 0));
    });
    refused.join();
    ASSERT_EQ(filter_error, "") << "cannot make the kernel refuse io_uring to one thread";
    ASSERT_NE(refusal, "") << "the filter did not stop io_uring_setup";
    EXPECT_EQ(chosen, "threads");
    EXPECT_EQ(flushed, 0);
}

TEST(BlockEngineChoiceTest, ARingTheKernelRefusesIsReported) {
    ScratchImage image(4096);
    auto file = open_engine_file(image, ",aio=io_uring");
    int error = 0;
    EXPECT_EQ(make_io_uring_block_engine(*file, 1U << 20, error), nullptr);
    EXPECT_LT(error, 0);
}

}  // namespace
}  // namespace acrn::dm
