// The relay's fast paths, as a device registers them: a guest write that
// signals an eventfd without a trip through acrn-dm (ioeventfd), and an
// eventfd that injects an MSI (irqfd). Each returns 0 or -errno, as the
// HSM ioctls do.
#pragma once

#include "abi/acrn/abi.h"

namespace acrn::dm {

class FastPaths {
public:
    virtual ~FastPaths() = default;
    [[nodiscard]] virtual int ioeventfd(const acrn_ioeventfd& request) = 0;
    [[nodiscard]] virtual int irqfd(const acrn_irqfd& request) = 0;
};

}  // namespace acrn::dm
