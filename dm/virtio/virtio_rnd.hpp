// `-s N,virtio-rnd[,kernel=on|off]`: the entropy device (virtio 1.2, 5.4),
// one queue of device-writable buffers filled from the host's getrandom().
// ACRN's kernel=on asks for an in-kernel back end; there is none to hand the
// queue to here, so it is accepted and served in user space, as ACRN does
// when its in-kernel back end is missing.
#pragma once

#include <string>
#include <string_view>

#include "dm/virtio/virtio_pci.hpp"

namespace acrn::dm {

class VirtioRnd final : public VirtioPciDevice {
public:
    static constexpr std::uint16_t kQueueSize = 64;

    explicit VirtioRnd(const DeviceContext& context);

    [[nodiscard]] static std::string check_config(std::string_view config);

private:
    void queue_kicked(unsigned queue) override;

    DescriptorChain chain_;  // reused: only the event loop runs the queue
};

}  // namespace acrn::dm
