// The interrupt controller as the device model reaches it: an IOAPIC input
// (GSI) driven high or low, or an MSI sent. Behind it sits the HSM (set IRQ
// line, inject MSI); tests record what arrives. Devices never call it
// directly: they raise their own sources (interrupt_sources.hpp), which
// combine shared lines and count injections.
#pragma once

#include <cstdint>

namespace acrn::dm {

class InterruptSink {
public:
    virtual ~InterruptSink() = default;
    virtual void set_line(std::uint32_t gsi, bool high) = 0;
    virtual void send_msi(std::uint64_t address, std::uint32_t data) = 0;
};

}  // namespace acrn::dm
