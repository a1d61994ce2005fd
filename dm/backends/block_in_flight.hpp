// The requests an engine has accepted and not yet completed, for drain():
// it waits for those accepted before it was called, not for later ones, so
// a submitter that keeps going cannot hold a drain forever.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace acrn::dm {

class InFlightRequests {
public:
    // Call when a request is accepted; pass the ticket to end().
    [[nodiscard]] std::uint64_t begin() {
        std::lock_guard lock(mutex_);
        ++open_by_epoch_[epoch_];
        return epoch_;
    }

    // Call once the request's completion has returned.
    void end(std::uint64_t ticket) {
        std::lock_guard lock(mutex_);
        const auto entry = open_by_epoch_.find(ticket);
        if (entry != open_by_epoch_.end() && --entry->second == 0) {
            open_by_epoch_.erase(entry);
        }
        // Under the lock: once a drain sees the count reach zero its engine
        // may be destroyed, so nothing may touch this object after unlocking.
        ended_.notify_all();
    }

    void wait_for_earlier() {
        std::unique_lock lock(mutex_);
        const auto mine = epoch_++;
        ended_.wait(lock, [&] { return open_by_epoch_.empty() || open_by_epoch_.begin()->first > mine; });
    }

private:
    std::mutex mutex_;
    std::condition_variable ended_;
    std::uint64_t epoch_ = 0;
    std::map<std::uint64_t, std::size_t> open_by_epoch_;
};

}  // namespace acrn::dm
