#include "dm/irq/hsm_interrupt_sink.hpp"

#include <cstring>

#include "common/log.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {

void HsmInterruptSink::set_line(std::uint32_t gsi, bool high) {
    const std::uint64_t op = high ? ACRN_IRQLINE_SET_HIGH : ACRN_IRQLINE_SET_LOW;
    if (const int rc = hsm_.set_irqline(op << 32 | gsi); rc < 0) {
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("interrupt: setting GSI {} {} failed: {}", gsi, high ? "high" : "low", std::strerror(-rc));
        }
    }
}

void HsmInterruptSink::send_msi(std::uint64_t address, std::uint32_t data) {
    const acrn_msi_entry msi{address, data};
    if (const int rc = hsm_.inject_msi(msi); rc < 0) {
        static RateLimiter limiter;
        if (limiter.allow()) {
            log_warning("interrupt: MSI {:#x}/{:#x} failed: {}", address, data, std::strerror(-rc));
        }
    }
}

}  // namespace acrn::dm
