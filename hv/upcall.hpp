// How hv tells the Service OS that a vCPU's slot went PENDING. In ACRN this
// is vector 0xF3 injected into the Service VM; the hosted relay takes it as
// a direct call on the vCPU's thread.
#pragma once

#include <cstdint>
#include <string>

namespace acrn::hv {

class UpcallSink {
public:
    virtual ~UpcallSink() = default;
    virtual void on_ioreq_pending(std::uint16_t vmid, std::uint32_t vcpu) = 0;
    // hv's own code failed on a vCPU thread (an exception, not the guest's
    // doing) and the VM cannot go on. Called on that thread just before hv
    // powers the VM off with its synthetic S5 write, so that the Service OS
    // can tell this power-off from the guest's own.
    virtual void on_vm_fatal(std::uint16_t /*vmid*/, std::uint32_t /*vcpu*/, const std::string& /*reason*/) {}
};

}  // namespace acrn::hv
