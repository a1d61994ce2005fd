// The interrupts of queues whose used rings a kernel back end fills
// (vhost-net): the kernel signals one eventfd per queue, its "call", when
// the driver wants an interrupt (it has applied EVENT_IDX itself). Each
// queue's call goes one of two ways:
//  - bound: while direct delivery is allowed and the queue's MSI-X vector
//    would be sent as it stands (MSI-X on, the vector and the function
//    unmasked), the eventfd is an irqfd for the vector's message, and the
//    relay injects the interrupt with no trip through acrn-dm, as QEMU's
//    vhost=on does;
//  - watched: otherwise acrn-dm watches the eventfd on the event loop and
//    raises the queue's interrupt through the transport, so INTx, a masked
//    vector's pending bit and the interrupt counters all work.
// The transport reroutes whenever the guest changes what a route depends
// on (a queue's vector, the MSI-X table or capability). A bound interrupt
// is neither counted nor delayable by acrn-dm, so --intr_monitor turns
// direct delivery off.
//
// Threads: start, stop and reroute run on the ioreq thread (guest writes);
// the watches complete on the event loop. One mutex orders them all and is
// taken before the PCI function's (the route and raise callbacks take that).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/event_fd.hpp"
#include "dm/pci/msi_message.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class FastPaths;

class KernelInterrupts : public std::enable_shared_from_this<KernelInterrupts> {
public:
    using Raise = std::function<void(unsigned queue)>;
    // The message `queue`'s interrupt may be bound to now, or nullopt.
    using Route = std::function<std::optional<MsiMessage>(unsigned queue)>;

    // `direct`: the relay's irqfds for bound routes, or null for watches only.
    KernelInterrupts(boost::asio::io_context& loop, FastPaths* direct, std::string name, unsigned queues, Raise raise,
                     Route route);
    KernelInterrupts(const KernelInterrupts&) = delete;
    KernelInterrupts& operator=(const KernelInterrupts&) = delete;
    ~KernelInterrupts();

    // Called before start(); `call` outlives us.
    void add(unsigned queue, const EventFd& call);
    // DRIVER_OK: calls left from before are dropped, then each queue is routed.
    void start();
    // Reset: every irqfd unbound, every watch dropped; no interrupt is
    // raised from here until start().
    void stop();
    // The guest changed a queue's vector or the MSI-X state.
    void reroute();
    // True while `queue`'s call is bound to an irqfd.
    [[nodiscard]] bool bound(unsigned queue) const;

private:
    struct Queue;

    void route_locked(unsigned index);
    void watch_locked(unsigned index);
    void unwatch_locked(Queue& queue);
    [[nodiscard]] bool bind_locked(Queue& queue, const MsiMessage& message);
    void unbind_locked(Queue& queue);
    void on_call(unsigned index, std::uint64_t generation);

    boost::asio::io_context& loop_;
    FastPaths* const direct_;
    const std::string name_;
    const Raise raise_;
    const Route route_;
    mutable std::mutex mutex_;
    std::vector<Queue> queues_;
    bool running_ = false;
    bool direct_refused_ = false;  // the relay refused an irqfd: watches from then on
};

}  // namespace acrn::dm
