// Hosted mode: the hypervisor core and the relay live in acrn-dm's own
// process, and the host Linux is the Service OS. open() plays the part of
// open("/dev/acrn_hsm"): one Hsm per VM. Includes nothing of hv/.
#pragma once

#include <memory>

#include "relay/hsm.hpp"

namespace acrn::relay {

class HostedRelay {
public:
    virtual ~HostedRelay() = default;
    [[nodiscard]] virtual std::unique_ptr<Hsm> open() = 0;

    [[nodiscard]] static std::shared_ptr<HostedRelay> create();
};

}  // namespace acrn::relay
