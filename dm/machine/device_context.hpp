// Everything a `-s` emulation is created from: where it sits, its checked
// configuration string, and the services of the machine it joins. Devices
// keep references only to what they use; all of it outlives them.
#pragma once

#include <string_view>

#include "abi/acrn/abi.h"
#include "dm/pci/pci_bus.hpp"
#include "dm/virtio/virtio_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class GuestMemory;
class InterruptSources;
class PowerControl;

// The relay's fast paths, as a device registers them: a guest write that
// signals an eventfd without a trip through acrn-dm (ioeventfd), and an
// eventfd that injects an MSI (irqfd). Each returns 0 or -errno, as the
// HSM ioctls do.
class FastPaths {
public:
    virtual ~FastPaths() = default;
    [[nodiscard]] virtual int ioeventfd(const acrn_ioeventfd& request) = 0;
    [[nodiscard]] virtual int irqfd(const acrn_irqfd& request) = 0;
};

struct DeviceContext {
    PciAddress address;
    std::string_view config;  // what followed the emulation's name; checked by the table
    GuestMemory& memory;
    InterruptSources& interrupts;
    boost::asio::io_context& loop;  // timers and fd watches; device work posted here runs off the ioreq thread
    FastPaths& fast_paths;
    PowerControl& power;
    const VirtioSettings& virtio;
    unsigned vcpus;  // the VM's vCPU count (virtio-blk's mq= is bounded by it)
};

}  // namespace acrn::dm
