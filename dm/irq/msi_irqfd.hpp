// An MSI delivered through an irqfd: an eventfd the relay has bound to the
// message (address, data), so that sending it is one write to the eventfd,
// with no call into the relay. The binding follows the message: when the
// guest reprograms the vector, the old irqfd is deassigned and a new one
// assigned. Where the relay refuses an irqfd, the route turns itself off
// (one log line) and the caller injects the MSI the ordinary way.
//
// The MSI source that owns the route still counts every injection before
// it takes the route, so the interrupt-storm monitor sees irqfd-delivered
// interrupts as any others.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "abi/acrn/abi.h"
#include "common/event_fd.hpp"
#include "dm/pci/msi_message.hpp"

namespace acrn::dm {

class FastPaths;

// ACRN_IOCTL_IRQFD's request binding (or, with `deassign`, unbinding)
// eventfd `fd` to `message`.
[[nodiscard]] acrn_irqfd msi_irqfd_request(int fd, const MsiMessage& message, bool deassign = false);

class MsiIrqfd {
public:
    MsiIrqfd(FastPaths& fast_paths, std::string name) : fast_paths_(fast_paths), name_(std::move(name)) {}
    MsiIrqfd(const MsiIrqfd&) = delete;
    MsiIrqfd& operator=(const MsiIrqfd&) = delete;
    ~MsiIrqfd();

    // True if the message was sent through the irqfd; false if the route is
    // off (the caller sends it itself).
    bool send(const MsiMessage& message);
    [[nodiscard]] bool bound() const;

private:
    void unbind();

    FastPaths& fast_paths_;
    const std::string name_;
    mutable std::mutex mutex_;
    bool disabled_ = false;
    std::optional<EventFd> event_;
    MsiMessage bound_{};
};

}  // namespace acrn::dm
