// The VM-wide virtio settings of the command line, as every virtio device
// is created with them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace acrn::dm {

struct VirtioSettings {
    // --virtio_poll <ns>: from 5 s after DRIVER_OK, the queues are run every
    // <ns> and the driver is asked not to kick (ACRN's poll mode).
    std::optional<std::uint32_t> poll_ns;
    std::chrono::milliseconds poll_start_delay{5000};  // ACRN's: firmware and driver bring-up come first
    // Kicks through ioeventfds and MSI-X interrupts through irqfds where the
    // relay offers them (the switch keeps the plain paths tested and
    // measurable: --virtio_fast_paths off).
    bool fast_paths = true;
    // With the fast paths: a kernel back end's (vhost's) queue interrupts
    // go from its eventfd to the guest through an irqfd, not through
    // acrn-dm, which then neither counts nor can delay them; off under
    // --intr_monitor (dm/virtio/kernel_interrupts.hpp).
    bool direct_kernel_interrupts = true;
    // --virtio_msi: a single MSI instead of MSI-X.
    bool single_msi = false;
};

}  // namespace acrn::dm
