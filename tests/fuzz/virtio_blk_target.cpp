#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "dm/virtio/virtio_blk.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/virtio_rig.hpp"

namespace acrn::fuzz {
namespace {

// A 64 KiB image in a memfd, named through /proc so BlockFile opens it as
// any image; the fuzzer may write it at will.
const std::string& image_path() {
    static const std::string path = [] {
        const int fd = ::memfd_create("virtio-blk-fuzz", MFD_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, 64 * 1024) != 0) {
            throw std::runtime_error("memfd_create");
        }
        return "/proc/self/fd/" + std::to_string(fd);
    }();
    return path;
}

}  // namespace

int virtio_blk(const std::uint8_t* data, std::size_t size) {
    VirtioFuzzRig rig;
    const std::string config = image_path() + ",discard";
    rig.attach(std::make_shared<dm::VirtioBlk>(rig.context(config), dm::parse_block_options(config)));
    rig.run(data, size);
    return 0;
}

}  // namespace acrn::fuzz
