// What virtio-net sends its frames to and receives them from: a host
// network back end that carries each frame behind a 12-byte virtio-net
// header (struct virtio_net_hdr_v1), as a tap with IFF_VNET_HDR does. The
// device drives it from the event loop only; a unit test replaces it.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string>

namespace acrn::dm {

// The offloads of frames the back end hands to the guest (TUNSETOFFLOAD):
// what the guest accepts unchecksummed or unsegmented.
struct NetOffloads {
    bool csum = false;     // partial checksums (VIRTIO_NET_HDR_F_NEEDS_CSUM)
    bool tso4 = false;     // TCPv4 segmentation (needs csum)
    bool tso6 = false;     // TCPv6 segmentation (needs csum)
    bool tso_ecn = false;  // TSO with the ECN bit (needs tso4 or tso6)

    friend bool operator==(const NetOffloads&, const NetOffloads&) = default;
};

class NetBackend {
public:
    static constexpr std::size_t kHeaderBytes = 12;  // virtio_net_hdr_v1: flags ... num_buffers

    virtual ~NetBackend() = default;

    // For log lines: the tap's name.
    [[nodiscard]] virtual const std::string& name() const = 0;
    // One frame, header first. The bytes taken, or -errno: -EAGAIN when the
    // back end cannot take it now (wait for fd() to be writable).
    [[nodiscard]] virtual ssize_t send(std::span<const iovec> frame) = 0;
    // The next frame, header first, into `buffers` (a frame longer than
    // them is cut). Its length, or -errno: -EAGAIN when none is waiting
    // (wait for fd() to be readable).
    [[nodiscard]] virtual ssize_t receive(std::span<const iovec> buffers) = 0;
    // The descriptor whose readiness says when send/receive may go on.
    // Non-blocking; owned by the back end (watch a duplicate).
    [[nodiscard]] virtual int fd() const = 0;
    // What set_offloads may ask for: what the kernel accepted when probed.
    [[nodiscard]] virtual NetOffloads supported_offloads() const = 0;
    // Frames the guest will receive may carry these offloads. False if the
    // back end refused (it then keeps what it had).
    virtual bool set_offloads(const NetOffloads& offloads) = 0;
};

}  // namespace acrn::dm
