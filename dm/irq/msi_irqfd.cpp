#include "dm/irq/msi_irqfd.hpp"

#include <cstring>

#include "common/log.hpp"
#include "dm/io/fast_paths.hpp"

namespace acrn::dm {

acrn_irqfd msi_irqfd_request(int fd, const MsiMessage& message, bool deassign) {
    acrn_irqfd request{};
    request.fd = fd;
    request.flags = deassign ? ACRN_IRQFD_FLAG_DEASSIGN : 0;
    request.msi.msi_addr = message.address;
    request.msi.msi_data = message.data;
    return request;
}

MsiIrqfd::~MsiIrqfd() {
    std::lock_guard lock(mutex_);
    unbind();
}

bool MsiIrqfd::bound() const {
    std::lock_guard lock(mutex_);
    return event_.has_value();
}

void MsiIrqfd::unbind() {
    if (!event_) {
        return;
    }
    (void)fast_paths_.irqfd(msi_irqfd_request(event_->fd(), bound_, true));
    event_.reset();
}

bool MsiIrqfd::send(const MsiMessage& message) {
    std::lock_guard lock(mutex_);
    if (disabled_) {
        return false;
    }
    if (!event_ || bound_ != message) {
        unbind();
        EventFd event;
        if (const int rc = fast_paths_.irqfd(msi_irqfd_request(event.fd(), message)); rc < 0) {
            disabled_ = true;
            log_info("{}: no irqfd ({}); its interrupts are injected through the relay", name_, std::strerror(-rc));
            return false;
        }
        event_.emplace(std::move(event));
        bound_ = message;
    }
    return event_->signal();
}

}  // namespace acrn::dm
