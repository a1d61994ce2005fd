// A log-scale histogram of durations: ten buckets per decade from 100 ns to
// 100 ms, one below and one above. Any thread may record into it (relaxed
// atomics, no lock) while another reads a snapshot; the snapshot's counts
// are each exact, though not taken at one instant. Percentiles come from the
// buckets (within a bucket's width, about 26 %), min and max are exact.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace acrn {

namespace detail {

// 100 ns × 10^(k/10), k = 0 .. 60: the lower bounds of the buckets above the first.
inline const std::array<std::uint64_t, 61>& latency_bucket_bounds() noexcept {
    static const auto table = [] {
        std::array<std::uint64_t, 61> out{};
        for (std::size_t k = 0; k < out.size(); ++k) {
            out[k] = static_cast<std::uint64_t>(std::llround(100.0 * std::pow(10.0, double(k) / 10)));
        }
        return out;
    }();
    return table;
}

}  // namespace detail

struct LatencySnapshot {
    static constexpr int kBucketsPerDecade = 10;
    static constexpr int kDecades = 6;  // 100 ns .. 100 ms
    static constexpr int kBuckets = kBucketsPerDecade * kDecades + 2;
    static constexpr std::uint64_t kLowestBoundNs = 100;
    static_assert(kBuckets - 1 == 61, "detail::latency_bucket_bounds() has a bound per bucket above the first");

    std::array<std::uint64_t, kBuckets> counts{};
    std::uint64_t min_ns = 0;  // 0 when empty
    std::uint64_t max_ns = 0;
    std::uint64_t total_ns = 0;

    // Bucket i (1 .. kBuckets-2) holds [lower_bound_ns(i), lower_bound_ns(i+1));
    // bucket 0 is below 100 ns and the last one from 100 ms on.
    [[nodiscard]] static std::uint64_t lower_bound_ns(int bucket) noexcept {
        if (bucket <= 0) {
            return 0;
        }
        return detail::latency_bucket_bounds()[static_cast<std::size_t>(std::min(bucket, kBuckets - 1) - 1)];
    }
    [[nodiscard]] static int bucket_of(std::uint64_t ns) noexcept {
        const auto& table = detail::latency_bucket_bounds();
        return static_cast<int>(std::upper_bound(table.begin(), table.end(), ns) - table.begin());
    }

    [[nodiscard]] std::uint64_t count() const noexcept {
        std::uint64_t sum = 0;
        for (const std::uint64_t c : counts) {
            sum += c;
        }
        return sum;
    }
    // The duration that a fraction `q` (0..1) of the samples do not exceed,
    // as the geometric middle of its bucket, within [min, max]; 0 when empty.
    [[nodiscard]] std::uint64_t percentile_ns(double q) const noexcept {
        const std::uint64_t total = count();
        if (total == 0) {
            return 0;
        }
        const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
        std::uint64_t seen = 0;
        int bucket = 0;
        for (; bucket < kBuckets; ++bucket) {
            seen += counts[bucket];
            if (seen >= rank && seen > 0) {
                break;
            }
        }
        std::uint64_t estimate;
        if (bucket == 0) {
            estimate = min_ns;
        } else if (bucket >= kBuckets - 1) {
            estimate = max_ns;
        } else {
            estimate = static_cast<std::uint64_t>(
                std::sqrt(static_cast<double>(lower_bound_ns(bucket)) * static_cast<double>(lower_bound_ns(bucket + 1))));
        }
        if (estimate < min_ns) {
            return min_ns;
        }
        return estimate > max_ns ? max_ns : estimate;
    }
};

class LatencyHistogram {
public:
    void record(std::chrono::nanoseconds duration) noexcept {
        const std::uint64_t ns = duration.count() > 0 ? static_cast<std::uint64_t>(duration.count()) : 0;
        counts_[LatencySnapshot::bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
        total_ns_.fetch_add(ns, std::memory_order_relaxed);
        std::uint64_t low = min_ns_.load(std::memory_order_relaxed);
        while (ns < low && !min_ns_.compare_exchange_weak(low, ns, std::memory_order_relaxed)) {
        }
        std::uint64_t high = max_ns_.load(std::memory_order_relaxed);
        while (ns > high && !max_ns_.compare_exchange_weak(high, ns, std::memory_order_relaxed)) {
        }
    }

    [[nodiscard]] LatencySnapshot snapshot() const noexcept {
        LatencySnapshot out;
        for (int bucket = 0; bucket < LatencySnapshot::kBuckets; ++bucket) {
            out.counts[bucket] = counts_[bucket].load(std::memory_order_relaxed);
        }
        const std::uint64_t low = min_ns_.load(std::memory_order_relaxed);
        out.min_ns = low == kNoSample ? 0 : low;
        out.max_ns = max_ns_.load(std::memory_order_relaxed);
        out.total_ns = total_ns_.load(std::memory_order_relaxed);
        return out;
    }

private:
    static constexpr std::uint64_t kNoSample = std::numeric_limits<std::uint64_t>::max();

    std::array<std::atomic<std::uint64_t>, LatencySnapshot::kBuckets> counts_{};
    std::atomic<std::uint64_t> min_ns_{kNoSample};
    std::atomic<std::uint64_t> max_ns_{0};
    std::atomic<std::uint64_t> total_ns_{0};
};

}  // namespace acrn
