// The virtio-pci transport, modern layout only (virtio 1.2, 4.1): a PCI
// function with vendor capabilities pointing at the common configuration,
// the ISR byte, the device configuration and the notification area, all in
// BAR4 (64-bit memory), and an MSI-X table in BAR1 with one vector per queue
// plus one for configuration changes. A guest that leaves MSI-X off gets
// INTx (INTA#) with the ISR byte; with --virtio_msi, a single MSI.
//
// The transport owns feature negotiation, the device status (reset,
// FEATURES_OK, DEVICE_NEEDS_RESET), the queues' configuration and the
// interrupts. A device subclass says what it is (VirtioIdentity), keeps its
// configuration bytes here, and runs its queues when kicked.
//
// Threads: the guest's register accesses arrive on the ioreq thread. Kicks
// (a write to the notification area, its ioeventfd, or the --virtio_poll
// timer) are delivered to queue_kicked() on the event loop, coalesced, so
// devices do their queue work there (or hand it to their own executors);
// notify_queue() and the config accessors may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/event_fd.hpp"
#include "common/log.hpp"
#include "dm/pci/pci_device.hpp"
#include "dm/virtio/virtio_settings.hpp"
#include "dm/virtio/virtio_spec.hpp"
#include "dm/virtio/virtqueue.hpp"

namespace boost::asio {
class io_context;
}

namespace acrn::dm {

struct DeviceContext;
class VirtioKicks;
class KernelInterrupts;

struct VirtioIdentity {
    virtio::DeviceId device;
    std::uint8_t class_code;
    std::uint8_t subclass;
    std::uint64_t features;  // the device's own; the transport adds VERSION_1, EVENT_IDX, INDIRECT_DESC
    unsigned queues;
    std::uint16_t queue_size;  // the largest a driver may choose
    std::uint32_t config_size;
};

class VirtioPciDevice : public PciDevice {
public:
    static constexpr int kMsixBar = 1;
    static constexpr int kVirtioBar = 4;
    static constexpr std::uint64_t kMsixBarSize = 0x1000;
    static constexpr std::uint64_t kMsixPbaOffset = 0x800;
    static constexpr std::uint64_t kCommonOffset = 0x0000;
    static constexpr std::uint64_t kIsrOffset = 0x1000;
    static constexpr std::uint64_t kDeviceConfigOffset = 0x2000;
    static constexpr std::uint64_t kNotifyOffset = 0x3000;
    static constexpr std::uint32_t kNotifyMultiplier = 4;
    static constexpr std::uint64_t kVirtioBarSize = 0x4000;
    static constexpr unsigned kMaxQueues = 64;

    VirtioPciDevice(std::string name, const VirtioIdentity& identity, const DeviceContext& context);
    ~VirtioPciDevice() override;

    [[nodiscard]] std::uint8_t device_status() const;
    [[nodiscard]] std::uint64_t negotiated_features() const;
    [[nodiscard]] unsigned queue_count() const noexcept { return identity_.queues; }
    // True while a kernel back end's interrupts for queue `index` go
    // straight to the guest (see offload_interrupts).
    [[nodiscard]] bool interrupts_bound(unsigned index) const;

    // For the kick sources (dm/virtio/virtio_kicks.*), on the event loop:
    // run one queue after a kick, or every running queue with the driver's
    // kicks turned off (a --virtio_poll period).
    void run_kick(unsigned index);
    void poll_queues();

protected:
    // A kick for `queue` (already running): process what the driver made
    // available. Runs on the event loop.
    virtual void queue_kicked(unsigned queue) = 0;
    // The driver reset the device: in-flight work must be finished or
    // abandoned before this returns (the queues are already stopped, so
    // late completions are dropped). Runs on the ioreq thread, no lock held.
    virtual void device_reset() {}
    // The driver set DRIVER_OK.
    virtual void driver_ready() {}
    // After the guest wrote the device configuration (bytes already stored).
    virtual void device_config_written(std::uint32_t /*offset*/, std::uint32_t /*size*/) {}

    [[nodiscard]] Virtqueue& queue(unsigned index) { return *queues_[index]; }
    [[nodiscard]] const GuestMemory& memory() const noexcept { return memory_; }
    [[nodiscard]] boost::asio::io_context& loop() const noexcept { return loop_; }
    [[nodiscard]] bool negotiated(std::uint64_t feature) const { return (negotiated_features() & feature) != 0; }

    // After pushing used buffers: interrupts the driver if it asked for it.
    void notify_queue(unsigned index);
    // Interrupts the driver for `index` unconditionally: for a queue whose
    // used ring a kernel back end fills, which has decided already.
    void interrupt_queue(unsigned index);
    // Hands the kicks of `index` to an eventfd a kernel back end waits on
    // (vhost): the ioeventfd is that eventfd, a kick that arrives as an I/O
    // request signals it, and neither queue_kicked() nor --virtio_poll
    // touches the queue. Called from the constructor; `event` outlives us.
    void offload_kicks(unsigned index, const EventFd& event);
    // Hands the interrupts of `index` to an eventfd a kernel back end
    // signals when the driver wants one (vhost's call): the transport
    // passes them on, bound to the queue's MSI-X vector where it can be
    // (dm/virtio/kernel_interrupts.hpp). Called from the constructor;
    // `event` outlives us.
    void offload_interrupts(unsigned index, const EventFd& event);
    // Unbinds and unwatches those eventfds: a device that owns them calls it
    // before they are destroyed (in its destructor).
    void release_offloaded_interrupts();
    [[nodiscard]] VirtqueueAreas queue_areas(unsigned index) const { return queues_[index]->areas(); }
    // A chain or request the device cannot serve: DEVICE_NEEDS_RESET, a
    // configuration interrupt, one log line (rate-limited).
    void report_broken(unsigned queue, const std::string& why);
    // The next chain the driver made available on `queue`, into `chain` (its
    // vectors reused). False when there is none, and when the chain was
    // malformed: that is reported here, and the caller stops serving the queue.
    [[nodiscard]] bool next_chain(unsigned queue, DescriptorChain& chain);
    // The device configuration: read and written by the device at any time.
    void store_config(std::uint32_t offset, std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::vector<std::uint8_t> load_config(std::uint32_t offset, std::uint32_t length) const;
    // The configuration changed (capacity, link): new generation, interrupt.
    void signal_config_change();

private:
    struct QueueConfig {
        std::uint16_t size = 0;
        bool enabled = false;
        std::uint64_t desc = 0;
        std::uint64_t driver = 0;
        std::uint64_t device = 0;
    };

    std::uint64_t bar_read(int index, const IoAccess& access) override;
    void msix_changed() override;
    [[nodiscard]] std::optional<MsiMessage> direct_route(unsigned index) const;
    void bar_write(int index, const IoAccess& access, std::uint64_t value) override;
    [[nodiscard]] std::uint64_t read_common(const IoAccess& access);
    void write_common(const IoAccess& access, std::uint64_t value);
    void write_queue_register(std::uint32_t offset, std::uint32_t size, std::uint64_t value);
    void write_status(std::uint8_t value);
    void reset();
    void start_queue(unsigned index);
    [[nodiscard]] std::uint8_t read_isr();
    void raise(std::uint16_t vector, std::uint8_t isr_bit);
    void kick(unsigned index);

    const VirtioIdentity identity_;
    const VirtioSettings settings_;
    const GuestMemory& memory_;
    boost::asio::io_context& loop_;
    const std::uint64_t offered_features_;

    mutable std::mutex mutex_;  // the transport registers below
    std::uint32_t device_feature_select_ = 0;
    std::uint32_t driver_feature_select_ = 0;
    std::uint64_t driver_features_ = 0;
    std::uint8_t status_ = 0;
    std::uint16_t queue_select_ = 0;
    std::vector<QueueConfig> queue_configs_;
    std::vector<std::uint8_t> config_;  // the device configuration
    std::uint8_t config_generation_ = 0;

    std::atomic<std::uint64_t> negotiated_{0};
    std::atomic<std::uint16_t> config_vector_{virtio::kNoVector};
    std::unique_ptr<std::atomic<std::uint16_t>[]> queue_vectors_;
    std::unique_ptr<std::atomic<bool>[]> kick_posted_;
    std::vector<const EventFd*> offloaded_kicks_;  // per queue: the kernel back end's kick eventfd, or null
    std::mutex isr_mutex_;  // the ISR byte and the INTx level change together
    std::uint8_t isr_ = 0;
    std::vector<std::unique_ptr<Virtqueue>> queues_;
    std::unique_ptr<VirtioKicks> kicks_;  // ioeventfds and the poll timer
    std::shared_ptr<KernelInterrupts> kernel_interrupts_;  // of queues a kernel back end serves
    RateLimiter broken_log_{3};
};

}  // namespace acrn::dm
