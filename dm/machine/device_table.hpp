// The one table of `-s` emulations. The command line reads it to accept or
// refuse an emulation and check its configuration string before any VM
// exists; the machine builder reads it to create the device. Adding a
// device kind is its own folder plus one row in device_table.cpp.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace acrn::dm {

class PciDevice;
struct DeviceContext;

struct PciEmulation {
    enum class Support {
        implemented,
        not_yet,   // an ACRN emulation we do not have yet: refused
        obsolete,  // ACRN ignores it with a warning, and so do we
    };

    std::string_view name;
    Support support = Support::implemented;
    // "" if `config` is valid for this emulation, else what is wrong with
    // it, naming the field; checked before any VM exists.
    std::string (*check_config)(std::string_view config) = nullptr;
    // Creates the function from a context whose config passed the check.
    std::shared_ptr<PciDevice> (*create)(const DeviceContext& context) = nullptr;
    bool bus0_only = false;      // must sit on bus 0
    bool one_per_vm = false;     // at most one instance
    bool is_isa_bridge = false;  // the LPC bridge the `-l` COM ports sit behind
    // A guest woken from S3 finds it working (checked with Linux's drivers:
    // the virtio ones reset and set up their devices again on resume). Only
    // a VM whose functions all are is offered S3; the test device is not,
    // since no guest driver restores it.
    bool kept_across_s3 = false;
};

// The check_config of an emulation whose parser throws std::invalid_argument
// naming what is wrong: "" where `parse` takes `config`, else its message.
template <auto parse>
[[nodiscard]] std::string check_by_parsing(std::string_view config) {
    try {
        (void)parse(config);
        return {};
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
}

[[nodiscard]] std::span<const PciEmulation> pci_emulations();
// nullptr if ACRN knows no such emulation.
[[nodiscard]] const PciEmulation* find_pci_emulation(std::string_view name);

}  // namespace acrn::dm
