// How hv tells the Service OS that a vCPU's slot went PENDING. In ACRN this
// is vector 0xF3 injected into the Service VM; the hosted relay takes it as
// a direct call on the vCPU's thread.
#pragma once

#include <cstdint>

namespace acrn::hv {

class UpcallSink {
public:
    virtual ~UpcallSink() = default;
    virtual void on_ioreq_pending(std::uint16_t vmid, std::uint32_t vcpu) = 0;
};

}  // namespace acrn::hv
