// A non-owning map from address ranges to devices, one for port I/O and one
// for MMIO. Registration refuses zero-length, wrapping and overlapping
// ranges. The bus holds weak references: whoever created a device owns it.
// With RequestCounts, each range carries its owner's counter for this bus,
// which the ioreq handler bumps for every request it serves.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "dm/io/io_device.hpp"
#include "dm/io/request_counts.hpp"

namespace acrn::dm {

enum class BusError { zero_length, wraps_around, overlaps, not_registered };

[[nodiscard]] const char* to_string(BusError error) noexcept;

struct RequestCounting {
    RequestCounts& counts;
    std::atomic<std::uint64_t> DeviceRequests::*counter;  // &DeviceRequests::pio or ::mmio
};

class AddressBus {
public:
    explicit AddressBus(std::string name, std::optional<RequestCounting> counting = std::nullopt)
        : name_(std::move(name)), counting_(counting) {
        if (counting_) {
            unclaimed_ = &(counting_->counts.of(RequestCounts::kUnclaimed).*counting_->counter);
        }
    }

    // nullopt on success.
    [[nodiscard]] std::optional<BusError> add(std::uint64_t base, std::uint64_t length, std::weak_ptr<IoDevice> device,
                                              std::string owner);
    [[nodiscard]] std::optional<BusError> remove(std::uint64_t base);

    struct Resolved {
        std::shared_ptr<IoDevice> device;
        std::uint64_t base;
        std::atomic<std::uint64_t>* requests;  // the owner's count; null without RequestCounts
    };
    // The device whose range holds all of [address, address + size).
    [[nodiscard]] std::optional<Resolved> resolve(std::uint64_t address, std::uint32_t size) const;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    void count_unclaimed() noexcept {
        if (unclaimed_ != nullptr) {
            unclaimed_->fetch_add(1, std::memory_order_relaxed);
        }
    }

private:
    struct Range {
        std::uint64_t length;
        std::weak_ptr<IoDevice> device;
        std::string owner;
        std::atomic<std::uint64_t>* requests;
    };

    const std::string name_;
    const std::optional<RequestCounting> counting_;
    std::atomic<std::uint64_t>* unclaimed_ = nullptr;
    mutable std::shared_mutex mutex_;
    std::map<std::uint64_t, Range> ranges_;  // by base
};

}  // namespace acrn::dm
