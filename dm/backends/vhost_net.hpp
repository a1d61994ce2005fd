// The kernel's virtio-net data path (vhost-net, /dev/vhost-net): the
// kernel reads the transmit ring and fills the receive ring itself, moving
// frames between the guest's buffers and the tap without a trip through
// acrn-dm. The device model keeps the transport: it negotiates features,
// hands the rings over at DRIVER_OK (their addresses in acrn-dm's own
// mapping of guest RAM, which the kernel reaches through this process's
// memory, the owner of the vhost device), and takes them back at reset.
// Per ring, the kernel waits on a kick eventfd and signals a call eventfd
// when the driver wants an interrupt (it applies EVENT_IDX itself).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/unique_fd.hpp"

namespace acrn::dm {

class GuestMemory;

// What virtio-net asks of a kernel data path; a unit test replaces it.
class VhostNetBackend {
public:
    struct Ring {
        unsigned index;   // 0 receive, 1 transmit
        std::uint16_t size;
        void* desc;       // acrn-dm's addresses of the ring's three areas
        void* avail;
        void* used;
        int kick;         // eventfds, borrowed for the call
        int call;
    };

    virtual ~VhostNetBackend() = default;
    // The virtio features the kernel can serve (rings, header layout).
    [[nodiscard]] virtual std::uint64_t features() const = 0;
    // Serves `rings` (each starting at index 0, as after a reset) over the
    // tap `tap_fd`, with `features` negotiated. Throws std::system_error;
    // what was set up before the failure is undone.
    virtual void start(std::uint64_t features, const GuestMemory& memory, std::span<const Ring> rings,
                       int tap_fd) = 0;
    // Detaches the tap from every ring; the kernel touches the rings no more
    // once this returns. Harmless when not started.
    virtual void stop() noexcept = 0;
};

class VhostNet final : public VhostNetBackend {
public:
    static constexpr const char* kDevicePath = "/dev/vhost-net";

    // Opens /dev/vhost-net and takes ownership of it for this process.
    // Throws std::system_error naming the step that failed.
    [[nodiscard]] static std::unique_ptr<VhostNet> open();

    [[nodiscard]] std::uint64_t features() const override { return features_; }
    void start(std::uint64_t features, const GuestMemory& memory, std::span<const Ring> rings,
               int tap_fd) override;
    void stop() noexcept override;

private:
    VhostNet(UniqueFd fd, std::uint64_t features) : fd_(std::move(fd)), features_(features) {}
    void set_memory_table(const GuestMemory& memory);
    void attach(unsigned ring, int tap_fd);

    UniqueFd fd_;
    std::uint64_t features_;
    unsigned attached_rings_ = 0;  // a bit per ring the tap is attached to
};

}  // namespace acrn::dm
