#include "dm/backends/vhost_net.hpp"

#include <fcntl.h>
// (The legacy ring helpers in linux/virtio_ring.h are C only.)
#define VIRTIO_RING_NO_LEGACY
#include <linux/vhost.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/system_error.hpp"
#include "dm/guest_memory.hpp"

namespace acrn::dm {
namespace {

template <typename Argument>
void control(int fd, unsigned long request, Argument* argument, const char* what) {
    if (::ioctl(fd, request, argument) < 0) {
        throw_errno(std::string("vhost-net: ") + what);
    }
}

std::uint64_t host_address(const void* pointer) { return reinterpret_cast<std::uintptr_t>(pointer); }

}  // namespace

std::unique_ptr<VhostNet> VhostNet::open() {
    UniqueFd fd(::open(kDevicePath, O_RDWR | O_CLOEXEC));
    if (!fd) {
        throw_errno(std::string("cannot open ") + kDevicePath);
    }
    control(fd.get(), VHOST_SET_OWNER, static_cast<void*>(nullptr), "VHOST_SET_OWNER");
    std::uint64_t features = 0;
    control(fd.get(), VHOST_GET_FEATURES, &features, "VHOST_GET_FEATURES");
    return std::unique_ptr<VhostNet>(new VhostNet(std::move(fd), features));
}

void VhostNet::set_memory_table(const GuestMemory& memory) {
    const auto& regions = memory.regions();
    std::vector<std::uint8_t> table(sizeof(vhost_memory) + regions.size() * sizeof(vhost_memory_region));
    auto* header = reinterpret_cast<vhost_memory*>(table.data());
    header->nregions = static_cast<std::uint32_t>(regions.size());
    for (std::size_t i = 0; i < regions.size(); ++i) {
        header->regions[i] = vhost_memory_region{.guest_phys_addr = regions[i].gpa,
                                                 .memory_size = regions[i].size,
                                                 .userspace_addr = host_address(regions[i].host),
                                                 .flags_padding = 0};
    }
    control(fd_.get(), VHOST_SET_MEM_TABLE, header, "VHOST_SET_MEM_TABLE");
}

void VhostNet::attach(unsigned ring, int tap_fd) {
    vhost_vring_file backend{.index = ring, .fd = tap_fd};
    control(fd_.get(), VHOST_NET_SET_BACKEND, &backend, "VHOST_NET_SET_BACKEND");
    attached_rings_ |= 1u << ring;
}

void VhostNet::start(std::uint64_t features, const GuestMemory& memory, std::span<const Ring> rings, int tap_fd) {
    stop();
    try {
        control(fd_.get(), VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES");
        set_memory_table(memory);
        for (const Ring& ring : rings) {
            vhost_vring_state size{.index = ring.index, .num = ring.size};
            control(fd_.get(), VHOST_SET_VRING_NUM, &size, "VHOST_SET_VRING_NUM");
            vhost_vring_state base{.index = ring.index, .num = 0};
            control(fd_.get(), VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE");
            vhost_vring_addr addresses{.index = ring.index,
                                       .flags = 0,
                                       .desc_user_addr = host_address(ring.desc),
                                       .used_user_addr = host_address(ring.used),
                                       .avail_user_addr = host_address(ring.avail),
                                       .log_guest_addr = 0};
            control(fd_.get(), VHOST_SET_VRING_ADDR, &addresses, "VHOST_SET_VRING_ADDR");
            vhost_vring_file kick{.index = ring.index, .fd = ring.kick};
            control(fd_.get(), VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK");
            vhost_vring_file call{.index = ring.index, .fd = ring.call};
            control(fd_.get(), VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL");
        }
        for (const Ring& ring : rings) {
            attach(ring.index, tap_fd);
        }
    } catch (...) {
        stop();
        throw;
    }
}

void VhostNet::stop() noexcept {
    for (unsigned ring = 0; attached_rings_ != 0; ++ring) {
        if ((attached_rings_ & (1u << ring)) == 0) {
            continue;
        }
        vhost_vring_file detach{.index = ring, .fd = VHOST_FILE_UNBIND};
        (void)::ioctl(fd_.get(), VHOST_NET_SET_BACKEND, &detach);
        // Reading the ring's base also stops the kernel's use of it.
        vhost_vring_state base{.index = ring, .num = 0};
        (void)::ioctl(fd_.get(), VHOST_GET_VRING_BASE, &base);
        attached_rings_ &= ~(1u << ring);
    }
}

}  // namespace acrn::dm
