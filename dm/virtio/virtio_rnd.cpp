#include "dm/virtio/virtio_rnd.hpp"

#include <sys/random.h>

#include <cerrno>
#include <vector>

#include "dm/machine/device_context.hpp"

namespace acrn::dm {

namespace {
// One request's share at most: a driver asking for more gets it in parts.
constexpr std::uint64_t kMaxPerRequest = 64 * 1024;
}  // namespace

VirtioRnd::VirtioRnd(const DeviceContext& context)
    : VirtioPciDevice("virtio-rnd",
                      VirtioIdentity{.device = virtio::DeviceId::entropy,
                                     .class_code = 0x00,
                                     .subclass = 0xFF,
                                     .features = 0,
                                     .queues = 1,
                                     .queue_size = kQueueSize,
                                     .config_size = 0},
                      context) {}

std::string VirtioRnd::check_config(std::string_view config) {
    if (config.empty() || config == "kernel=on" || config == "kernel=off") {
        return {};
    }
    return "unknown option '" + std::string(config) + "' (virtio-rnd takes kernel=on|off)";
}

void VirtioRnd::queue_kicked(unsigned queue) {
    Virtqueue& requests = this->queue(queue);
    std::vector<std::uint8_t> random;
    while (next_chain(queue, chain_)) {
        const auto buffers = GuestBuffers::map(memory(), chain_.writable);
        std::uint64_t written = 0;
        if (buffers && !buffers->empty()) {
            random.resize(std::min(buffers->size(), kMaxPerRequest));
            const ssize_t got = ::getrandom(random.data(), random.size(), 0);
            if (got > 0) {
                written = buffers->copy_to_guest(0, std::span(random.data(), static_cast<std::size_t>(got)));
            }
        }
        (void)requests.push(chain_, static_cast<std::uint32_t>(written));
    }
    notify_queue(queue);
}

}  // namespace acrn::dm
