#include "dm/io/address_bus.hpp"

#include <mutex>

namespace acrn::dm {

const char* to_string(BusError error) noexcept {
    switch (error) {
        case BusError::zero_length: return "zero-length range";
        case BusError::wraps_around: return "range wraps around the address space";
        case BusError::overlaps: return "range overlaps a registered one";
        case BusError::not_registered: return "no range registered at that base";
    }
    return "unknown bus error";
}

std::optional<BusError> AddressBus::add(std::uint64_t base, std::uint64_t length, std::weak_ptr<IoDevice> device,
                                        std::string owner) {
    if (length == 0) {
        return BusError::zero_length;
    }
    const std::uint64_t last = base + (length - 1);
    if (last < base) {
        return BusError::wraps_around;
    }
    std::unique_lock lock(mutex_);
    // The first range starting after `last` and its predecessor are the only candidates for overlap.
    auto next = ranges_.upper_bound(last);
    if (next != ranges_.begin()) {
        auto previous = std::prev(next);
        if (previous->first + (previous->second.length - 1) >= base) {
            return BusError::overlaps;
        }
    }
    std::atomic<std::uint64_t>* requests = counting_ ? &(counting_->counts.of(owner).*counting_->counter) : nullptr;
    ranges_.emplace(base, Range{length, std::move(device), std::move(owner), requests});
    return std::nullopt;
}

std::optional<BusError> AddressBus::remove(std::uint64_t base) {
    std::unique_lock lock(mutex_);
    if (ranges_.erase(base) == 0) {
        return BusError::not_registered;
    }
    return std::nullopt;
}

std::optional<AddressBus::Resolved> AddressBus::resolve(std::uint64_t address, std::uint32_t size) const {
    if (size == 0) {
        return std::nullopt;
    }
    std::shared_lock lock(mutex_);
    auto next = ranges_.upper_bound(address);
    if (next == ranges_.begin()) {
        return std::nullopt;
    }
    const auto& [base, range] = *std::prev(next);
    const std::uint64_t offset = address - base;
    if (offset >= range.length || size > range.length - offset) {
        return std::nullopt;
    }
    auto device = range.device.lock();
    if (!device) {
        return std::nullopt;
    }
    return Resolved{std::move(device), base, range.requests};
}

}  // namespace acrn::dm
