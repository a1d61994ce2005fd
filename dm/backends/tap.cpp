#include "dm/backends/tap.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace acrn::dm {
namespace {

unsigned tun_flags(const NetOffloads& offloads) {
    unsigned flags = 0;
    if (offloads.csum) flags |= TUN_F_CSUM;
    if (offloads.tso4) flags |= TUN_F_TSO4;
    if (offloads.tso6) flags |= TUN_F_TSO6;
    if (offloads.tso_ecn) flags |= TUN_F_TSO_ECN;
    return flags;
}

int iov_count(std::size_t count) { return static_cast<int>(std::min<std::size_t>(count, IOV_MAX)); }

}  // namespace

std::unique_ptr<TapDevice> TapDevice::open(const std::string& name) {
    const auto fail = [&name](const std::string& what) {
        return TapOpenError("tap '" + name + "': " + what + ": " + std::strerror(errno));
    };
    if (name.empty() || name.size() >= IFNAMSIZ) {
        throw TapOpenError("tap '" + name + "': a name of 1 to " + std::to_string(IFNAMSIZ - 1) + " characters");
    }
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        throw fail("cannot open /dev/net/tun");
    }
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::memcpy(request.ifr_name, name.data(), name.size());
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
        // EPERM: a tap that does not exist yet needs CAP_NET_ADMIN, one that
        // exists belongs to another user; EINVAL/EBUSY: a tun, a multi-queue
        // tap, or one in use without IFF_VNET_HDR.
        throw fail("cannot attach (TUNSETIFF)");
    }
    int header_bytes = static_cast<int>(kHeaderBytes);
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_bytes) != 0) {
        throw fail("cannot set the virtio-net header size (TUNSETVNETHDRSZ)");
    }
    std::unique_ptr<TapDevice> tap(new TapDevice(name, std::move(fd)));
    tap->probe_offloads();
    return tap;
}

void TapDevice::probe_offloads() {
    const auto accepted = [this](const NetOffloads& offloads) {
        return ::ioctl(fd_.get(), TUNSETOFFLOAD, tun_flags(offloads)) == 0;
    };
    supported_.csum = accepted({.csum = true});
    supported_.tso4 = supported_.csum && accepted({.csum = true, .tso4 = true});
    supported_.tso6 = supported_.csum && accepted({.csum = true, .tso6 = true});
    supported_.tso_ecn = (supported_.tso4 || supported_.tso6) &&
                         accepted({.csum = true, .tso4 = supported_.tso4, .tso6 = supported_.tso6, .tso_ecn = true});
    (void)accepted({});  // until a driver negotiates: whole, checksummed frames
}

ssize_t TapDevice::send(std::span<const iovec> frame) {
    const ssize_t written = ::writev(fd_.get(), frame.data(), iov_count(frame.size()));
    return written >= 0 ? written : -errno;
}

ssize_t TapDevice::receive(std::span<const iovec> buffers) {
    const ssize_t read = ::readv(fd_.get(), buffers.data(), iov_count(buffers.size()));
    return read >= 0 ? read : -errno;
}

bool TapDevice::set_offloads(const NetOffloads& offloads) {
    return ::ioctl(fd_.get(), TUNSETOFFLOAD, tun_flags(offloads)) == 0;
}

}  // namespace acrn::dm
