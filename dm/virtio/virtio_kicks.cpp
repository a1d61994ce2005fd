#include "dm/virtio/virtio_kicks.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>

#include "common/event_fd.hpp"
#include "common/log.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/virtio/virtio_pci.hpp"

namespace acrn::dm {

struct VirtioKicks::Registered {
    acrn_ioeventfd request;
    EventFd event;
};

// What the event loop's handlers share with the device: the watches and the
// timer are touched on the loop only; `generation` tells a handler whether
// the start it belongs to is still the current one.
struct VirtioKicks::Shared {
    explicit Shared(boost::asio::io_context& loop) : loop(loop) {}

    boost::asio::io_context& loop;
    std::mutex mutex;
    std::uint64_t generation = 0;
    std::weak_ptr<PciDevice> device;
    std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> watches;
    std::optional<boost::asio::steady_timer> timer;

    [[nodiscard]] bool current(std::uint64_t start) {
        std::lock_guard lock(mutex);
        return generation == start;
    }
    [[nodiscard]] std::shared_ptr<VirtioPciDevice> lock_device() {
        return std::static_pointer_cast<VirtioPciDevice>(device.lock());
    }
};

VirtioKicks::VirtioKicks(VirtioPciDevice& device, boost::asio::io_context& loop, FastPaths& fast_paths,
                         const VirtioSettings& settings)
    : device_(device), fast_paths_(fast_paths), settings_(settings), shared_(std::make_shared<Shared>(loop)) {}


VirtioKicks::~VirtioKicks() {
    deassign_all();
    // The device goes away once the event loop no longer runs, so the loop's
    // objects can be dropped from here.
    std::lock_guard lock(shared_->mutex);
    ++shared_->generation;
    shared_->watches.clear();
    shared_->timer.reset();
}

void VirtioKicks::deassign_all() {
    for (Registered& each : registered_) {
        acrn_ioeventfd request = each.request;
        request.flags |= ACRN_IOEVENTFD_FLAG_DEASSIGN;
        (void)fast_paths_.ioeventfd(request);
    }
    registered_.clear();
}

void VirtioKicks::start(std::uint64_t notify_base, const std::vector<unsigned>& queues,
                        const std::vector<const EventFd*>& offloaded) {
    std::uint64_t start = 0;
    {
        std::lock_guard lock(shared_->mutex);
        start = ++shared_->generation;
        shared_->device = device_.weak_from_this();
    }
    std::vector<std::pair<unsigned, int>> descriptors;  // queue, our own duplicate for the loop
    if (settings_.fast_paths) {
        for (unsigned queue : queues) {
            const bool kernel_served = queue < offloaded.size() && offloaded[queue] != nullptr;
            std::optional<EventFd> event = kernel_served ? EventFd::duplicate(offloaded[queue]->fd()) : EventFd();
            if (!event) {
                log_warning("{}: cannot duplicate queue {}'s kick eventfd: {}", device_.name(), queue,
                            std::strerror(errno));
                continue;
            }
            Registered entry{acrn_ioeventfd{}, std::move(*event)};
            entry.request.fd = static_cast<std::uint32_t>(entry.event.fd());
            entry.request.addr = notify_base + VirtioPciDevice::kNotifyMultiplier * queue;
            entry.request.len = 2;
            const int rc = fast_paths_.ioeventfd(entry.request);
            if (rc < 0) {
                // The relay's answer is the same for every queue: say it once.
                log_info("{}: no ioeventfd ({}); kicks come as I/O requests", device_.name(), std::strerror(-rc));
                break;
            }
            if (!kernel_served) {
                descriptors.emplace_back(queue, ::fcntl(entry.event.fd(), F_DUPFD_CLOEXEC, 0));
            }
            registered_.push_back(std::move(entry));
        }
    }
    const std::optional<std::uint32_t> poll_ns = settings_.poll_ns;
    const auto poll_start_delay = settings_.poll_start_delay;
    boost::asio::post(shared_->loop, [shared = shared_, start, descriptors, poll_ns, poll_start_delay] {
        if (!shared->current(start)) {
            for (const auto& [queue, fd] : descriptors) {
                ::close(fd);
            }
            return;
        }
        for (const auto& [queue, fd] : descriptors) {
            if (fd < 0) {
                continue;
            }
            shared->watches.push_back(std::make_unique<boost::asio::posix::stream_descriptor>(shared->loop, fd));
            watch(shared, start, *shared->watches.back(), queue);
        }
        if (!poll_ns) {
            return;
        }
        shared->timer.emplace(shared->loop);
        struct Poll {
            std::shared_ptr<Shared> shared;
            std::uint64_t start;
            std::chrono::nanoseconds period;
            void operator()(const boost::system::error_code& error) const {
                if (error || !shared->current(start) || !shared->timer) {
                    return;
                }
                if (auto device = shared->lock_device()) {
                    device->poll_queues();
                }
                shared->timer->expires_after(period);
                shared->timer->async_wait(*this);
            }
        };
        shared->timer->expires_after(poll_start_delay);
        shared->timer->async_wait(Poll{shared, start, std::chrono::nanoseconds(*poll_ns)});
    });
}

void VirtioKicks::stop() {
    {
        std::lock_guard lock(shared_->mutex);
        ++shared_->generation;
    }
    deassign_all();
    boost::asio::post(shared_->loop, [shared = shared_] {
        shared->watches.clear();
        shared->timer.reset();
    });
}

template <typename Descriptor>
void VirtioKicks::watch(const std::shared_ptr<Shared>& shared, std::uint64_t start, Descriptor& descriptor,
                        unsigned queue) {
    descriptor.async_wait(Descriptor::wait_read,
                          [shared, start, &descriptor, queue](const boost::system::error_code& error) {
                              if (error || !shared->current(start)) {
                                  return;  // stopped: the descriptor is being closed
                              }
                              // However many kicks it counts, the queue is run once; a
                              // read that finds nothing (another took it) is no error.
                              std::uint64_t count = 0;
                              if (::read(descriptor.native_handle(), &count, sizeof count) < 0) {
                                  count = 0;
                              }
                              if (auto device = shared->lock_device()) {
                                  device->run_kick(queue);
                              }
                              watch(shared, start, descriptor, queue);
                          });
}

}  // namespace acrn::dm
