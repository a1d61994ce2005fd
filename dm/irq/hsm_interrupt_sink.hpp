// The interrupt sink of a running VM: lines and MSIs go to the HSM.
#pragma once

#include "dm/irq/interrupt_sink.hpp"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

class HsmInterruptSink final : public InterruptSink {
public:
    explicit HsmInterruptSink(Hsm& hsm) : hsm_(hsm) {}
    void set_line(std::uint32_t gsi, bool high) override;
    void send_msi(std::uint64_t address, std::uint32_t data) override;

private:
    Hsm& hsm_;
};

}  // namespace acrn::dm
