// What the hypervisor side counts for one VM, read on demand by the device
// model (Hsm::hypervisor_stats): vCPU exits by reason and the round trip of
// each I/O request the vCPUs sent, from the vCPU's view (request written to
// answer taken), split by how the answer was found. Counted while the VM
// runs; a VM reset or destroy starts it again.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/latency_histogram.hpp"

namespace acrn {

enum class VcpuExit : std::uint8_t {
    port_io,
    mmio,
    interrupted,  // a signal or a kick took the vCPU out of KVM_RUN
    hlt,
    shutdown,
    system_event,
    failed_entry,
    internal_error,
    other,
};
inline constexpr std::size_t kVcpuExitKinds = 9;

[[nodiscard]] constexpr const char* to_string(VcpuExit exit) noexcept {
    switch (exit) {
        case VcpuExit::port_io: return "io";
        case VcpuExit::mmio: return "mmio";
        case VcpuExit::interrupted: return "interrupted";
        case VcpuExit::hlt: return "hlt";
        case VcpuExit::shutdown: return "shutdown";
        case VcpuExit::system_event: return "system_event";
        case VcpuExit::failed_entry: return "failed_entry";
        case VcpuExit::internal_error: return "internal_error";
        case VcpuExit::other: return "other";
    }
    return "?";
}

struct HypervisorStats {
    std::array<std::uint64_t, kVcpuExitKinds> exits{};  // by VcpuExit
    // A polling VM's requests answered while the vCPU spun.
    LatencySnapshot ioreq_polled;
    // Requests answered after the vCPU slept until notified: all of a
    // notification VM's, and a polling VM's that outlasted its spin.
    LatencySnapshot ioreq_notified;
};

}  // namespace acrn
