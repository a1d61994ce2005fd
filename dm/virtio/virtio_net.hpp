// `-s N,virtio-net,tap=<name>[,mac_seed=<seed>][,vhost][,mac=<address>]`:
// the network device (virtio 1.2, 5.1) on a host tap (dm/backends/tap.*),
// options as dm/virtio/virtio_net_options.hpp reads them.
//
// Queues: receive (0) and transmit (1); no control queue, one queue pair.
// Features: MAC, STATUS, MRG_RXBUF, and the checksum and TSO offloads both
// ways as far as the back end takes them. Every frame carries the 12-byte
// virtio_net_hdr_v1 (the transport is modern only, so always that size),
// which the tap reads and writes itself (IFF_VNET_HDR).
//
// The data path runs on the event loop: kicks and the tap's readiness both
// arrive there, and the tap is non-blocking. Transmit writes each chain's
// readable buffers to the tap as they are; a full tap keeps the chain and
// waits for the tap to be writable. Receive reads a frame only once the
// driver has given a buffer, into a 64 KiB bounce buffer, and spreads it
// over as many chains as it needs (num_buffers) with MRG_RXBUF, or drops
// (and counts) a frame that does not fit its one chain without it. With no
// buffers, frames wait in the tap until the driver kicks the receive queue.
// With `vhost` and a working /dev/vhost-net, the kernel serves both rings
// instead (dm/backends/vhost_net.*): the queues' ioeventfds are its kick
// eventfds, and the transport passes its call eventfds on
// (dm/virtio/kernel_interrupts.hpp): bound to the queue's MSI-X vector as
// irqfds where they can be, else watched and raised as any other device's
// interrupt. The tap's offloads are still set here at DRIVER_OK.
// Reset (ioreq thread) stops the data path under the device's lock;
// DRIVER_OK starts it. A tap that fails (it was deleted, say) takes the link
// down with one log line and a configuration interrupt; the VM runs on and
// transmitted frames are dropped.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_fd.hpp"
#include "dm/backends/net_backend.hpp"
#include "dm/backends/vhost_net.hpp"
#include "dm/virtio/virtio_net_options.hpp"
#include "dm/virtio/virtio_pci.hpp"

namespace acrn::dm {

class VirtioNet final : public VirtioPciDevice {
public:
    static constexpr std::uint16_t kQueueSize = 256;
    static constexpr unsigned kReceiveQueue = 0;
    static constexpr unsigned kTransmitQueue = 1;
    // A frame the tap hands over: at most a 64 KiB GSO packet and its link headers.
    static constexpr std::size_t kMaxFrameBytes = 64 * 1024 + 64;

    struct Counters {
        std::uint64_t received = 0;
        std::uint64_t receive_dropped = 0;  // did not fit the driver's buffer (no MRG_RXBUF), runts, cut frames
        std::uint64_t transmitted = 0;
        std::uint64_t transmit_dropped = 0;  // shorter than a header, refused by the tap, or the link was down
    };

    // Throws std::invalid_argument (a bad MAC, say).
    // `vhost`: the kernel data path to use, or null for the user-space one.
    VirtioNet(const DeviceContext& context, const NetOptions& options, std::unique_ptr<NetBackend> backend,
              std::unique_ptr<VhostNetBackend> vhost = nullptr);
    ~VirtioNet() override;

    [[nodiscard]] static std::string check_config(std::string_view config);
    // Throws std::invalid_argument or TapOpenError.
    [[nodiscard]] static std::shared_ptr<PciDevice> create(const DeviceContext& context);

    [[nodiscard]] MacAddress mac() const noexcept { return mac_; }
    [[nodiscard]] bool link_up() const;
    [[nodiscard]] Counters counters() const;
    // True if the kernel (vhost-net) moves the frames.
    [[nodiscard]] bool kernel_data_path() const noexcept { return vhost_ != nullptr; }
    // The ring features a kernel data path must have for us to use it.
    [[nodiscard]] static std::uint64_t ring_features();

private:
    struct Watch;

    void queue_kicked(unsigned queue) override;
    void device_reset() override;
    void driver_ready() override;
    void device_config_written(std::uint32_t offset, std::uint32_t size) override;

    // All below run with mutex_ held.
    void write_config();
    void transmit();
    void receive();
    [[nodiscard]] bool take_receive_chain();
    [[nodiscard]] bool deliver_frame();
    void arm(bool readable);
    void fail_backend(const char* operation, int error);
    void start_kernel_data_path();

    struct KernelRing {
        EventFd kick;
        EventFd call;  // the transport passes its interrupts on
    };

    const std::unique_ptr<NetBackend> backend_;
    const std::unique_ptr<VhostNetBackend> vhost_;
    std::vector<KernelRing> kernel_rings_;  // with vhost_: per queue
    const MacAddress mac_;
    mutable std::mutex mutex_;
    std::unique_ptr<Watch> watch_;  // the back end's readiness on the event loop
    bool running_ = false;          // between DRIVER_OK and reset
    bool failed_ = false;           // the back end failed: link down for good
    bool mergeable_ = false;        // MRG_RXBUF negotiated
    bool guest_csum_ = false;       // GUEST_CSUM negotiated
    std::uint64_t epoch_ = 0;       // bumped by reset: older watch completions are stale
    bool read_armed_ = false;
    bool write_armed_ = false;
    std::optional<DescriptorChain> transmit_waiting_;  // the chain a full tap did not take yet
    std::vector<DescriptorChain> receive_chains_;      // popped, not used yet
    std::vector<std::uint32_t> receive_written_;       // per chain of the frame being delivered
    std::vector<std::uint8_t> frame_;                  // the bounce buffer
    std::size_t frame_bytes_ = 0;                      // a frame in it waiting for buffers (0: none)
    Counters counters_;
    RateLimiter drop_log_{5};
};

}  // namespace acrn::dm
