// The I/O requests each device was sent, by the name its ranges and PCI
// function were registered under: one entry per device however many ranges
// it has, and it outlives a BAR that moves (the range is registered again,
// the count goes on). Requests that no device claimed count under
// kUnclaimed. Counted by whichever thread serves the request (relaxed
// atomics), read at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace acrn::dm {

struct DeviceRequests {
    std::atomic<std::uint64_t> pio{0};
    std::atomic<std::uint64_t> mmio{0};
    std::atomic<std::uint64_t> pci_config{0};
};

class RequestCounts {
public:
    static constexpr const char* kUnclaimed = "(no device)";

    // The entry of `owner`, made on first use; valid as long as this object.
    [[nodiscard]] DeviceRequests& of(const std::string& owner) {
        std::lock_guard lock(mutex_);
        const auto found = by_owner_.find(owner);
        if (found != by_owner_.end()) {
            return *found->second;
        }
        Entry& entry = entries_.emplace_back(owner);
        by_owner_.emplace(owner, &entry.requests);
        return entry.requests;
    }

    struct Count {
        std::string owner;
        std::uint64_t pio = 0;
        std::uint64_t mmio = 0;
        std::uint64_t pci_config = 0;
        [[nodiscard]] std::uint64_t total() const noexcept { return pio + mmio + pci_config; }
    };
    // Every entry, in the order the owners first registered.
    [[nodiscard]] std::vector<Count> snapshot() const {
        std::lock_guard lock(mutex_);
        std::vector<Count> out;
        out.reserve(entries_.size());
        for (const Entry& entry : entries_) {
            out.push_back(Count{entry.owner, entry.requests.pio.load(std::memory_order_relaxed),
                                entry.requests.mmio.load(std::memory_order_relaxed),
                                entry.requests.pci_config.load(std::memory_order_relaxed)});
        }
        return out;
    }

private:
    struct Entry {
        explicit Entry(std::string name) : owner(std::move(name)) {}
        const std::string owner;
        DeviceRequests requests;
    };

    mutable std::mutex mutex_;
    std::deque<Entry> entries_;  // a deque keeps references stable
    std::map<std::string, DeviceRequests*> by_owner_;
};

}  // namespace acrn::dm
