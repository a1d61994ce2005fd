// The ways a virtio device learns that the driver made buffers available,
// besides a plain write to its notification area (which arrives as an I/O
// request): an ioeventfd per queue, which the relay signals without a trip
// through the ioreq thread, watched on the event loop; and --virtio_poll's
// timer, which from 5 s after DRIVER_OK runs every queue each period and
// asks the driver not to kick. Both start at DRIVER_OK and stop at reset.
//
// Threads: start() and stop() are called on the ioreq thread; the watches
// and the timer live on the event loop, in a state shared with its handlers
// so that a handler that runs after stop() (or after the device is gone)
// finds nothing to do.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dm/virtio/virtio_settings.hpp"

namespace acrn {
class EventFd;
}  // namespace acrn

namespace acrn::dm {

class FastPaths;
class VirtioPciDevice;
}  // namespace acrn::dm

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class VirtioKicks {
public:
    VirtioKicks(VirtioPciDevice& device, boost::asio::io_context& loop, FastPaths& fast_paths,
                const VirtioSettings& settings);
    VirtioKicks(const VirtioKicks&) = delete;
    VirtioKicks& operator=(const VirtioKicks&) = delete;
    ~VirtioKicks();

    // DRIVER_OK: `notify_base` is the guest-physical address of queue 0's
    // notification slot (queue N's is 4 * N above it). `offloaded[N]`, where
    // not null, is the eventfd a kernel back end waits on for queue N: it
    // becomes the queue's ioeventfd, unwatched, and the poll timer leaves
    // the queue alone.
    void start(std::uint64_t notify_base, const std::vector<unsigned>& queues,
               const std::vector<const EventFd*>& offloaded);
    void stop();

private:
    struct Shared;
    struct Registered;

    void deassign_all();
    template <typename Descriptor>
    static void watch(const std::shared_ptr<Shared>& shared, std::uint64_t start, Descriptor& descriptor,
                      unsigned queue);

    VirtioPciDevice& device_;
    FastPaths& fast_paths_;
    const VirtioSettings settings_;
    std::shared_ptr<Shared> shared_;
    std::vector<Registered> registered_;
};

}  // namespace acrn::dm
