#include <memory>
#include <vector>

#include "dm/virtio/virtio_console.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/virtio_rig.hpp"

namespace acrn::fuzz {

int virtio_console(const std::uint8_t* data, std::size_t size) {
    VirtioFuzzRig rig;
    std::vector<dm::VirtioConsole::Port> ports;
    std::vector<dm::RecordingBackend*> backends;
    for (unsigned index = 0; index < 3; ++index) {
        auto backend = std::make_unique<dm::RecordingBackend>();
        backends.push_back(backend.get());
        ports.push_back({dm::ConsolePortSpec{index == 0, "port" + std::to_string(index), {}}, std::move(backend)});
    }
    auto console = std::make_shared<dm::VirtioConsole>(rig.context(""), std::move(ports));
    rig.attach(console);
    // Host input waiting on every port, so receive queues are served too.
    const std::vector<std::uint8_t> typed(300, 'x');
    for (dm::RecordingBackend* backend : backends) {
        backend->input(typed);
    }
    rig.run(data, size);
    return 0;
}

}  // namespace acrn::fuzz
