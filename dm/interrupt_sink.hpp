// Interrupts as a device raises them: an INTx/ISA line or an MSI. Behind it
// sits the HSM (set IRQ line, inject MSI); tests record what devices raise.
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
