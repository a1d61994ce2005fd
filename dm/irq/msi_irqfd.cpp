#include "dm/irq/msi_irqfd.hpp"

#include <cstring>

#include "common/log.hpp"
#include "dm/io/fast_paths.hpp"

namespace acrn::dm {

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
    acrn_irqfd request{};
    request.fd = event_->fd();
    request.flags = ACRN_IRQFD_FLAG_DEASSIGN;
    request.msi.msi_addr = bound_.address;
    request.msi.msi_data = bound_.data;
    (void)fast_paths_.irqfd(request);
    event_.reset();
}

bool MsiIrqfd::send(const MsiMessage& message) {
    std::lock_guard lock(mutex_);
    if (disabled_) {
        return false;
    }
    if (!event_ || bound_.address != message.address || bound_.data != message.data) {
        unbind();
        EventFd event;
        acrn_irqfd request{};
        request.fd = event.fd();
        request.msi.msi_addr = message.address;
        request.msi.msi_data = message.data;
        if (const int rc = fast_paths_.irqfd(request); rc < 0) {
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
