#include "common/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace acrn {
namespace {

using std::chrono::nanoseconds;

TEST(LatencyHistogramTest, BucketsAreTenPerDecadeFrom100NsTo100Ms) {
    EXPECT_EQ(LatencySnapshot::bucket_of(0), 0);
    EXPECT_EQ(LatencySnapshot::bucket_of(99), 0);
    EXPECT_EQ(LatencySnapshot::bucket_of(100), 1);
    EXPECT_EQ(LatencySnapshot::bucket_of(125), 1);
    EXPECT_EQ(LatencySnapshot::bucket_of(126), 2);  // 100 × 10^0.1 = 125.9
    EXPECT_EQ(LatencySnapshot::bucket_of(1'000), 11);
    EXPECT_EQ(LatencySnapshot::bucket_of(999), 10);
    EXPECT_EQ(LatencySnapshot::bucket_of(99'999'999), LatencySnapshot::kBuckets - 2);
    EXPECT_EQ(LatencySnapshot::bucket_of(100'000'000), LatencySnapshot::kBuckets - 1);
    EXPECT_EQ(LatencySnapshot::bucket_of(~0ull), LatencySnapshot::kBuckets - 1);
    for (int bucket = 1; bucket < LatencySnapshot::kBuckets; ++bucket) {
        const std::uint64_t low = LatencySnapshot::lower_bound_ns(bucket);
        EXPECT_EQ(LatencySnapshot::bucket_of(low), bucket) << low;
        EXPECT_EQ(LatencySnapshot::bucket_of(low - 1), bucket - 1) << low;
    }
}

TEST(LatencyHistogramTest, PercentilesFallInTheRightBucketAndMinMaxAreExact) {
    LatencyHistogram histogram;
    EXPECT_EQ(histogram.snapshot().count(), 0u);
    EXPECT_EQ(histogram.snapshot().percentile_ns(0.5), 0u);
    // 98 samples of 10 us, one of 3 ms, one of 250 ms (past the last bound).
    for (int i = 0; i < 98; ++i) {
        histogram.record(nanoseconds(10'000 + i));
    }
    histogram.record(std::chrono::milliseconds(3));
    histogram.record(std::chrono::milliseconds(250));
    const LatencySnapshot snapshot = histogram.snapshot();
    EXPECT_EQ(snapshot.count(), 100u);
    EXPECT_EQ(snapshot.min_ns, 10'000u);
    EXPECT_EQ(snapshot.max_ns, 250'000'000u);
    const std::uint64_t median = snapshot.percentile_ns(0.5);
    EXPECT_GE(median, 10'000u);
    EXPECT_LT(median, 12'590u) << "inside the 10 us bucket";
    const std::uint64_t p99 = snapshot.percentile_ns(0.99);
    EXPECT_GE(p99, 2'512'000u);
    EXPECT_LT(p99, 3'163'000u) << "inside the 3 ms bucket";
    EXPECT_EQ(snapshot.percentile_ns(1.0), 250'000'000u) << "the top bucket reports the max";
    EXPECT_EQ(snapshot.total_ns, 98u * 10'000 + 97u * 98 / 2 + 3'000'000 + 250'000'000);
}

TEST(LatencyHistogramTest, ASingleSampleIsEveryPercentile) {
    LatencyHistogram histogram;
    histogram.record(nanoseconds(4'321));
    const LatencySnapshot snapshot = histogram.snapshot();
    EXPECT_EQ(snapshot.percentile_ns(0.0), 4'321u);
    EXPECT_EQ(snapshot.percentile_ns(0.5), 4'321u);
    EXPECT_EQ(snapshot.percentile_ns(0.99), 4'321u);
    EXPECT_EQ(histogram.snapshot().min_ns, 4'321u);
}

TEST(LatencyHistogramTest, ThreadsRecordWithoutLosingASample) {
    LatencyHistogram histogram;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&histogram, t] {
            for (int i = 0; i < 25'000; ++i) {
                histogram.record(nanoseconds(100 + t * 1'000 + i % 7));
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const LatencySnapshot snapshot = histogram.snapshot();
    EXPECT_EQ(snapshot.count(), 100'000u);
    EXPECT_EQ(snapshot.min_ns, 100u);
    EXPECT_EQ(snapshot.max_ns, 3'106u);
}

}  // namespace
}  // namespace acrn
