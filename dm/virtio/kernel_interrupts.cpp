#include "dm/virtio/kernel_interrupts.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstring>

#include "common/log.hpp"
#include "dm/io/fast_paths.hpp"
#include "dm/irq/msi_irqfd.hpp"

namespace acrn::dm {

struct KernelInterrupts::Queue {
    const EventFd* call = nullptr;
    // On a duplicate of the call's fd: dropping the watch takes the fd out
    // of the event loop's epoll set, so a bound call never wakes acrn-dm.
    std::unique_ptr<boost::asio::posix::stream_descriptor> watch;
    std::optional<MsiMessage> bound;
    std::uint64_t generation = 0;  // a completion of an older watch is stale
};

KernelInterrupts::KernelInterrupts(boost::asio::io_context& loop, FastPaths* direct, std::string name,
                                   unsigned queues, Raise raise, Route route)
    : loop_(loop),
      direct_(direct),
      name_(std::move(name)),
      raise_(std::move(raise)),
      route_(std::move(route)),
      queues_(queues) {}

KernelInterrupts::~KernelInterrupts() { stop(); }

void KernelInterrupts::add(unsigned queue, const EventFd& call) {
    std::lock_guard lock(mutex_);
    queues_.at(queue).call = &call;
}

void KernelInterrupts::start() {
    std::lock_guard lock(mutex_);
    running_ = true;
    for (unsigned index = 0; index < queues_.size(); ++index) {
        if (queues_[index].call != nullptr) {
            (void)queues_[index].call->consume();
            route_locked(index);
        }
    }
}

void KernelInterrupts::stop() {
    std::lock_guard lock(mutex_);
    running_ = false;
    for (Queue& queue : queues_) {
        unbind_locked(queue);
        unwatch_locked(queue);
    }
}

void KernelInterrupts::reroute() {
    std::lock_guard lock(mutex_);
    if (!running_) {
        return;
    }
    for (unsigned index = 0; index < queues_.size(); ++index) {
        if (queues_[index].call != nullptr) {
            route_locked(index);
        }
    }
}

bool KernelInterrupts::bound(unsigned queue) const {
    std::lock_guard lock(mutex_);
    return queues_.at(queue).bound.has_value();
}

void KernelInterrupts::route_locked(unsigned index) {
    Queue& queue = queues_[index];
    const std::optional<MsiMessage> wanted =
        direct_ != nullptr && !direct_refused_ ? route_(index) : std::optional<MsiMessage>{};
    if (wanted && wanted == queue.bound) {
        return;
    }
    // Calls the kernel makes while neither way is open stay in the eventfd's
    // counter: a new irqfd injects them at once, a new watch reads them.
    unbind_locked(queue);
    if (wanted) {
        unwatch_locked(queue);
        if (bind_locked(queue, *wanted)) {
            return;
        }
    }
    if (!queue.watch) {
        watch_locked(index);
    }
}

void KernelInterrupts::watch_locked(unsigned index) {
    Queue& queue = queues_[index];
    if (!queue.watch) {
        const int copy = ::dup(queue.call->fd());
        if (copy < 0) {
            log_error("{}: queue {}: cannot watch the kernel's interrupts: {}", name_, index, std::strerror(errno));
            return;
        }
        queue.watch = std::make_unique<boost::asio::posix::stream_descriptor>(loop_, copy);
    }
    queue.watch->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [weak = weak_from_this(), index, generation = queue.generation](
                                const boost::system::error_code& error) {
                                if (auto self = weak.lock(); self && !error) {
                                    self->on_call(index, generation);
                                }
                            });
    // Read after the wait is armed: a call made before it (which the wait
    // may never report, the event loop's epoll being edge-triggered) is
    // counted here, and a later one completes the wait.
    if (queue.call->consume() != 0) {
        raise_(index);
    }
}

void KernelInterrupts::unwatch_locked(Queue& queue) {
    if (queue.watch) {
        boost::system::error_code ignored;
        queue.watch->cancel(ignored);
        queue.watch.reset();
        ++queue.generation;
    }
}

bool KernelInterrupts::bind_locked(Queue& queue, const MsiMessage& message) {
    if (const int rc = direct_->irqfd(msi_irqfd_request(queue.call->fd(), message)); rc < 0) {
        direct_refused_ = true;
        log_info("{}: no irqfd for the kernel's interrupts ({}); acrn-dm passes them on", name_, std::strerror(-rc));
        return false;
    }
    queue.bound = message;
    return true;
}

void KernelInterrupts::unbind_locked(Queue& queue) {
    if (!queue.bound) {
        return;
    }
    (void)direct_->irqfd(msi_irqfd_request(queue.call->fd(), *queue.bound, true));
    queue.bound.reset();
}

void KernelInterrupts::on_call(unsigned index, std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    Queue& queue = queues_[index];
    if (!running_ || !queue.watch || queue.generation != generation) {
        return;  // the watch was dropped (reset, or the call is bound now)
    }
    watch_locked(index);
}

}  // namespace acrn::dm
