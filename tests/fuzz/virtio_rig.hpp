// What the virtio fuzz targets share: a device on its own buses and guest
// memory, brought up as a driver would (features, queues of 16 at fixed
// places, DRIVER_OK), then driven by the fuzzer's bytes as a sequence of
// operations a guest can do: write ring and buffer memory, publish an
// available index, kick a queue, access the BAR registers, reset.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstring>
#include <memory>

#include "dm/guest_memory.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/power_control.hpp"
#include "dm/virtio/virtio_pci.hpp"

namespace acrn::fuzz {

class VirtioFuzzRig {
public:
    static constexpr std::uint64_t kBar = 0xC000'0000;
    static constexpr std::uint64_t kMsixBar = 0xC001'0000;
    static constexpr std::uint64_t kWindow = 0x10'0000;  // the guest memory the fuzzer writes: 64 KiB
    static constexpr std::uint16_t kQueueSize = 16;

    static std::uint64_t desc(unsigned q) { return kWindow + 0x1000ull * q; }
    static std::uint64_t avail(unsigned q) { return desc(q) + 0x400; }
    static std::uint64_t used(unsigned q) { return desc(q) + 0x800; }

    VirtioFuzzRig() { settings_.fast_paths = false; }  // no relay here to offer them

    [[nodiscard]] dm::DeviceContext context(std::string_view config) {
        return dm::DeviceContext{dm::PciAddress{0, 4, 0}, config, memory_, sources_, loop_, fast_paths_, power_,
                                 settings_,           2};
    }

    void attach(std::shared_ptr<dm::VirtioPciDevice> device) {
        device_ = std::move(device);
        device_->place_bar(dm::VirtioPciDevice::kVirtioBar, kBar);
        if (device_->bar_kind(dm::VirtioPciDevice::kMsixBar) != dm::BarKind::none) {
            device_->place_bar(dm::VirtioPciDevice::kMsixBar, kMsixBar);
        }
        device_->connect_interrupts(sources_, 20);
        device_->attach(pio_, mmio_);
        device_->config_write(0x04, 2, dm::kCommandMemorySpace | dm::kCommandBusMaster);
        initialize();
    }

    void run(const std::uint8_t* data, std::size_t size) {
        Reader in{data, size};
        const unsigned queues = device_->queue_count();
        while (in.has(4)) {
            const auto op = static_cast<unsigned>(in.take(1));
            switch (op % 6) {
                case 0: {  // guest memory: offset, length, bytes
                    const std::uint64_t offset = in.take(2);
                    const std::size_t length = std::min<std::size_t>(in.take(1), in.left);
                    (void)memory_.write(kWindow + offset, in.data, length);
                    in.skip(length);
                    break;
                }
                case 1:
                    kick(static_cast<unsigned>(in.take(1)) % queues);
                    break;
                case 2: {
                    const std::uint64_t offset = in.take(2) & 0x3FFF;
                    const std::uint32_t access = 1u << (in.take(1) % 4);
                    bar_write(offset, access, in.take(4));
                    break;
                }
                case 3:
                    (void)bar_read(in.take(2) & 0x3FFF, 1u << (in.take(1) % 4));
                    break;
                case 4: {
                    const unsigned q = static_cast<unsigned>(in.take(1)) % queues;
                    (void)memory_.store_release<std::uint16_t>(avail(q) + 2, static_cast<std::uint16_t>(in.take(2)));
                    break;
                }
                default:
                    initialize();
                    break;
            }
        }
        bar_write(virtio_status, 1, 0);  // a reset waits for the requests in flight
        poll();
    }

    ~VirtioFuzzRig() {
        if (device_) {
            bar_write(virtio_status, 1, 0);
            poll();
        }
    }

private:
    struct Reader {
        const std::uint8_t* data;
        std::size_t left;
        [[nodiscard]] bool has(std::size_t bytes) const { return left >= bytes; }
        std::uint64_t take(std::size_t bytes) {
            std::uint64_t value = 0;
            for (std::size_t i = 0; i < bytes && left > 0; ++i, ++data, --left) {
                value |= std::uint64_t{*data} << (8 * i);
            }
            return value;
        }
        void skip(std::size_t bytes) {
            data += bytes;
            left -= bytes;
        }
    };
    class NoPower final : public dm::PowerControl {
    public:
        void request_power_off(int, const std::string&) override {}
        void request_reset(const std::string&) override {}
    };
    class NoFastPaths final : public dm::FastPaths {
    public:
        int ioeventfd(const acrn_ioeventfd&) override { return -ENOTTY; }
        int irqfd(const acrn_irqfd&) override { return -ENOTTY; }
    };
    class Sink final : public dm::InterruptSink {
    public:
        void set_line(std::uint32_t, bool) override {}
        void send_msi(std::uint64_t, std::uint32_t) override {}
    };
    static constexpr std::uint32_t virtio_status = dm::virtio::common_cfg::device_status;

    std::uint64_t bar_read(std::uint64_t offset, std::uint32_t size) {
        const auto target = mmio_.resolve(kBar + offset, size);
        return target ? target->device->read(dm::IoAccess{kBar + offset, kBar + offset - target->base, size, 0}) : 0;
    }
    void bar_write(std::uint64_t offset, std::uint32_t size, std::uint64_t value) {
        if (const auto target = mmio_.resolve(kBar + offset, size)) {
            target->device->write(dm::IoAccess{kBar + offset, kBar + offset - target->base, size, 0}, value);
        }
    }
    void kick(unsigned q) {
        bar_write(dm::VirtioPciDevice::kNotifyOffset + dm::VirtioPciDevice::kNotifyMultiplier * q, 2, q);
        poll();
    }
    void poll() {
        loop_.restart();
        loop_.poll();
    }
    void initialize() {
        using namespace dm::virtio;
        bar_write(virtio_status, 1, 0);
        poll();
        bar_write(virtio_status, 1, status::acknowledge | status::driver);
        std::uint64_t offered = 0;
        for (std::uint32_t select = 0; select < 2; ++select) {
            bar_write(common_cfg::device_feature_select, 4, select);
            offered |= bar_read(common_cfg::device_feature, 4) << (32 * select);
        }
        for (std::uint32_t select = 0; select < 2; ++select) {
            bar_write(common_cfg::driver_feature_select, 4, select);
            bar_write(common_cfg::driver_feature, 4, offered >> (32 * select));
        }
        bar_write(virtio_status, 1, status::acknowledge | status::driver | status::features_ok);
        for (unsigned q = 0; q < device_->queue_count(); ++q) {
            bar_write(common_cfg::queue_select, 2, q);
            bar_write(common_cfg::queue_size, 2, kQueueSize);
            bar_write(common_cfg::queue_desc, 8, desc(q));
            bar_write(common_cfg::queue_driver, 8, avail(q));
            bar_write(common_cfg::queue_device, 8, used(q));
            bar_write(common_cfg::queue_enable, 2, 1);
        }
        bar_write(virtio_status, 1, status::acknowledge | status::driver | status::features_ok | status::driver_ok);
        poll();
    }

    dm::GuestMemory memory_{4ull << 20};
    Sink sink_;
    NoFastPaths fast_paths_;  // before sources_: their irqfds are released through it
    dm::InterruptSources sources_{sink_};
    boost::asio::io_context loop_;
    NoPower power_;
    dm::VirtioSettings settings_;
    dm::AddressBus pio_{"pio"};
    dm::AddressBus mmio_{"mmio"};
    std::shared_ptr<dm::VirtioPciDevice> device_;
};

}  // namespace acrn::fuzz
