// The ioreq-client half of the HSM interface, straight onto a relay
// dispatcher, as the hosted relay serves it; everything else is -ENOTTY.
// For tests and benchmarks that run acrn-dm's ioreq loop without a VM.
#pragma once

#include <cerrno>
#include <optional>
#include <string>

#include "relay/hsm.hpp"
#include "relay/ioreq_dispatcher.hpp"

namespace acrn::testing {

class DispatcherHsm final : public Hsm {
public:
    explicit DispatcherHsm(relay::IoreqDispatcher& dispatcher) : dispatcher_(dispatcher) {}

    int create_vm(acrn_vm_creation&) override { return -ENOTTY; }
    int destroy_vm() override { return -ENOTTY; }
    int start_vm() override { return -ENOTTY; }
    int pause_vm() override { return -ENOTTY; }
    int reset_vm() override { return -ENOTTY; }
    int set_vcpu_regs(const acrn_vcpu_regs&) override { return -ENOTTY; }
    int set_memseg(const acrn_vm_memmap&) override { return -ENOTTY; }
    int unset_memseg(const acrn_vm_memmap&) override { return -ENOTTY; }
    int create_ioreq_client() override { return dispatcher_.create_default_client(); }
    int attach_ioreq_client() override {
        return attach_error != 0 ? attach_error : dispatcher_.attach_default_client();
    }
    int destroy_ioreq_client() override { return dispatcher_.destroy_default_client(); }
    int notify_request_finish(const acrn_ioreq_notify& notify) override {
        return dispatcher_.notify_finish(notify.vcpu);
    }
    int clear_vm_ioreq() override { return dispatcher_.clear_requests(); }
    int set_irqline(std::uint64_t) override { return -ENOTTY; }
    int inject_msi(const acrn_msi_entry&) override { return -ENOTTY; }
    int ioeventfd(const acrn_ioeventfd&) override { return -ENOTTY; }
    int irqfd(const acrn_irqfd&) override { return -ENOTTY; }
    std::optional<std::string> fatal_error() const override { return dispatcher_.fatal_error(); }
    int hypervisor_stats(HypervisorStats& out) const override {
        if (!stats) {
            return -ENOTTY;
        }
        out = *stats;
        return 0;
    }

    int attach_error = 0;  // a test sets it to make ATTACH fail
    std::optional<HypervisorStats> stats;  // what hypervisor_stats() answers, if set

private:
    relay::IoreqDispatcher& dispatcher_;
};

// A port request as hv's vCPU thread builds it for an IN or OUT.
inline acrn_io_request port_request(std::uint32_t direction, std::uint16_t port, std::uint32_t size,
                                    std::uint32_t value) {
    acrn_io_request request{};
    request.type = ACRN_IOREQ_TYPE_PORTIO;
    request.reqs.pio_request.direction = direction;
    request.reqs.pio_request.address = port;
    request.reqs.pio_request.size = size;
    request.reqs.pio_request.value = value;
    return request;
}

}  // namespace acrn::testing
