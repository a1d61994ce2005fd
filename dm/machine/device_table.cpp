#include "dm/machine/device_table.hpp"

#include <algorithm>
#include <array>

#include "dm/devices/hostbridge.hpp"
#include "dm/devices/lpc_bridge.hpp"
#include "dm/devices/testdev.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/virtio/virtio_blk.hpp"
#include "dm/virtio/virtio_console.hpp"
#include "dm/virtio/virtio_net.hpp"
#include "dm/virtio/virtio_rnd.hpp"

namespace acrn::dm {
namespace {

using Support = PciEmulation::Support;

std::string no_config(std::string_view config) {
    if (config.empty()) {
        return {};
    }
    return "takes no configuration (got '" + std::string(config) + "')";
}

constexpr PciEmulation not_yet(std::string_view name) { return PciEmulation{name, Support::not_yet}; }
constexpr PciEmulation obsolete(std::string_view name) { return PciEmulation{name, Support::obsolete}; }

const std::array kEmulations{
    PciEmulation{.name = "hostbridge",
                 .check_config = no_config,
                 .create = [](const DeviceContext&) -> std::shared_ptr<PciDevice> {
                     return std::make_shared<HostBridge>();
                 },
                 .kept_across_s3 = true},
    PciEmulation{.name = "lpc",
                 .check_config = no_config,
                 .create = [](const DeviceContext&) -> std::shared_ptr<PciDevice> {
                     return std::make_shared<LpcBridge>();
                 },
                 .bus0_only = true,
                 .one_per_vm = true,
                 .is_isa_bridge = true,
                 .kept_across_s3 = true},
    PciEmulation{.name = "testdev",
                 .check_config = no_config,
                 .create = [](const DeviceContext& context) -> std::shared_ptr<PciDevice> {
                     return std::make_shared<TestDevice>(context.power);
                 }},
    PciEmulation{.name = "virtio-rnd",
                 .check_config = VirtioRnd::check_config,
                 .create = [](const DeviceContext& context) -> std::shared_ptr<PciDevice> {
                     return std::make_shared<VirtioRnd>(context);
                 },
                 .kept_across_s3 = true},
    PciEmulation{.name = "virtio-blk",
                 .check_config = VirtioBlk::check_config,
                 .create = VirtioBlk::create,
                 .kept_across_s3 = true},
    PciEmulation{.name = "virtio-console",
                 .check_config = VirtioConsole::check_config,
                 .create = VirtioConsole::create,
                 .kept_across_s3 = true},
    PciEmulation{.name = "virtio-net",
                 .check_config = VirtioNet::check_config,
                 .create = VirtioNet::create,
                 .kept_across_s3 = true},
    not_yet("xhci"), not_yet("passthru"), not_yet("uart"), not_yet("virtio-input"), not_yet("virtio-gpio"),
    not_yet("virtio-i2c"), not_yet("ahci"), not_yet("wdt-i6300esb"), not_yet("virtio-hyper_dmabuf"),
    not_yet("virtio-audio"), not_yet("virtio-ipu"), not_yet("virtio-rpmb"), not_yet("virtio-gpu"),
    not_yet("igd-lpc"), not_yet("ivshmem"),
    obsolete("pci-gvt"), obsolete("virtio-hdcp"), obsolete("npk"), obsolete("virtio-coreu"),
};

}  // namespace

std::span<const PciEmulation> pci_emulations() { return kEmulations; }

const PciEmulation* find_pci_emulation(std::string_view name) {
    const auto found = std::find_if(kEmulations.begin(), kEmulations.end(),
                                    [name](const PciEmulation& emulation) { return emulation.name == name; });
    return found == kEmulations.end() ? nullptr : &*found;
}

}  // namespace acrn::dm
