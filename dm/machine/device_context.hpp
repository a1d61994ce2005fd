// Everything a `-s` emulation is created from: where it sits, its checked
// configuration string, and the services of the machine it joins. Devices
// keep references only to what they use; all of it outlives them.
#pragma once

#include <string_view>

#include "abi/acrn/abi.h"
#include "dm/io/fast_paths.hpp"
#include "dm/pci/pci_bus.hpp"
#include "dm/virtio/virtio_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

class GuestMemory;
class InterruptSources;
class PowerControl;

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
